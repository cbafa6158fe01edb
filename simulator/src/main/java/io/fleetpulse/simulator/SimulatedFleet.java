package io.fleetpulse.simulator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fleetpulse.simulator.IncidentScript.Condition;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import io.fleetpulse.runtime.text.Durations;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A fleet of virtual servers behind one HTTP server: {@code GET /{id}/health} and {@code GET /{id}/metrics} for
 * each, with seeded metrics and scripted incidents timed from the fleet's start. Used by the demo, by tests and by
 * benchmarks in place of real machines.
 *
 * <pre>{@code
 * try (SimulatedFleet fleet = SimulatedFleet.start(FleetSpec.of(10).withScript(IncidentScript.demo(10)))) {
 *     fleet.writeInventory(Path.of("inventory.yaml"), Duration.ofSeconds(5), Duration.ofSeconds(2));
 *     ...
 * }
 * }</pre>
 */
public final class SimulatedFleet implements AutoCloseable {

    /** How long a SLOW server takes to answer: longer than the collector's default 2 s timeout. */
    public static final Duration SLOW_DELAY = Duration.ofSeconds(3);
    /** How often a {@link Hostility#SLOW_BODY} server sends its next byte. */
    public static final Duration TRICKLE_PERIOD = Duration.ofSeconds(1);
    /** The size of a {@link Hostility#HUGE_BODY} body: 50 MiB. */
    public static final long HUGE_BODY_BYTES = 50L * 1024 * 1024;
    /** Components of a {@link Hostility#MANY_COMPONENTS} health body (series of its metrics body). */
    public static final int MANY_COMPONENTS = 5_000;
    /** Characters of each check name of a {@link Hostility#HUGE_NAMES} body. */
    public static final int HUGE_NAME_LENGTH = 20_000;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> ROLES = List.of("web", "api", "worker", "batch");
    private static final List<String> ZONES = List.of("zone-a", "zone-b", "zone-c");

    private final FleetSpec spec;
    private final Vertx vertx;
    private final Map<String, VirtualServer> servers;
    private final Instant startedAt;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final HostileResponder hostile;
    private HttpServer server;

    private SimulatedFleet(FleetSpec spec, Vertx vertx, Map<String, VirtualServer> servers) {
        this.spec = spec;
        this.vertx = vertx;
        this.servers = servers;
        this.startedAt = spec.clock().instant();
        this.hostile = new HostileResponder(vertx);
    }

    /**
     * Starts the fleet and returns once its HTTP server listens; incidents are timed from now on the spec's clock.
     *
     * @throws IllegalArgumentException when the script names a server outside the fleet
     */
    public static SimulatedFleet start(FleetSpec spec) {
        Map<String, VirtualServer> servers = virtualServers(spec);
        spec.script().requireServersIn(servers.keySet());
        SimulatedFleet fleet = new SimulatedFleet(spec, Vertx.vertx(), servers);
        try {
            fleet.server = await(fleet.vertx.createHttpServer(new HttpServerOptions().setHost(spec.host()).setPort(spec.port()))
                    .requestHandler(fleet::handle)
                    .listen(), "listen on " + spec.host() + ":" + spec.port());
        } catch (RuntimeException e) {
            fleet.close();
            throw e;
        }
        return fleet;
    }

    /** The spec's servers by id, in order, each seeded from the spec's seed: the same spec gives the same servers. */
    static Map<String, VirtualServer> virtualServers(FleetSpec spec) {
        Map<String, VirtualServer> servers = new LinkedHashMap<>();
        SplittableRandom seeds = new SplittableRandom(spec.seed());
        for (int i = 1; i <= spec.servers(); i++) {
            String id = serverId(i, spec.servers());
            servers.put(id, new VirtualServer(id, seeds.nextLong()));
        }
        return servers;
    }

    /** {@code srv-007}: the number zero-padded to three digits, or more for fleets of a thousand and up. */
    public static String serverId(int number, int fleetSize) {
        int width = Math.max(3, String.valueOf(fleetSize).length());
        return "srv-" + String.format("%0" + width + "d", number);
    }

    public String baseUrl() {
        return "http://" + spec.host() + ":" + port();
    }

    public int port() {
        return server.actualPort();
    }

    public String healthUrl(String serverId) {
        return baseUrl() + "/" + require(serverId).id() + "/health";
    }

    public String metricsUrl(String serverId) {
        return baseUrl() + "/" + require(serverId).id() + "/metrics";
    }

    public List<String> serverIds() {
        return List.copyOf(servers.keySet());
    }

    public FleetSpec spec() {
        return spec;
    }

    /** The instant on the spec's clock that incident offsets are measured from. */
    public Instant startedAt() {
        return startedAt;
    }

    /** Forces an outage (503 everywhere, checks CRITICAL) until cleared, whatever the script says. */
    public void setDown(String serverId, boolean down) {
        require(serverId).forceDown(down);
    }

    /** Makes the server close every connection without a response until cleared. */
    public void setUnreachable(String serverId, boolean unreachable) {
        require(serverId).forceUnreachable(unreachable);
    }

    /** Delays the server's responses by {@link #SLOW_DELAY} until cleared. */
    public void setSlow(String serverId, boolean slow) {
        require(serverId).forceSlow(slow);
    }

    /** Makes both endpoints of the server answer the {@link Hostility} way until cleared with {@code null}. */
    public void setHostile(String serverId, Hostility hostility) {
        require(serverId).forceHostile(hostility);
    }

    /**
     * Makes the server's metrics endpoint answer in node_exporter's Prometheus text format (cpu as counters,
     * meminfo, filesystem, netdev, load) instead of JSON, until cleared; its health endpoint is unchanged.
     */
    public void setPrometheusMetrics(String serverId, boolean prometheus) {
        require(serverId).servePrometheus(prometheus);
    }

    /** Body bytes all hostile answers have written so far: a client that stops reading early keeps this small. */
    public long hostileBodyBytesWritten() {
        return hostile.bodyBytesWritten();
    }

    /** The metrics {@code serverId} reports now (incidents applied), as its endpoint would serve them. */
    public MetricReading readingNow(String serverId) {
        VirtualServer s = require(serverId);
        Duration elapsed = elapsed();
        return s.reading(elapsed, s.condition(spec.script(), elapsed));
    }

    /**
     * Writes the collector's inventory YAML for every server: health and metrics URLs, a group by role, labels,
     * {@code critical-checks: [http, db]} (the request itself and the database component), and {@code interval} (for
     * health and metrics alike) / {@code timeout} as the defaults.
     */
    public void writeInventory(Path file, Duration interval, Duration timeout) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(file, inventoryYaml(interval, timeout));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the inventory to " + file, e);
        }
    }

    /** The text {@link #writeInventory} writes. */
    public String inventoryYaml(Duration interval, Duration timeout) {
        StringBuilder yaml = new StringBuilder();
        yaml.append("# Inventory of a simulated fleet of ").append(servers.size()).append(" servers at ").append(baseUrl())
                .append(" (seed ").append(spec.seed()).append(")\n");
        if (!spec.script().isEmpty()) {
            yaml.append("# incidents: ").append(spec.script()).append('\n');
        }
        // The metrics endpoint on the same interval: a simulated fleet is watched closely, not at the collector's
        // 60 s metrics default.
        yaml.append("defaults: { interval: ").append(Durations.format(interval))
                .append(", metrics-interval: ").append(Durations.format(interval))
                .append(", timeout: ").append(Durations.format(timeout)).append(", group: default }\n");
        yaml.append("targets:\n");
        int index = 0;
        for (String id : servers.keySet()) {
            String role = ROLES.get(index % ROLES.size());
            String zone = ZONES.get(index % ZONES.size());
            yaml.append("  - id: ").append(id).append('\n')
                    .append("    health: ").append(healthUrl(id)).append('\n')
                    .append("    metrics: ").append(metricsUrl(id)).append('\n')
                    .append("    group: ").append(role).append('\n')
                    .append("    labels: { role: ").append(role).append(", zone: ").append(zone).append(", env: simulated }\n")
                    .append("    critical-checks: [http, ").append(VirtualServer.DB_CHECK).append("]\n");
            index++;
        }
        return yaml.toString();
    }

    private Duration elapsed() {
        return Duration.between(startedAt, spec.clock().instant());
    }

    private VirtualServer require(String serverId) {
        VirtualServer s = servers.get(serverId);
        if (s == null) {
            throw new IllegalArgumentException("no server '" + serverId + "' in this fleet of " + servers.size()
                    + " (" + serverId(1, servers.size()) + " to " + serverId(servers.size(), servers.size()) + ")");
        }
        return s;
    }

    private void handle(HttpServerRequest request) {
        String[] parts = request.path().split("/");
        if (request.method() != HttpMethod.GET) {
            respond(request.response(), new VirtualServer.Response(405, Map.of("error", "only GET is served")));
            return;
        }
        if (parts.length <= 1) {
            respond(request.response(), new VirtualServer.Response(200, Map.of("servers", serverIds())));
            return;
        }
        VirtualServer target = servers.get(parts[1]);
        if (target == null || parts.length != 3 || !(parts[2].equals("health") || parts[2].equals("metrics"))) {
            respond(request.response(), new VirtualServer.Response(404,
                    Map.of("error", "no such endpoint; try /{id}/health or /{id}/metrics")));
            return;
        }
        if (target.hostility() != null) {
            hostile.respond(request, target.hostility(), parts[2].equals("health"));
            return;
        }
        Duration elapsed = elapsed();
        Condition condition = target.condition(spec.script(), elapsed);
        if (condition.unreachable()) {
            // No status line, no bytes: what a crashed process or a dropped SYN-ACK looks like to a client.
            request.connection().close();
            return;
        }
        String prometheus = parts[2].equals("metrics") && !condition.down() ? target.prometheusMetrics(elapsed, condition) : null;
        if (prometheus != null) {
            request.response().putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8").end(prometheus);
            return;
        }
        VirtualServer.Response response = parts[2].equals("health")
                ? target.health(elapsed, condition) : target.metrics(elapsed, condition);
        if (condition.slow()) {
            vertx.setTimer(SLOW_DELAY.toMillis(), t -> respond(request.response(), response));
        } else {
            respond(request.response(), response);
        }
    }

    private static void respond(HttpServerResponse response, VirtualServer.Response what) {
        if (response.closed() || response.ended()) {
            return; // the client gave up waiting on a slow server
        }
        try {
            response.setStatusCode(what.status())
                    .putHeader("content-type", "application/json")
                    .end(JSON.writeValueAsString(what.body()));
        } catch (JsonProcessingException e) {
            response.setStatusCode(500).end();
        }
    }

    /** Stops the HTTP server and Vert.x; safe to call more than once. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            if (server != null) {
                await(server.close(), "stop the HTTP server");
            }
        } finally {
            await(vertx.close(), "close Vert.x");
        }
    }

    private static <T> T await(Future<T> future, String what) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting to " + what, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot " + what + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("timed out waiting to " + what, e);
        }
    }
}
