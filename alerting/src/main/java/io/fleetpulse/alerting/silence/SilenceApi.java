package io.fleetpulse.alerting.silence;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.fleetpulse.runtime.OpsServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Alerting's silences API, JSON over HTTP, on {@code alerting.api.port}:
 * {@code POST /v1/silences} (create: 201 with the id once fleet.silences acknowledged it, acks=all; 400 naming each
 * bad field), {@code GET /v1/silences[?state=active,pending,expired]}, {@code GET /v1/silences/{id}} and
 * {@code DELETE /v1/silences/{id}} (expire: rewritten with its end at now, kept as history, as in Alertmanager).
 *
 * <p>Reads come from the local copy of fleet.silences ({@link View}: decide's global store), so every alerting
 * instance answers for all. A create or expire answers once the broker acknowledged it and this instance's copy
 * shows it (bounded by the write timeout), so the same client reads its own writes; another instance shows it once it
 * has read it too (milliseconds).
 */
public final class SilenceApi implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SilenceApi.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final String PATH = "/v1/silences";
    /** A silence is a few hundred bytes; a larger body is refused before it is parsed. */
    private static final int MAX_BODY = 64 * 1024;

    /** The local copy of fleet.silences; empty while it cannot be read (decide not running). */
    public interface View {
        Optional<List<SilenceRule>> silences();
    }

    /** Writes one silence to fleet.silences; the future completes once the broker acknowledged it (acks=all). */
    public interface Writer {
        CompletableFuture<?> write(SilenceRule silence);
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final View view;
    private final Writer writer;
    private final Clock clock;
    private final Duration writeTimeout;

    private SilenceApi(HttpServer server, ExecutorService executor, View view, Writer writer, Clock clock,
                       Duration writeTimeout) {
        this.server = server;
        this.executor = executor;
        this.view = view;
        this.writer = writer;
        this.clock = clock;
        this.writeTimeout = writeTimeout;
    }

    /** Binds {@code host:port} (0 for any free port) and serves. */
    public static SilenceApi start(String host, int port, View view, Writer writer, Clock clock, Duration writeTimeout)
            throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 0);
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread thread = new Thread(r, "fleetpulse-alerting-api");
            thread.setDaemon(true);
            return thread;
        });
        server.setExecutor(executor);
        SilenceApi api = new SilenceApi(server, executor, view, writer, clock, writeTimeout);
        server.createContext(PATH, api::handle);
        server.start();
        LOG.info("alerting silences API on http://{}:{}{}", host, api.port(), PATH);
        return api;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            String method = exchange.getRequestMethod();
            if (path.equals(PATH) || path.equals(PATH + "/")) {
                switch (method) {
                    case "POST" -> create(exchange);
                    case "GET" -> list(exchange);
                    default -> respond(exchange, 405, Map.of("error", method + " " + PATH + ": use GET or POST"));
                }
            } else if (path.startsWith(PATH + "/")) {
                String id = URLDecoder.decode(path.substring(PATH.length() + 1), StandardCharsets.UTF_8);
                switch (method) {
                    case "GET" -> one(exchange, id);
                    case "DELETE" -> expire(exchange, id);
                    default -> respond(exchange, 405, Map.of("error", method + " " + PATH + "/{id}: use GET or DELETE"));
                }
            } else {
                respond(exchange, 404, Map.of("error", "no such resource: " + path + " (" + PATH + ")"));
            }
        } catch (Unavailable e) {
            respond(exchange, 503, Map.of("error", e.getMessage()));
        } catch (RuntimeException e) {
            LOG.warn("silences API: {} {} failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
            respond(exchange, 500, Map.of("error", String.valueOf(e)));
        }
    }

    private void create(HttpExchange exchange) throws IOException {
        byte[] raw = exchange.getRequestBody().readNBytes(MAX_BODY + 1);
        if (raw.length > MAX_BODY) {
            respond(exchange, 413, Map.of("errors", Map.of("body", "larger than " + MAX_BODY + " bytes")));
            return;
        }
        JsonNode body;
        try {
            body = JSON.readTree(raw);
        } catch (JsonProcessingException e) {
            respond(exchange, 400, Map.of("errors", Map.of("body", "not JSON: " + e.getOriginalMessage())));
            return;
        }
        SilenceRule silence;
        try {
            silence = SilenceJson.parseRequest(body, UUID.randomUUID().toString(), now());
        } catch (SilenceJson.InvalidSilenceException e) {
            respond(exchange, 400, Map.of("errors", e.problems()));
            return;
        }
        write(silence);
        LOG.info("silence {} created by {} for {}: {}", silence.id(), silence.createdBy(), silence.matchers(),
                silence.comment());
        respond(exchange, 201, Map.of("id", silence.id()));
    }

    private void list(HttpExchange exchange) throws IOException {
        Instant now = now();
        String query = exchange.getRequestURI().getRawQuery();
        Set<SilenceRule.State> wanted = Set.of(SilenceRule.State.values());
        if (query != null && !query.isBlank()) {
            String states = null;
            for (String pair : query.split("&")) {
                if (pair.startsWith("state=")) {
                    states = URLDecoder.decode(pair.substring("state=".length()), StandardCharsets.UTF_8);
                }
            }
            if (states != null) {
                try {
                    wanted = Arrays.stream(states.split(",")).map(s -> SilenceRule.State.valueOf(
                            s.strip().toUpperCase(Locale.ROOT))).collect(Collectors.toSet());
                } catch (IllegalArgumentException e) {
                    respond(exchange, 400, Map.of("errors", Map.of("state", "'" + states
                            + "': expected active, pending or expired (comma-separated)")));
                    return;
                }
            }
        }
        Set<SilenceRule.State> states = wanted;
        List<Map<String, Object>> shown = silences().stream().filter(s -> states.contains(s.state(now)))
                .sorted(Comparator.comparing((SilenceRule s) -> s.state(now)).thenComparing(SilenceRule::startsAt)
                        .thenComparing(SilenceRule::id))
                .map(s -> SilenceJson.render(s, now)).toList();
        respond(exchange, 200, Map.of("silences", shown));
    }

    private void one(HttpExchange exchange, String id) throws IOException {
        Optional<SilenceRule> found = find(id);
        if (found.isEmpty()) {
            respond(exchange, 404, Map.of("error", "no silence " + id));
            return;
        }
        respond(exchange, 200, SilenceJson.render(found.get(), now()));
    }

    private void expire(HttpExchange exchange, String id) throws IOException {
        Optional<SilenceRule> found = find(id);
        if (found.isEmpty()) {
            respond(exchange, 404, Map.of("error", "no silence " + id));
            return;
        }
        Instant now = now();
        SilenceRule silence = found.get();
        if (silence.state(now) != SilenceRule.State.EXPIRED) {
            silence = silence.expiredAt(now);
            write(silence);
            LOG.info("silence {} expired", id);
        }
        respond(exchange, 200, SilenceJson.render(silence, now));
    }

    /** To the millisecond, as fleet.silences keeps times, so what is written compares equal to what is read back. */
    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    private Optional<SilenceRule> find(String id) {
        return silences().stream().filter(s -> s.id().equals(id)).findFirst();
    }

    private List<SilenceRule> silences() {
        return view.silences().orElseThrow(() -> new Unavailable("the silences are not readable yet (decide is "
                + "not running)"));
    }

    /** Writes and waits for the acknowledgement, then (within what is left of the timeout) for the local copy. */
    private void write(SilenceRule silence) {
        long deadline = System.nanoTime() + writeTimeout.toNanos();
        try {
            writer.write(silence).get(writeTimeout.toMillis(), TimeUnit.MILLISECONDS);
            while (!isVisible(silence)) {
                if (System.nanoTime() > deadline) {
                    LOG.warn("silence {} is acknowledged but not yet in the local copy of fleet.silences",
                            silence.id());
                    return;
                }
                Thread.sleep(10);
            }
        } catch (ExecutionException | TimeoutException e) {
            throw new Unavailable("fleet.silences did not acknowledge the silence within " + writeTimeout.toSeconds()
                    + " s: " + (e instanceof ExecutionException ? e.getCause() : e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unavailable("interrupted while writing the silence");
        }
    }

    private boolean isVisible(SilenceRule written) {
        return view.silences().orElse(List.of()).stream().anyMatch(s -> s.id().equals(written.id())
                && s.updatedAt().equals(written.updatedAt()));
    }

    private static void respond(HttpExchange exchange, int status, Object body) throws IOException {
        OpsServer.respond(exchange, status, "application/json", JSON.writeValueAsString(body) + "\n");
    }

    private static final class Unavailable extends RuntimeException {
        Unavailable(String message) {
            super(message);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
