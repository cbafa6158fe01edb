package io.fleetpulse.sink;

import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.config.ConfigKey;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.runtime.text.Durations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The sink's own settings, read and checked once at start. The JDBC URL may carry a password, so it is shown only
 * masked ({@link #maskedJdbcUrl()}; the key is declared {@code maskedBy(JdbcUrls::masked)}, so the kernel's start-up
 * log, {@code /status} and configuration errors never print it raw).
 */
public record SinkSettings(String jdbcUrl, String user, String password, String groupId, int batchMaxRecords,
                           Duration pollTimeout, int premakeDays, Duration partitionsInterval, Duration retention1m,
                           Duration retention1h, Duration retentionAlerts, Duration retentionNotifications,
                           Duration retentionDeadLetters, Duration retentionHealth, Duration retentionTargets, Duration retryBackoffMax, Duration connectTimeout,
                           Duration socketTimeout, Duration readyTimeout, Duration partitionsLockTimeout) {

    public static final ConfigKey<String> JDBC_URL = ConfigKey.string("sink.jdbc.url", null,
            "PostgreSQL JDBC URL, jdbc:postgresql://host:port/database; a password inside it is masked wherever it is shown")
            .required().maskedBy(JdbcUrls::masked);
    public static final ConfigKey<String> JDBC_USER = ConfigKey.string("sink.jdbc.user", "postgres",
            "database user; needs CREATE on the schema (migrations and partition DDL)");
    public static final ConfigKey<String> JDBC_PASSWORD = ConfigKey.string("sink.jdbc.password", "",
            "database password").secret();
    public static final ConfigKey<String> GROUP_ID = ConfigKey.string("sink.group.id", "fleetpulse-sink",
            "Kafka consumer group; also the key of this sink's rows in sink_offset");
    public static final ConfigKey<Integer> BATCH_MAX_RECORDS = ConfigKey.integer("sink.batch.max.records", 5000, 1,
            1_000_000, "most records written in one database transaction (the consumer's max.poll.records)");
    public static final ConfigKey<Duration> POLL_TIMEOUT = ConfigKey.duration("sink.poll.timeout",
            Duration.ofMillis(500), "longest wait for records in one poll");
    public static final ConfigKey<Integer> PREMAKE_DAYS = ConfigKey.integer("sink.partitions.premake.days", 3, 0, 366,
            "daily partitions created ahead of today (monthly tables always get the current and next 2 months)");
    public static final ConfigKey<Duration> PARTITIONS_INTERVAL = ConfigKey.duration("sink.partitions.interval",
            Duration.ofHours(1), "how often partitions are created ahead, expired ones dropped, DEFAULT rows counted");
    public static final ConfigKey<Duration> RETENTION_1M = ConfigKey.duration("sink.retention.1m", Duration.ofDays(30),
            "how long target_window_1m keeps rows; whole daily partitions older than this are dropped");
    public static final ConfigKey<Duration> RETENTION_1H = ConfigKey.duration("sink.retention.1h", Duration.ofDays(400),
            "how long target_window_1h keeps rows; whole monthly partitions older than this are dropped");
    public static final ConfigKey<Duration> RETENTION_ALERTS = ConfigKey.duration("sink.retention.alerts",
            Duration.ofDays(400), "how long alert_event keeps rows; whole monthly partitions older than this are dropped");
    public static final ConfigKey<Duration> RETENTION_NOTIFICATIONS = ConfigKey.duration("sink.retention.notifications",
            Duration.ofDays(400), "how long notification keeps rows; whole monthly partitions older than this are dropped");
    public static final ConfigKey<Duration> RETENTION_DLQ = ConfigKey.duration("sink.retention.dlq",
            Duration.ofDays(90), "how long dead_letter keeps rows; whole monthly partitions older than this are dropped");
    public static final ConfigKey<Duration> RETENTION_HEALTH = ConfigKey.duration("sink.retention.health",
            Duration.ofDays(30), "how long target_health keeps rows; whole daily partitions older than this are dropped");
    public static final ConfigKey<Duration> RETENTION_TARGETS = ConfigKey.duration("sink.retention.targets",
            Duration.ofDays(3650), "how long targets keeps target versions, by updated_at; whole monthly partitions "
                    + "older than this are dropped, even a target's only version, so keep it longer than targets go unedited");
    public static final ConfigKey<Duration> RETRY_BACKOFF_MAX = ConfigKey.duration("sink.retry.backoff.max",
            Duration.ofSeconds(10), "longest wait between retries of a failed batch (doubling from 100ms)");

    public static final ConfigKey<Duration> CONNECT_TIMEOUT = ConfigKey.duration("sink.jdbc.connect.timeout",
            Duration.ofSeconds(5), "longest a connection attempt (TCP connect and login) to PostgreSQL may take; "
                    + "whole seconds, at least 1s");
    public static final ConfigKey<Duration> SOCKET_TIMEOUT = ConfigKey.duration("sink.jdbc.socket.timeout",
            Duration.ofSeconds(15), "longest the writer and partition upkeep wait for PostgreSQL to answer (pgjdbc "
                    + "socketTimeout, and the server-side statement_timeout); a hung server fails the call after "
                    + "this; whole seconds, at least 1s; size it above the slowest batch upsert");
    public static final ConfigKey<Duration> READY_TIMEOUT = ConfigKey.duration("sink.ready.db.timeout",
            Duration.ofSeconds(5), "the sink is not ready once one database call has been waiting this long, or "
                    + "the last one failed; the writer pings the database at half this interval when idle");

    public static final ConfigKey<Duration> PARTITIONS_LOCK_TIMEOUT = ConfigKey.duration("sink.partitions.lock.timeout",
            Duration.ofSeconds(2), "longest partition DDL (create, detach) waits for a table lock; writers queued "
                    + "behind it wait at most this long, and what gave up is retried at the next maintenance");

    /** The sink's own keys; {@link SinkService#KEYS} adds the ones every service reads. */
    public static final List<ConfigKey<?>> KEYS = List.of(JDBC_URL, JDBC_USER, JDBC_PASSWORD, GROUP_ID,
            BATCH_MAX_RECORDS, POLL_TIMEOUT, PREMAKE_DAYS, PARTITIONS_INTERVAL, RETENTION_1M, RETENTION_1H, RETENTION_ALERTS,
            RETENTION_NOTIFICATIONS, RETENTION_DLQ, RETENTION_HEALTH, RETENTION_TARGETS,
            RETRY_BACKOFF_MAX, CONNECT_TIMEOUT, SOCKET_TIMEOUT, READY_TIMEOUT, PARTITIONS_LOCK_TIMEOUT);

    /** Monthly tables get the current month and this many after it. */
    static final int MONTHS_AHEAD = 2;

    private static final String JDBC_PREFIX = "jdbc:postgresql:";

    /** @throws ConfigException naming the key, the (masked) value and what is allowed */
    public static SinkSettings from(Settings settings) {
        String url = settings.get(JDBC_URL);
        if (!url.startsWith(JDBC_PREFIX)) {
            throw new ConfigException(JDBC_URL.name(), "Invalid value '" + JdbcUrls.masked(url) + "' for '"
                    + JDBC_URL.name() + "': expected a PostgreSQL JDBC URL starting with " + JDBC_PREFIX
                    + " such as jdbc:postgresql://localhost:5432/fleetpulse");
        }
        return new SinkSettings(url, settings.get(JDBC_USER), settings.get(JDBC_PASSWORD), settings.get(GROUP_ID),
                settings.get(BATCH_MAX_RECORDS), settings.get(POLL_TIMEOUT), settings.get(PREMAKE_DAYS),
                settings.get(PARTITIONS_INTERVAL), settings.get(RETENTION_1M), settings.get(RETENTION_1H),
                settings.get(RETENTION_ALERTS), settings.get(RETENTION_NOTIFICATIONS), settings.get(RETENTION_DLQ),
                settings.get(RETENTION_HEALTH), settings.get(RETENTION_TARGETS), settings.get(RETRY_BACKOFF_MAX), wholeSeconds(settings, CONNECT_TIMEOUT),
                wholeSeconds(settings, SOCKET_TIMEOUT), settings.get(READY_TIMEOUT), settings.get(PARTITIONS_LOCK_TIMEOUT));
    }

    /** pgjdbc counts its timeouts in whole seconds, and 0 would mean "wait forever". */
    private static Duration wholeSeconds(Settings settings, ConfigKey<Duration> key) {
        Duration value = settings.get(key);
        if (value.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new ConfigException(key.name(), "Invalid value '" + Durations.format(value) + "' for '" + key.name()
                    + "': PostgreSQL's driver counts whole seconds, so at least 1s");
        }
        return value;
    }

    /** The timeouts of the writer's and partition upkeep's connections. */
    SinkDatabase.Timeouts timeouts() {
        // The server cancels a slow statement a second before the client would give up on the connection.
        Duration statement = socketTimeout.compareTo(Duration.ofSeconds(2)) >= 0
                ? socketTimeout.minusSeconds(1) : socketTimeout;
        return new SinkDatabase.Timeouts(connectTimeout, socketTimeout, statement);
    }

    /** The JDBC URL as it may appear in a log line, an exception or {@code /status}. */
    public String maskedJdbcUrl() {
        return JdbcUrls.masked(jdbcUrl);
    }

    /** How each partitioned table's partitions are kept: retention back, premade partitions ahead. */
    List<PartitionScheme> partitionSchemes() {
        List<PartitionScheme> schemes = new ArrayList<>();
        for (PartitionedTable table : PartitionedTable.values()) {
            schemes.add(switch (table) {
                case TARGET_WINDOW_1M -> new PartitionScheme(table, retention1m, premakeDays);
                case TARGET_WINDOW_1H -> new PartitionScheme(table, retention1h, MONTHS_AHEAD);
                case ALERT_EVENT -> new PartitionScheme(table, retentionAlerts, MONTHS_AHEAD);
                case NOTIFICATION -> new PartitionScheme(table, retentionNotifications, MONTHS_AHEAD);
                case DEAD_LETTER -> new PartitionScheme(table, retentionDeadLetters, MONTHS_AHEAD);
                case TARGET_HEALTH -> new PartitionScheme(table, retentionHealth, premakeDays);
                case TARGETS -> new PartitionScheme(table, retentionTargets, MONTHS_AHEAD);
            });
        }
        return List.copyOf(schemes);
    }

    /** Never the password or the raw URL: a record's own toString would print both. */
    @Override
    public String toString() {
        return "SinkSettings[jdbcUrl=" + maskedJdbcUrl() + ", user=" + user + ", groupId=" + groupId + "]";
    }
}
