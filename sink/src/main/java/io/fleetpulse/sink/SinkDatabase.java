package io.fleetpulse.sink;

import io.fleetpulse.runtime.text.Durations;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.postgres.PostgresPlugin;
import org.jdbi.v3.sqlobject.SqlObjectPlugin;

/**
 * How the sink connects to PostgreSQL and brings its schema up to date. Every connection has bounded connect,
 * login and socket timeouts (pgjdbc's defaults wait forever for login and reads), so a dead network fails an
 * attempt instead of hanging it. Settings written into the JDBC URL win over these.
 */
final class SinkDatabase {

    /**
     * Start-up and migrations, and read-only callers without settings: a migration may run long, and it is bounded
     * by the start deadline anyway. The writer's own timeouts come from {@link SinkSettings#timeouts()}.
     */
    static final Timeouts WRITER = new Timeouts(Duration.ofSeconds(10), Duration.ofSeconds(120), null);

    private SinkDatabase() {
    }

    /** A Jdbi on plain pgjdbc connections with the {@link #WRITER} timeouts. */
    static Jdbi jdbi(String url, String user, String password) {
        return jdbi(url, user, password, WRITER);
    }

    /** A Jdbi on plain pgjdbc connections with {@code timeouts}. */
    static Jdbi jdbi(String url, String user, String password, Timeouts timeouts) {
        Jdbi jdbi = Jdbi.create(url, connectionProperties(user, password, timeouts));
        jdbi.installPlugin(new SqlObjectPlugin());
        jdbi.installPlugin(new PostgresPlugin());
        return jdbi;
    }

    /**
     * Connects and logs in once, giving up by {@code deadline}: one attempt of the start-up wait. Kept apart from
     * {@link #migrate} so that only "cannot connect" is waited for, and a failing migration stops the start at once.
     */
    static void connect(String url, String user, String password, Instant deadline) throws SQLException {
        Timeouts timeouts = WRITER.within(Instant.now(), deadline);
        try (Connection connection = DriverManager.getConnection(url, connectionProperties(user, password, timeouts))) {
            if (!connection.isValid((int) timeouts.socket().toSeconds())) {
                throw new SQLException("the connection did not answer within " + Durations.format(timeouts.socket()));
            }
        }
    }

    /**
     * Applies the migrations under {@code db/migration} (a no-op when the schema is current), with every
     * connection timeout cut to what is left until {@code deadline}.
     */
    static MigrateResult migrate(String url, String user, String password, Instant deadline) {
        return Flyway.configure()
                .jdbcProperties(WRITER.within(Instant.now(), deadline).properties())
                .dataSource(url, user, password)
                .locations("classpath:db/migration")
                .load()
                .migrate();
    }

    private static Properties connectionProperties(String user, String password, Timeouts timeouts) {
        Properties props = new Properties();
        props.setProperty("user", user);
        if (password != null && !password.isEmpty()) {
            props.setProperty("password", password);
        }
        props.putAll(timeouts.properties());
        return props;
    }

    /**
     * pgjdbc's connection timeouts; it counts whole seconds, and 0 would mean "wait forever". {@code statement},
     * when set, is the server-side {@code statement_timeout}: the server cancels a slow statement and the
     * connection stays usable, while the socket timeout is the backstop for a server that does not answer at all.
     */
    record Timeouts(Duration connect, Duration socket, Duration statement) {

        /** These, cut down to what is left until {@code deadline} (one second at least). */
        Timeouts within(Instant now, Instant deadline) {
            Duration left = Duration.between(now, deadline);
            Duration floor = Duration.ofSeconds(1);
            Duration cap = left.compareTo(floor) < 0 ? floor : left;
            return new Timeouts(min(connect, cap), min(socket, cap), statement == null ? null : min(statement, cap));
        }

        Map<String, String> properties() {
            Map<String, String> props = new LinkedHashMap<>();
            props.put("ApplicationName", "fleetpulse-sink");
            props.put("connectTimeout", seconds(connect));
            props.put("loginTimeout", seconds(connect));
            props.put("socketTimeout", seconds(socket));
            props.put("tcpKeepAlive", "true");
            if (statement != null) {
                props.put("options", "-c statement_timeout=" + statement.toMillis());
            }
            return props;
        }

        private static Duration min(Duration a, Duration b) {
            return a.compareTo(b) <= 0 ? a : b;
        }

        private static String seconds(Duration d) {
            return String.valueOf(Math.max(1, d.toSeconds()));
        }
    }
}
