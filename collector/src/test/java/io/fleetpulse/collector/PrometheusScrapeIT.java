package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.MetricSample;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.simulator.FleetSpec;
import io.fleetpulse.simulator.MetricReading;
import io.fleetpulse.simulator.SimulatedFleet;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.TopicProbe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A simulated server speaking node_exporter's text format, scraped by the collector into samples on a real broker. */
class PrometheusScrapeIT {

    @TempDir
    Path dir;

    @Test
    void shouldDeriveCpuMemoryDiskAndNetworkFromANodeExporterStyleEndpoint() throws Exception {
        try (KafkaFixture kafka = KafkaFixture.start(); SimulatedFleet fleet = SimulatedFleet.start(FleetSpec.of(2))) {
            kafka.createContractTopics(1);
            String node = fleet.serverIds().get(0);
            fleet.setPrometheusMetrics(node, true);
            Path inventory = dir.resolve("inventory.yaml");
            Files.writeString(inventory, fleet.inventoryYaml(Duration.ofMillis(500), Duration.ofMillis(500)));
            CollectorService collector = new CollectorService(Settings.of(Map.of(
                    "collector.inventory", inventory.toString(),
                    "collector.id", "prom-collector",
                    "kafka.bootstrap.servers", kafka.bootstrapServers(),
                    "kafka.topic.partitions", "1"), CollectorService.KEYS));
            try {
                collector.start();
                List<ConsumerRecord<String, MetricSample>> samples = TopicProbe.readUntil(kafka.bootstrapServers(),
                        Topics.METRICS, seen -> seen.stream().anyMatch(r -> r.key().equals(node)
                                && r.value().getCpuPercent() != null), Duration.ofSeconds(20));

                MetricSample first = samples.stream().filter(r -> r.key().equals(node)).findFirst().orElseThrow().value();
                MetricSample rated = samples.stream().filter(r -> r.key().equals(node) && r.value().getCpuPercent() != null)
                        .findFirst().orElseThrow().value();
                MetricReading reading = fleet.readingNow(node);
                assertTrue(rated.getCpuPercent() >= 0 && rated.getCpuPercent() <= 100, rated.toString());
                assertNotNull(first.getMemoryPercent());
                assertEquals(reading.diskTotalBytes(), Math.round(rated.getDiskFreeBytes() / (1 - rated.getDiskPercent() / 100)),
                        reading.diskTotalBytes() / 1000.0, "disk % and free bytes describe the served filesystem");
                assertEquals(reading.netRxBytes(), rated.getNetRxBytes(), reading.netRxBytes() * 0.5 + 1,
                        "eth0's counter, lo left out");
                assertTrue(rated.getExtra().containsKey("net_rx_bytes_per_sec"), rated.getExtra().toString());
                assertTrue(rated.getExtra().containsKey("node_load1"), rated.getExtra().toString());
                // The JSON server next to it is read as before.
                assertTrue(samples.stream().anyMatch(r -> !r.key().equals(node) && r.value().getExtra().containsKey("queue_depth")));
            } finally {
                collector.close();
            }
        }
    }
}
