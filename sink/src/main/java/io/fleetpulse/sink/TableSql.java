package io.fleetpulse.sink;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The staging and merge statements of one table, derived from its {@link PartitionedTable} declaration: a session
 * staging table emptied at every commit, the COPY into it, and an upsert on the natural key that leaves rows whose
 * values did not change alone (so a replay changes nothing, not even {@code ingested_at}) and says how many rows
 * it wrote and how many of them went to the DEFAULT partition. Within one batch the last record of a key wins.
 * Also the fast path's COPY straight into the table, and the counter that tells how many rows it put in DEFAULT.
 */
record TableSql(String createStage, String clearStage, String copy, String merge, String copyStraight,
                String defaultInserts) {

    static TableSql of(PartitionedTable table) {
        String parent = table.parent();
        String stage = PartitionedTable.requireIdentifier("stage_" + parent);
        List<String> columns = table.format().columns();
        List<String> key = table.naturalKey();
        List<String> values = columns.stream().filter(c -> !key.contains(c)).toList();
        String cols = String.join(", ", columns);
        String keys = String.join(", ", key);
        String merge = "WITH upserted AS (\n"
                + "    INSERT INTO " + parent + " AS t (" + cols + ")\n"
                + "    SELECT DISTINCT ON (" + keys + ") " + cols + "\n"
                + "    FROM " + stage + "\n"
                + "    ORDER BY " + keys + ", seq DESC\n"
                + "    ON CONFLICT (" + keys + ") DO UPDATE SET "
                + values.stream().map(c -> c + " = EXCLUDED." + c).collect(Collectors.joining(", "))
                + ", ingested_at = now()\n"
                + "    WHERE (" + prefixed("t.", values) + ") IS DISTINCT FROM (" + prefixed("EXCLUDED.", values) + ")\n"
                + "    RETURNING t.tableoid\n"
                + ")\n"
                + "SELECT count(*) AS written, count(*) FILTER (WHERE tableoid = '" + table.defaultPartition()
                + "'::regclass) AS in_default FROM upserted";
        return new TableSql(
                "CREATE TEMP TABLE IF NOT EXISTS " + stage + " (seq bigint NOT NULL, LIKE " + parent
                        + " INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
                "DELETE FROM " + stage,
                "COPY " + stage + " (seq, " + cols + ") FROM STDIN WITH (FORMAT csv)",
                merge,
                "COPY " + parent + " (" + cols + ") FROM STDIN WITH (FORMAT csv)",
                // This transaction's inserts into the DEFAULT partition so far, aborted subtransactions' included.
                "SELECT pg_stat_get_xact_tuples_inserted('" + table.defaultPartition() + "'::regclass)");
    }

    private static String prefixed(String prefix, List<String> columns) {
        return columns.stream().map(c -> prefix + c).collect(Collectors.joining(", "));
    }
}
