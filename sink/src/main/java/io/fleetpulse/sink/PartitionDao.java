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

    /** DDL waits behind running batches, and the batches after it wait behind it: give up soon, retry next run. */
    @SqlUpdate("SET LOCAL lock_timeout = '10s'")
    void limitLockWait();
}
