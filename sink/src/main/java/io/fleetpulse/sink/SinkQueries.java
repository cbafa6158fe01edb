package io.fleetpulse.sink;

import java.util.LinkedHashMap;
import java.util.Map;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.sqlobject.SqlObjectPlugin;

/** Read-only questions about what the sink has written, for the demo summary and operators. */
public final class SinkQueries {

    private SinkQueries() {
    }

    /** Rows per sink table, in registry order ({@link PartitionedTable}). The schema must exist (the sink migrated it). */
    public static Map<String, Long> rowCounts(String jdbcUrl, String user, String password) {
        return rowCounts(SinkDatabase.jdbi(jdbcUrl, user, password));
    }

    public static Map<String, Long> rowCounts(DataSource dataSource) {
        Jdbi jdbi = Jdbi.create(dataSource);
        jdbi.installPlugin(new SqlObjectPlugin());
        return rowCounts(jdbi);
    }

    private static Map<String, Long> rowCounts(Jdbi jdbi) {
        return jdbi.withHandle(h -> {
            Map<String, Long> counts = new LinkedHashMap<>();
            for (PartitionedTable table : PartitionedTable.values()) {
                // The name comes from the registry and is a checked identifier, never user text.
                counts.put(table.parent(), h.createQuery("SELECT count(*) FROM " + table.parent())
                        .mapTo(Long.class).one());
            }
            return counts;
        });
    }
}
