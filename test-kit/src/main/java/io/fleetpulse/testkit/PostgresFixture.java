package io.fleetpulse.testkit;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

/** A real PostgreSQL 17 server started from embedded binaries; each test class can have its own database. */
public final class PostgresFixture implements AutoCloseable {

    private static final AtomicInteger DATABASES = new AtomicInteger();

    private final EmbeddedPostgres postgres;

    private PostgresFixture(EmbeddedPostgres postgres) {
        this.postgres = postgres;
    }

    public static PostgresFixture start() throws IOException {
        return new PostgresFixture(EmbeddedPostgres.builder().start());
    }

    public int port() {
        return postgres.getPort();
    }

    public String user() {
        return "postgres";
    }

    public String password() {
        return "postgres";
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://localhost:" + port() + "/" + database;
    }

    /** Creates a fresh, empty database and returns its JDBC URL. */
    public String createDatabase() throws SQLException {
        String name = "fleetpulse_" + DATABASES.incrementAndGet();
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        return jdbcUrl(name);
    }

    public DataSource dataSource(String database) {
        return postgres.getDatabase(user(), database);
    }

    @Override
    public void close() throws IOException {
        postgres.close();
    }
}
