package io.fleetpulse.sink;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;

/**
 * A read-only session on the sink's database for people ({@code fleetpulse sql}): statements in, aligned text
 * tables out.
 *
 * <p>Read-only twice over: the session's transactions are {@code READ ONLY} (so PostgreSQL itself refuses any write
 * with "cannot execute ... in a read-only transaction"), and where the login may take the role
 * {@code fleetpulse_reader} (an analyst's login in that group, or a superuser) the session acts as that role, which
 * can SELECT and nothing else. Both guard against mistakes, not against someone who holds the sink's own password:
 * give people their own login in {@code fleetpulse_reader} (docs/sink.md).
 */
public final class ReadOnlySql implements AutoCloseable {

    static final String READER_ROLE = "fleetpulse_reader";
    private static final Set<Integer> NUMERIC = Set.of(Types.BIGINT, Types.INTEGER, Types.SMALLINT, Types.TINYINT,
            Types.DECIMAL, Types.NUMERIC, Types.DOUBLE, Types.FLOAT, Types.REAL);

    private final Connection connection;
    private final String description;

    private ReadOnlySql(Connection connection, String description) {
        this.connection = connection;
        this.description = description;
    }

    /** Connects as {@code user} and makes the session read-only; the password appears in no message. */
    public static ReadOnlySql connect(String jdbcUrl, String user, String password) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        if (password != null && !password.isEmpty()) {
            props.setProperty("password", password);
        }
        props.setProperty("ApplicationName", "fleetpulse-sql");
        // Bounded connect and login; no socket timeout: an analyst's query may rightly run long.
        props.setProperty("connectTimeout", "10");
        props.setProperty("loginTimeout", "10");
        Connection connection = DriverManager.getConnection(jdbcUrl, props);
        try (Statement s = connection.createStatement()) {
            // Set in the session rather than in the URL's options, so a URL's own options cannot drop it.
            s.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
            boolean reader = false;
            try (ResultSet rs = s.executeQuery("SELECT to_regrole('" + READER_ROLE + "') IS NOT NULL"
                    + " AND pg_has_role(current_user, '" + READER_ROLE + "', 'SET')")) {
                reader = rs.next() && rs.getBoolean(1);
            }
            if (reader) {
                s.execute("SET ROLE " + READER_ROLE);
            }
            return new ReadOnlySql(connection, user + " at " + JdbcUrls.masked(jdbcUrl) + ", read-only"
                    + (reader ? ", as role " + READER_ROLE : ""));
        } catch (SQLException | RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    /** Who and where, for a line before the results: the login, the masked URL, how it is read-only. */
    public String describe() {
        return description;
    }

    /**
     * Runs {@code sql} (one statement, or several separated by {@code ;}) and prints each result: a query's rows as
     * an aligned table and their count, any other statement as {@code OK}.
     *
     * @throws SQLException what PostgreSQL said, e.g. the read-only refusal of a write
     */
    public void run(String sql, PrintWriter out) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            boolean isQuery = statement.execute(sql);
            while (true) {
                if (isQuery) {
                    try (ResultSet rs = statement.getResultSet()) {
                        printTable(rs, out);
                    }
                } else {
                    int updated = statement.getUpdateCount();
                    if (updated == -1) {
                        break;
                    }
                    out.println("OK");
                }
                isQuery = statement.getMoreResults();
            }
        } finally {
            out.flush();
        }
    }

    /** psql's aligned format: a header, a rule, one line per row (numbers to the right), then the row count. */
    private static void printTable(ResultSet rs, PrintWriter out) throws SQLException {
        ResultSetMetaData meta = rs.getMetaData();
        int columns = meta.getColumnCount();
        String[] names = new String[columns];
        boolean[] right = new boolean[columns];
        int[] widths = new int[columns];
        for (int c = 0; c < columns; c++) {
            names[c] = meta.getColumnLabel(c + 1);
            right[c] = NUMERIC.contains(meta.getColumnType(c + 1));
            widths[c] = names[c].length();
        }
        List<String[]> rows = new ArrayList<>();
        while (rs.next()) {
            String[] row = new String[columns];
            for (int c = 0; c < columns; c++) {
                String value = rs.getString(c + 1);
                // One line per row: a value's own line breaks would break the table.
                row[c] = value == null ? "" : value.replace("\r", "\\r").replace("\n", "\\n");
                widths[c] = Math.max(widths[c], row[c].length());
            }
            rows.add(row);
        }
        StringBuilder line = new StringBuilder();
        for (int c = 0; c < columns; c++) {
            line.append(c == 0 ? " " : " | ").append(pad(names[c], widths[c], false));
        }
        out.println(line.toString().stripTrailing());
        line.setLength(0);
        for (int c = 0; c < columns; c++) {
            line.append(c == 0 ? "" : "+").append("-".repeat(widths[c] + 2));
        }
        out.println(line);
        for (String[] row : rows) {
            line.setLength(0);
            for (int c = 0; c < columns; c++) {
                line.append(c == 0 ? " " : " | ").append(pad(row[c], widths[c], right[c]));
            }
            out.println(line.toString().stripTrailing());
        }
        out.println("(" + rows.size() + (rows.size() == 1 ? " row)" : " rows)"));
    }

    private static String pad(String text, int width, boolean right) {
        String fill = " ".repeat(width - text.length());
        return right ? fill + text : text + fill;
    }

    @Override
    public void close() throws SQLException {
        connection.close();
    }
}
