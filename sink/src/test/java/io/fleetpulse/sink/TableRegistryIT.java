package io.fleetpulse.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.testkit.PostgresFixture;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Map;
import java.util.List;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

/** Each registry declaration against the table its migration really created, on a real PostgreSQL 17. */
class TableRegistryIT {

    @Test
    void shouldDeclareEveryTableAsItsMigrationCreatedIt() throws Exception {
        try (PostgresFixture postgres = PostgresFixture.start()) {
            String url = postgres.createDatabase();
            SinkDatabase.migrate(url, postgres.user(), postgres.password(), Instant.now().plusSeconds(30));
            Jdbi db = SinkDatabase.jdbi(url, postgres.user(), postgres.password());
            for (PartitionedTable table : PartitionedTable.values()) {
                List<String> columns = db.withHandle(h -> h.createQuery("SELECT column_name FROM information_schema.columns"
                        + " WHERE table_name = :t AND column_name NOT IN ('ingested_at', :removedAt) ORDER BY ordinal_position")
                        .bind("t", table.parent()).bind("removedAt", PartitionedTable.REMOVED_AT).mapTo(String.class).list());
                assertEquals(table.format().columns(), columns, table.parent());
                List<String> key = db.withHandle(h -> h.createQuery("SELECT a.attname FROM pg_index i"
                        + " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)"
                        + " WHERE i.indrelid = to_regclass(:t) AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)")
                        .bind("t", table.parent()).mapTo(String.class).list());
                assertEquals(table.naturalKey(), key, table.parent() + ": natural key = primary key");
                assertTrue(key.contains(table.column()), "the partition column is part of the key");
                String strategy = db.withHandle(h -> h.createQuery("SELECT pg_get_partkeydef(to_regclass(:t))")
                        .bind("t", table.parent()).mapTo(String.class).one());
                assertEquals("RANGE (" + table.column() + ")", strategy, table.parent());
                List<String> defaults = new ArrayList<>(db.withHandle(h -> h.attach(PartitionDao.class)
                        .partitionsOf(table.parent())));
                assertEquals(List.of(table.defaultPartition()), defaults, "a fresh table has just its DEFAULT");
                // The generated merge runs against the real table (an empty stage merges nothing).
                db.useHandle(h -> {
                    TableSql sql = TableSql.of(table);
                    h.execute(sql.createStage());
                    assertEquals(0L, (long) h.createQuery(sql.merge()).mapTo(Long.class).one());
                });
            }
            // Some data, so the views compute something: two windows, one resolved alert.
            db.useHandle(h -> {
                h.execute("INSERT INTO target_window_1m (target_id, window_start, window_end, checks, failures, error_rate,"
                        + " samples) VALUES ('srv-1', now() - interval '1 hour', now() - interval '59 minutes', 10, 5, 0.5, 1),"
                        + " ('srv-2', now() - interval '1 hour', now() - interval '59 minutes', 10, 1, 0.1, 1)");
                h.execute("INSERT INTO alert_event (fingerprint, rule_id, target_id, group_name, state, severity, summary,"
                        + " evidence_signal, evidence_value, evidence_operator, evidence_threshold, evidence_samples,"
                        + " starts_at, ends_at, occurred_at) VALUES ('fp', 'cpu-high', 'srv-1', 'web', 'RESOLVED',"
                        + " 'CRITICAL', 's', 'cpu', 1, '>', 0, 1, now() - interval '10 minutes', now(), now())");
            });
            assertEquals("srv-1", db.withHandle(h -> h.createQuery("SELECT target_id FROM worst_targets_last_week"
                    + " ORDER BY error_rate DESC LIMIT 1").mapTo(String.class).one()));
            assertEquals(600.0, db.withHandle(h -> h.createQuery("SELECT extract(epoch FROM mttr) FROM rule_mttr"
                    + " WHERE rule_id = 'cpu-high'").mapTo(Double.class).one()), 1.0);
            assertFleetViews(db);
            List<DocumentedQueries.Query> documented = DocumentedQueries.all();
            assertTrue(documented.size() >= 8, documented.toString());
            for (DocumentedQueries.Query query : documented) {
                db.useHandle(h -> h.createQuery(query.sql()).mapToMap().list());
            }
        }
    }

    /** fleet_status, group_error_rate_hourly and flapping_rules (migration V8) compute what they say. */
    private static void assertFleetViews(Jdbi db) {
        db.useHandle(h -> {
            h.execute("INSERT INTO targets (target_id, health_url, group_name, check_interval_ms, timeout_ms,"
                    + " absence_timeout_ms, updated_at) VALUES"
                    + " ('srv-1', 'http://a', 'web', 1, 1, 1, now() - interval '2 days'),"
                    + " ('srv-1', 'http://a', 'api', 1, 1, 1, now() - interval '1 day'),"
                    + " ('srv-2', 'http://b', 'web', 1, 1, 1, now() - interval '1 day')");
            h.execute("INSERT INTO target_health (target_id, window_start, window_end, score, status) VALUES"
                    + " ('srv-1', now() - interval '2 minutes', now() - interval '1 minute', 90, 'HEALTHY'),"
                    + " ('srv-1', now() - interval '1 minute', now(), 30, 'CRITICAL')");
            h.execute("INSERT INTO target_window_1h (target_id, window_start, window_end, checks, failures, error_rate,"
                    + " samples) VALUES ('srv-1', date_trunc('hour', now()), date_trunc('hour', now()) + interval '1 hour',"
                    + " 10, 5, 0.5, 1), ('srv-2', date_trunc('hour', now()), date_trunc('hour', now()) + interval '1 hour',"
                    + " 30, 0, 0, 1), ('srv-3', date_trunc('hour', now()), date_trunc('hour', now()) + interval '1 hour',"
                    + " 10, 10, 1, 1)");
            for (int i = 1; i <= 3; i++) {
                h.execute("INSERT INTO alert_event (fingerprint, rule_id, target_id, group_name, state, severity, summary,"
                        + " evidence_signal, evidence_value, evidence_operator, evidence_threshold, evidence_samples,"
                        + " starts_at, occurred_at) VALUES ('flap', 'disk-full', 'srv-2', 'web', 'FIRING', 'WARNING', 's',"
                        + " 'disk', 1, '>', 0, 1, now(), now() - make_interval(mins => " + i + "))");
            }
        });
        Map<String, Object> srv1 = db.withHandle(h -> h.createQuery("SELECT group_name, status, score FROM fleet_status"
                + " WHERE target_id = 'srv-1'").mapToMap().one());
        assertEquals(Map.of("group_name", "api", "status", "CRITICAL", "score", 30.0), srv1, "newest version, latest score");
        assertEquals(Arrays.asList(null, null), db.withHandle(h -> h.createQuery("SELECT status, score FROM fleet_status"
                + " WHERE target_id = 'srv-2'").map((rs, ctx) -> Arrays.asList(rs.getObject(1), rs.getObject(2))).one()));
        Map<String, Double> rates = new java.util.HashMap<>();
        db.useHandle(h -> h.createQuery("SELECT coalesce(group_name, '?') AS g, error_rate FROM group_error_rate_hourly"
                + " WHERE hour = date_trunc('hour', now())").map((rs, ctx) -> rates.put(rs.getString(1), rs.getDouble(2))).list());
        assertEquals(Map.of("api", 0.5, "web", 0.0, "?", 1.0), rates);
        assertEquals(List.of("disk-full/srv-2/3"), db.withHandle(h -> h.createQuery("SELECT rule_id || '/' || target_id"
                + " || '/' || fired FROM flapping_rules").mapTo(String.class).list()), "cpu-high fired never, srv-1 once");
    }
}
