package io.fleetpulse.sink;

import java.util.LinkedHashMap;
import java.util.Map;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.sqlobject.SqlObjectPlugin;
import org.jdbi.v3.sqlobject.statement.SqlQuery;

/** Read-only questions about what the sink has written, for the demo summary and operators. */
public final class SinkQueries {

    private SinkQueries() {
    }

    /** Rows per sink table, {@code target_window_1m} then {@code alert_event}. The schema must exist (the sink migrated it). */
    public static Map<String, Long> rowCounts(String jdbcUrl, String user, String password) {
        return rowCounts(SinkDatabase.jdbi(jdbcUrl, user, password));
    }

    public static Map<String, Long> rowCounts(DataSource dataSource) {
        Jdbi jdbi = Jdbi.create(dataSource);
        jdbi.installPlugin(new SqlObjectPlugin());
        return rowCounts(jdbi);
    }

    private static Map<String, Long> rowCounts(Jdbi jdbi) {
        return jdbi.withExtension(CountDao.class, dao -> {
            Map<String, Long> counts = new LinkedHashMap<>();
            counts.put(PartitionedTable.TARGET_WINDOW_1M.parent(), dao.windows());
            counts.put(PartitionedTable.ALERT_EVENT.parent(), dao.alerts());
            return counts;
        });
    }

    interface CountDao {
        @SqlQuery("SELECT count(*) FROM target_window_1m")
        long windows();

        @SqlQuery("SELECT count(*) FROM alert_event")
        long alerts();
    }
}
