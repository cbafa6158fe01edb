package io.fleetpulse.stream;

import io.fleetpulse.runtime.KafkaSettings;
import io.fleetpulse.runtime.Service;
import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.runtime.config.ConfigKey;
import io.fleetpulse.schemas.DeadLetters;
import io.fleetpulse.schemas.Topics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TopologyConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stream processor as a deployable service: the {@link HealthTopology} under Kafka Streams with exactly-once.
 * Ready means Streams is RUNNING (partitions assigned, state restored).
 */
public final class StreamProcessorService implements Service {

    private static final Logger LOG = LoggerFactory.getLogger(StreamProcessorService.class);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    public static final List<ConfigKey<?>> KEYS;

    static {
        List<ConfigKey<?>> keys = new ArrayList<>(StreamsProps.KEYS);
        keys.addAll(TopologySettings.KEYS);
        keys.addAll(KafkaSettings.KEYS);
        KEYS = List.copyOf(keys);
    }

    private final Properties props;
    private final TopologySettings settings;
    private final Map<String, String> shownConfig;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AtomicReference<KafkaStreams.State> state = new AtomicReference<>(KafkaStreams.State.CREATED);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    private KafkaStreams streams;
    private KafkaStreamsMetrics streamsMetrics;
    private volatile boolean started;
    private volatile boolean closed;

    /** Reads and validates every setting, the rules file included; opens nothing. */
    public StreamProcessorService(Config config) {
        this.props = StreamsProps.from(config);
        this.settings = TopologySettings.from(config);
        this.shownConfig = config.describe(KEYS);
        registerCounters();
    }

    @Override
    public String name() {
        return "stream-processor";
    }

    /** Starts Streams and returns once it is RUNNING; throws if it fails or is closed on the way. */
    @Override
    public void start() throws InterruptedException {
        openStreams();
        // Waiting holds no lock, so a shutdown hook can close() a service that is still restoring state.
        while (state.get() != KafkaStreams.State.RUNNING) {
            KafkaStreams.State now = state.get();
            if (closed || now == KafkaStreams.State.ERROR || now == KafkaStreams.State.PENDING_ERROR
                    || now == KafkaStreams.State.NOT_RUNNING || now == KafkaStreams.State.PENDING_SHUTDOWN) {
                throw new IllegalStateException("Kafka Streams stopped while starting (" + now + ")", failure.get());
            }
            Thread.sleep(50); // an interrupt (the runner's start timeout) propagates; the runner then calls close()
        }
        LOG.info("stream-processor running: application id {}, {} rules", props.get("application.id"),
                settings.rules().rules().size());
    }

    private synchronized void openStreams() {
        if (started || closed) {
            throw new IllegalStateException("the stream processor can be started once, and not after close()");
        }
        started = true;
        LOG.info("starting stream-processor with {} and rules {}", shownConfig, settings.rules());
        Topology topology = HealthTopology.build(new StreamsBuilder(new TopologyConfig(new StreamsConfig(props))), settings);
        streams = new KafkaStreams(topology, props);
        streams.setStateListener((newState, oldState) -> {
            state.set(newState);
            LOG.info("Kafka Streams {} -> {}", oldState, newState);
        });
        streams.setUncaughtExceptionHandler(e -> {
            failure.set(e);
            LOG.error("stream-processor: a stream thread died and the Streams client is shutting down; the service "
                    + "reports not live and needs a restart (state is safe in the changelogs). Cause: {}", e.toString(), e);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streamsMetrics = new KafkaStreamsMetrics(streams);
        streamsMetrics.bindTo(registry);
        streams.start();
    }

    @Override
    public boolean isLive() {
        KafkaStreams.State now = state.get();
        return !closed && now != KafkaStreams.State.ERROR && now != KafkaStreams.State.PENDING_ERROR
                && !(started && now == KafkaStreams.State.NOT_RUNNING);
    }

    @Override
    public boolean isReady() {
        return !closed && state.get() == KafkaStreams.State.RUNNING;
    }

    @Override
    public Map<String, Object> status() {
        PipelineCounters c = settings.counters();
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("state", state.get().name());
        status.put("recordsIn", c.recordsInByTopic());
        Map<String, Long> out = new LinkedHashMap<>();
        out.put(Topics.AGGREGATES_1M.name(), c.windowsOut());
        out.put(Topics.ALERTS.name(), c.alertsFired() + c.alertsResolved());
        long dead = c.deadLettersByReason().values().stream().mapToLong(Long::longValue).sum();
        out.put(Topics.DLQ.name(), dead);
        status.put("recordsOut", out);
        status.put("deadLettersByReason", c.deadLettersByReason());
        status.put("alertsFired", c.alertsFired());
        status.put("alertsResolved", c.alertsResolved());
        status.put("rules", settings.rules().rules().stream().map(ThresholdRule::id).toList());
        Throwable f = failure.get();
        if (f != null) {
            status.put("failure", f.toString());
        }
        status.put("config", shownConfig);
        return status;
    }

    @Override
    public MeterRegistry meterRegistry() {
        return registry;
    }

    /** The counters the topology keeps; what /status and /metrics show. */
    public PipelineCounters counters() {
        return settings.counters();
    }

    /** Unbinds the metrics, closes Streams (it commits its last transaction); safe to call twice. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (streamsMetrics != null) {
            streamsMetrics.close();
        }
        if (streams != null) {
            // Leaving the group hands our partitions to the other instances now, not after the session timeout.
            boolean clean = streams.close(CloseOptions.timeout(CLOSE_TIMEOUT)
                    .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
            if (!clean) {
                LOG.warn("Kafka Streams did not close within {}", CLOSE_TIMEOUT);
            }
        }
        registry.close();
        LOG.info("stream-processor closed");
    }

    private void registerCounters() {
        PipelineCounters c = settings.counters();
        for (String topic : List.of(Topics.CHECKS.name(), Topics.METRICS.name())) {
            FunctionCounter.builder("fleetpulse.stream.records.in", c, x -> x.recordsIn(topic))
                    .tag("topic", topic).description("records read from an input topic").register(registry);
        }
        for (String reason : List.of(DeadLetters.UNDECODABLE, DeadLetters.INVALID, DeadLetters.LATE)) {
            FunctionCounter.builder("fleetpulse.stream.dead.letters", c, x -> x.deadLetters(reason))
                    .tag("reason", reason).description("records sent to fleet.dlq").register(registry);
        }
        FunctionCounter.builder("fleetpulse.stream.windows.out", c, PipelineCounters::windowsOut)
                .description("final 1-minute windows published").register(registry);
        FunctionCounter.builder("fleetpulse.stream.alerts", c, PipelineCounters::alertsFired)
                .tag("state", "firing").description("alert transitions published").register(registry);
        FunctionCounter.builder("fleetpulse.stream.alerts", c, PipelineCounters::alertsResolved)
                .tag("state", "resolved").description("alert transitions published").register(registry);
    }
}
