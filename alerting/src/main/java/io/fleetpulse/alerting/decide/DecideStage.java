package io.fleetpulse.alerting.decide;

import io.fleetpulse.alerting.route.RoutingTree;
import io.fleetpulse.alerting.silence.SilenceIndex;
import io.fleetpulse.alerting.silence.SilenceRule;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.BiConsumer;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link DecideTopology} under Kafka Streams with exactly-once, inside the alerting process: started before the
 * delivery consumers, closed after them. A stream thread that dies, or a client that leaves RUNNING for good, is
 * reported to {@code onFailure} once it has started, so the service fails and is restarted (the groups are safe in
 * the changelog).
 */
public final class DecideStage {

    private static final Logger LOG = LoggerFactory.getLogger(DecideStage.class);
    private static final Set<KafkaStreams.State> DEAD = Set.of(KafkaStreams.State.PENDING_ERROR,
            KafkaStreams.State.ERROR, KafkaStreams.State.PENDING_SHUTDOWN, KafkaStreams.State.NOT_RUNNING);

    private final KafkaStreams streams;
    private final String applicationId;
    private final BiConsumer<String, Throwable> onFailure;
    private volatile boolean supervising;
    private volatile Throwable threadDeath;

    /**
     * @param common    the shared Kafka client settings (bootstrap, security) for the Streams client
     * @param stateDir  where the group store lives locally (restored from its changelog when empty)
     * @param onFailure told once it runs and then dies
     */
    public DecideStage(RoutingTree routing, Duration tick, String deployment,
                       Map<String, DecideTopology.AuditedReceiver> receivers, String applicationId,
                       Map<String, Object> common,
                       short replicationFactor, Path stateDir, BiConsumer<String, Throwable> onFailure) {
        Properties props = new Properties();
        props.putAll(common);
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) replicationFactor);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
        this.applicationId = applicationId;
        this.onFailure = onFailure;
        this.streams = new KafkaStreams(DecideTopology.build(routing, tick, deployment, receivers), props);
        streams.setStateListener((now, before) -> {
            LOG.info("decide: Kafka Streams {} -> {}", before, now);
            if (supervising && DEAD.contains(now)) {
                onFailure.accept("decide: Kafka Streams went to " + now, threadDeath);
            }
        });
        streams.setUncaughtExceptionHandler(e -> {
            threadDeath = e;
            if (supervising) {
                onFailure.accept("decide: a stream thread died: " + e, e);
            }
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
    }

    public String applicationId() {
        return applicationId;
    }

    /** Starts Streams and returns once it is RUNNING; throws if it dies first or {@code deadline} passes. */
    public void start(Instant deadline) throws InterruptedException {
        streams.start();
        while (true) {
            KafkaStreams.State now = streams.state();
            if (DEAD.contains(now)) {
                throw new IllegalStateException("decide: Kafka Streams went to " + now + " while starting"
                        + (threadDeath == null ? "" : ": " + threadDeath), threadDeath);
            }
            if (now == KafkaStreams.State.RUNNING) {
                supervising = true;
                return;
            }
            if (!Instant.now().isBefore(deadline)) {
                throw new IllegalStateException("decide: Kafka Streams was still " + now + " at ops.start.timeout");
            }
            Thread.sleep(50);
        }
    }

    public boolean isRunning() {
        return streams.state() == KafkaStreams.State.RUNNING;
    }

    /** Every readable silence of fleet.silences as decide's global store holds it; empty while not queryable. */
    public Optional<List<SilenceRule>> silences() {
        if (!isRunning()) {
            return Optional.empty();
        }
        try {
            var store = streams.store(StoreQueryParameters.fromNameAndType(DecideTopology.SILENCE_STORE,
                    QueryableStoreTypes.<String, byte[]>keyValueStore()));
            SilenceIndex index = new SilenceIndex();
            try (KeyValueIterator<String, byte[]> all = store.all()) {
                index.refresh(all);
            }
            return Optional.of(index.all());
        } catch (InvalidStateStoreException e) {
            return Optional.empty();
        }
    }

    public String state() {
        return streams.state().name();
    }

    /** Commits the last transaction and leaves the group, so the groups move to another instance now. */
    public void close(Duration timeout) {
        supervising = false;
        if (!streams.close(CloseOptions.timeout(timeout)
                .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP))) {
            LOG.warn("decide: Kafka Streams did not close within {}", timeout);
        }
    }
}
