package io.fleetpulse.sink;

import java.util.List;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

/** Catalog look-ups and locking for partition maintenance; every value is bound. */
interface PartitionDao {

    @SqlQuery("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            + " WHERE i.inhparent = to_regclass(:parent) ORDER BY c.relname")
    List<String> partitionsOf(@Bind("parent") String parent);

    @SqlQuery("SELECT to_regclass(:name) IS NOT NULL")
    boolean exists(@Bind("name") String name);

    /** Serialises maintenance across sink instances until the transaction ends. */
    @SqlQuery("SELECT 1 FROM pg_advisory_xact_lock(:key)")
    int lockForMaintenance(@Bind("key") long key);

    /**
     * DDL waits behind running batches and readers, and the batches after it wait behind it: give up soon, retry
     * next run. {@code local}: until the transaction ends, else for the session (reset with {@link #resetLockWait}).
     */
    @SqlQuery("SELECT set_config('lock_timeout', :millis, :local)")
    String setLockWait(@Bind("millis") String millis, @Bind("local") boolean local);

    @SqlUpdate("RESET lock_timeout")
    void resetLockWait();

    @SqlQuery("SELECT 1 FROM pg_advisory_lock(:key)")
    int lockSession(@Bind("key") long key);

    @SqlQuery("SELECT pg_advisory_unlock(:key)")
    boolean unlockSession(@Bind("key") long key);

    @SqlQuery("SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(:name)"
            + " AND inhparent = to_regclass(:parent))")
    boolean isPartitionOf(@Bind("name") String name, @Bind("parent") String parent);

    /** A concurrent detach that did not finish (timed out or interrupted) leaves the partition in this state. */
    @SqlQuery("SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(:name) AND inhdetachpending)")
    boolean isDetachPending(@Bind("name") String name);

    @SqlQuery("SELECT c.relname FROM pg_partitioned_table pt JOIN pg_class c ON c.oid = pt.partdefid"
            + " WHERE pt.partrelid = to_regclass(:parent)")
    String defaultPartitionOf(@Bind("parent") String parent);

    /** Plain tables named like our partitions that are no partition of anything: left over by a detach. */
    @SqlQuery("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            + " WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname LIKE :pattern"
            + " AND NOT c.relispartition")
    List<String> detachedNamed(@Bind("pattern") String pattern);
}
