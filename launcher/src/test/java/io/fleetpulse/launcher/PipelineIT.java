package io.fleetpulse.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.schemas.DeadLetters;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.simulator.FleetSpec;
import io.fleetpulse.simulator.IncidentScript;
import io.fleetpulse.simulator.SimulatedFleet;
import io.fleetpulse.sink.SinkQueries;
import io.fleetpulse.testkit.Await;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.PostgresFixture;
import io.fleetpulse.testkit.Promtool;
import io.fleetpulse.testkit.TopicProbe;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole pipeline in one JVM on a real broker, a real PostgreSQL and real HTTP: simulated targets are polled,
 * windowed, alerted on, delivered to a PagerDuty stand-in, and written to partitioned tables.
 */
class PipelineIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    private static KafkaFixture kafka;
    private static PostgresFixture postgres;
    private static SimulatedFleet fleet;
    private static LocalReceiver slack;
    private static LocalReceiver pagerDuty;
    private static Pipeline pipeline;
    private static String jdbcUrl;

    @BeforeAll
    static void startPipeline() throws Exception {
        kafka = KafkaFixture.start();
        postgres = PostgresFixture.start();
        jdbcUrl = postgres.createDatabase();
        fleet = SimulatedFleet.start(FleetSpec.of(3).withSeed(7).withScript(IncidentScript.none()));
        slack = LocalReceiver.start("slack", 200, "ok", body -> body, null);
        pagerDuty = LocalReceiver.start("pagerduty", 202, "{\"status\":\"success\"}", body -> body, null);

        Path inventory = dir.resolve("inventory.yaml");
        fleet.writeInventory(inventory, Duration.ofSeconds(1), Duration.ofMillis(800));
        Path rules = dir.resolve("rules.yaml");
        Files.writeString(rules, """
                rules:
                  - id: target-down
                    kind: threshold
                    signal: check_failed
                    op: ">="
                    value: 1
                    for: 2s
                    recovery: { op: "<", value: 1, for: 2s }
                    severity: critical
                    summary: "{target} is failing its health checks"
                """);

        Map<String, String> settings = new HashMap<>();
        settings.put("kafka.bootstrap.servers", kafka.bootstrapServers());
        settings.put("kafka.topic.partitions", "2");
        settings.put("collector.inventory", inventory.toString());
        settings.put("streams.state.dir", dir.resolve("streams").toString());
        settings.put("streams.window.grace", "2s");
        settings.put("rules.file", rules.toString());
        settings.put("sink.jdbc.url", jdbcUrl);
        settings.put("sink.jdbc.user", postgres.user());
        settings.put("sink.jdbc.password", postgres.password());
        settings.put("alerting.slack.webhook.url", slack.url());
        settings.put("alerting.pagerduty.url", pagerDuty.url());
        settings.put("alerting.pagerduty.routing.key", "it-routing-key");
        pipeline = Pipeline.start(Config.of(settings), Duration.ofSeconds(60));
        await("every service ready", pipeline::allReady, Duration.ofSeconds(60));
    }

    @AfterAll
    static void stopPipeline() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {pipeline, pagerDuty, slack, fleet, postgres, kafka}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    void shouldCarryATargetFromOutageToPagerDutyAndBackAndKeepGoingPastGarbage() throws Exception {
        fleet.setDown("srv-002", true);
        JsonNode trigger = awaitTrigger("srv-002");
        String dedupKey = trigger.path("dedup_key").asText();
        assertFalse(dedupKey.isBlank(), "the trigger carries the alert fingerprint as dedup_key");
        assertEquals("it-routing-key", trigger.path("routing_key").asText());

        fleet.setDown("srv-002", false);
        // PagerDuty's resolve carries only the dedup_key: that is what closes the incident the trigger opened.
        awaitPagerDuty("resolve", e -> e.path("dedup_key").asText().equals(dedupKey), "dedup_key " + dedupKey);
        assertTrue(slack.received() >= 2, "Slack got the trigger and the resolve");

        TopicProbe.sendRaw(kafka.bootstrapServers(), Topics.CHECKS.name(),
                "srv-001".getBytes(StandardCharsets.UTF_8), "definitely not avro".getBytes(StandardCharsets.UTF_8));
        var dead = TopicProbe.readUntil(kafka.bootstrapServers(), Topics.DLQ,
                records -> records.stream().anyMatch(r -> r.value().getReason().equals(DeadLetters.UNDECODABLE)),
                Duration.ofSeconds(30));
        DeadLetter letter = dead.stream().map(r -> r.value()).filter(d -> d.getReason().equals(DeadLetters.UNDECODABLE))
                .findFirst().orElseThrow();
        assertEquals(Topics.CHECKS.name(), letter.getSourceTopic());

        // The pipeline goes on after the bad record: a new outage is still found and delivered.
        fleet.setDown("srv-003", true);
        awaitTrigger("srv-003");
        fleet.setDown("srv-003", false);

        // One-minute windows close at the minute boundary plus grace; the sink then writes them.
        await("window aggregates in PostgreSQL", () -> rowCount("target_window_1m") > 0, Duration.ofSeconds(100));
        await("alert transitions in PostgreSQL", () -> rowCount("alert_event") >= 2, Duration.ofSeconds(30));
    }

    /** Every service's /metrics passes promtool's lint with no findings (CI installs promtool; skipped where it is absent). */
    @Test
    void shouldServeMetricsThatPassPromtoolOnEveryService() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        for (ServiceKind kind : ServiceKind.values()) {
            String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + pipeline.opsPort(kind)
                    + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(metrics.contains("fleetpulse_" + kind.commandName().replace('-', '_') + "_"), kind + ": " + metrics);
            assertTrue(metrics.contains("jvm_memory_used_bytes"), kind + " exports JVM meters");
            Promtool.assertNoFindings(kind.commandName() + " /metrics", metrics);
        }
    }

    private static long rowCount(String table) {
        try {
            return SinkQueries.rowCounts(postgres.dataSource(jdbcUrl.substring(jdbcUrl.lastIndexOf('/') + 1)))
                    .getOrDefault(table, 0L);
        } catch (Exception e) {
            return 0;
        }
    }

    private static JsonNode awaitTrigger(String target) throws InterruptedException {
        return awaitPagerDuty("trigger", e -> e.path("payload").path("source").asText().equals(target), target);
    }

    private static JsonNode awaitPagerDuty(String action, Predicate<JsonNode> matching, String what) throws InterruptedException {
        Supplier<Optional<JsonNode>> find = () -> pagerDuty.bodies().stream().map(PipelineIT::parse)
                .filter(e -> e.path("event_action").asText().equals(action))
                .filter(matching)
                .findFirst();
        await("PagerDuty " + action + " for " + what, () -> find.get().isPresent(), Duration.ofSeconds(45));
        return find.get().orElseThrow();
    }

    private static JsonNode parse(String body) {
        try {
            return JSON.readTree(body);
        } catch (Exception e) {
            throw new AssertionError("PagerDuty got a body that is not JSON: " + body, e);
        }
    }

    private static void await(String what, Supplier<Boolean> condition, Duration timeout) throws InterruptedException {
        Await.until(condition::get, timeout, what, () -> "PagerDuty received " + List.copyOf(pagerDuty.bodies()));
    }
}
