package io.fleetpulse.sink;

import java.util.Properties;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.postgres.PostgresPlugin;
import org.jdbi.v3.sqlobject.SqlObjectPlugin;

/** How the sink connects to PostgreSQL and brings its schema up to date. */
final class SinkDatabase {

    private SinkDatabase() {
    }

    /**
     * A Jdbi on plain pgjdbc connections. Settings in the JDBC URL win over these defaults; the timeouts keep a
     * dead network from hanging the writer instead of failing it into its retry loop.
     */
    static Jdbi jdbi(String url, String user, String password) {
        Properties props = new Properties();
        props.setProperty("user", user);
        if (password != null && !password.isEmpty()) {
            props.setProperty("password", password);
        }
        props.setProperty("ApplicationName", "fleetpulse-sink");
        props.setProperty("connectTimeout", "10");
        props.setProperty("socketTimeout", "120");
        props.setProperty("tcpKeepAlive", "true");
        Jdbi jdbi = Jdbi.create(url, props);
        jdbi.installPlugin(new SqlObjectPlugin());
        jdbi.installPlugin(new PostgresPlugin());
        return jdbi;
    }

    /** Applies the migrations under {@code db/migration}; a no-op when the schema is current. */
    static MigrateResult migrate(String url, String user, String password) {
        return Flyway.configure()
                .dataSource(url, user, password)
                .locations("classpath:db/migration")
                .load()
                .migrate();
    }
}
