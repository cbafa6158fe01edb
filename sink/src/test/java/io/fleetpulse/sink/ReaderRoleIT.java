package io.fleetpulse.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.fleetpulse.runtime.ServiceMeters;
import io.fleetpulse.testkit.PostgresFixture;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

/** The analysts' group role of migration V5, used through a login of its own on a real PostgreSQL 17. */
class ReaderRoleIT {

    private static final String INSUFFICIENT_PRIVILEGE = "42501";

    @Test
    void shouldLetAReaderLoginSelectEveryTableAndViewButNeverWrite() throws Exception {
        try (PostgresFixture postgres = PostgresFixture.start()) {
            String url = postgres.createDatabase();
            SinkDatabase.migrate(url, postgres.user(), postgres.password(), Instant.now().plusSeconds(30));
            // A second database on the same server: the role already exists there, the migration only grants.
            String other = postgres.createDatabase();
            SinkDatabase.migrate(other, postgres.user(), postgres.password(), Instant.now().plusSeconds(30));
            Jdbi db = SinkDatabase.jdbi(url, postgres.user(), postgres.password());
            db.useHandle(h -> {
                h.execute("CREATE ROLE analyst LOGIN PASSWORD 'analyst-pw' IN ROLE fleetpulse_reader");
                h.execute("INSERT INTO target_window_1m (target_id, window_start, window_end, checks, failures,"
                        + " error_rate, samples) VALUES ('srv-1', now(), now() + interval '1 minute', 10, 1, 0.1, 1)");
            });
            // Partitions made after the migration (by the sink's role) are readable one by one as well.
            PartitionScheme daily = new PartitionScheme(PartitionedTable.TARGET_WINDOW_1M, Duration.ofDays(2), 1);
            new PartitionManager(db, List.of(daily), Clock.systemUTC(), new SinkMetrics(ServiceMeters.create("sink")),
                    Duration.ofSeconds(2)).maintain();
            String partition = db.withHandle(h -> h.createQuery("SELECT tableoid::regclass::text FROM target_window_1m")
                    .mapTo(String.class).one());
            assertNotEquals(PartitionedTable.TARGET_WINDOW_1M.defaultPartition(), partition, "moved into its partition");
            List<String> relations = db.withHandle(h -> h.createQuery("SELECT c.relname FROM pg_class c"
                    + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
                    + " AND c.relkind IN ('r', 'p', 'v') ORDER BY 1").mapTo(String.class).list());

            try (Connection reader = DriverManager.getConnection(url, "analyst", "analyst-pw");
                 Statement sql = reader.createStatement()) {
                for (String relation : relations) {
                    sql.executeQuery("SELECT * FROM " + PartitionedTable.requireIdentifier(relation) + " LIMIT 1").close();
                }
                try (var rows = sql.executeQuery("SELECT count(*) FROM " + partition)) {
                    rows.next();
                    assertEquals(1, rows.getLong(1), "the row is in today's partition, readable directly");
                }
                for (String write : List.of(
                        "INSERT INTO sink_offset (consumer_group, topic, partition, next_offset) VALUES ('g', 't', 0, 1)",
                        "DELETE FROM target_window_1m",
                        "UPDATE alert_event SET summary = 'x'",
                        "DELETE FROM " + partition,
                        "CREATE TABLE analyst_scratch (x int)")) {
                    SQLException refused = assertThrows(SQLException.class, () -> sql.execute(write), write);
                    assertEquals(INSUFFICIENT_PRIVILEGE, refused.getSQLState(), write + ": " + refused.getMessage());
                }
            }
            assertEquals(1L, (long) db.withHandle(h -> h.createQuery("SELECT count(*) FROM target_window_1m")
                    .mapTo(Long.class).one()), "nothing the reader tried changed the data");
        }
    }
}
