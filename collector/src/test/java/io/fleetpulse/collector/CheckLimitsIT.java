package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.simulator.FleetSpec;
import io.fleetpulse.simulator.SimulatedFleet;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.TopicProbe;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TCP connect checks and the inventory's limits through a running collector and a real broker: a port that listens
 * (a real ServerSocket) and one that is closed, a server slower than its critical-latency, and metrics samples
 * checked against min-free-disk / critical-free-disk as a 'disk' check.
 */
class CheckLimitsIT {

    @TempDir
    Path dir;

    @Test
    void shouldPublishTcpChecksAndTheLatencyAndFreeDiskLimitsAsCheckResults() throws Exception {
        try (KafkaFixture kafka = KafkaFixture.start(); SimulatedFleet fleet = SimulatedFleet.start(FleetSpec.of(3));
             ServerSocket listening = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            kafka.createContractTopics(1);
            acceptAndClose(listening);
            int closedPort;
            try (ServerSocket socket = new ServerSocket(0)) {
                closedPort = socket.getLocalPort();
            }
            fleet.setSlow("srv-002", true); // answers after SimulatedFleet.SLOW_DELAY (3 s)
            Path inventory = dir.resolve("inventory.yaml");
            Files.writeString(inventory, """
                    defaults: { interval: 500ms, metrics-interval: 500ms, timeout: 500ms }
                    targets:
                      - { id: srv-001, health: "%s", metrics: "%s", min-free-disk: 200TiB, critical-free-disk: 100TiB }
                      - { id: srv-002, health: "%s", interval: 4s, timeout: 3500ms, max-latency: 1s, critical-latency: 2s }
                      - { id: srv-003, health: "%s", metrics: "%s", min-free-disk: 1, max-latency: 1h }
                      - { id: pg-open, health: "tcp://127.0.0.1:%d", max-latency: 5s }
                      - { id: pg-closed, health: "tcp://127.0.0.1:%d" }
                    """.formatted(fleet.healthUrl("srv-001"), fleet.metricsUrl("srv-001"), fleet.healthUrl("srv-002"),
                    fleet.healthUrl("srv-003"), fleet.metricsUrl("srv-003"), listening.getLocalPort(), closedPort));
            CollectorService collector = new CollectorService(Settings.of(Map.of(
                    "collector.inventory", inventory.toString(),
                    "collector.id", "limits",
                    "kafka.bootstrap.servers", kafka.bootstrapServers(),
                    "kafka.topic.partitions", "1"), CollectorService.KEYS));
            try {
                collector.start();
                List<Predicate<CheckResult>> wanted = List.of(
                        check("srv-001", "disk"), check("srv-002", "http"), check("srv-003", "disk"),
                        check("pg-open", "tcp"), check("pg-closed", "tcp"));
                List<ConsumerRecord<String, CheckResult>> seen = TopicProbe.readUntil(kafka.bootstrapServers(), Topics.CHECKS,
                        records -> wanted.stream().allMatch(w -> records.stream().anyMatch(r -> w.test(r.value()))),
                        Duration.ofSeconds(30));

                CheckResult lowDisk = first(seen, check("srv-001", "disk"));
                assertEquals(CheckStatus.CRITICAL, lowDisk.getStatus());
                assertTrue(lowDisk.getMessage().contains("below the critical-free-disk 100.0 TiB"), lowDisk.getMessage());
                CheckResult slow = first(seen, check("srv-002", "http"));
                assertEquals(CheckStatus.CRITICAL, slow.getStatus(), slow.getMessage());
                assertTrue(slow.getMessage().startsWith("HTTP 200 in 3") && slow.getMessage()
                        .endsWith("slower than the critical-latency 2000 ms"), slow.getMessage());
                CheckResult enoughDisk = first(seen, check("srv-003", "disk"));
                assertEquals(CheckStatus.OK, enoughDisk.getStatus(), enoughDisk.getMessage());
                assertEquals(CheckStatus.OK, first(seen, check("srv-003", "http")).getStatus());
                CheckResult open = first(seen, check("pg-open", "tcp"));
                assertEquals(CheckStatus.OK, open.getStatus(), open.getMessage());
                assertTrue(open.getMessage().startsWith("connected in "), open.getMessage());
                CheckResult closed = first(seen, check("pg-closed", "tcp"));
                assertEquals(CheckStatus.UNREACHABLE, closed.getStatus());
                assertTrue(closed.getMessage().startsWith("cannot connect: "), closed.getMessage());
                assertTrue(seen.stream().noneMatch(r -> r.key().startsWith("pg-") && r.value().getCheckName().equals("http")),
                        "a tcp target has a tcp check, no http one");
            } finally {
                collector.close();
            }
        }
    }

    private static Predicate<CheckResult> check(String target, String name) {
        return r -> r.getTargetId().equals(target) && r.getCheckName().equals(name);
    }

    private static CheckResult first(List<ConsumerRecord<String, CheckResult>> records, Predicate<CheckResult> which) {
        return records.stream().map(ConsumerRecord::value).filter(which).findFirst().orElseThrow();
    }

    /** Accepts and closes every connection, as a real service's listener would keep its backlog empty. */
    private static void acceptAndClose(ServerSocket server) {
        Thread acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try (Socket ignored = server.accept()) {
                    // connected: that is all a connect check asks
                } catch (IOException closed) {
                    return;
                }
            }
        }, "tcp-check-acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
    }
}
