package io.fleetpulse.stream;

import io.fleetpulse.runtime.KafkaSettings;
import io.fleetpulse.runtime.config.ConfigKey;
import io.fleetpulse.runtime.config.Settings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The Kafka Streams settings of the stream processor, and the one place its Streams properties are made, for the
 * service and for the topology tests alike.
 */
public record StreamsProps(String applicationId, Path stateDir, int numThreads, Duration commitInterval,
                           int rocksDbMemoryMiB, int cacheMiB, ApiAddress api) {

    /** The other producers' batching (see {@link KafkaSettings#producer}), which Streams' own producer defaults lack. */
    private static final List<String> PRODUCER_TUNING = List.of(ProducerConfig.LINGER_MS_CONFIG,
            ProducerConfig.BATCH_SIZE_CONFIG, ProducerConfig.COMPRESSION_TYPE_CONFIG);

    /**
     * Where the read API listens, and the host other instances reach it at (with the bound port, Streams'
     * {@code application.server}, which is how an instance finds the one holding a target's state).
     */
    public record ApiAddress(String bindHost, int port, String advertisedHost) {
    }

    public static final ConfigKey<String> APPLICATION_ID = ConfigKey.string("streams.application.id",
            "fleetpulse-stream-processor",
            "Kafka Streams application id: consumer group, transactional id prefix and internal topic prefix");
    public static final ConfigKey<Path> STATE_DIR = ConfigKey.path("streams.state.dir",
            Path.of(System.getProperty("java.io.tmpdir"), "fleetpulse-streams"),
            "where local state stores live; keep it across restarts to avoid restoring from the changelogs")
            .defaultShownAs("${java.io.tmpdir}/fleetpulse-streams");
    /**
     * One stream thread per core by default, not Kafka's 1: a thread runs its tasks one record at a time, so a single
     * one leaves every other core of the host idle while the partitions of the other tasks wait (bench processor on 2
     * cores, detectors on every metric: about 79,000 events/s with one thread, 111,000 with two). Threads beyond the
     * instance's tasks only wait for a rebalance to give them one.
     */
    public static final ConfigKey<Integer> NUM_THREADS = ConfigKey.integer("streams.num.threads",
            Math.min(64, Runtime.getRuntime().availableProcessors()), 1, 64,
            "stream threads in this instance; each runs its share of the tasks (input partitions) one record at a time")
            .defaultShownAs("the host's cores");
    public static final ConfigKey<Duration> COMMIT_INTERVAL = ConfigKey.duration("streams.commit.interval",
            Duration.ofSeconds(1),
            "how often transactions commit; under exactly-once, output becomes visible to readers only then");

    public static final ConfigKey<Integer> ROCKSDB_MEMORY = ConfigKey.integer("streams.rocksdb.memory.mib", 256, 8, 65536,
            "off-heap memory in MiB that all RocksDB state stores of the process share: one block cache, also charged "
                    + "for the memtables (half of it at most) and the index and filter blocks");

    public static final ConfigKey<Integer> CACHE_MEMORY = ConfigKey.integer("streams.cache.mib", 64, 0, 65536,
            "heap in MiB that the record caches of all stream threads share (statestore.cache.max.bytes): a target's "
                    + "window and clock entries are read and rewritten on every record, and the cache turns that into one "
                    + "store write and one changelog record per entry and commit; 0 turns caching off");

    public static final ConfigKey<String> API_HOST = ConfigKey.string("streams.api.host", "0.0.0.0",
            "address the read API (GET /v1/targets, /v1/groups, /v1/alerts, /v1/health/summary, /v1/workers) listens on");
    public static final ConfigKey<Integer> API_PORT = ConfigKey.integer("streams.api.port", 0, 0, 65535,
            "port of the read API; 0 picks a free one (logged, and shown on /status as apiUrl): set a fixed one in "
                    + "production");
    public static final ConfigKey<String> API_ADVERTISED_HOST = ConfigKey.string("streams.api.advertised.host", "localhost",
            "host name the other instances of the application reach this one's read API at (its application.server "
                    + "is this host and the API's port)");

    public static final List<ConfigKey<?>> KEYS = List.of(APPLICATION_ID, STATE_DIR, NUM_THREADS, COMMIT_INTERVAL,
            ROCKSDB_MEMORY, CACHE_MEMORY, API_HOST, API_PORT, API_ADVERTISED_HOST);

    public static StreamsProps from(Settings settings) {
        return new StreamsProps(settings.get(APPLICATION_ID), settings.get(STATE_DIR).toAbsolutePath(),
                settings.get(NUM_THREADS), settings.get(COMMIT_INTERVAL), settings.get(ROCKSDB_MEMORY),
                settings.get(CACHE_MEMORY),
                new ApiAddress(settings.get(API_HOST), settings.get(API_PORT), settings.get(API_ADVERTISED_HOST)));
    }

    /** Exactly-once Streams properties on top of the shared Kafka client settings. */
    public Properties properties(KafkaSettings kafka) {
        Properties props = new Properties();
        props.putAll(kafka.common(applicationId));
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, numThreads);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitInterval.toMillis());
        props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) kafka.replicationFactor());
        props.put(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, BoundedRocksDbMemory.class);
        props.put(BoundedRocksDbMemory.MEMORY_BYTES_CONFIG, String.valueOf(rocksDbMemoryMiB * 1024L * 1024L));
        // Streams' default of 10 MiB is too small for 10,000 targets' open windows: evicted entries are written and
        // changelogged on every record instead of once per commit.
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, cacheMiB * 1024L * 1024L);
        // Streams' producer sends 16 KiB uncompressed batches by default; the changelogs and outputs are most of what
        // the broker has to write, so it gets the batching every other FleetPulse producer has (passthrough wins).
        Map<String, Object> tuned = kafka.producer(applicationId);
        for (String key : PRODUCER_TUNING) {
            props.put(StreamsConfig.producerPrefix(key), tuned.get(key));
        }
        // There is no global state; this only opts in to Kafka 5.0's default now and silences its start-up warning.
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
        return props;
    }
}
