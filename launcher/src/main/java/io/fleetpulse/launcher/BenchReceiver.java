package io.fleetpulse.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A local Slack, PagerDuty or generic webhook for {@code fleetpulse bench alerting}: a real HTTP server on loopback
 * that answers as the real service does and notes, per alert transition ({@code fingerprint|state}), when the
 * request that it accepted arrived and how many times it accepted one. It can misbehave as {@link Fault.Mode} says:
 * answer 500 or refuse connections until {@link #recover()}, or answer every request after five seconds.
 *
 * <p>Only accepted (2xx) requests are deliveries: a request answered 500 is one the alerting service must retry,
 * so neither its arrival nor a later accepted retry of it is a duplicate.
 */
final class BenchReceiver implements AutoCloseable {

    /** The three kinds the bench drives; each reads the transition out of its own payload. */
    enum Kind {
        SLACK("slack", 200, "ok"),
        PAGERDUTY("pagerduty", 202, "{\"status\":\"success\",\"message\":\"Event processed\"}"),
        WEBHOOK("webhook", 200, "{}");

        final String id;
        final int status;
        final String answer;

        Kind(String id, int status, String answer) {
            this.id = id;
            this.status = status;
            this.answer = answer;
        }

        static Optional<Kind> named(String id) {
            for (Kind kind : values()) {
                if (kind.id.equals(id)) {
                    return Optional.of(kind);
                }
            }
            return Optional.empty();
        }
    }

    /** A receiver's misbehaviour for the run. */
    record Fault(Kind receiver, Mode mode) {

        enum Mode {
            /** HTTP 500 until recovered (after the first half of the run). */
            ERRORS,
            /** Every answer five seconds late, the whole run. */
            SLOW,
            /** Connection refused (nothing listens on its port) until recovered. */
            DOWN
        }

        static final String SYNTAX = "RECEIVER:MODE, RECEIVER one of slack, pagerduty, webhook and MODE one of "
                + "errors, slow, down";

        /** {@code pagerduty:errors}; an {@link IllegalArgumentException} saying what is allowed otherwise. */
        static Fault parse(String text) {
            String[] parts = text.strip().toLowerCase(java.util.Locale.ROOT).split(":", -1);
            if (parts.length == 2) {
                Optional<Kind> kind = Kind.named(parts[0]);
                for (Mode mode : Mode.values()) {
                    if (kind.isPresent() && mode.name().toLowerCase(java.util.Locale.ROOT).equals(parts[1])) {
                        return new Fault(kind.get(), mode);
                    }
                }
            }
            throw new IllegalArgumentException("'" + text + "' is not " + SYNTAX);
        }

        @Override
        public String toString() {
            return receiver.id + ":" + mode.name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    static final long SLOW_ANSWER_MILLIS = 5_000;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SLACK_FINGERPRINT = Pattern.compile("fingerprint `([^`]+)`");

    private final Kind kind;
    private final Fault.Mode fault;
    private final int port;
    private final ExecutorService threads;
    private volatile boolean faulty;
    private volatile HttpServer server;
    /** Transition → arrival (System.nanoTime) of the first request accepted for it. */
    private final Map<String, Long> firstAccepted = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> acceptedCount = new ConcurrentHashMap<>();
    private final AtomicLong rejected = new AtomicLong();

    private BenchReceiver(Kind kind, Fault.Mode fault, int port) {
        this.kind = kind;
        this.fault = fault;
        this.port = port;
        this.faulty = fault == Fault.Mode.ERRORS || fault == Fault.Mode.DOWN;
        // Unbounded: a slow receiver holds one thread per request for five seconds, as many as alerting has in flight.
        this.threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "bench-" + kind.id);
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts listening, or, when its fault is {@code down}, only reserves the port until {@link #recover()}. */
    static BenchReceiver start(Kind kind, Fault.Mode fault) throws IOException {
        BenchReceiver receiver = new BenchReceiver(kind, fault, EmbeddedKafka.freePort());
        if (fault != Fault.Mode.DOWN) {
            receiver.listen();
        }
        return receiver;
    }

    private synchronized void listen() throws IOException {
        if (server != null) {
            return;
        }
        HttpServer listening = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 200);
        listening.setExecutor(threads);
        listening.createContext("/", this::handle);
        listening.start();
        server = listening;
    }

    /** Ends an {@code errors} or {@code down} fault: from now on it accepts. */
    void recover() throws IOException {
        faulty = false;
        listen();
    }

    Kind kind() {
        return kind;
    }

    String url() {
        return "http://127.0.0.1:" + port + "/" + kind.id;
    }

    private void handle(HttpExchange exchange) throws IOException {
        long arrived = System.nanoTime();
        String body;
        try (InputStream in = exchange.getRequestBody()) {
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (fault == Fault.Mode.SLOW) {
            try {
                // The bench's stand-in for a receiver that takes five seconds; its thread is its own.
                TimeUnit.MILLISECONDS.sleep(SLOW_ANSWER_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                exchange.close();
                return;
            }
        }
        boolean accept = !faulty;
        if (accept) {
            for (String transition : transitionsIn(body)) {
                firstAccepted.putIfAbsent(transition, arrived);
                acceptedCount.computeIfAbsent(transition, t -> new AtomicLong()).incrementAndGet();
            }
        } else {
            rejected.incrementAndGet();
        }
        byte[] answer = (accept ? kind.answer : "{\"status\":\"error\",\"message\":\"bench fault\"}")
                .getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(accept ? kind.status : 500, answer.length);
        try (OutputStream os = exchange.getResponseBody()) {
            os.write(answer);
        }
    }

    /**
     * {@code fingerprint|FIRING} or {@code fingerprint|RESOLVED} of each alert a payload carries; empty for what is
     * not one (e.g. unreadable). Slack and webhooks are told a group notification at once (Slack: each alert's
     * fingerprint in a context line under the "firing" or "resolved" heading; webhook: Alertmanager's
     * {@code alerts[]}); PagerDuty's transition is its dedup_key and action, so a second incident shows.
     */
    List<String> transitionsIn(String body) {
        JsonNode json;
        try {
            json = JSON.readTree(body);
        } catch (IOException e) {
            return List.of();
        }
        List<String> transitions = new ArrayList<>();
        switch (kind) {
            case SLACK -> {
                String state = null;
                for (JsonNode block : json.path("attachments").path(0).path("blocks")) {
                    if (block.has("block_id")) {
                        state = block.path("block_id").asText().toUpperCase(Locale.ROOT);
                    }
                    for (JsonNode element : block.path("elements")) {
                        Matcher fingerprint = SLACK_FINGERPRINT.matcher(element.path("text").asText());
                        if (state != null && fingerprint.find()) {
                            transitions.add(fingerprint.group(1) + "|" + state);
                        }
                    }
                }
            }
            case PAGERDUTY -> {
                String action = json.path("event_action").asText();
                String state = action.equals("trigger") ? "FIRING" : action.equals("resolve") ? "RESOLVED" : null;
                String dedupKey = json.path("dedup_key").asText("");
                if (state != null && !dedupKey.isEmpty()) {
                    transitions.add(dedupKey + "|" + state);
                }
            }
            case WEBHOOK -> {
                for (JsonNode alert : json.path("alerts")) {
                    String fingerprint = alert.path("fingerprint").asText("");
                    String status = alert.path("status").asText("");
                    if (!fingerprint.isEmpty() && !status.isEmpty()) {
                        transitions.add(fingerprint + "|" + status.toUpperCase(Locale.ROOT));
                    }
                }
            }
            default -> throw new IllegalStateException("unknown receiver kind " + kind);
        }
        return transitions;
    }

    /** When the first accepted request for {@code transition} arrived (nanoTime), if one did. */
    Long acceptedAt(String transition) {
        return firstAccepted.get(transition);
    }

    /** How many transitions of fingerprints starting with {@code prefix} it has accepted. */
    long acceptedWithPrefix(String prefix) {
        return firstAccepted.keySet().stream().filter(t -> t.startsWith(prefix)).count();
    }

    /** Transitions accepted more than once, and how many times. */
    Map<String, Long> duplicates() {
        Map<String, Long> repeated = new java.util.TreeMap<>();
        acceptedCount.forEach((transition, count) -> {
            if (count.get() > 1) {
                repeated.put(transition, count.get());
            }
        });
        return repeated;
    }

    /** Requests answered 500 (the {@code errors} fault). */
    long rejected() {
        return rejected.get();
    }

    /** Transitions accepted that {@code expected} does not contain: alerting's own failing-receiver notices. */
    long unexpected(Function<String, Boolean> expected) {
        return firstAccepted.keySet().stream().filter(t -> !expected.apply(t)).count();
    }

    @Override
    public void close() {
        HttpServer listening = server;
        if (listening != null) {
            listening.stop(0);
        }
        threads.shutdownNow();
    }
}
