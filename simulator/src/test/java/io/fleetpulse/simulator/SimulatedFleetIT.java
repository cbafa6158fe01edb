package io.fleetpulse.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fleet over real HTTP, as the collector sees it. */
class SimulatedFleetIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> METRIC_KEYS = Set.of("cpu_percent", "memory_percent", "disk_percent",
            "disk_free_bytes", "net_rx_bytes", "net_tx_bytes", "services_active", "services_failed", "services_total",
            "tasks_completed", "tasks_failed", "task_latency_ms", "gpu_percent", "llm_requests", "llm_cost_usd", "users",
            "queue_depth");

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    void shouldServeHealthAndMetricsOfEveryServerOnOnePort() throws Exception {
        try (SimulatedFleet fleet = SimulatedFleet.start(FleetSpec.of(3))) {
            assertEquals(List.of("srv-001", "srv-002", "srv-003"), fleet.serverIds());
            for (String id : fleet.serverIds()) {
                HttpResponse<String> health = get(fleet.healthUrl(id));
                assertEquals(200, health.statusCode());
                JsonNode body = JSON.readTree(health.body());
                assertEquals("UP", body.get("status").asText());
                assertEquals(Set.of("disk", "services", "db"), names(body.get("checks")));
                body.get("checks").forEach(c -> assertEquals("OK", c.get("status").asText(), c.toString()));

                HttpResponse<String> metrics = get(fleet.metricsUrl(id));
                assertEquals(200, metrics.statusCode());
                JsonNode values = JSON.readTree(metrics.body());
                METRIC_KEYS.forEach(k -> assertTrue(values.path(k).isNumber(), id + " lacks " + k + ": " + values));
            }
            assertEquals(404, get(fleet.baseUrl() + "/srv-004/health").statusCode());
            assertEquals(404, get(fleet.baseUrl() + "/srv-001/nothing").statusCode());
        }
    }

    @Test
    void shouldAnswer503WhileForcedDownAndRecoverWhenCleared() throws Exception {
        try (SimulatedFleet fleet = SimulatedFleet.start(FleetSpec.of(2))) {
            fleet.setDown("srv-002", true);

            HttpResponse<String> health = get(fleet.healthUrl("srv-002"));
            assertEquals(503, health.statusCode());
            JsonNode body = JSON.readTree(health.body());
            assertEquals("DOWN", body.get("status").asText());
            body.get("checks").forEach(c -> assertEquals("CRITICAL", c.get("status").asText()));
            assertEquals(503, get(fleet.metricsUrl("srv-002")).statusCode());
            assertEquals(200, get(fleet.healthUrl("srv-001")).statusCode(), "only srv-002 is down");

            fleet.setDown("srv-002", false);
            assertEquals(200, get(fleet.healthUrl("srv-002")).statusCode());
        }
    }

    @Test
    void shouldCloseTheConnectionWithoutAnyResponseWhenUnreachable() throws Exception {
        try (SimulatedFleet fleet = SimulatedFleet.start(FleetSpec.of(2))) {
            fleet.setUnreachable("srv-001", true);

            assertThrows(IOException.class, () -> get(fleet.healthUrl("srv-001")));
            assertThrows(IOException.class, () -> get(fleet.metricsUrl("srv-001")));

            fleet.setUnreachable("srv-001", false);
            assertEquals(200, get(fleet.healthUrl("srv-001")).statusCode());
        }
    }

    @Test
    void shouldDelaySlowResponsesBeyondATwoSecondTimeout() throws Exception {
        try (SimulatedFleet fleet = SimulatedFleet.start(FleetSpec.of(1)
                .withScript(IncidentScript.parse("slow:srv-001@0s+1h")))) {
            long started = System.nanoTime();
            CompletableFuture<HttpResponse<String>> patient = http.sendAsync(request(fleet.healthUrl("srv-001"),
                    Duration.ofSeconds(10)), HttpResponse.BodyHandlers.ofString());
            CompletableFuture<HttpResponse<String>> impatient = http.sendAsync(request(fleet.metricsUrl("srv-001"),
                    Duration.ofSeconds(2)), HttpResponse.BodyHandlers.ofString());

            ExecutionException timedOut = assertThrows(ExecutionException.class, impatient::get);
            assertTrue(timedOut.getCause() instanceof HttpTimeoutException, timedOut.getCause().toString());
            assertEquals(200, patient.get().statusCode());
            long tookMs = (System.nanoTime() - started) / 1_000_000;
            assertTrue(tookMs >= SimulatedFleet.SLOW_DELAY.toMillis() - 50, "answered after " + tookMs + " ms");
        }
    }

    @Test
    void shouldFollowTheScriptOnTheInjectedClock() throws Exception {
        ManualClock clock = new ManualClock(Instant.parse("2025-01-01T00:00:00Z"));
        IncidentScript script = IncidentScript.parse("outage:srv-002@20s+40s,cpu:srv-001@10s+30s,disk:srv-003@0s+60s");
        try (SimulatedFleet fleet = SimulatedFleet.start(FleetSpec.of(3).withClock(clock).withScript(script))) {
            double diskAtStart = metrics(fleet, "srv-003").get("disk_percent").asDouble();
            assertEquals(200, get(fleet.healthUrl("srv-002")).statusCode());

            clock.advance(Duration.ofSeconds(20));
            assertEquals(503, get(fleet.healthUrl("srv-002")).statusCode());
            assertTrue(metrics(fleet, "srv-001").get("cpu_percent").asDouble() >= 95);

            clock.advance(Duration.ofSeconds(39));
            assertEquals(503, get(fleet.healthUrl("srv-002")).statusCode());
            JsonNode fullDisk = metrics(fleet, "srv-003");
            assertTrue(fullDisk.get("disk_percent").asDouble() > 97, fullDisk.toString());
            assertTrue(fullDisk.get("disk_percent").asDouble() > diskAtStart);
            JsonNode health = JSON.readTree(get(fleet.healthUrl("srv-003")).body());
            assertEquals("CRITICAL", StreamSupport.stream(health.get("checks").spliterator(), false)
                    .filter(c -> c.get("name").asText().equals("disk")).findFirst().orElseThrow().get("status").asText());

            clock.advance(Duration.ofSeconds(1));
            assertEquals(200, get(fleet.healthUrl("srv-002")).statusCode(), "the outage is over at 60 s");
            assertTrue(metrics(fleet, "srv-001").get("cpu_percent").asDouble() < 95, "the spike is over at 40 s");
        }
    }

    @Test
    void shouldServeTheSameMetricsForTheSameSeedAndClock() throws Exception {
        ManualClock clock = new ManualClock(Instant.parse("2025-01-01T00:00:00Z"));
        try (SimulatedFleet a = SimulatedFleet.start(FleetSpec.of(2).withClock(clock).withSeed(11));
             SimulatedFleet b = SimulatedFleet.start(FleetSpec.of(2).withClock(clock).withSeed(11));
             SimulatedFleet c = SimulatedFleet.start(FleetSpec.of(2).withClock(clock).withSeed(12))) {
            clock.advance(Duration.ofMinutes(10));

            assertEquals(metrics(a, "srv-002"), metrics(b, "srv-002"));
            assertNotEquals(metrics(a, "srv-001"), metrics(a, "srv-002"), "servers differ from one another");
            assertNotEquals(metrics(a, "srv-002"), metrics(c, "srv-002"), "seeds differ");
        }
    }

    @Test
    void shouldWriteTheCollectorInventoryForEveryServer(@TempDir Path dir) throws Exception {
        try (SimulatedFleet fleet = SimulatedFleet.start(FleetSpec.of(4))) {
            Path file = dir.resolve("conf/inventory.yaml");
            fleet.writeInventory(file, Duration.ofSeconds(5), Duration.ofMillis(1500));

            String yaml = Files.readString(file);
            assertTrue(yaml.contains("defaults: { interval: 5s, metrics-interval: 5s, timeout: 1500ms, group: default }"), yaml);
            for (String id : fleet.serverIds()) {
                assertTrue(yaml.contains("  - id: " + id + "\n    health: " + fleet.healthUrl(id) + "\n    metrics: "
                        + fleet.metricsUrl(id) + "\n"), yaml);
            }
            assertEquals(4, yaml.lines().filter(l -> l.contains("critical-checks: [http, db]")).count());
        }
    }

    @Test
    void shouldReportItsDatabaseDownWhileHttpStillAnswers200DuringAComponentIncident() throws Exception {
        try (SimulatedFleet fleet = SimulatedFleet.start(FleetSpec.of(2).withScript(IncidentScript.parse("component:srv-002@0s+1h")))) {
            HttpResponse<String> health = get(fleet.healthUrl("srv-002"));

            assertEquals(200, health.statusCode(), "a partial failure: the endpoint itself answers");
            JsonNode body = JSON.readTree(health.body());
            assertEquals("DOWN", body.get("status").asText());
            Map<String, String> statuses = StreamSupport.stream(body.get("checks").spliterator(), false)
                    .collect(Collectors.toMap(c -> c.get("name").asText(), c -> c.get("status").asText()));
            assertEquals(Map.of("disk", "OK", "services", "OK", "db", "CRITICAL"), statuses);
            assertEquals(200, get(fleet.metricsUrl("srv-002")).statusCode());
            assertEquals("UP", JSON.readTree(get(fleet.healthUrl("srv-001")).body()).get("status").asText());
        }
    }

    @Test
    void shouldAnswerEachHostileWayOnBothEndpointsUntilCleared() throws Exception {
        try (SimulatedFleet fleet = SimulatedFleet.start(FleetSpec.of(6))) {
            fleet.setHostile("srv-001", Hostility.HTML);
            fleet.setHostile("srv-002", Hostility.SERVER_ERROR);
            fleet.setHostile("srv-003", Hostility.REDIRECT_LOOP);
            fleet.setHostile("srv-004", Hostility.MANY_COMPONENTS);
            fleet.setHostile("srv-005", Hostility.HUGE_NAMES);
            fleet.setHostile("srv-006", Hostility.INVALID_NUMBERS);

            HttpResponse<String> html = get(fleet.healthUrl("srv-001"));
            assertEquals(200, html.statusCode());
            assertTrue(html.body().startsWith("<!DOCTYPE html>"), html.body());
            assertEquals(500, get(fleet.metricsUrl("srv-002")).statusCode());
            HttpResponse<String> redirect = get(fleet.healthUrl("srv-003"));
            assertEquals(302, redirect.statusCode());
            assertEquals(fleet.healthUrl("srv-003"), redirect.headers().firstValue("location").orElseThrow());
            assertEquals(SimulatedFleet.MANY_COMPONENTS, JSON.readTree(get(fleet.healthUrl("srv-004")).body())
                    .get("components").size());
            JsonNode hugeNames = JSON.readTree(get(fleet.healthUrl("srv-005")).body());
            assertTrue(hugeNames.get("checks").get(0).get("name").asText().length() > SimulatedFleet.HUGE_NAME_LENGTH);
            assertEquals("high", JSON.readTree(get(fleet.metricsUrl("srv-006")).body()).get("cpu_percent").asText());

            fleet.setHostile("srv-001", null);
            assertEquals("UP", JSON.readTree(get(fleet.healthUrl("srv-001")).body()).get("status").asText());
        }
    }

    @Test
    void shouldStreamAHugeBodyWholeAndTrickleASlowOneByteByByte() throws Exception {
        try (SimulatedFleet fleet = SimulatedFleet.start(FleetSpec.of(2))) {
            fleet.setHostile("srv-001", Hostility.HUGE_BODY);
            fleet.setHostile("srv-002", Hostility.SLOW_BODY);

            HttpResponse<java.io.InputStream> huge = http.send(request(fleet.healthUrl("srv-001"), Duration.ofSeconds(30)),
                    HttpResponse.BodyHandlers.ofInputStream());
            long size;
            try (java.io.InputStream body = huge.body()) {
                size = body.transferTo(java.io.OutputStream.nullOutputStream());
            }
            assertTrue(size > SimulatedFleet.HUGE_BODY_BYTES, "size " + size);

            HttpResponse<java.io.InputStream> slow = http.send(request(fleet.healthUrl("srv-002"), Duration.ofSeconds(5)),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, slow.statusCode(), "headers come at once");
            try (java.io.InputStream body = slow.body()) {
                long started = System.nanoTime();
                assertEquals('{', body.read());
                assertEquals(' ', body.read(), "then one byte per trickle period");
                long tookMs = (System.nanoTime() - started) / 1_000_000;
                assertTrue(tookMs >= SimulatedFleet.TRICKLE_PERIOD.toMillis() - 200, "second byte after " + tookMs + " ms");
            }
        }
    }

    @Test
    void shouldRefuseAScriptNamingServersOutsideTheFleet() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                SimulatedFleet.start(FleetSpec.of(3).withScript(IncidentScript.parse("outage:srv-004@1s+1s"))));
        assertTrue(e.getMessage().contains("srv-004"), e.getMessage());
    }

    private JsonNode metrics(SimulatedFleet fleet, String id) throws Exception {
        HttpResponse<String> response = get(fleet.metricsUrl(id));
        assertEquals(200, response.statusCode(), response.body());
        return JSON.readTree(response.body());
    }

    private HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return http.send(request(url, Duration.ofSeconds(5)), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest request(String url, Duration timeout) {
        return HttpRequest.newBuilder(URI.create(url)).timeout(timeout).GET().build();
    }

    private static Set<String> names(JsonNode checks) {
        return StreamSupport.stream(checks.spliterator(), false).map(c -> c.get("name").asText()).collect(Collectors.toSet());
    }
}
