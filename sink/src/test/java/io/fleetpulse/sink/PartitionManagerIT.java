package io.fleetpulse.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.runtime.ServiceMeters;
import io.fleetpulse.testkit.PostgresFixture;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Partition upkeep on a real PostgreSQL 17 over a clock the test moves: creation, retention, DEFAULT rows, locks. */
class PartitionManagerIT {

    private static PostgresFixture postgres;

    private final MovableClock clock = new MovableClock(Instant.parse("2026-12-30T23:30:00Z"));
    private final PartitionScheme daily = new PartitionScheme(PartitionedTable.TARGET_WINDOW_1M, Duration.ofDays(2), 1);
    private final PartitionScheme monthly = new PartitionScheme(PartitionedTable.ALERT_EVENT, Duration.ofDays(40), 1);
    private Jdbi db;
    private PartitionManager manager;

    @BeforeAll
    static void startPostgres() throws Exception {
        postgres = PostgresFixture.start();
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        postgres.close();
    }

    @BeforeEach
    void freshSchema() throws Exception {
        String url = postgres.createDatabase();
        SinkDatabase.migrate(url, postgres.user(), postgres.password(), Instant.now().plusSeconds(30));
        db = SinkDatabase.jdbi(url, postgres.user(), postgres.password());
        manager = new PartitionManager(db, List.of(daily, monthly), clock, new SinkMetrics(ServiceMeters.create("sink")),
                Duration.ofMillis(300));
    }

    @Test
    void shouldKeepExactlyTheWantedPartitionsAsTheClockCrossesDayMonthAndYear() {
        insertWindow("far-ahead", Instant.parse("2027-01-03T08:00:00Z")); // no partition yet: DEFAULT
        insertWindow("long-ago", Instant.parse("2020-05-05T00:00:00Z"));  // DEFAULT, and long past retention
        for (Instant now : List.of(Instant.parse("2026-12-30T23:30:00Z"), Instant.parse("2026-12-31T00:00:01Z"),
                Instant.parse("2027-01-01T00:00:00Z"), Instant.parse("2027-01-02T12:00:00Z"),
                Instant.parse("2027-02-01T00:10:00Z"), Instant.parse("2027-03-01T00:00:00Z"))) {
            clock.set(now);
            manager.maintain();
            for (PartitionScheme scheme : List.of(daily, monthly)) {
                List<String> wanted = new ArrayList<>(scheme.wanted(now).stream().map(PartitionScheme.Partition::name).toList());
                wanted.add(scheme.table().defaultPartition());
                assertEquals(wanted.stream().sorted().toList(), partitionsOf(scheme.table()), "at " + now);
                assertEquals(List.of(), strayTables(scheme.table()), "expired partitions are dropped, not left detached");
            }
            if (now.equals(Instant.parse("2026-12-30T23:30:00Z"))) {
                assertEquals(List.of("target_window_1m_default"), partitionOf("far-ahead"));
                assertEquals(List.of(), partitionOf("long-ago"), "past retention: expired from DEFAULT");
            }
            if (now.equals(Instant.parse("2027-01-02T12:00:00Z"))) {
                assertEquals(List.of("target_window_1m_p20270103"), partitionOf("far-ahead"),
                        "moved out of DEFAULT once its partition exists");
            }
        }
        assertEquals(List.of(), partitionOf("far-ahead"), "and dropped with its partition once expired");
        assertEquals(0L, defaultRows());
    }

    @Test
    void shouldNotHoldUpWritersWhileAReaderKeepsAnExpiredPartitionBusy() throws Exception {
        manager.maintain();
        insertWindow("old", Instant.parse("2026-12-29T10:00:00Z"));
        try (Handle reader = db.open()) {
            reader.begin();
            assertEquals(1L, reader.createQuery("SELECT count(*) FROM target_window_1m").mapTo(Long.class).one());
            clock.set(Instant.parse("2027-01-02T01:00:00Z")); // 2026-12-29 is now past retention

            CompletableFuture<PartitionManager.Report> pass = CompletableFuture.supplyAsync(manager::maintain);
            long started = System.nanoTime();
            insertWindow("writer", Instant.parse("2027-01-02T00:30:00Z"));
            Duration writerWaited = Duration.ofNanos(System.nanoTime() - started);
            PartitionManager.Report report = pass.get(30, TimeUnit.SECONDS);

            assertTrue(writerWaited.compareTo(Duration.ofSeconds(3)) < 0, "the writer waited " + writerWaited);
            assertFalse(report.dropped().contains("target_window_1m_p20261229"), "the reader still holds it");
            assertEquals(List.of("target_window_1m_p20261229"), partitionOf("old"));
            reader.commit();
        }
        PartitionManager.Report later = manager.maintain();
        assertTrue(later.dropped().contains("target_window_1m_p20261229"), later.toString());
        assertEquals(List.of(), partitionOf("old"));
        assertEquals(List.of("target_window_1m_p20270102"), partitionOf("writer"));
    }

    @Test
    void shouldDetachConcurrentlyWhenTheTableHasNoDefaultPartition() {
        manager.maintain();
        db.useHandle(h -> h.execute("ALTER TABLE target_window_1m DETACH PARTITION target_window_1m_default"));
        insertWindow("old", Instant.parse("2026-12-29T10:00:00Z"));
        clock.set(Instant.parse("2027-01-02T01:00:00Z"));
        PartitionManager.Report report = manager.maintain();
        assertTrue(report.dropped().contains("target_window_1m_p20261229"), report.toString());
        assertEquals(List.of(), strayTables(PartitionedTable.TARGET_WINDOW_1M));
    }

    private void insertWindow(String target, Instant start) {
        db.useHandle(h -> h.createUpdate("INSERT INTO target_window_1m (target_id, window_start, window_end, checks,"
                        + " failures, error_rate, samples) VALUES (:t, :s, :s, 1, 0, 0, 1)")
                .bind("t", target).bind("s", OffsetDateTime.ofInstant(start, ZoneOffset.UTC)).execute());
    }

    private List<String> partitionOf(String target) {
        return db.withHandle(h -> h.createQuery("SELECT tableoid::regclass::text FROM target_window_1m WHERE target_id = :t")
                .bind("t", target).mapTo(String.class).list());
    }

    private List<String> partitionsOf(PartitionedTable table) {
        return db.withHandle(h -> h.attach(PartitionDao.class).partitionsOf(table.parent())).stream().sorted().toList();
    }

    private List<String> strayTables(PartitionedTable table) {
        return db.withHandle(h -> h.attach(PartitionDao.class).detachedNamed(table.parent() + "\\_p%"))
                .stream().filter(n -> !n.endsWith("_default")).toList();
    }

    private long defaultRows() {
        return db.withHandle(h -> h.createQuery("SELECT count(*) FROM target_window_1m_default").mapTo(Long.class).one());
    }

    /** A clock the test moves by hand. */
    private static final class MovableClock extends Clock {
        private volatile Instant now;

        MovableClock(Instant now) {
            this.now = now;
        }

        void set(Instant instant) {
            now = instant;
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
