package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.simulator.FleetSpec;
import io.fleetpulse.simulator.SimulatedFleet;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.TopicProbe;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The single broker stopped and restarted while two simulated servers are polled five times a second: polling goes
 * on into the bounded buffer, each series keeps its newest records, and after the broker returns every retained
 * record reaches the topics exactly once and in order.
 */
class BrokerOutageIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int PER_SERIES = 10;

    @TempDir
    static Path dir;

    private static KafkaFixture kafka;
    private static SimulatedFleet fleet;

    @BeforeAll
    static void start() throws Exception {
        kafka = KafkaFixture.start();
        kafka.createContractTopics(1);
        fleet = SimulatedFleet.start(FleetSpec.of(2));
    }

    @AfterAll
    static void stop() throws Exception {
        if (fleet != null) {
            fleet.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void shouldKeepPollingThroughAnOutageAndSendEveryRetainedRecordAfterIt() throws Exception {
        Path inventory = dir.resolve("inventory.yaml");
        Files.writeString(inventory, fleet.inventoryYaml(Duration.ofMillis(200), Duration.ofMillis(200)));
        Path tokens = dir.resolve("tokens.yaml");
        Files.writeString(tokens, "agents:\n  - { name: edge, token-sha256: " + PushTokens.sha256("t0ken")
                + ", targets: [nat-001] }\n");
        CollectorService collector = new CollectorService(Settings.of(Map.of(
                "collector.push.tokens", tokens.toString(),
                "collector.push.port", "0",
                "collector.inventory", inventory.toString(),
                "collector.id", "outage-collector",
                "collector.buffer.max.per.series", String.valueOf(PER_SERIES),
                "collector.producer.max.unacked", "20",
                "kafka.bootstrap.servers", kafka.bootstrapServers(),
                "kafka.topic.partitions", "1"), CollectorService.KEYS));
        Instant restartAt;
        try {
            collector.start();
            AwaitCollector.until(() -> (long) collector.status().get("checksProduced") > 0, collector, WAIT);
            int brokerId;
            try (Admin admin = kafka.admin()) {
                brokerId = admin.describeCluster().nodes().get().iterator().next().id();
            }

            kafka.stopBroker(brokerId);
            long producedAtStop = (long) collector.status().get("checksProduced");
            // Several series past their cap: the oldest records of each are being superseded.
            AwaitCollector.until(() -> (long) collector.status().get("recordsSuperseded") > 5L * PER_SERIES, collector, WAIT);
            assertEquals(0L, collector.status().get("produceErrors"), "nothing fails while the broker is away");
            assertTrue((long) collector.status().get("checksProduced") - producedAtStop < 50,
                    "the broker was really away: " + collector.status());
            AwaitCollector.until(() -> !collector.isReady(), collector, WAIT);
            HttpResponse<String> push = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + collector.pushPort() + PushApi.HEARTBEAT)).header("Authorization", "Bearer t0ken")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"targets\":[\"nat-001\"]}")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(503, push.statusCode(), "a push while the broker is away: " + push.body());
            assertEquals("5", push.headers().firstValue("Retry-After").orElseThrow());
            restartAt = Instant.now();
            kafka.restartBroker(brokerId);

            AwaitCollector.until(() -> collector.isReady() && (int) collector.status().get("recordsBuffered") == 0
                    && (int) collector.status().get("recordsUnacked") == 0, collector, WAIT);
        } finally {
            collector.close();
        }

        Map<String, Object> status = collector.status();
        long accepted = (long) status.get("recordsAccepted");
        long superseded = (long) status.get("recordsSuperseded");
        long produced = (long) status.get("checksProduced") + (long) status.get("metricsProduced");
        assertEquals(0L, status.get("produceErrors"));
        assertEquals(accepted - superseded, produced, "every record not superseded was acknowledged: " + status);

        List<ConsumerRecord<String, CheckResult>> checks = TopicProbe.readUntil(kafka.bootstrapServers(), Topics.CHECKS,
                seen -> seen.size() >= (long) status.get("checksProduced"), WAIT);
        List<ConsumerRecord<String, MetricSample>> metrics = TopicProbe.readUntil(kafka.bootstrapServers(), Topics.METRICS,
                seen -> seen.size() >= (long) status.get("metricsProduced"), WAIT);
        assertEquals(produced, checks.size() + metrics.size(), "no record twice");

        String target = fleet.serverIds().get(0);
        List<Instant> http = checks.stream().map(ConsumerRecord::value)
                .filter(c -> c.getTargetId().equals(target) && c.getCheckName().equals("http"))
                .map(CheckResult::getObservedAt).toList();
        for (int i = 1; i < http.size(); i++) {
            assertTrue(http.get(i).isAfter(http.get(i - 1)), "in poll order, once each: " + http);
        }
        // The newest polls before the broker came back were kept (the oldest of the outage were superseded).
        assertTrue(http.stream().anyMatch(t -> !t.isBefore(restartAt.minusSeconds(2)) && !t.isAfter(restartAt)),
                "a poll from just before the restart at " + restartAt + ": " + http);
        boolean gap = false;
        for (int i = 1; i < http.size(); i++) {
            gap |= Duration.between(http.get(i - 1), http.get(i)).compareTo(Duration.ofSeconds(1)) > 0;
        }
        assertTrue(gap, "the superseded stretch is missing: " + http);
        assertFalse(http.isEmpty());
    }
}
