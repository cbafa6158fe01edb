package io.fleetpulse.sink;

import java.io.IOException;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.HandleCallback;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;
import org.jdbi.v3.core.mapper.reflect.ConstructorMapper;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * Writes a batch and the offsets after it in one transaction: COPY into session staging tables, upsert into the
 * partitioned tables on their natural keys, upsert {@code sink_offset}, commit. Either all of it is visible or none
 * of it, so a crash anywhere leaves the rows and the stored offsets consistent, and resuming from the stored
 * offsets neither loses nor double-writes a row.
 *
 * <p>Holds one connection (there is one writer thread); after any failure the connection is dropped and the next
 * call opens a fresh one. Not thread-safe.
 */
final class SinkStore implements AutoCloseable {

    private static final Map<PartitionedTable, TableSql> SQL = tableSql();

    private final Jdbi jdbi;
    private final String group;
    private final StraightCopy straightCopy = new StraightCopy();
    private Handle handle;

    SinkStore(Jdbi jdbi, String group) {
        this.jdbi = jdbi;
        this.group = group;
    }

    /** The next offset stored for every partition of this consumer group. */
    Map<TopicPartition, Long> storedOffsets() {
        return run(h -> {
            Map<TopicPartition, Long> out = new HashMap<>();
            for (StoredOffset o : h.attach(OffsetDao.class).offsets(group)) {
                out.put(new TopicPartition(o.topic(), o.partition()), o.nextOffset());
            }
            return out;
        });
    }

    /**
     * Commits {@code batch}'s rows and offsets atomically. Rows the database refuses as data (SQLState class 22,
     * 23 or 54: a value or constraint problem of that row, not of the connection) are isolated by bisection inside
     * the transaction, each attempt behind a savepoint, so one poison row costs about {@code 2 log2(n)} attempts
     * and never the batch. {@code beforeCommit} gets the refused rows (possibly none) before the commit, so their
     * dead letters are out before the offsets move past them; if it throws, nothing is committed.
     */
    Written write(SinkBatch batch, java.util.function.Consumer<List<Rejected>> beforeCommit) {
        List<StoredOffset> offsets = batch.nextOffsets().entrySet().stream()
                .map(e -> new StoredOffset(e.getKey().topic(), e.getKey().partition(), e.getValue()))
                .toList();
        return run(h -> h.inTransaction(tx -> {
            Map<PartitionedTable, MergeCounts> merged = new EnumMap<>(PartitionedTable.class);
            List<Rejected> rejected = new ArrayList<>();
            writeIsolating(tx, batch.rows(), false, merged, rejected);
            markRemoved(tx, batch.removals());
            beforeCommit.accept(List.copyOf(rejected));
            tx.attach(OffsetDao.class).store(group, offsets);
            return new Written(merged, List.copyOf(rejected));
        }));
    }

    /**
     * Writes {@code rows} behind a savepoint; on a data error rolls back to it and tries each half, down to the
     * single rows that fail, which land in {@code rejected}. {@code restaged} says the staging tables may hold an
     * earlier attempt's rows and must be emptied first.
     */
    private void writeIsolating(Handle tx, List<SinkBatch.Row> rows, boolean restaged,
                                       Map<PartitionedTable, MergeCounts> merged, List<Rejected> rejected)
            throws SQLException, IOException {
        if (rows.isEmpty()) {
            return;
        }
        Connection connection = tx.getConnection();
        Savepoint savepoint = connection.setSavepoint();
        try {
            Map<PartitionedTable, MergeCounts> attempt = copyAndMerge(tx, rows, restaged);
            connection.releaseSavepoint(savepoint);
            attempt.forEach((table, counts) -> merged.merge(table, counts, MergeCounts::plus));
        } catch (SQLException | IOException | JdbiException e) {
            SQLException dataError = dataError(e);
            if (dataError == null) {
                throw e;
            }
            connection.rollback(savepoint);
            if (rows.size() == 1) {
                rejected.add(new Rejected(rows.get(0), dataError.getSQLState(), dataError.getMessage()));
                return;
            }
            int half = rows.size() / 2;
            writeIsolating(tx, rows.subList(0, half), true, merged, rejected);
            writeIsolating(tx, rows.subList(half, rows.size()), true, merged, rejected);
        }
    }

    /**
     * Sets removed_at on the versions each tombstone removes: those up to its time that were not removed yet, so a
     * replay changes nothing and a version written after the tombstone (the target came back) stays current.
     */
    private static void markRemoved(Handle tx, List<SinkBatch.Removal> removals) {
        for (SinkBatch.Removal removal : removals) {
            PartitionedTable table = removal.table();
            tx.createUpdate("UPDATE " + table.parent() + " SET " + PartitionedTable.REMOVED_AT + " = :at,"
                            + " ingested_at = now() WHERE " + table.naturalKey().get(0) + " = :key AND " + table.column()
                            + " <= :at AND " + PartitionedTable.REMOVED_AT + " IS NULL")
                    .bind("at", java.time.OffsetDateTime.ofInstant(removal.at(), java.time.ZoneOffset.UTC))
                    .bind("key", removal.key()).execute();
        }
    }

    /**
     * Writes each table's rows of {@code rows}. A first attempt ({@code restaged} false) of a table whose recent
     * batches held only new keys COPYs straight into the partitioned table (see {@link #copyStraightIn}); otherwise,
     * or when that is refused, the rows are COPYed into the staging table and upserted from there.
     */
    private Map<PartitionedTable, MergeCounts> copyAndMerge(Handle tx, List<SinkBatch.Row> rows, boolean restaged)
            throws SQLException, IOException {
        CopyManager copy = tx.getConnection().unwrap(PGConnection.class).getCopyAPI();
        Map<PartitionedTable, MergeCounts> out = new EnumMap<>(PartitionedTable.class);
        for (PartitionedTable table : PartitionedTable.values()) {
            String csv = SinkBatch.Row.csv(rows, table);
            if (csv.isEmpty()) {
                continue;
            }
            TableSql sql = SQL.get(table);
            if (!restaged && straightCopy.worthTrying(table)) {
                MergeCounts inserted = copyStraightIn(tx, copy, sql, SinkBatch.Row.csvWithoutSeq(rows, table));
                straightCopy.record(table, inserted != null);
                if (inserted != null) {
                    out.put(table, inserted);
                    continue;
                }
            }
            if (restaged) {
                tx.execute(sql.clearStage());
            }
            copy.copyIn(sql.copy(), new StringReader(csv));
            out.put(table, tx.createQuery(sql.merge())
                    .registerRowMapper(ConstructorMapper.factory(MergeCounts.class)).mapTo(MergeCounts.class).one());
        }
        return out;
    }

    /**
     * The fast path, for the common case of a batch of rows never seen before (new windows, new alert events): COPY
     * straight into the partitioned table, which PostgreSQL writes in multi-row inserts, about twice the rate of the
     * staged upsert's row-by-row {@code INSERT ... ON CONFLICT}. Behind a savepoint: a key already in the table (a
     * replay, a rescored window) or repeated in the batch fails the COPY with a unique violation, and any other data
     * error fails it too; then it is rolled back and the caller upserts as usual (which also bisects a poison row).
     * The result equals the upsert's, as every row is new. The DEFAULT partition's share comes from the transaction's
     * own insert counter of that partition. Returns null when refused.
     */
    private static MergeCounts copyStraightIn(Handle tx, CopyManager copy, TableSql sql, String csv)
            throws SQLException, IOException {
        Connection connection = tx.getConnection();
        Savepoint savepoint = connection.setSavepoint();
        try {
            long before = tx.createQuery(sql.defaultInserts()).mapTo(Long.class).one();
            long copied = copy.copyIn(sql.copyStraight(), new StringReader(csv));
            long inDefault = tx.createQuery(sql.defaultInserts()).mapTo(Long.class).one() - before;
            connection.releaseSavepoint(savepoint);
            return new MergeCounts(copied, inDefault);
        } catch (SQLException | JdbiException e) {
            if (dataError(e) == null) {
                throw e;
            }
            connection.rollback(savepoint);
            return null;
        }
    }

    private static Map<PartitionedTable, TableSql> tableSql() {
        Map<PartitionedTable, TableSql> out = new EnumMap<>(PartitionedTable.class);
        for (PartitionedTable table : PartitionedTable.values()) {
            out.put(table, TableSql.of(table));
        }
        return out;
    }

    /**
     * The SQLException in {@code e}'s causes that blames the data (classes 22 data exception, 23 integrity
     * constraint violation, 54 program limit such as an index row too large), or null when the failure is the
     * connection's, the server's or the schema's: those are retried, never bisected.
     */
    static SQLException dataError(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof SQLException sql && sql.getSQLState() != null) {
                String state = sql.getSQLState();
                return state.startsWith("22") || state.startsWith("23") || state.startsWith("54") ? sql : null;
            }
        }
        return null;
    }

    /** Proves the database answers. */
    void ping() {
        run(h -> h.attach(OffsetDao.class).ping());
    }

    private <T> T run(HandleCallback<T, Exception> work) {
        try {
            if (handle == null) {
                handle = jdbi.open();
                for (TableSql sql : SQL.values()) {
                    handle.execute(sql.createStage());
                }
            }
            return work.withHandle(handle);
        } catch (JdbiException | SQLException | IOException e) {
            // The connection may be broken or mid-transaction; a new one is the only safe state to retry from.
            closeHandle();
            throw new StoreException(e);
        } catch (RuntimeException e) {
            closeHandle();
            throw e;
        } catch (Exception e) {
            closeHandle();
            throw new StoreException(e);
        }
    }

    private void closeHandle() {
        if (handle != null) {
            try {
                handle.close();
            } catch (RuntimeException ignored) {
                // Closing a broken connection fails too; it is being discarded either way.
            }
            handle = null;
        }
    }

    @Override
    public void close() {
        closeHandle();
    }

    /**
     * Per table, whether the fast path is worth a try: after it is refused (the table's batches overlap what is
     * stored, as a rescored health window does), it is skipped for the table's next 1, 2, 4 ... 64 batches, so a
     * table whose batches keep conflicting pays for a wasted COPY rarely, and one that turns back to new rows gets
     * the fast path again soon.
     */
    static final class StraightCopy {

        private static final int MAX_SKIP = 64;
        private final Map<PartitionedTable, int[]> state = new EnumMap<>(PartitionedTable.class);

        /** Counts this batch of {@code table}; true when the fast path should be tried on it. */
        boolean worthTrying(PartitionedTable table) {
            int[] s = state.computeIfAbsent(table, t -> new int[] {0, 0}); // {batches still to skip, next skip}
            if (s[0] > 0) {
                s[0]--;
                return false;
            }
            return true;
        }

        void record(PartitionedTable table, boolean succeeded) {
            int[] s = state.get(table);
            if (succeeded) {
                s[1] = 0;
            } else {
                s[1] = s[1] == 0 ? 1 : Math.min(MAX_SKIP, s[1] * 2);
                s[0] = s[1];
            }
        }
    }

    /** What a committed batch changed in each table, and the rows the database refused. */
    record Written(Map<PartitionedTable, MergeCounts> merged, List<Rejected> rejected) {

        MergeCounts of(PartitionedTable table) {
            return merged.getOrDefault(table, MergeCounts.NONE);
        }
    }

    /** A row the database refused, with its SQLState and message (what the dead letter says). */
    record Rejected(SinkBatch.Row row, String sqlState, String message) {
    }

    /** The database refused or could not be reached; nothing of the batch was committed. */
    static final class StoreException extends RuntimeException {
        StoreException(Throwable cause) {
            super(cause.getMessage(), cause);
        }
    }
}
