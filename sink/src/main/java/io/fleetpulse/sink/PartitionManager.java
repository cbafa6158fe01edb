package io.fleetpulse.sink;

import io.fleetpulse.runtime.DaemonThreads;
import io.fleetpulse.runtime.text.Durations;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps each partitioned table's dated partitions in step with the clock: creates the ones {@link PartitionScheme}
 * wants (back over the retention window and ahead of today), detaches and drops the expired ones (see
 * {@link #drop}), deletes DEFAULT rows past retention, and counts the rows sitting in DEFAULT (a gauge and a warning: they are outside every dated range, so something is producing far-off times
 * or retention is shorter than the data being replayed).
 *
 * <p>When a partition is created for a range that already has rows in DEFAULT, those rows are moved into it in
 * the same transaction (PostgreSQL would otherwise refuse the new partition). Instances of the sink serialise their
 * maintenance on an advisory lock. DDL cannot take bound parameters, so partition DDL is the one place SQL is
 * assembled: only from {@link PartitionedTable} constants and names/bounds derived from dates, each validated.
 */
public final class PartitionManager implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PartitionManager.class);
    /** Arbitrary but fixed: every sink instance must use the same key. */
    private static final long MAINTENANCE_LOCK = 0x466C656574507Cl;
    private static final Pattern BOUND = Pattern.compile("\\d{4}-\\d{2}-\\d{2}T00:00:00Z");

    private final Jdbi jdbi;
    private final List<PartitionScheme> schemes;
    private final Clock clock;
    private final SinkMetrics metrics;
    private final Duration lockWait;
    private ScheduledExecutorService scheduler;
    private volatile Instant lastRun;

    PartitionManager(Jdbi jdbi, List<PartitionScheme> schemes, Clock clock, SinkMetrics metrics) {
        this(jdbi, schemes, clock, metrics, Duration.ofSeconds(2));
    }

    /**
     * {@code lockWait} bounds how long any DDL waits for a lock: writers queue behind a waiting DDL statement, so
     * this is also the longest a writer can be held up by maintenance; what gave up is retried at the next pass.
     */
    PartitionManager(Jdbi jdbi, List<PartitionScheme> schemes, Clock clock, SinkMetrics metrics, Duration lockWait) {
        this.lockWait = lockWait;
        this.jdbi = jdbi;
        this.schemes = List.copyOf(schemes);
        this.clock = clock;
        this.metrics = metrics;
    }

    /**
     * One maintenance pass over every table. A failure on one partition is logged and counted and the pass goes on;
     * the next pass retries whatever is still missing.
     */
    public Report maintain() {
        Instant now = clock.instant();
        List<String> created = new ArrayList<>();
        List<String> dropped = new ArrayList<>();
        Map<PartitionedTable, Long> defaultRows = new EnumMap<>(PartitionedTable.class);
        try (Handle h = jdbi.open()) {
            for (PartitionScheme scheme : schemes) {
                maintain(h, scheme, now, created, dropped, defaultRows);
            }
        } catch (JdbiException e) {
            metrics.dbError();
            LOG.warn("partition maintenance could not reach the database; retrying at the next run: {}", e.getMessage());
        }
        lastRun = now;
        if (!created.isEmpty() || !dropped.isEmpty()) {
            LOG.info("partitions created {} dropped {}", created, dropped);
        }
        return new Report(created, dropped, defaultRows);
    }

    private void maintain(Handle h, PartitionScheme scheme, Instant now, List<String> created, List<String> dropped,
                          Map<PartitionedTable, Long> defaultRows) {
        try {
            Set<String> existing = new HashSet<>(h.attach(PartitionDao.class).partitionsOf(scheme.table().parent()));
            for (PartitionScheme.Partition p : scheme.wanted(now)) {
                if (!existing.contains(p.name()) && create(h, p)) {
                    created.add(p.name());
                }
            }
            // Detached but not dropped (a crash between the two steps of a concurrent detach) counts too.
            existing.addAll(h.attach(PartitionDao.class).detachedNamed(scheme.table().parent() + "\\_p%"));
            for (String name : existing) {
                var partition = scheme.parse(name);
                if (partition.isPresent() && scheme.isExpired(partition.get(), now) && drop(h, partition.get())) {
                    dropped.add(name);
                }
            }
            expireDefaultRows(h, scheme, now);
            defaultRows.put(scheme.table(), countDefaultRows(h, scheme.table()));
        } catch (JdbiException e) {
            metrics.dbError();
            LOG.warn("partition maintenance of {} failed; retrying at the next run: {}", scheme.table().parent(),
                    e.getMessage());
        }
    }

    /** Runs {@link #maintain()} every {@code interval} on its own thread, after a first pass the caller made. */
    public synchronized void schedule(Duration interval) {
        if (scheduler != null) {
            throw new IllegalStateException("already scheduled");
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("fleetpulse-sink-partitions"));
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                maintain();
            } catch (RuntimeException e) {
                // A thrown exception would silently cancel every later run.
                metrics.dbError();
                LOG.warn("partition maintenance failed; retrying at the next run", e);
            }
        }, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    public Instant lastRun() {
        return lastRun;
    }

    private boolean create(Handle handle, PartitionScheme.Partition p) {
        PartitionedTable table = p.table();
        String name = PartitionedTable.requireIdentifier(p.name());
        String parent = table.parent();
        String column = table.column();
        String from = bound(p.start());
        String to = bound(p.end());
        try {
            int moved = handle.inTransaction(h -> {
                if (!lockAndCheck(h, name, false)) {
                    return -1;
                }
                h.execute("CREATE TABLE " + name + " (LIKE " + parent + " INCLUDING DEFAULTS INCLUDING CONSTRAINTS)");
                int rows = h.createUpdate("WITH moved AS (DELETE FROM " + table.defaultPartition()
                                + " WHERE " + column + " >= :from AND " + column + " < :to RETURNING *)"
                                + " INSERT INTO " + name + " SELECT * FROM moved")
                        .bind("from", OffsetDateTime.ofInstant(p.start(), ZoneOffset.UTC))
                        .bind("to", OffsetDateTime.ofInstant(p.end(), ZoneOffset.UTC))
                        .execute();
                h.execute("ALTER TABLE " + parent + " ATTACH PARTITION " + name
                        + " FOR VALUES FROM ('" + from + "') TO ('" + to + "')");
                return rows;
            });
            if (moved > 0) {
                LOG.info("moved {} rows of {} from its DEFAULT partition into new partition {}", moved, parent, name);
            }
            return moved >= 0;
        } catch (JdbiException e) {
            metrics.dbError();
            LOG.warn("could not create partition {}; retrying at the next run: {}", name, e.getMessage());
            return false;
        }
    }

    /**
     * Detaches {@code p} from its parent, then drops the now stand-alone table (which locks only itself). When the
     * parent has no DEFAULT partition the detach is {@code CONCURRENTLY}: it never blocks writers nor waits on
     * readers' locks, and a detach a crash or timeout left half done is finished with {@code FINALIZE}. PostgreSQL
     * refuses a concurrent detach while a DEFAULT partition exists (it must re-check the DEFAULT's constraint),
     * and every sink table has one, so there the detach is the ordinary one, in one transaction with the drop,
     * waiting at most the lock wait: a reader's long transaction postpones retention to the next pass instead of
     * holding up the writers queued behind the DDL.
     */
    private boolean drop(Handle handle, PartitionScheme.Partition p) {
        String name = PartitionedTable.requireIdentifier(p.name());
        String parent = p.table().parent();
        try {
            PartitionDao dao = handle.attach(PartitionDao.class);
            if (!dao.isPartitionOf(name, parent)) {
                return handle.inTransaction(h -> {
                    if (!lockAndCheck(h, name, true)) {
                        return false;
                    }
                    h.execute("DROP TABLE " + name);
                    return true;
                });
            }
            if (dao.defaultPartitionOf(parent) == null) {
                return detachConcurrentlyAndDrop(handle, parent, name);
            }
            return handle.inTransaction(h -> {
                if (!lockAndCheck(h, name, true)) {
                    return false;
                }
                h.execute("ALTER TABLE " + parent + " DETACH PARTITION " + name);
                h.execute("DROP TABLE " + name);
                return true;
            });
        } catch (JdbiException e) {
            metrics.dbError();
            LOG.warn("could not detach and drop expired partition {} (a reader holding it longer than the lock wait "
                    + "{}?); retrying at the next run: {}", name, Durations.format(lockWait), e.getMessage());
            return false;
        }
    }

    /** Runs outside a transaction (PostgreSQL requires it), so the maintenance lock is the session-level one. */
    private boolean detachConcurrentlyAndDrop(Handle h, String parent, String name) {
        PartitionDao dao = h.attach(PartitionDao.class);
        dao.setLockWait(String.valueOf(lockWait.toMillis()), false);
        dao.lockSession(MAINTENANCE_LOCK);
        try {
            if (!dao.isPartitionOf(name, parent)) {
                return false; // another instance got there first
            }
            h.execute("ALTER TABLE " + parent + " DETACH PARTITION " + name
                    + (dao.isDetachPending(name) ? " FINALIZE" : " CONCURRENTLY"));
            h.execute("DROP TABLE " + name);
            return true;
        } finally {
            dao.unlockSession(MAINTENANCE_LOCK);
            dao.resetLockWait();
        }
    }

    /**
     * Rows in DEFAULT whose dated partition would already have expired are past retention too: deleted (row
     * locks only, no DDL), with a warning, so DEFAULT never keeps rows forever.
     */
    private void expireDefaultRows(Handle h, PartitionScheme scheme, Instant now) {
        PartitionedTable table = scheme.table();
        Instant before = scheme.partitionFor(scheme.retentionCutoff(now)).start();
        int expired = h.createUpdate("DELETE FROM " + table.defaultPartition() + " WHERE " + table.column() + " < :before")
                .bind("before", OffsetDateTime.ofInstant(before, ZoneOffset.UTC))
                .execute();
        if (expired > 0) {
            LOG.warn("deleted {} rows of {} from its DEFAULT partition: older than {} (retention {})", expired,
                    table.parent(), before, Durations.format(scheme.retention()));
        }
    }

    /** Takes the maintenance lock, then says whether {@code name} still (or still not) exists as expected. */
    private boolean lockAndCheck(Handle h, String name, boolean mustExist) {
        PartitionDao dao = h.attach(PartitionDao.class);
        dao.setLockWait(String.valueOf(lockWait.toMillis()), true);
        dao.lockForMaintenance(MAINTENANCE_LOCK);
        return dao.exists(name) == mustExist;
    }

    private long countDefaultRows(Handle h, PartitionedTable table) {
        String def = table.defaultPartition();
        String column = table.column();
        DefaultStats stats = h.createQuery("SELECT count(*) AS n, min(" + column + ") AS oldest, max(" + column
                        + ") AS newest FROM " + def)
                .map((rs, ctx) -> new DefaultStats(rs.getLong("n"), rs.getObject("oldest", OffsetDateTime.class),
                        rs.getObject("newest", OffsetDateTime.class)))
                .one();
        metrics.defaultPartitionRows(table, stats.rows());
        if (stats.rows() > 0) {
            LOG.warn("{} rows of {} are in its DEFAULT partition {} ({} from {} to {}): outside every dated partition "
                            + "(moved when theirs is created, deleted once past retention). Check producers' clocks.",
                    stats.rows(), table.parent(), def, column, stats.oldest(), stats.newest());
        }
        return stats.rows();
    }

    /** A partition bound as a timestamptz literal; only ever midnight UTC of a real date. */
    private static String bound(Instant instant) {
        String text = DateTimeFormatter.ISO_INSTANT.format(instant);
        if (!BOUND.matcher(text).matches()) {
            throw new IllegalArgumentException("not a partition bound: " + text);
        }
        return text;
    }

    @Override
    public synchronized void close() {
        if (scheduler != null) {
            scheduler.shutdownNow();
            try {
                scheduler.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            scheduler = null;
        }
    }

    /** What one maintenance pass did. */
    public record Report(List<String> created, List<String> dropped, Map<PartitionedTable, Long> defaultRows) {
    }

    private record DefaultStats(long rows, OffsetDateTime oldest, OffsetDateTime newest) {
    }
}
