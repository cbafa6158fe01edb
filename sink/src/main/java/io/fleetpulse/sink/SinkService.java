package io.fleetpulse.sink;

import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.runtime.DaemonThreads;
import io.fleetpulse.runtime.KafkaReadiness;
import io.fleetpulse.runtime.ManagedService;
import io.fleetpulse.runtime.StartupWait;
import io.fleetpulse.runtime.config.ConfigKey;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.runtime.text.Durations;
import io.fleetpulse.schemas.Topics;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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
 * <p>Start: waits for PostgreSQL (until {@code ops.start.timeout}), migrates the schema, makes the partitions,
 * then runs the writer as a core loop: if it ends or throws while the sink is not stopping, the sink fails and the
 * process exits non-zero. Ready: the database answered the writer and partitions are assigned. Close: the writer
 * finishes and commits the batch in hand and closes its consumer, DLQ producer and connection; then the partition
 * scheduler stops.
 */
public final class SinkService extends ManagedService {

    private static final Logger LOG = LoggerFactory.getLogger(SinkService.class);

    public static final List<ConfigKey<?>> KEYS = ManagedService.keysWith(SinkSettings.KEYS);

    private final SinkSettings sink;
    private final SinkMetrics metrics;

    // Written by startUp(), read by the ops server's thread and by shutDown().
    private volatile PartitionManager partitions;
    private volatile KafkaConsumer<byte[], byte[]> consumer;
    private volatile KafkaProducer<Bytes, DeadLetter> dlq;
    private volatile SinkWriter writer;
    private volatile Thread writerThread;
    private volatile ScheduledExecutorService watchdog;

    public SinkService(Settings settings) {
        this(settings, Clock.systemUTC());
    }

    SinkService(Settings settings, Clock clock) {
        this(settings, clock, KafkaReadiness::await);
    }

    private SinkService(Settings settings, Clock clock, StartGate gate) {
        super("sink", settings, clock, gate);
        this.sink = SinkSettings.from(settings);
        this.metrics = new SinkMetrics(meters());
    }

    /**
     * A sink that does not wait for the broker before its own start-up: for tests of the database wait without a
     * broker (the kernel's {@code StartGate} is protected, so a test cannot pass one itself).
     */
    static SinkService withoutBrokerWait(Settings settings) {
        return new SinkService(settings, Clock.systemUTC(), (service, kafka, deadline) -> { });
    }

    @Override
    protected void startUp(Instant deadline) throws Exception {
        StartupWait.until(name(), "PostgreSQL", sink.maskedJdbcUrl(), deadline, () -> {
            SinkDatabase.connect(sink.jdbcUrl(), sink.user(), sink.password(), deadline);
            return null;
        });
        MigrateResult migrated = SinkDatabase.migrate(sink.jdbcUrl(), sink.user(), sink.password(), deadline);
        LOG.info("sink: PostgreSQL at {}, schema at version {} ({} migrations applied now)", sink.maskedJdbcUrl(),
                migrated.migrationsExecuted > 0 ? migrated.targetSchemaVersion : migrated.initialSchemaVersion,
                migrated.migrationsExecuted);
        Jdbi jdbi = SinkDatabase.jdbi(sink.jdbcUrl(), sink.user(), sink.password(), sink.timeouts());
        partitions = new PartitionManager(jdbi, sink.partitionSchemes(), clock(), metrics, sink.partitionsLockTimeout());
        partitions.maintain();
        partitions.schedule(sink.partitionsInterval());

        Map<String, Object> consumerProps = kafka().consumer(sink.groupId(), "fleetpulse-sink");
        consumerProps.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, sink.batchMaxRecords());
        consumer = new KafkaConsumer<>(consumerProps, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        meters().bindKafkaClient(consumer);
        dlq = new KafkaProducer<>(kafka().producer("fleetpulse-sink-dlq"),
                Topics.DLQ.keySerde().serializer(), Topics.DLQ.valueSerde().serializer());
        meters().bindKafkaClient(dlq);
        writer = new SinkWriter(consumer, dlq, new SinkStore(jdbi, sink.groupId()), metrics, sink.pollTimeout(),
                sink.retryBackoffMax(), sink.readyTimeout(), clock());
        writerThread = startCoreThread("writer", writer);
        // The writer cannot say it is stuck while it is stuck in a call: this looks from outside, so a hung
        // database is logged even when nobody asks /readyz.
        SinkWriter watched = writer;
        long every = Math.max(100, sink.readyTimeout().toMillis() / 2);
        watchdog = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("fleetpulse-sink-watchdog"));
        watchdog.scheduleWithFixedDelay(watched::stalledFor, every, every, TimeUnit.MILLISECONDS);
    }

    @Override
    protected boolean ready() {
        SinkWriter w = writer;
        return w != null && w.isReady();
    }

    @Override
    protected Map<String, Object> details() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("groupId", sink.groupId());
        SinkWriter w = writer;
        if (w != null) {
            out.putAll(w.status());
        }
        out.putAll(metrics.snapshot());
        PartitionManager p = partitions;
        out.put("partitionsMaintainedAt", p == null || p.lastRun() == null ? null : p.lastRun().toString());
        return out;
    }

    /** Lets the writer finish and commit the batch in hand (it closes its clients), then stops partition upkeep. */
    @Override
    protected void shutDown() {
        Thread thread = writerThread;
        if (thread != null) {
            writer.stop();
            try {
                thread.join(ops().stopTimeout().toMillis());
                if (thread.isAlive()) {
                    LOG.warn("sink writer did not stop within {} (ops.stop.timeout); its batch will be re-read from "
                            + "the stored offsets", Durations.format(ops().stopTimeout()));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        } else {
            // Start got as far as the clients but not the writer, which would have closed them.
            closeQuietly(dlq);
            closeQuietly(consumer);
        }
        if (watchdog != null) {
            watchdog.shutdownNow();
        }
        if (partitions != null) {
            partitions.close();
        }
    }

    private static void closeQuietly(AutoCloseable client) {
        if (client == null) {
            return;
        }
        try {
            client.close();
        } catch (Exception e) {
            LOG.warn("sink: error closing {}: {}", client.getClass().getSimpleName(), e.toString());
        }
    }
}
