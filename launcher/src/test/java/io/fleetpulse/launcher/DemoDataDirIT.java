package io.fleetpulse.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.schemas.Topics;
import io.fleetpulse.simulator.IncidentScript;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --data-dir} keeps the broker's log, the Streams state and the database between demo runs, and
 * {@code --fresh} wipes them: three short in-process runs on one folder.
 */
class DemoDataDirIT {

    @TempDir
    Path dir;

    @Test
    void shouldResumeOnTheKeptHistoryAndWipeItWithFresh() throws Exception {
        Path data = dir.resolve("data");

        DemoSummary first = run(data, false);
        assertFalse(first.resumed());
        assertTrue(first.checks() > 0, "the first run polled");
        assertEquals(first.checks(), first.checksInTopics(), "a new folder holds only this run's checks");

        // Between runs both stores open on their own: the broker on another port than the demo used (its voter
        // set is static configuration, not metadata), and the database, where the test leaves a mark.
        int demoKafkaPort = Integer.parseInt(ports(data).getProperty("kafka.port"));
        try (EmbeddedKafka kafka = EmbeddedKafka.start(data.resolve("kafka"))) {
            assertTrue(kafka.resumed());
            assertNotEquals(demoKafkaPort, kafka.port());
            assertEquals(first.checksInTopics(), endOffsets(kafka.bootstrapServers()), "the broker kept the first run's checks");
        }
        try (EmbeddedDatabase db = EmbeddedDatabase.start(data.resolve("postgres"));
             Connection c = db.dataSource().getConnection(); Statement s = c.createStatement()) {
            assertTrue(db.resumed(), "no initdb on a kept cluster");
            s.execute("CREATE TABLE it_marker (note text)");
            s.execute("INSERT INTO it_marker VALUES ('left by the test after the first run')");
        }

        DemoSummary second = run(data, false);
        assertTrue(second.resumed());
        assertTrue(second.checks() > 0, "the second run polled");
        assertEquals(first.checksInTopics() + second.checks(), second.checksInTopics(),
                "the second run counts its own checks on top of the kept ones");
        assertEquals(1, markerRows(data), "the database kept what was written between runs");
        assertTrue(second.postgresRows().get("target_window_1m") >= first.postgresRows().get("target_window_1m"));

        DemoSummary third = run(data, true);
        assertFalse(third.resumed(), "--fresh starts from nothing");
        assertEquals(third.checks(), third.checksInTopics(), "--fresh wiped the earlier checks");
        assertEquals(-1, markerRows(data), "--fresh wiped the database");
    }

    private static DemoSummary run(Path data, boolean fresh) throws Exception {
        return new Demo(new Demo.Options(2, Duration.ofSeconds(3), Duration.ofSeconds(1), data, fresh, 7,
                IncidentScript.none(), Map.of()), System.out).run();
    }

    private static Properties ports(Path data) throws Exception {
        Properties ports = new Properties();
        try (InputStream in = Files.newInputStream(data.resolve("demo.properties"))) {
            ports.load(in);
        }
        return ports;
    }

    private static long endOffsets(String bootstrapServers) throws Exception {
        try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", bootstrapServers))) {
            int partitions = admin.describeTopics(List.of(Topics.CHECKS.name())).allTopicNames().get()
                    .get(Topics.CHECKS.name()).partitions().size();
            Map<TopicPartition, OffsetSpec> request = java.util.stream.IntStream.range(0, partitions).boxed()
                    .collect(Collectors.toMap(p -> new TopicPartition(Topics.CHECKS.name(), p), p -> OffsetSpec.latest()));
            return admin.listOffsets(request).all().get().values().stream().mapToLong(o -> o.offset()).sum();
        }
    }

    /** Rows in the test's marker table, or -1 when the table does not exist. */
    private static long markerRows(Path data) throws Exception {
        try (EmbeddedDatabase db = EmbeddedDatabase.start(data.resolve("postgres"));
             Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet exists = s.executeQuery("SELECT to_regclass('it_marker') IS NOT NULL")) {
            exists.next();
            if (!exists.getBoolean(1)) {
                return -1;
            }
            try (ResultSet rows = s.executeQuery("SELECT count(*) FROM it_marker")) {
                rows.next();
                return rows.getLong(1);
            }
        }
    }
}
