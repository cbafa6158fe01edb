package io.fleetpulse.stream;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.HealthStatus;
import io.fleetpulse.runtime.OpsServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stream processor's read API, served from its state stores (interactive queries), JSON over HTTP:
 * {@code GET /v1/targets}, {@code /v1/targets/{id}}, {@code /v1/groups}, {@code /v1/alerts?state=firing|pending|all},
 * {@code /v1/health/summary?worst=N} and {@code /v1/workers}.
 *
 * <p>Every instance answers for the whole application. A target's state lives on the instance running its partition:
 * {@code /v1/targets/{id}} is forwarded there (Streams' key metadata, found through each instance's
 * {@code application.server}); the lists ask every instance for its share ({@code ?scope=local}) and merge them.
 * While a rebalance or a restore keeps the stores from being queried, the answer is 503 and says so.
 */
final class ReadApi implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ReadApi.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final TypeReference<Map<String, Object>> OBJECT = new TypeReference<>() { };
    private static final Duration PEER_TIMEOUT = Duration.ofSeconds(5);
    private static final String LOCAL = "scope=local";
    /** How many of the lowest-scored targets the health summary lists unless asked for another number. */
    private static final int DEFAULT_WORST = 10;
    private static final int MAX_WORST = 1000;

    private final HttpServer server;
    private final ExecutorService executor;
    private final HttpClient peers = HttpClient.newBuilder().connectTimeout(PEER_TIMEOUT).build();
    private volatile KafkaStreams streams;
    private volatile HostInfo self;

    private ReadApi(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** Binds {@code host:port} (0 for any free port) and serves; answers 503 until {@link #serve} is called. */
    static ReadApi start(String host, int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 0);
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> new Thread(r, "fleetpulse-stream-processor-api"));
        server.setExecutor(executor);
        ReadApi api = new ReadApi(server, executor);
        server.createContext("/v1/", api::handle);
        server.start();
        LOG.info("stream-processor read API on http://{}:{}/v1/ (targets, groups, alerts, health/summary, workers)", host, api.port());
        return api;
    }

    int port() {
        return server.getAddress().getPort();
    }

    /** Answers from {@code client}'s stores; {@code advertised} is this instance's {@code application.server}. */
    void serve(KafkaStreams client, HostInfo advertised) {
        this.self = advertised;
        this.streams = client;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try {
            if (!exchange.getRequestMethod().equals("GET")) {
                respond(exchange, 405, Map.of("error", "only GET"));
                return;
            }
            KafkaStreams client = streams;
            if (client == null) {
                respond(exchange, 503, Map.of("error", "the stream processor is not running yet"));
                return;
            }
            String path = exchange.getRequestURI().getPath();
            Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
            boolean local = "local".equals(query.get("scope"));
            StateQueries stores = new StateQueries(client);
            if (path.equals("/v1/targets")) {
                respond(exchange, 200, Map.of("targets", merged(client, "/v1/targets", local, "targets", stores::targets)));
            } else if (path.startsWith("/v1/targets/") && path.length() > "/v1/targets/".length()) {
                target(exchange, client, stores, path.substring("/v1/targets/".length()), local);
            } else if (path.equals("/v1/groups")) {
                respond(exchange, 200, Map.of("groups", groups(client, local, stores)));
            } else if (path.equals("/v1/alerts")) {
                alerts(exchange, client, stores, query, local);
            } else if (path.equals("/v1/health/summary")) {
                healthSummary(exchange, client, stores, query, local);
            } else if (path.equals("/v1/workers")) {
                respond(exchange, 200, Map.of("workers", merged(client, "/v1/workers", local, "workers", stores::workers)));
            } else {
                respond(exchange, 404, Map.of("error", "no such resource: " + path + " (GET /v1/targets, "
                        + "/v1/targets/{id}, /v1/groups, /v1/alerts?state=firing, /v1/health/summary?worst=10, /v1/workers)"));
            }
        } catch (InvalidStateStoreException e) {
            respond(exchange, 503, Map.of("error", "state stores not queryable now (rebalancing or restoring): " + e.getMessage()));
        } catch (PeerException e) {
            respond(exchange, 503, Map.of("error", e.getMessage()));
        } catch (RuntimeException e) {
            LOG.warn("read API: {} failed", exchange.getRequestURI(), e);
            respond(exchange, 500, Map.of("error", String.valueOf(e)));
        }
    }

    /** One target, answered by the instance whose task holds its partition. */
    private void target(HttpExchange exchange, KafkaStreams client, StateQueries stores, String rawId, boolean local)
            throws IOException {
        String id = URLDecoder.decode(rawId, StandardCharsets.UTF_8);
        if (!local) {
            KeyQueryMetadata owner = client.queryMetadataForKey(HealthTopology.ALERT_STORE, id, Serdes.String().serializer());
            if (owner == null || owner.equals(KeyQueryMetadata.NOT_AVAILABLE)) {
                respond(exchange, 503, Map.of("error", "no instance holds " + id + "'s partition now (rebalancing)"));
                return;
            }
            if (!owner.activeHost().equals(self)) {
                Response forwarded = get(owner.activeHost(), "/v1/targets/" + URLEncoder.encode(id, StandardCharsets.UTF_8));
                respondRaw(exchange, forwarded.status(), forwarded.body());
                return;
            }
        }
        Optional<Map<String, Object>> found = stores.target(id);
        if (found.isPresent()) {
            respond(exchange, 200, found.get());
        } else {
            respond(exchange, 404, Map.of("error", "unknown target: " + id));
        }
    }

    /**
     * Per group: its inventory members and its scored targets by health status. A group only the scores know (the
     * {@code default} group of targets not in the inventory) has no members but its counts.
     */
    private Map<String, Object> groups(KafkaStreams client, boolean local, StateQueries stores) {
        Map<String, TreeSet<String>> members = new TreeMap<>();
        Map<String, Object> health = new TreeMap<>();
        stores.groups().forEach((group, ids) -> members.computeIfAbsent(group, g -> new TreeSet<>()).addAll(ids));
        stores.groupHealth().forEach((group, counts) -> addCounts(health, Map.of(group, counts)));
        if (!local) {
            for (HostInfo peer : peers(client)) {
                Map<String, Object> theirs = getJson(peer, "/v1/groups");
                @SuppressWarnings("unchecked")
                Map<String, Map<String, Object>> groups = (Map<String, Map<String, Object>>) theirs.get("groups");
                groups.forEach((group, g) -> {
                    @SuppressWarnings("unchecked")
                    List<String> ids = (List<String>) g.get("targets");
                    members.computeIfAbsent(group, x -> new TreeSet<>()).addAll(ids);
                    addCounts(health, Map.of(group, g.get("health")));
                });
            }
        }
        Map<String, Object> out = new TreeMap<>();
        TreeSet<String> names = new TreeSet<>(members.keySet());
        names.addAll(health.keySet());
        for (String group : names) {
            List<String> ids = List.copyOf(members.getOrDefault(group, new TreeSet<>()));
            Object counts = health.containsKey(group) ? health.get(group) : zeroStatusCounts();
            out.put(group, Map.of("count", ids.size(), "targets", ids, "health", counts));
        }
        return out;
    }

    /** The fleet's health from every instance's share: counts added up, the worst {@code worst} of all. */
    private void healthSummary(HttpExchange exchange, KafkaStreams client, StateQueries stores, Map<String, String> query,
                               boolean local) throws IOException {
        String given = query.getOrDefault("worst", String.valueOf(DEFAULT_WORST));
        int worst;
        try {
            worst = Integer.parseInt(given);
        } catch (NumberFormatException e) {
            worst = -1;
        }
        if (worst < 0 || worst > MAX_WORST) {
            respond(exchange, 400, Map.of("error", "worst must be a whole number from 0 to " + MAX_WORST + ", not '"
                    + given + "'"));
            return;
        }
        Map<String, Object> summary = stores.healthSummary(worst);
        if (!local) {
            List<Map<String, Object>> lowest = new ArrayList<>(worstOf(summary));
            for (HostInfo peer : peers(client)) {
                Map<String, Object> theirs = getJson(peer, "/v1/health/summary?worst=" + worst);
                lowest.addAll(worstOf(theirs));
                theirs.remove("worst");
                addCounts(summary, theirs);
            }
            lowest.sort(StateQueries.WORST_FIRST);
            summary.put("worst", List.copyOf(lowest.subList(0, Math.min(worst, lowest.size()))));
        }
        respond(exchange, 200, summary);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> worstOf(Map<String, Object> summary) {
        return (List<Map<String, Object>>) summary.get("worst");
    }

    /** Adds the numbers of {@code from} into {@code into}, nested maps key by key; keys only {@code from} has are copied. */
    @SuppressWarnings("unchecked")
    private static void addCounts(Map<String, Object> into, Map<String, ?> from) {
        from.forEach((key, value) -> {
            Object had = into.get(key);
            if (value instanceof Map<?, ?> nested) {
                Map<String, Object> target = had instanceof Map<?, ?> ? (Map<String, Object>) had : new LinkedHashMap<>();
                addCounts(target, (Map<String, ?>) nested);
                into.put(key, target);
            } else if (value instanceof Number n) {
                into.put(key, (had instanceof Number h ? h.longValue() : 0L) + n.longValue());
            }
        });
    }

    private static Map<String, Object> zeroStatusCounts() {
        Map<String, Object> zeros = new LinkedHashMap<>();
        for (HealthStatus status : HealthStatus.values()) {
            zeros.put(status.name(), 0L);
        }
        return zeros;
    }

    private void alerts(HttpExchange exchange, KafkaStreams client, StateQueries stores, Map<String, String> query,
                        boolean local) throws IOException {
        String wanted = query.getOrDefault("state", "firing").toLowerCase(Locale.ROOT);
        AlertState state = switch (wanted) {
            case "firing" -> AlertState.FIRING;
            case "pending" -> AlertState.PENDING;
            case "all" -> null;
            default -> {
                respond(exchange, 400, Map.of("error", "state must be firing, pending or all, not '" + wanted + "'"));
                yield AlertState.INACTIVE;
            }
        };
        if (state == AlertState.INACTIVE) {
            return;
        }
        respond(exchange, 200, Map.of("alerts", merged(client, "/v1/alerts?state=" + wanted, local, "alerts",
                () -> stores.alerts(state))));
    }

    /** This instance's list, plus every other instance's when the request is not local, sorted by target. */
    private List<Map<String, Object>> merged(KafkaStreams client, String path, boolean local, String field,
                                             java.util.function.Supplier<List<Map<String, Object>>> mine) {
        List<Map<String, Object>> all = new ArrayList<>(mine.get());
        if (!local) {
            for (HostInfo peer : peers(client)) {
                @SuppressWarnings("unchecked")
                List<Map<String, Object>> theirs = (List<Map<String, Object>>) getJson(peer, path).get(field);
                all.addAll(theirs);
            }
        }
        all.sort(Comparator.comparing((Map<String, Object> m) -> String.valueOf(m.get("targetId")))
                .thenComparing(m -> String.valueOf(m.get("ruleId"))).thenComparing(m -> String.valueOf(m.get("check"))));
        return all;
    }

    /** The other instances of the application, as their {@code application.server}. */
    private List<HostInfo> peers(KafkaStreams client) {
        return client.metadataForAllStreamsClients().stream().map(StreamsMetadata::hostInfo)
                .filter(host -> !host.equals(self)).distinct().toList();
    }

    private Map<String, Object> getJson(HostInfo peer, String path) {
        Response response = get(peer, path);
        if (response.status() != 200) {
            throw new PeerException("instance " + peer.host() + ":" + peer.port() + " answered " + response.status()
                    + " to " + path + ": " + response.body());
        }
        try {
            return JSON.readValue(response.body(), OBJECT);
        } catch (IOException e) {
            throw new PeerException("instance " + peer.host() + ":" + peer.port() + " sent no JSON for " + path);
        }
    }

    private Response get(HostInfo peer, String path) {
        URI uri = URI.create("http://" + peer.host() + ":" + peer.port() + path + (path.contains("?") ? "&" : "?") + LOCAL);
        try {
            HttpResponse<String> response = peers.send(HttpRequest.newBuilder(uri).timeout(PEER_TIMEOUT).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            return new Response(response.statusCode(), response.body());
        } catch (IOException e) {
            throw new PeerException("instance " + peer.host() + ":" + peer.port() + " did not answer " + path + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PeerException("interrupted while asking " + peer.host() + ":" + peer.port());
        }
    }

    private record Response(int status, String body) {
    }

    /** Another instance could not give its share: the answer would be incomplete, so there is none. */
    private static final class PeerException extends RuntimeException {
        PeerException(String message) {
            super(message);
        }
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> out = new LinkedHashMap<>();
        if (raw != null) {
            for (String pair : raw.split("&")) {
                int eq = pair.indexOf('=');
                String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                out.put(key, eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    private static void respond(HttpExchange exchange, int status, Object body) throws IOException {
        respondRaw(exchange, status, JSON.writeValueAsString(body));
    }

    private static void respondRaw(HttpExchange exchange, int status, String body) throws IOException {
        OpsServer.respond(exchange, status, "application/json", body);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
