package io.fleetpulse.sink;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real PostgreSQL 17 server whose data folder and port outlive the server: stopped cleanly ({@link #stop()}) or
 * killed ({@link #kill()}, SIGKILL of the postmaster, as an OOM killer or a power cut would), then started again on
 * the same folder and port ({@link #restart()}), which after a kill runs crash recovery. Clients keep their URL.
 */
final class RestartablePostgres implements AutoCloseable {

    private static final Duration EXIT_WAIT = Duration.ofSeconds(30);
    private static final AtomicInteger DATABASES = new AtomicInteger();

    private final Path dataDir;
    private final int port;
    private EmbeddedPostgres server;

    private RestartablePostgres(Path dataDir, EmbeddedPostgres server) {
        this.dataDir = dataDir;
        this.server = server;
        this.port = server.getPort();
    }

    static RestartablePostgres start() throws IOException {
        Path dir = Files.createTempDirectory("fleetpulse-pg-");
        return new RestartablePostgres(dir, builder(dir).start());
    }

    private static EmbeddedPostgres.Builder builder(Path dir) {
        return EmbeddedPostgres.builder().setDataDirectory(dir).setCleanDataDirectory(false).setRegisterShutdownHook(false);
    }

    String user() {
        return "postgres";
    }

    String password() {
        return "postgres";
    }

    /** Creates a fresh, empty database and returns its JDBC URL. */
    String createDatabase() throws SQLException {
        String name = "outage_" + DATABASES.incrementAndGet();
        try (Connection c = DriverManager.getConnection(url("postgres"), user(), password()); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        return url(name);
    }

    private String url(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /** A clean shutdown ({@code pg_ctl stop -m fast}): sessions are ended, open transactions rolled back. */
    void stop() throws IOException {
        server.close();
        server = null;
    }

    /** SIGKILL to the postmaster; returns once it and every process it had forked are gone. */
    void kill() throws Exception {
        long pid = Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).strip());
        ProcessHandle postmaster = ProcessHandle.of(pid).orElseThrow(() -> new IllegalStateException("no postmaster " + pid));
        List<ProcessHandle> all = new ArrayList<>(postmaster.descendants().toList());
        all.add(postmaster);
        Process kill = new ProcessBuilder("kill", "-KILL", String.valueOf(pid)).redirectErrorStream(true).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IllegalStateException("kill -KILL " + pid + " failed");
        }
        // The backends notice their postmaster is gone and exit; a restart before that would find them attached.
        for (ProcessHandle p : all) {
            p.onExit().get(EXIT_WAIT.toSeconds(), TimeUnit.SECONDS);
        }
        try {
            server.close(); // pg_ctl stop fails on the dead server; this releases the folder's lock
        } catch (IOException | RuntimeException expected) {
            // nothing was running any more
        }
        server = null;
    }

    /** Starts the server again on the same folder and port. */
    void restart() throws IOException {
        if (server != null) {
            throw new IllegalStateException("the server is running");
        }
        server = builder(dataDir).setPort(port).start();
    }

    @Override
    public void close() throws IOException {
        if (server != null) {
            server.close();
        }
        try (var paths = Files.walk(dataDir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
