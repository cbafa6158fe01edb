package io.fleetpulse.sink;

import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.runtime.DaemonThreads;
import io.fleetpulse.runtime.KafkaSettings;
import io.fleetpulse.runtime.Service;
import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.config.ConfigKey;
import io.fleetpulse.schemas.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.utils.Bytes;
import org.flywaydb.core.api.output.MigrateResult;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes {@code fleet.aggregates.1m} into {@code target_window_1m} and {@code fleet.alerts} into {@code alert_event},
 * idempotently, with the consumer offsets committed in the same transaction as the rows (see {@link SinkWriter}),
 * and keeps both tables' partitions in step with the clock (see {@link PartitionManager}).
 *
 * <p>Start: settings are read and checked in the constructor; {@code start()} migrates the schema (Flyway), makes
 * the partitions, then starts the writer thread. Close: the writer finishes and commits the batch in hand, then
 * the consumer, DLQ producer, connection and partition scheduler are closed, newest first.
 */
public final class SinkService implements Service {

    private static final Logger LOG = LoggerFactory.getLogger(SinkService.class);

    public static final ConfigKey<String> JDBC_URL = ConfigKey.string("sink.jdbc.url", null,
            "PostgreSQL JDBC URL, jdbc:postgresql://host:port/database").required();
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
    public static final ConfigKey<Duration> RETENTION_ALERTS = ConfigKey.duration("sink.retention.alerts",
            Duration.ofDays(400), "how long alert_event keeps rows; whole monthly partitions older than this are dropped");
    public static final ConfigKey<Duration> RETRY_BACKOFF_MAX = ConfigKey.duration("sink.retry.backoff.max",
            Duration.ofSeconds(10), "longest wait between retries of a failed batch (doubling from 100ms)");

    /** Monthly tables get the current month and this many after it. */
    static final int MONTHS_AHEAD = 2;

    public static final List<ConfigKey<?>> KEYS;

    static {
        List<ConfigKey<?>> keys = new ArrayList<>(List.of(JDBC_URL, JDBC_USER, JDBC_PASSWORD, GROUP_ID,
                BATCH_MAX_RECORDS, POLL_TIMEOUT, PREMAKE_DAYS, PARTITIONS_INTERVAL, RETENTION_1M, RETENTION_ALERTS,
                RETRY_BACKOFF_MAX));
        keys.addAll(KafkaSettings.KEYS);
        KEYS = List.copyOf(keys);
    }

    private final Config config;
    private final KafkaSettings kafka;
    private final String jdbcUrl;
    private final String user;
    private final String password;
    private final String groupId;
    private final int batchMaxRecords;
    private final Duration pollTimeout;
    private final Duration partitionsInterval;
    private final Duration retryBackoffMax;
    private final List<PartitionScheme> schemes;
    private final Clock clock;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final SinkMetrics metrics = new SinkMetrics(registry);

    // Written by start(), read by the ops server's thread.
    private volatile PartitionManager partitions;
    private volatile SinkWriter writer;
    private volatile Thread writerThread;
    private volatile boolean closed;

    public SinkService(Config config) {
        this(config, Clock.systemUTC());
    }

    SinkService(Config config, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.kafka = new KafkaSettings(config);
        this.jdbcUrl = config.get(JDBC_URL);
        if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
            throw new ConfigException(JDBC_URL.name(), "Invalid value '" + JdbcUrls.masked(jdbcUrl) + "' for '"
                    + JDBC_URL.name() + "': expected a PostgreSQL JDBC URL such as jdbc:postgresql://localhost:5432/fleetpulse");
        }
        this.user = config.get(JDBC_USER);
        this.password = config.get(JDBC_PASSWORD);
        this.groupId = config.get(GROUP_ID);
        if (groupId.isBlank()) {
            throw new ConfigException(GROUP_ID.name(), "'" + GROUP_ID.name() + "' must not be blank");
        }
        this.batchMaxRecords = config.get(BATCH_MAX_RECORDS);
        this.pollTimeout = config.get(POLL_TIMEOUT);
        this.partitionsInterval = config.get(PARTITIONS_INTERVAL);
        this.retryBackoffMax = config.get(RETRY_BACKOFF_MAX);
        this.schemes = List.of(
                new PartitionScheme(PartitionedTable.TARGET_WINDOW_1M, config.get(RETENTION_1M), config.get(PREMAKE_DAYS)),
                new PartitionScheme(PartitionedTable.ALERT_EVENT, config.get(RETENTION_ALERTS), MONTHS_AHEAD));
    }

    @Override
    public String name() {
        return "sink";
    }

    @Override
    public synchronized void start() {
        if (writerThread != null || closed) {
            throw new IllegalStateException("the sink service starts once");
        }
        LOG.info("starting sink with {}", describeConfig());
        MigrateResult migrated = SinkDatabase.migrate(jdbcUrl, user, password);
        LOG.info("database schema at version {} ({} migrations applied now)",
                migrated.migrationsExecuted > 0 ? migrated.targetSchemaVersion : migrated.initialSchemaVersion,
                migrated.migrationsExecuted);
        Jdbi jdbi = SinkDatabase.jdbi(jdbcUrl, user, password);
        partitions = new PartitionManager(jdbi, schemes, clock, metrics);
        partitions.maintain();
        partitions.schedule(partitionsInterval);

        Map<String, Object> consumerProps = kafka.consumer(groupId, "fleetpulse-sink");
        consumerProps.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, batchMaxRecords);
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
        KafkaProducer<Bytes, DeadLetter> dlq;
        try {
            dlq = new KafkaProducer<>(kafka.producer("fleetpulse-sink-dlq"),
                    Topics.DLQ.keySerde().serializer(), Topics.DLQ.valueSerde().serializer());
        } catch (RuntimeException e) {
            consumer.close();
            throw e;
        }
        writer = new SinkWriter(consumer, dlq, new SinkStore(jdbi, groupId), metrics, pollTimeout, retryBackoffMax, clock);
        writerThread = DaemonThreads.named("fleetpulse-sink-writer").newThread(writer);
        writerThread.start();
    }

    @Override
    public boolean isLive() {
        return !closed && writerThread != null && writerThread.isAlive() && writer.isRunning();
    }

    @Override
    public boolean isReady() {
        return isLive() && writer.isReady();
    }

    @Override
    public Map<String, Object> status() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("groupId", groupId);
        if (writer != null) {
            out.putAll(writer.status());
        }
        out.putAll(metrics.snapshot());
        out.put("partitionsMaintainedAt", partitions == null || partitions.lastRun() == null
                ? null : partitions.lastRun().toString());
        out.put("config", describeConfig());
        return out;
    }

    @Override
    public MeterRegistry meterRegistry() {
        return registry;
    }

    /** Finishes and commits the batch in hand, then closes everything, newest first. Safe to call twice. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (writer != null) {
            writer.stop();
            try {
                writerThread.join(Duration.ofSeconds(60).toMillis());
                if (writerThread.isAlive()) {
                    LOG.warn("sink writer did not stop within 60 s; its batch will be re-read from the stored offsets");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (partitions != null) {
            partitions.close();
        }
        LOG.info("sink closed");
    }

    private Map<String, String> describeConfig() {
        Map<String, String> shown = config.describe(KEYS);
        shown.put(JDBC_URL.name(), JdbcUrls.masked(jdbcUrl));
        return shown;
    }
}
