package io.fleetpulse.sink;

import org.jdbi.v3.sqlobject.config.RegisterConstructorMapper;
import org.jdbi.v3.sqlobject.locator.UseClasspathSqlLocator;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

/**
 * The staging-and-merge statements of one batch; their SQL is in {@code io/fleetpulse/sink/BatchDao/*.sql}.
 * The COPY statements live there too ({@code copyWindows.sql}, {@code copyAlerts.sql}) but run through pgjdbc's
 * CopyManager, which Jdbi does not wrap.
 */
@UseClasspathSqlLocator
interface BatchDao {

    /** Session-scoped staging tables, emptied at every commit; created once per connection. */
    @SqlUpdate
    void createWindowStage();

    @SqlUpdate
    void createAlertStage();

    /** Empty the staging tables between the attempts of a bisection (a commit empties them otherwise). */
    @SqlUpdate
    void clearWindowStage();

    @SqlUpdate
    void clearAlertStage();

    /** Upserts the staged windows (the last of each key in the batch wins) and says how many rows changed. */
    @SqlQuery
    @RegisterConstructorMapper(MergeCounts.class)
    MergeCounts mergeWindows();

    @SqlQuery
    @RegisterConstructorMapper(MergeCounts.class)
    MergeCounts mergeAlerts();
}
