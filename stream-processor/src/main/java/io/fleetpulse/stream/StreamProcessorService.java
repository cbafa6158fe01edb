package io.fleetpulse.stream;

import io.fleetpulse.events.HealthStatus;
import io.fleetpulse.runtime.DaemonThreads;
import io.fleetpulse.runtime.ManagedService;
import io.fleetpulse.runtime.config.ConfigKey;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.DeadLetters;
import io.fleetpulse.schemas.Topic;
import io.fleetpulse.schemas.Topics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyConfig;
import org.apache.kafka.streams.TopologyDescription;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.state.HostInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stream processor as a deployable service: the {@link HealthTopology} under Kafka Streams with exactly-once.
 * Ready means Streams is RUNNING (partitions assigned, state restored) with at least one live stream thread.
 *
 * <p>Supervision: a stream thread that dies shuts the Streams client down (state is safe in the changelogs), and so
 * does a client that reaches ERROR or stops on its own; either way the service fails, so the process exits non-zero
 * and its orchestrator restarts it, rather than staying up with nothing processing.
 */
public final class StreamProcessorService extends ManagedService {

    private static final Logger LOG = LoggerFactory.getLogger(StreamProcessorService.class);
    /**
     * How often the Kafka client meters are re-read: tasks (and their meters) come and go with rebalances, and
     * Micrometer's default of a minute would leave a new task's series missing for that long.
     */
    private static final Duration KAFKA_METERS_REFRESH = Duration.ofSeconds(10);

    public static final List<ConfigKey<?>> KEYS = ManagedService.keysWith(
            Stream.concat(StreamsProps.KEYS.stream(), TopologySettings.KEYS.stream()).toList());

    /** States a Streams client never comes back from. */
    private static final Set<KafkaStreams.State> DEAD = Set.of(KafkaStreams.State.PENDING_ERROR, KafkaStreams.State.ERROR,
            KafkaStreams.State.PENDING_SHUTDOWN, KafkaStreams.State.NOT_RUNNING);

    private final StreamsProps streamsProps;
    /** As configured; at start it gains the source topics' partition counts, looked up from the broker. */
    private volatile TopologySettings topology;
    private final Map<String, Object> extraStreamsProperties;
    private final AtomicReference<Throwable> threadDeath = new AtomicReference<>();
    private volatile KafkaStreams streams;
    private volatile ReadApi api;
    private volatile String apiUrl;
    private volatile ScheduledExecutorService kafkaMetersRefresh;
    /** Set once start-up has seen RUNNING: from then on a dead client is a failure of the service, not of its start. */
    private volatile boolean supervising;

    /** Reads and checks every setting, the rules file included; opens nothing. */
    public StreamProcessorService(Settings settings) {
        this(settings, Map.of());
    }

    /**
     * As above, with Streams properties added on top of the service's own: a replay bounds its input this way
     * (a timestamp extractor that skips what lies past {@code --to}), so the topology itself stays the live one.
     */
    public StreamProcessorService(Settings settings, Map<String, Object> extraStreamsProperties) {
        super("stream-processor", settings, Clock.systemUTC());
        this.streamsProps = StreamsProps.from(settings);
        this.topology = TopologySettings.from(settings);
        this.extraStreamsProperties = Map.copyOf(extraStreamsProperties);
        registerCounters();
    }

    /** Opens Streams and returns once it is RUNNING; throws if it dies on the way or the deadline passes first. */
    @Override
    protected void startUp(Instant deadline) throws InterruptedException {
        // Bound first: the port it gets is this instance's application.server, which the other instances forward to.
        StreamsProps.ApiAddress address = streamsProps.api();
        ReadApi readApi;
        try {
            readApi = ReadApi.start(address.bindHost(), address.port());
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot listen on " + address.bindHost() + ":" + address.port() + " ("
                    + StreamsProps.API_PORT.name() + "): " + e.getMessage(), e);
        }
        api = readApi;
        HostInfo advertised = new HostInfo(address.advertisedHost(), readApi.port());
        apiUrl = "http://" + advertised.host() + ":" + advertised.port() + "/v1/";
        Properties props = streamsProps.properties(kafka());
        props.put(StreamsConfig.APPLICATION_SERVER_CONFIG, advertised.host() + ":" + advertised.port());
        props.putAll(extraStreamsProperties);
        topology = topology.withSourcePartitions(sourcePartitions(deadline));
        Topology built = HealthTopology.build(new StreamsBuilder(new TopologyConfig(new StreamsConfig(props))), topology);
        KafkaStreams client = new KafkaStreams(built, props);
        client.setStateListener(this::onStateChange);
        client.setUncaughtExceptionHandler(this::onStreamThreadDeath);
        kafkaMetersRefresh = Executors.newSingleThreadScheduledExecutor(
                DaemonThreads.named("fleetpulse-stream-processor-meters"));
        meters().bind(new KafkaStreamsMetrics(client, List.of(), kafkaMetersRefresh, KAFKA_METERS_REFRESH));
        streams = client;
        readApi.serve(client, advertised);
        LOG.info("stream-processor: application id {}, rules {}", streamsProps.applicationId(), topology.rules());
        client.start();
        awaitRunning(client, deadline);
    }

    /**
     * The partition count of each source topic, which the intake checks every record's partition against
     * ({@code wrong-partition}); the kernel has created missing topics by now, so a topic still missing fails the start.
     */
    private SourcePartitions sourcePartitions(Instant deadline) throws InterruptedException {
        Duration timeout = Duration.ofMillis(Math.max(1_000, Duration.between(Instant.now(), deadline).toMillis()));
        try (Admin admin = Admin.create(kafka().admin("fleetpulse-stream-processor-partitions", (int) Math.min(
                timeout.toMillis(), Integer.MAX_VALUE)))) {
            SourcePartitions found = SourcePartitions.lookUp(admin, timeout);
            LOG.info("stream-processor: source topic partitions {}", found.counts());
            return found;
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot learn the partition counts of the source topics "
                    + SourcePartitions.SOURCES.stream().map(Topic::name).toList() + ": " + e, e);
        }
    }

    private void awaitRunning(KafkaStreams client, Instant deadline) throws InterruptedException {
        while (true) {
            KafkaStreams.State now = client.state();
            if (DEAD.contains(now)) {
                Throwable cause = threadDeath.get();
                throw new IllegalStateException("Kafka Streams went to " + now + " while starting"
                        + (cause == null ? "" : ": " + cause), cause);
            }
            if (now == KafkaStreams.State.RUNNING) {
                supervising = true;
                if (!DEAD.contains(client.state())) {
                    return;
                }
                continue; // it died between the two reads: report it as a failed start
            }
            if (!clock().instant().isBefore(deadline)) {
                throw new IllegalStateException("Kafka Streams was still " + now + " at ops.start.timeout ("
                        + ops().startTimeout() + "): partitions not assigned or state not restored in time");
            }
            Thread.sleep(50);
        }
    }

    private void onStateChange(KafkaStreams.State newState, KafkaStreams.State oldState) {
        LOG.info("Kafka Streams {} -> {}", oldState, newState);
        if (supervising && DEAD.contains(newState)) {
            // Ignored by the kernel while stopping: then this is our own close().
            Throwable cause = threadDeath.get();
            fail("Kafka Streams went to " + newState + (cause == null ? "" : " after a stream thread died: " + cause), cause);
        }
    }

    /** Every stream thread death shuts the client down: the service fails and is restarted as a whole. */
    private StreamThreadExceptionResponse onStreamThreadDeath(Throwable e) {
        threadDeath.compareAndSet(null, e);
        if (supervising) {
            fail("a stream thread died: " + e, e);
        }
        return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    }

    @Override
    protected boolean ready() {
        KafkaStreams client = streams;
        return client != null && client.state() == KafkaStreams.State.RUNNING && !client.metadataForLocalThreads().isEmpty();
    }

    /** Closes Streams, which commits its last transaction; leaving the group hands its partitions over now. */
    @Override
    protected void shutDown() {
        KafkaStreams client = streams;
        if (client != null) {
            boolean clean = client.close(CloseOptions.timeout(ops().stopTimeout())
                    .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
            if (!clean) {
                LOG.warn("Kafka Streams did not close within {} (ops.stop.timeout)", ops().stopTimeout());
            }
        }
        if (kafkaMetersRefresh != null) {
            kafkaMetersRefresh.shutdownNow();
        }
        if (api != null) {
            api.close();
        }
    }

    /** Where this instance's read API answers ({@code http://host:port/v1/}); null before start. */
    public String apiUrl() {
        return apiUrl;
    }

    @Override
    protected Map<String, Object> details() {
        PipelineCounters c = topology.counters();
        KafkaStreams client = streams;
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("streams", client == null ? "not opened" : client.state().name());
        status.put("applicationId", streamsProps.applicationId());
        status.put("apiUrl", apiUrl);
        // Looked up when Streams is opened; until then the settings hold a placeholder, not the broker's counts.
        status.put("sourcePartitions", client == null ? "not looked up yet"
                : new TreeMap<>(topology.sourcePartitions().counts()));
        status.put("rules", topology.rules().rules().stream().map(ThresholdRule::id).toList());
        status.put("recordsIn", c.recordsInByTopic());
        Map<String, Long> out = new LinkedHashMap<>();
        out.put(topology.outputTopic(Topics.AGGREGATES_1M), c.windowsOut());
        out.put(topology.outputTopic(Topics.HEALTH), Arrays.stream(HealthStatus.values()).mapToLong(c::healthScores).sum());
        out.put(topology.outputTopic(Topics.ALERTS), c.alertsFired() + c.alertsResolved());
        out.put(topology.outputTopic(Topics.DLQ), c.deadLettersByReason().values().stream().mapToLong(Long::longValue).sum());
        status.put("recordsOut", out);
        status.put("deadLettersByReason", c.deadLettersByReason());
        status.put("alertsFired", c.alertsFired());
        status.put("alertsResolved", c.alertsResolved());
        return status;
    }

    /**
     * The topics the topology writes, as its description names them (prefixed for a replay), so what a replay must
     * create follows the topology, whatever sinks it gains.
     */
    public Set<String> outputTopics() {
        Set<String> topics = new TreeSet<>();
        for (TopologyDescription.Subtopology sub : HealthTopology.build(new StreamsBuilder(), topology).describe().subtopologies()) {
            for (TopologyDescription.Node node : sub.nodes()) {
                if (node instanceof TopologyDescription.Sink sink && sink.topic() != null) {
                    topics.add(sink.topic());
                }
            }
        }
        return topics;
    }

    /** The counters the topology keeps; what /status and /metrics show. */
    public PipelineCounters counters() {
        return topology.counters();
    }

    private void registerCounters() {
        PipelineCounters c = topology.counters();
        for (String topic : List.of(Topics.CHECKS.name(), Topics.METRICS.name(), Topics.TARGETS.name())) {
            counter("records.in", "records read from an input topic", c, x -> x.recordsIn(topic)).tag("topic", topic)
                    .register(meters().registry());
        }
        for (String reason : List.of(DeadLetters.UNDECODABLE, DeadLetters.INVALID, DeadLetters.LATE,
                SourcePartitions.WRONG_PARTITION)) {
            counter("dead.letters", "records sent to " + Topics.DLQ.name() + ", by reason", c, x -> x.deadLetters(reason))
                    .tag("reason", reason).register(meters().registry());
        }
        counter("windows.out", "final 1-minute windows published to " + Topics.AGGREGATES_1M.name(), c,
                PipelineCounters::windowsOut).register(meters().registry());
        for (HealthStatus status : HealthStatus.values()) {
            counter("health.scores", "health scores published to " + Topics.HEALTH.name() + ", by status", c,
                    x -> x.healthScores(status)).tag("status", status.name()).register(meters().registry());
        }
        for (String state : List.of("firing", "resolved")) {
            counter("alerts", "alert transitions published to " + Topics.ALERTS.name() + ", by state", c,
                    state.equals("firing") ? PipelineCounters::alertsFired : PipelineCounters::alertsResolved)
                    .tag("state", state).register(meters().registry());
        }
    }

    private FunctionCounter.Builder<PipelineCounters> counter(String name, String description, PipelineCounters c,
                                                             ToDoubleFunction<PipelineCounters> f) {
        return FunctionCounter.builder(meters().name(name), c, f).description(description);
    }
}
