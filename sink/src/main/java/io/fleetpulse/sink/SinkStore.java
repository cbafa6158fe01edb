package io.fleetpulse.sink;

import java.io.IOException;
import java.io.StringReader;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.HandleCallback;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;
import org.jdbi.v3.core.locator.ClasspathSqlLocator;
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

    private static final String COPY_WINDOWS = ClasspathSqlLocator.create().locate(BatchDao.class, "copyWindows");
    private static final String COPY_ALERTS = ClasspathSqlLocator.create().locate(BatchDao.class, "copyAlerts");

    private final Jdbi jdbi;
    private final String group;
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

    /** Commits {@code batch}'s rows and offsets atomically. */
    Written write(SinkBatch batch) {
        List<StoredOffset> offsets = batch.nextOffsets().entrySet().stream()
                .map(e -> new StoredOffset(e.getKey().topic(), e.getKey().partition(), e.getValue()))
                .toList();
        return run(h -> h.inTransaction(tx -> {
            BatchDao dao = tx.attach(BatchDao.class);
            CopyManager copy = tx.getConnection().unwrap(PGConnection.class).getCopyAPI();
            MergeCounts windows = MergeCounts.NONE;
            MergeCounts alerts = MergeCounts.NONE;
            if (batch.windows() > 0) {
                copy.copyIn(COPY_WINDOWS, new StringReader(batch.windowRows()));
                windows = dao.mergeWindows();
            }
            if (batch.alerts() > 0) {
                copy.copyIn(COPY_ALERTS, new StringReader(batch.alertRows()));
                alerts = dao.mergeAlerts();
            }
            tx.attach(OffsetDao.class).store(group, offsets);
            return new Written(windows, alerts);
        }));
    }

    /** Proves the database answers. */
    void ping() {
        run(h -> h.attach(OffsetDao.class).ping());
    }

    private <T> T run(HandleCallback<T, Exception> work) {
        try {
            if (handle == null) {
                handle = jdbi.open();
                BatchDao dao = handle.attach(BatchDao.class);
                dao.createWindowStage();
                dao.createAlertStage();
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

    /** What a committed batch changed in each table. */
    record Written(MergeCounts windows, MergeCounts alerts) {
    }

    /** The database refused or could not be reached; nothing of the batch was committed. */
    static final class StoreException extends RuntimeException {
        StoreException(Throwable cause) {
            super(cause.getMessage(), cause);
        }
    }
}
