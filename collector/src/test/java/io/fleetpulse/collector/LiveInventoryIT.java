package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.Target;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.simulator.FleetSpec;
import io.fleetpulse.simulator.SimulatedFleet;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.TopicProbe;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** fleet.targets as the live inventory: a target added there is polled, a tombstoned one no longer, no restart. */
class LiveInventoryIT {

    @TempDir
    Path dir;

    @Test
    void shouldStartPollingAnAddedTargetAndStopPollingARemovedOneWithoutARestart() throws Exception {
        try (KafkaFixture kafka = KafkaFixture.start(); SimulatedFleet fleet = SimulatedFleet.start(FleetSpec.of(2))) {
            kafka.createContractTopics(2);
            String fromYaml = fleet.serverIds().get(0);
            String added = fleet.serverIds().get(1);
            Path inventory = inventoryOf(fleet, fromYaml, "collector.yaml");
            Target addedTarget = Inventory.load(inventoryOf(fleet, added, "added.yaml"),
                    new Inventory.Fallbacks(Duration.ofMillis(300), Duration.ofMillis(300), Duration.ofMillis(300)),
                    Instant.now()).targets().get(0);
            CollectorService collector = new CollectorService(Settings.of(Map.of(
                    "collector.inventory", inventory.toString(),
                    "collector.id", "live-collector",
                    "collector.inventory.live", "true",
                    "kafka.bootstrap.servers", kafka.bootstrapServers(),
                    "kafka.topic.partitions", "2"), CollectorService.KEYS));
            try {
                collector.start();
                AwaitCollector.until(() -> Integer.valueOf(1).equals(collector.status().get("targets")), collector,
                        Duration.ofSeconds(10)); // the YAML's target, published and followed

                TopicProbe.send(kafka.bootstrapServers(), Topics.TARGETS, added, addedTarget);
                TopicProbe.sendRaw(kafka.bootstrapServers(), Topics.TARGETS.name(), "junk".getBytes(StandardCharsets.UTF_8),
                        new byte[] {1, 2, 3});
                httpChecksUntil(kafka, seen -> seen.stream().anyMatch(r -> r.key().equals(added)));
                AwaitCollector.until(() -> Long.valueOf(1).equals(collector.status().get("targetRecordsUnreadable")),
                        collector, Duration.ofSeconds(10));
                assertEquals(2, collector.status().get("targets"));
                AwaitCollector.until(() -> checksOf(collector).get("targets").keySet().containsAll(List.of(fromYaml, added)),
                        collector, Duration.ofSeconds(10));
                String scrape = ((PrometheusMeterRegistry) collector.meterRegistry()).scrape();
                assertTrue(scrape.contains("fleetpulse_collector_targets_by_status{"), scrape);
                assertTrue(scrape.contains("fleetpulse_collector_checks_success_ratio"), scrape);
                assertTrue(!scrape.contains(added) && !scrape.contains(fromYaml), "no per-target label in /metrics");

                TopicProbe.sendRaw(kafka.bootstrapServers(), Topics.TARGETS.name(), added.getBytes(StandardCharsets.UTF_8), null);
                AwaitCollector.until(() -> Integer.valueOf(1).equals(collector.status().get("targets")),
                        collector, Duration.ofSeconds(10));
                // A poll in flight at the removal still finishes; none may start after it.
                Instant removed = Instant.now();
                Instant fiveIntervalsLater = removed.plusMillis(1500);
                List<ConsumerRecord<String, CheckResult>> checks = httpChecksUntil(kafka, seen -> seen.stream()
                        .anyMatch(r -> r.key().equals(fromYaml) && r.value().getObservedAt().isAfter(fiveIntervalsLater)));
                List<Instant> addedAfterRemoval = checks.stream().filter(r -> r.key().equals(added))
                        .map(r -> r.value().getObservedAt()).filter(at -> at.isAfter(removed)).toList();
                assertTrue(addedAfterRemoval.isEmpty(), "polled after its tombstone: " + addedAfterRemoval);
                assertEquals(java.util.Set.of(fromYaml), checksOf(collector).get("targets").keySet(),
                        "a removed target leaves the per-target figures");
            } finally {
                collector.close();
            }
        }
    }

    @Test
    void shouldStopTheStartAtOnceNamingTheSessionTimeoutWhenTheBrokerRefusesIt() throws Exception {
        try (KafkaFixture kafka = KafkaFixture.start(); SimulatedFleet fleet = SimulatedFleet.start(FleetSpec.of(1))) {
            kafka.createContractTopics(2);
            // 300 ms intervals: the derived session timeout is 150 ms, under the test broker's minimum of 500 ms.
            Path inventory = inventoryOf(fleet, fleet.serverIds().get(0), "fast.yaml");
            CollectorService collector = new CollectorService(Settings.of(Map.of(
                    "collector.inventory", inventory.toString(),
                    "collector.id", "too-fast",
                    "collector.inventory.live", "true",
                    "collector.inventory.group", "fast-collectors",
                    "ops.start.timeout", "60s",
                    "kafka.bootstrap.servers", kafka.bootstrapServers(),
                    "kafka.topic.partitions", "2"), CollectorService.KEYS));
            long started = System.nanoTime();
            io.fleetpulse.runtime.config.ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(
                    io.fleetpulse.runtime.config.ConfigException.class, collector::start);
            long tookMs = (System.nanoTime() - started) / 1_000_000;
            collector.close();

            assertEquals("collector.inventory.group.session.timeout", e.key());
            assertTrue(e.getMessage().startsWith("the broker refused the session timeout 150ms of group 'fast-collectors'"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("group.min.session.timeout.ms"), e.getMessage());
            assertTrue(tookMs < 30_000, "failed after " + tookMs + " ms, not at the start timeout");
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Object>> checksOf(CollectorService collector) {
        return (Map<String, Map<String, Object>>) (Map<String, ?>) collector.status().get("checks");
    }

    private static List<ConsumerRecord<String, CheckResult>> httpChecksUntil(
            KafkaFixture kafka, java.util.function.Predicate<List<ConsumerRecord<String, CheckResult>>> until) {
        return TopicProbe.readUntil(kafka.bootstrapServers(), Topics.CHECKS,
                seen -> until.test(seen.stream().filter(r -> r.value().getCheckName().equals("http")).toList()),
                Duration.ofSeconds(20)).stream().filter(r -> r.value().getCheckName().equals("http")).toList();
    }

    private Path inventoryOf(SimulatedFleet fleet, String serverId, String fileName) throws Exception {
        Path file = dir.resolve(fileName);
        Files.writeString(file, "targets:\n  - id: " + serverId + "\n    health: " + fleet.healthUrl(serverId)
                + "\n    interval: 300ms\n    timeout: 300ms\n");
        return file;
    }
}
