package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.simulator.FleetSpec;
import io.fleetpulse.simulator.SimulatedFleet;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.TopicProbe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The three-broker fixture (replication 3): the leader of the checks partition stopped while two servers are polled
 * five times a second, then restarted. The collector goes on, the producer fails over, and every record arrives once.
 */
class BrokerFailoverIT {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void shouldDeliverEveryRecordOnceThroughALeaderFailover() throws Exception {
        try (KafkaFixture kafka = KafkaFixture.start(3); SimulatedFleet fleet = SimulatedFleet.start(FleetSpec.of(2))) {
            kafka.createContractTopics(1);
            Path inventory = dir.resolve("inventory.yaml");
            Files.writeString(inventory, fleet.inventoryYaml(Duration.ofMillis(200), Duration.ofMillis(200)));
            CollectorService collector = new CollectorService(Settings.of(Map.of(
                    "collector.inventory", inventory.toString(),
                    "collector.id", "failover-collector",
                    "kafka.bootstrap.servers", kafka.bootstrapServers(),
                    "kafka.topic.partitions", "1"), CollectorService.KEYS));
            try {
                collector.start();
                AwaitCollector.until(() -> (long) collector.status().get("checksProduced") > 0, collector, WAIT);
                int leader;
                try (Admin admin = kafka.admin()) {
                    leader = admin.describeTopics(List.of(Topics.CHECKS.name())).allTopicNames().get()
                            .get(Topics.CHECKS.name()).partitions().get(0).leader().id();
                }

                kafka.stopBroker(leader);
                long producedAtStop = (long) collector.status().get("checksProduced");
                AwaitCollector.until(() -> (long) collector.status().get("checksProduced") > producedAtStop + 50, collector, WAIT);
                kafka.restartBroker(leader);
                AwaitCollector.until(() -> (int) collector.status().get("recordsBuffered") == 0
                        && (int) collector.status().get("recordsUnacked") == 0, collector, WAIT);
            } finally {
                collector.close();
            }

            Map<String, Object> status = collector.status();
            long produced = (long) status.get("checksProduced") + (long) status.get("metricsProduced");
            assertEquals(0L, status.get("produceErrors"));
            assertEquals(0L, status.get("recordsSuperseded"), "a failover is too short to fill the buffer");
            assertEquals((long) status.get("recordsAccepted"), produced, "every record polled was acknowledged: " + status);
            List<ConsumerRecord<String, CheckResult>> checks = TopicProbe.readUntil(kafka.bootstrapServers(), Topics.CHECKS,
                    seen -> seen.size() >= (long) status.get("checksProduced"), WAIT);
            List<ConsumerRecord<String, MetricSample>> metrics = TopicProbe.readUntil(kafka.bootstrapServers(), Topics.METRICS,
                    seen -> seen.size() >= (long) status.get("metricsProduced"), WAIT);
            assertEquals(produced, checks.size() + metrics.size(), "no record twice");
            String target = fleet.serverIds().get(0);
            List<CheckResult> http = checks.stream().map(ConsumerRecord::value)
                    .filter(c -> c.getTargetId().equals(target) && c.getCheckName().equals("http")).toList();
            for (int i = 1; i < http.size(); i++) {
                assertTrue(http.get(i).getObservedAt().isAfter(http.get(i - 1).getObservedAt()), "in poll order");
            }
        }
    }
}
