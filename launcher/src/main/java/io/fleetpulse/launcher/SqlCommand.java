package io.fleetpulse.launcher;

import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.sink.DocumentedQueries;
import io.fleetpulse.sink.ReadOnlySql;
import io.fleetpulse.sink.SinkSettings;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code fleetpulse sql}: a read-only session on the sink's tables (see {@link ReadOnlySql}), against the configured
 * database or the demo's; one statement ({@code -c}), a documented query ({@code --query}, from docs/sink.md through
 * {@link DocumentedQueries}) or a prompt reading statements from stdin.
 */
@Command(name = "sql", mixinStandardHelpOptions = true,
        description = {"Queries the sink's tables over a read-only connection, printing aligned tables.",
                "%nWithout -c or --query it reads statements ending in ';' from stdin (a prompt on a terminal; a script"
                        + " when piped) until \\q or the end of the input.",
                "%nThe database: sink.jdbc.url, .user and .password from --config with FLEETPULSE_* environment overrides,"
                        + " or with --demo the demo's embedded database under --data-dir (started on that folder for the"
                        + " session, and stopped after it, when no demo is running there).",
                "%nEvery transaction is READ ONLY (a write fails with PostgreSQL's read-only error), and the session acts"
                        + " as role fleetpulse_reader when the login may take it. The password is never printed."
                        + " Exit 0; 1 when a statement failed or the database cannot be reached; 2 for a bad option or setting.%n"})
final class SqlCommand implements Callable<Integer> {

    static final String PROMPT = "fleetpulse=> ";
    private static final String CONTINUED = "fleetpulse-> ";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-c", "--command"}, paramLabel = "SQL", description = "run this statement and exit")
    String command;

    @Option(names = "--query", paramLabel = "NAME", description = "run the query of docs/sink.md called NAME (see --list) and exit")
    String query;

    @Option(names = "--list", description = "list the documented queries' names and what each answers, and exit")
    boolean list;

    @Option(names = "--config", paramLabel = "FILE", description = "the sink's properties file (sink.jdbc.*); FLEETPULSE_* environment variables override it")
    Path configFile;

    @Option(names = "--demo", description = "use the demo's database (the one under --data-dir) instead of sink.jdbc.*")
    boolean demo;

    @Option(names = "--data-dir", defaultValue = ".fleetpulse/demo", description = "the demo's data folder, with --demo (default ${DEFAULT-VALUE})")
    Path dataDir;

    /** Where the prompt reads from; the tests give it their own input. */
    InputStream in = System.in;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if ((command != null ? 1 : 0) + (query != null ? 1 : 0) + (list ? 1 : 0) > 1) {
            throw FleetPulseCli.invalid(spec, "-c", "-c, --query and --list exclude each other");
        }
        if (list) {
            for (DocumentedQueries.Query q : DocumentedQueries.all()) {
                out.printf("%-24s %s%n", q.name(), q.description());
            }
            out.flush();
            return 0;
        }
        String sql = command;
        if (query != null) {
            sql = DocumentedQueries.named(query).map(DocumentedQueries.Query::sql).orElseThrow(() -> FleetPulseCli.invalid(
                    spec, "--query", "no documented query '" + query + "'; the names are "
                            + DocumentedQueries.all().stream().map(DocumentedQueries.Query::name).collect(Collectors.joining(", "))));
        }
        Deque<AutoCloseable> opened = new ArrayDeque<>();
        try {
            ReadOnlySql session;
            try {
                session = demo ? demoSession(opened, err) : configuredSession();
            } catch (SQLException e) {
                err.println("fleetpulse sql: cannot connect: " + e.getMessage());
                return 1;
            }
            opened.push(session);
            err.println("fleetpulse sql: connected as " + session.describe());
            if (sql != null) {
                return run(session, sql, out, err) ? 0 : 1;
            }
            return prompt(session, out, err);
        } finally {
            while (!opened.isEmpty()) {
                opened.pop().close();
            }
        }
    }

    private ReadOnlySql configuredSession() throws SQLException {
        SinkSettings sink = SinkSettings.from(Settings.resolve(Config.load(configFile, System.getenv()), SinkSettings.KEYS));
        return ReadOnlySql.connect(sink.jdbcUrl(), sink.user(), sink.password());
    }

    /**
     * The demo's database: the running demo's when the data folder is locked (a demo holds the lock for its whole
     * run), else the folder's database started for this session, with the lock held so no demo starts on it meanwhile.
     */
    private ReadOnlySql demoSession(Deque<AutoCloseable> opened, PrintWriter err) throws IOException, SQLException {
        Path dir = dataDir.toAbsolutePath().normalize();
        Path postgres = dir.resolve("postgres");
        if (!Files.exists(postgres.resolve("postgresql.conf"))) {
            throw FleetPulseCli.invalid(spec, "--data-dir", "no demo database in " + postgres + "; run 'fleetpulse demo' first");
        }
        FileChannel channel = FileChannel.open(dir.resolve(Demo.LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        opened.push(channel);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // a demo in this very JVM holds it
        }
        String keptPort = Demo.loadPorts(dir).getProperty("postgres.port");
        if (lock == null) {
            if (keptPort == null) {
                throw new SQLException("the demo on " + dir + " is still starting; try again in a moment");
            }
            return ReadOnlySql.connect(EmbeddedDatabase.jdbcUrl(Integer.parseInt(keptPort.strip())), "postgres", "postgres");
        }
        opened.push(lock);
        err.println("fleetpulse sql: no demo is running on " + dir + "; starting its database for this session ...");
        EmbeddedDatabase db = EmbeddedDatabase.start(postgres, freeOrAny(keptPort));
        opened.push(db);
        return ReadOnlySql.connect(db.jdbcUrl(), db.user(), db.password());
    }

    /** The demo's port when it is free, so URLs people copied from the demo work; any free port otherwise. */
    private static int freeOrAny(String keptPort) {
        if (keptPort == null) {
            return 0;
        }
        try (ServerSocket probe = new ServerSocket(Integer.parseInt(keptPort.strip()), 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    /** Statements from stdin, each run once its ';' is read; {@code \q} or the end of input ends it. */
    private int prompt(ReadOnlySql session, PrintWriter out, PrintWriter err) throws IOException {
        // A person at a terminal gets prompts; a script piped in gets only the results, as with psql.
        boolean interactive = in == System.in && System.console() != null;
        if (interactive) {
            out.println("Statements end with ';'. \\q quits.");
        }
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        StatementSplitter splitter = new StatementSplitter();
        boolean failed = false;
        while (true) {
            if (interactive) {
                out.print(splitter.isEmpty() ? PROMPT : CONTINUED);
                out.flush();
            }
            String line = reader.readLine();
            if (line == null || (splitter.isEmpty() && line.strip().equals("\\q"))) {
                break;
            }
            for (String statement : splitter.add(line)) {
                failed |= !run(session, statement, out, err);
            }
        }
        if (!splitter.isEmpty()) {
            err.println("fleetpulse sql: the input ended inside a statement (no ';'); it was not run");
            failed = true;
        }
        // At a terminal an error was seen and answered already; a script must learn that something failed.
        return failed && !interactive ? 1 : 0;
    }

    private static boolean run(ReadOnlySql session, String sql, PrintWriter out, PrintWriter err) {
        try {
            session.run(sql, out);
            return true;
        } catch (SQLException e) {
            err.println(e.getMessage());
            err.flush();
            return false;
        }
    }

    /**
     * Cuts input lines into statements at each {@code ;} outside quotes and comments: {@code 'text'},
     * {@code "identifier"}, {@code -- to the end of the line}, {@code /* ... * /} and {@code $tag$ ... $tag$}.
     */
    static final class StatementSplitter {

        private final StringBuilder pending = new StringBuilder();
        /** Inside: 0 nothing, '\'' a string, '"' an identifier, '*' a block comment, '$' a dollar-quoted string. */
        private char inside;
        private String dollarTag;

        boolean isEmpty() {
            return pending.toString().isBlank() && inside == 0;
        }

        /** Adds one input line; returns the statements it completed (without their ';'). */
        java.util.List<String> add(String line) {
            java.util.List<String> done = new java.util.ArrayList<>();
            int i = 0;
            while (i < line.length()) {
                char c = line.charAt(i);
                char next = i + 1 < line.length() ? line.charAt(i + 1) : 0;
                if (inside == 0) {
                    if (c == '-' && next == '-') {
                        break; // the server needs no comment, and a comment alone is no statement waiting for its ';'
                    } else if (c == ';') {
                        String statement = pending.toString().strip();
                        if (!statement.isEmpty()) {
                            done.add(statement);
                        }
                        pending.setLength(0);
                        i++;
                        continue;
                    } else if (c == '\'' || c == '"') {
                        inside = c;
                    } else if (c == '/' && next == '*') {
                        inside = '*';
                        pending.append(c);
                        i++;
                        c = next;
                    } else if (c == '$') {
                        int end = line.indexOf('$', i + 1);
                        String tag = end < 0 ? null : line.substring(i, end + 1);
                        if (tag != null && tag.matches("\\$[A-Za-z_]*\\$")) {
                            inside = '$';
                            dollarTag = tag;
                            pending.append(tag);
                            i = end + 1;
                            continue;
                        }
                    }
                } else if (inside == '*') {
                    if (c == '*' && next == '/') {
                        inside = 0;
                        pending.append(c);
                        i++;
                        c = next;
                    }
                } else if (inside == '$') {
                    if (line.startsWith(dollarTag, i)) {
                        inside = 0;
                        pending.append(dollarTag);
                        i += dollarTag.length();
                        continue;
                    }
                } else if (c == inside) {
                    // A doubled quote stays inside; a single one ends the string or identifier.
                    if (next == inside) {
                        pending.append(c);
                        i++;
                    } else {
                        inside = 0;
                    }
                }
                pending.append(c);
                i++;
            }
            pending.append('\n');
            return done;
        }
    }
}
