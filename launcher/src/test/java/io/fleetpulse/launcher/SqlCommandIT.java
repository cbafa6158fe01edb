package io.fleetpulse.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.testkit.PostgresFixture;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code fleetpulse sql} on a real PostgreSQL 17 with the sink's schema: -c, --query, a refused write, the prompt, --demo. */
class SqlCommandIT {

    /** The embedded server trusts local logins, so any password works: these two must never be printed. */
    private static final String PASSWORD = "pw-in-its-own-key";
    private static final String URL_PASSWORD = "pw-inside-the-url";

    private static PostgresFixture postgres;
    private static String url;
    private static Path config;

    @BeforeAll
    static void migratedDatabaseWithRows(@TempDir Path dir) throws Exception {
        postgres = PostgresFixture.start();
        url = postgres.createDatabase();
        Flyway.configure().dataSource(url, postgres.user(), postgres.password()).locations("classpath:db/migration")
                .load().migrate();
        execute(url, "INSERT INTO target_window_1m (target_id, window_start, window_end, checks, failures, error_rate,"
                + " samples) VALUES ('srv-1', now() - interval '1 hour', now() - interval '59 minutes', 10, 5, 0.5, 1),"
                + " ('srv-22', now() - interval '1 hour', now() - interval '59 minutes', 10, 1, 0.1, 1)");
        config = dir.resolve("sink.properties");
        Files.writeString(config, "sink.jdbc.url=" + url + "?password=" + URL_PASSWORD + "\n"
                + "sink.jdbc.user=" + postgres.user() + "\nsink.jdbc.password=" + PASSWORD + "\n");
    }

    @AfterAll
    static void stopDatabase() throws Exception {
        postgres.close();
    }

    @Test
    void shouldPrintOneQueryAsAnAlignedTableWithoutThePassword() {
        CliRun run = sql("", "--config", config.toString(), "-c",
                "SELECT target_id, checks, error_rate FROM target_window_1m ORDER BY target_id");
        assertEquals(0, run.exit(), run.err());
        assertEquals("""
                 target_id | checks | error_rate
                -----------+--------+------------
                 srv-1     |     10 |        0.5
                 srv-22    |     10 |        0.1
                (2 rows)
                """, run.out());
        assertTrue(run.err().contains("read-only, as role fleetpulse_reader"), run.err());
        assertTrue(run.err().contains("password=****"), "the URL is shown masked: " + run.err());
        assertFalse((run.out() + run.err()).contains(PASSWORD) || (run.out() + run.err()).contains(URL_PASSWORD));
    }

    @Test
    void shouldRunADocumentedQueryByName() {
        CliRun run = sql("", "--config", config.toString(), "--query", "worst-servers");
        assertEquals(0, run.exit(), run.err());
        String[] lines = run.out().split("\n");
        assertTrue(lines[0].contains("target_id") && lines[0].contains("worst_latency_p95_ms"), run.out());
        assertTrue(lines[2].startsWith(" srv-1 "), "the worst first: " + run.out());
        assertTrue(run.out().endsWith("(2 rows)\n"), run.out());

        CliRun listed = sql("", "--list");
        assertEquals(0, listed.exit());
        assertTrue(listed.out().contains("worst-servers") && listed.out().contains("why-not-paged"), listed.out());
        CliRun unknown = sql("", "--config", config.toString(), "--query", "best-servers");
        assertEquals(2, unknown.exit());
        assertTrue(unknown.err().contains("no documented query 'best-servers'; the names are"), unknown.err());
    }

    @Test
    void shouldRefuseAWriteWithPostgresReadOnlyError() throws Exception {
        CliRun insert = sql("", "--config", config.toString(), "-c",
                "INSERT INTO sink_offset (consumer_group, topic, partition, next_offset) VALUES ('g', 't', 0, 1)");
        assertEquals(1, insert.exit());
        assertTrue(insert.err().contains("cannot execute INSERT in a read-only transaction"), insert.err());
        // Switching the session back to writing does not help: the role it acts as may only read.
        CliRun sneaky = sql("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE;\nDELETE FROM target_window_1m;\n",
                "--config", config.toString());
        assertEquals(1, sneaky.exit());
        assertTrue(sneaky.err().contains("permission denied for table target_window_1m"), sneaky.err());
        CliRun ddl = sql("", "--config", config.toString(), "-c", "CREATE TABLE scratch (a int)");
        assertEquals(1, ddl.exit());
        assertTrue(ddl.err().contains("cannot execute CREATE TABLE in a read-only transaction"), ddl.err());
        assertEquals(2L, count(url, "SELECT count(*) FROM target_window_1m"));
        assertEquals(0L, count(url, "SELECT count(*) FROM sink_offset"));
    }

    @Test
    void shouldRunStatementsFromStdinUntilBackslashQ() {
        String script = """
                SELECT 'a;b' AS text,
                       2 AS two;
                INSERT INTO sink_offset (consumer_group, topic, partition, next_offset) VALUES ('g', 't', 0, 1);
                SELECT count(*) AS windows FROM target_window_1m;
                \\q
                SELECT 'never run';
                """;
        CliRun run = sql(script, "--config", config.toString());
        assertEquals(1, run.exit(), "a piped script learns that one statement failed: " + run.err());
        assertEquals("""
                 text | two
                ------+-----
                 a;b  |   2
                (1 row)
                 windows
                ---------
                       2
                (1 row)
                """, run.out());
        assertTrue(run.err().contains("cannot execute INSERT in a read-only transaction"), run.err());
        assertFalse(run.out().contains(SqlCommand.PROMPT), "no prompt when stdin is not a terminal");
    }

    @Test
    void shouldUseTheDemosDatabaseRunningOrNot(@TempDir Path dataDir) throws Exception {
        Path folder = dataDir.resolve("postgres");
        int port;
        try (EmbeddedDatabase db = EmbeddedDatabase.start(folder)) {
            execute(db.jdbcUrl(), "CREATE TABLE it_marker (note text); INSERT INTO it_marker VALUES ('kept by the demo')");
            port = db.port();
        }
        Files.writeString(dataDir.resolve(Demo.PORTS_FILE), "postgres.port=" + port + "\n");

        CliRun stopped = sql("", "--demo", "--data-dir", dataDir.toString(), "-c", "SELECT note FROM it_marker");
        assertEquals(0, stopped.exit(), stopped.err());
        assertTrue(stopped.out().contains("kept by the demo"), stopped.out());
        assertTrue(stopped.err().contains("starting its database for this session"), stopped.err());
        assertFalse(Files.exists(folder.resolve("postmaster.pid")), "the database started for the session is stopped after it");

        // A running demo holds the folder's lock and serves its database: sql connects to it and starts nothing.
        try (EmbeddedDatabase running = EmbeddedDatabase.start(folder);
             FileChannel channel = FileChannel.open(dataDir.resolve(Demo.LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock lock = channel.lock()) {
            Files.writeString(dataDir.resolve(Demo.PORTS_FILE), "postgres.port=" + running.port() + "\n");
            CliRun live = sql("", "--demo", "--data-dir", dataDir.toString(), "-c", "SELECT note FROM it_marker");
            assertEquals(0, live.exit(), live.err());
            assertTrue(live.out().contains("kept by the demo"), live.out());
            assertFalse(live.err().contains("starting its database"), live.err());
        }
    }

    /** The real command line, with {@code stdin} as the prompt's input. */
    private static CliRun sql(String stdin, String... args) {
        CommandLine cli = FleetPulseCli.commandLine();
        ((SqlCommand) cli.getSubcommands().get("sql").getCommand()).in =
                new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        String[] full = new String[args.length + 1];
        full[0] = "sql";
        System.arraycopy(args, 0, full, 1, args.length);
        int exit = cli.execute(full);
        return new CliRun(exit, out.toString(), err.toString());
    }

    private static void execute(String jdbcUrl, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "postgres"); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static long count(String jdbcUrl, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "postgres"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
