package io.fleetpulse.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.collector.TargetsTopic;
import io.fleetpulse.events.Target;
import io.fleetpulse.testkit.KafkaFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fleetpulse targets add|remove|list|import} against a real broker's compacted fleet.targets. */
class TargetsCommandIT {

    @TempDir
    Path dir;

    @Test
    void shouldImportAddListAndRemoveTargetsOnTheCompactedTopic() throws Exception {
        try (KafkaFixture kafka = KafkaFixture.start()) {
            kafka.createContractTopics(2);
            String servers = kafka.bootstrapServers();
            Path yaml = dir.resolve("inventory.yaml");
            Files.writeString(yaml, """
                    defaults: { interval: 5s }
                    targets:
                      - { id: web-1, health: "http://10.0.0.1:8080/health" }
                      - { id: web-2, health: "http://10.0.0.2:8080/health", group: web }
                    """);

            CliRun imported = CliRun.execute("targets", "import", yaml.toString(), "--bootstrap-servers", servers);
            assertEquals(0, imported.exit(), imported.err());
            assertTrue(imported.out().contains("imported 2 targets"), imported.out());

            CliRun added = CliRun.execute("targets", "add", "db-1", "--health", "http://10.0.1.1:9000/health",
                    "--interval", "30s", "--label", "tier=data", "--critical-checks", "http,db", "--bootstrap-servers", servers);
            assertEquals(0, added.exit(), added.err());

            CliRun tcp = CliRun.execute("targets", "add", "pg-1", "--health", "tcp://10.0.1.2:5432", "--max-latency", "200ms",
                    "--critical-latency", "1s", "--metrics", "http://10.0.1.2:9100/metrics", "--min-free-disk", "10GiB",
                    "--bootstrap-servers", servers);
            assertEquals(0, tcp.exit(), tcp.err());

            CliRun listed = CliRun.execute("targets", "list", "--bootstrap-servers", servers);
            assertEquals(0, listed.exit(), listed.err());
            assertEquals(4, listed.out().lines().count(), listed.out());
            assertTrue(listed.out().lines().anyMatch(l -> l.startsWith("db-1") && l.contains("30s")
                    && l.contains("http://10.0.1.1:9000/health")), listed.out());

            Map<String, TargetsTopic.Listed> onTopic = TargetsTopic.read(Map.<String, Object>of("bootstrap.servers", servers), Duration.ofSeconds(20));
            Target db = onTopic.get("db-1").target();
            assertEquals(Map.of("tier", "data"), db.getLabels());
            assertEquals(java.util.List.of("http", "db"), db.getCriticalChecks());
            assertEquals(5000L, onTopic.get("web-1").target().getCheckIntervalMs(), "the YAML's defaults apply");
            Target pg = onTopic.get("pg-1").target();
            assertEquals("tcp://10.0.1.2:5432", pg.getHealthUrl());
            assertEquals(java.util.List.of(200L, 1000L, 10L << 30), java.util.List.of(pg.getMaxLatencyMs(),
                    pg.getCriticalLatencyMs(), pg.getMinFreeDiskBytes()));
            assertEquals(30_000L, pg.getCheckIntervalMs(), "collector.poll.interval's default");
            assertEquals(60_000L, pg.getMetricsIntervalMs(), "collector.metrics.interval's default");

            CliRun removed = CliRun.execute("targets", "remove", "web-1", "nope", "--bootstrap-servers", servers);
            assertEquals(1, removed.exit(), "one of the two is not listed");
            assertTrue(removed.out().contains("removed web-1"), removed.out());
            assertTrue(removed.err().contains("no target 'nope'"), removed.err());
            CliRun after = CliRun.execute("targets", "list", "--bootstrap-servers", servers);
            assertFalse(after.out().contains("web-1"), after.out());
            assertEquals(3, after.out().lines().count(), after.out());

            CliRun bad = CliRun.execute("targets", "add", "bad id", "--health", "ftp://x", "--bootstrap-servers", servers);
            assertEquals(2, bad.exit(), bad.err());
            assertTrue(bad.err().startsWith("fleetpulse targets add: the command line has 2 problems"), bad.err());
            assertTrue(bad.err().contains("bad id") && bad.err().contains("ftp://x"), bad.err());
            assertEquals(3, TargetsTopic.read(Map.<String, Object>of("bootstrap.servers", servers), Duration.ofSeconds(20)).size(),
                    "nothing written for a bad target");
        }
    }
}
