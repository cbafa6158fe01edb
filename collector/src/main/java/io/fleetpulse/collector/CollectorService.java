package io.fleetpulse.collector;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.events.Target;
import io.fleetpulse.runtime.KafkaSettings;
import io.fleetpulse.runtime.Service;
import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.config.ConfigKey;
import io.fleetpulse.schemas.Topic;
import io.fleetpulse.schemas.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Polls the targets of its inventory and publishes what it sees: the inventory itself to {@code fleet.targets},
 * one {@link CheckResult} per check to {@code fleet.checks} and one {@link MetricSample} per metrics poll to
 * {@code fleet.metrics}, all keyed by target id with the poll's start as event time.
 */
public final class CollectorService implements Service {

    private static final Logger LOG = LoggerFactory.getLogger(CollectorService.class);

    public static final ConfigKey<Path> INVENTORY = ConfigKey.path("collector.inventory", null,
            "the inventory YAML: the targets to poll, their URLs, groups, labels, intervals and timeouts").required();
    public static final ConfigKey<String> ID = ConfigKey.string("collector.id", localHostName(),
            "this collector's name, stamped on every record it produces (default: the host name)");
    public static final ConfigKey<Duration> POLL_INTERVAL = ConfigKey.duration("collector.poll.interval",
            Duration.ofSeconds(10), "how often a target is polled unless its inventory entry or defaults say otherwise");
    public static final ConfigKey<Duration> POLL_TIMEOUT = ConfigKey.duration("collector.poll.timeout",
            Duration.ofSeconds(2), "how long a poll may take before it counts as TIMEOUT, unless the inventory says otherwise");
    public static final ConfigKey<Integer> MAX_CONCURRENT_POLLS = ConfigKey.integer("collector.max.concurrent.polls", 256,
            1, 100_000, "requests in flight at once; further polls wait their turn");

    public static final List<ConfigKey<?>> KEYS;

    static {
        List<ConfigKey<?>> keys = new ArrayList<>(List.of(INVENTORY, ID, POLL_INTERVAL, POLL_TIMEOUT, MAX_CONCURRENT_POLLS));
        keys.addAll(KafkaSettings.KEYS);
        KEYS = List.copyOf(keys);
    }

    /** How long start may wait for the broker (metadata, inventory publication) before giving up. */
    private static final Duration KAFKA_START_TIMEOUT = Duration.ofSeconds(15);

    private enum State { CREATED, STARTING, RUNNING, CLOSING, CLOSED, FAILED }

    private final Config config;
    private final KafkaSettings kafka;
    private final String collectorId;
    private final Path inventoryFile;
    private final Inventory inventory;
    private final int maxConcurrentPolls;
    private final Clock clock;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    private final Map<PollScheduler.Kind, Map<CheckStatus, Counter>> polls = new EnumMap<>(PollScheduler.Kind.class);
    private final Map<PollScheduler.Kind, Timer> pollLatency = new EnumMap<>(PollScheduler.Kind.class);
    private final Map<String, Counter> produced = new HashMap<>();
    private final Map<String, Counter> produceErrors = new HashMap<>();
    private final Counter metricsPollFailures;
    /** Last http status per target, touched only on the event loop; a change is worth a log line. */
    private final Map<String, CheckStatus> lastHttpStatus = new HashMap<>();

    private final AtomicReference<State> state = new AtomicReference<>(State.CREATED);
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean metadataReady;
    /** True while the newest produce outcome was an error: the broker is not taking our records. */
    private volatile boolean producing = true;
    private final AtomicReference<String> lastProduceError = new AtomicReference<>();
    private volatile InventorySync.Result inventorySync;

    private RecordPublisher publisher;
    private Vertx vertx;
    private WebClient client;
    private PollScheduler scheduler;

    /** Reads and checks every setting and the whole inventory; a bad one throws {@link ConfigException} naming it. */
    public CollectorService(Config config) {
        this(config, Clock.systemUTC());
    }

    CollectorService(Config config, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.kafka = new KafkaSettings(config);
        this.collectorId = config.get(ID);
        this.inventoryFile = config.get(INVENTORY);
        this.maxConcurrentPolls = config.get(MAX_CONCURRENT_POLLS);
        Duration interval = config.get(POLL_INTERVAL);
        Duration timeout = config.get(POLL_TIMEOUT);
        if (timeout.compareTo(interval) > 0) {
            throw new ConfigException(POLL_TIMEOUT.name(), "'" + POLL_TIMEOUT.name() + "' (" + timeout
                    + ") must not be longer than '" + POLL_INTERVAL.name() + "' (" + interval + ")");
        }
        if (collectorId.isBlank()) {
            throw new ConfigException(ID.name(), "'" + ID.name() + "' must not be blank");
        }
        this.inventory = Inventory.load(inventoryFile, interval, timeout, clock.instant());

        for (PollScheduler.Kind kind : PollScheduler.Kind.values()) {
            String kindTag = kind.name().toLowerCase(Locale.ROOT);
            Map<CheckStatus, Counter> byStatus = new EnumMap<>(CheckStatus.class);
            for (CheckStatus status : CheckStatus.values()) {
                byStatus.put(status, Counter.builder("fleetpulse.collector.polls")
                        .description("polls finished, by endpoint kind and outcome")
                        .tag("kind", kindTag).tag("outcome", status.name()).register(registry));
            }
            polls.put(kind, byStatus);
            pollLatency.put(kind, Timer.builder("fleetpulse.collector.poll.latency")
                    .description("time from sending a poll to its outcome, failures included")
                    .tag("kind", kindTag).publishPercentileHistogram().register(registry));
        }
        for (Topic<?, ?> topic : List.of(Topics.TARGETS, Topics.CHECKS, Topics.METRICS)) {
            produced.put(topic.name(), Counter.builder("fleetpulse.collector.records.produced")
                    .description("records the broker acknowledged").tag("topic", topic.name()).register(registry));
            produceErrors.put(topic.name(), Counter.builder("fleetpulse.collector.produce.errors")
                    .description("records that could not be produced").tag("topic", topic.name()).register(registry));
        }
        metricsPollFailures = Counter.builder("fleetpulse.collector.metrics.poll.failures")
                .description("metrics polls that produced no sample").register(registry);
        Gauge.builder("fleetpulse.collector.targets", inventory.targets(), List::size).register(registry);
        Gauge.builder("fleetpulse.collector.polls.in.flight", this, s -> s.scheduler == null ? 0 : s.scheduler.inFlight())
                .register(registry);
        Gauge.builder("fleetpulse.collector.polls.queued", this, s -> s.scheduler == null ? 0 : s.scheduler.queued())
                .register(registry);
        FunctionCounter.builder("fleetpulse.collector.polls.skipped", this, s -> s.scheduler == null ? 0 : s.scheduler.skipped())
                .description("ticks skipped because the target's previous poll had not finished").register(registry);
    }

    @Override
    public String name() {
        return "collector";
    }

    /** Connects to Kafka, publishes the inventory, then starts polling; returns once polling has started. */
    @Override
    public void start() throws Exception {
        if (!state.compareAndSet(State.CREATED, State.STARTING)) {
            throw new IllegalStateException("the collector can be started once, and is " + state.get());
        }
        LOG.info("collector '{}' starting with {} targets from {}; settings {}", collectorId, inventory.targets().size(),
                inventoryFile, config.describe(KEYS));
        try {
            Map<String, Object> producerProps = kafka.producer("fleetpulse-collector-" + collectorId);
            producerProps.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) KAFKA_START_TIMEOUT.toMillis());
            publisher = new RecordPublisher(producerProps, this::recordProduced);
            requireTopic(Topics.CHECKS);
            requireTopic(Topics.METRICS);
            metadataReady = true;
            inventorySync = InventorySync.sync(publisher, kafka.common("fleetpulse-collector-inventory-" + collectorId),
                    collectorId, inventory.targets(), clock.instant(), KAFKA_START_TIMEOUT);
            if (!inventorySync.decommissioned().isEmpty()) {
                LOG.info("decommissioned targets no longer in the inventory: {}", inventorySync.decommissioned());
            }

            // One event loop is plenty: polls are I/O-bound and all scheduling state lives on one context.
            vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
            client = WebClient.create(vertx, new WebClientOptions()
                            .setUserAgent("fleetpulse-collector")
                            .setFollowRedirects(false)
                            .setKeepAlive(true),
                    // Pools are per host:port; a whole fleet may sit behind one (a simulator, a proxy).
                    new PoolOptions().setHttp1MaxSize(maxConcurrentPolls));
            scheduler = new PollScheduler(vertx, client, clock, maxConcurrentPolls, this::polled);
            await(scheduler.start(inventory.targets()), Duration.ofSeconds(10));
            state.set(State.RUNNING);
            LOG.info("collector '{}' polling {} targets", collectorId, inventory.targets().size());
        } catch (Exception e) {
            state.set(State.FAILED);
            close();
            throw e;
        }
    }

    private void requireTopic(Topic<?, ?> topic) {
        try {
            publisher.partitionsFor(topic);
        } catch (RuntimeException e) {
            throw new IllegalStateException("no metadata for topic " + topic.name() + " from " + kafka.bootstrapServers()
                    + " within " + KAFKA_START_TIMEOUT + " (is the broker up and were the topics created?): " + e.getMessage(), e);
        }
    }

    /** One finished poll, on the event loop: map it, count it, hand its records to the producer. */
    private void polled(Target target, PollScheduler.Kind kind, Instant observedAt, HttpOutcome outcome, long elapsedNanos) {
        pollLatency.get(kind).record(elapsedNanos, TimeUnit.NANOSECONDS);
        String id = target.getTargetId();
        if (kind == PollScheduler.Kind.HEALTH) {
            List<CheckResult> results = HealthChecks.toCheckResults(id, collectorId, observedAt, outcome);
            CheckResult http = results.get(0);
            polls.get(kind).get(http.getStatus()).increment();
            CheckStatus previous = lastHttpStatus.put(id, http.getStatus());
            if (previous != null && previous != http.getStatus()) {
                LOG.info("target {} went {} -> {}: {}", id, previous, http.getStatus(), http.getMessage());
            }
            results.forEach(r -> publisher.publish(Topics.CHECKS, id, r, observedAt));
            return;
        }
        CheckStatus status;
        if (outcome instanceof HttpOutcome.Response response && HealthChecks.httpStatus(response.statusCode()) == CheckStatus.OK) {
            try {
                publisher.publish(Topics.METRICS, id, MetricsParser.parse(id, collectorId, observedAt, response.body()), observedAt);
                status = CheckStatus.OK;
            } catch (MetricsParser.MalformedMetricsException e) {
                LOG.debug("metrics of {} rejected: {}", id, e.getMessage());
                status = CheckStatus.ERROR;
            }
        } else {
            status = outcome instanceof HttpOutcome.Failure failure ? failure.status()
                    : HealthChecks.httpStatus(((HttpOutcome.Response) outcome).statusCode());
        }
        polls.get(kind).get(status).increment();
        if (status != CheckStatus.OK) {
            metricsPollFailures.increment();
        }
    }

    /** Every produce outcome, on the producer's threads. */
    private void recordProduced(Topic<?, ?> topic, Exception error) {
        if (error == null) {
            produced.get(topic.name()).increment();
            producing = true;
            return;
        }
        produceErrors.get(topic.name()).increment();
        producing = false;
        String previous = lastProduceError.getAndSet(topic.name() + ": " + error.getMessage());
        if (previous == null || !previous.endsWith(String.valueOf(error.getMessage()))) {
            LOG.warn("cannot produce to {}: {}", topic.name(), error.toString());
        }
    }

    @Override
    public boolean isLive() {
        State s = state.get();
        return s != State.FAILED && s != State.CLOSED;
    }

    /** Ready once the producer has metadata for the topics and polling has started, while the broker takes our records. */
    @Override
    public boolean isReady() {
        return state.get() == State.RUNNING && metadataReady && scheduler != null && scheduler.started() && producing;
    }

    @Override
    public Map<String, Object> status() {
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("state", state.get().name());
        status.put("collectorId", collectorId);
        status.put("inventory", inventoryFile.toString());
        status.put("targets", inventory.targets().size());
        Map<String, Object> pollCounts = new LinkedHashMap<>();
        polls.forEach((kind, byStatus) -> {
            Map<String, Long> counts = new LinkedHashMap<>();
            byStatus.forEach((s, c) -> {
                if (c.count() > 0) {
                    counts.put(s.name(), (long) c.count());
                }
            });
            pollCounts.put(kind.name().toLowerCase(Locale.ROOT), counts);
        });
        status.put("polls", pollCounts);
        status.put("pollsInFlight", scheduler == null ? 0 : scheduler.inFlight());
        status.put("pollsQueued", scheduler == null ? 0 : scheduler.queued());
        status.put("pollsSkipped", scheduler == null ? 0 : scheduler.skipped());
        status.put("metricsPollFailures", (long) metricsPollFailures.count());
        status.put("targetsPublished", (long) produced.get(Topics.TARGETS.name()).count());
        status.put("targetsDecommissioned", inventorySync == null ? List.of() : inventorySync.decommissioned());
        status.put("checksProduced", (long) produced.get(Topics.CHECKS.name()).count());
        status.put("metricsProduced", (long) produced.get(Topics.METRICS.name()).count());
        long errors = produceErrors.values().stream().mapToLong(c -> (long) c.count()).sum();
        status.put("produceErrors", errors);
        status.put("lastProduceError", lastProduceError.get());
        status.put("config", config.describe(KEYS));
        return status;
    }

    @Override
    public MeterRegistry meterRegistry() {
        return registry;
    }

    /**
     * Stops scheduling, waits (bounded) for polls in flight and publishes their results, then flushes and closes the
     * producer and Vert.x, in reverse order of opening. Safe to call more than once.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (state.get() != State.FAILED) {
            state.set(State.CLOSING);
        }
        if (scheduler != null) {
            long longestTimeout = inventory.targets().stream().mapToLong(Target::getTimeoutMs).max().orElse(0);
            try {
                await(scheduler.stop(), Duration.ofMillis(longestTimeout + 2_000));
            } catch (RuntimeException e) {
                LOG.warn("polls still in flight at close: {}", e.getMessage());
            }
        }
        if (client != null) {
            client.close();
        }
        if (vertx != null) {
            try {
                await(vertx.close(), Duration.ofSeconds(10));
            } catch (RuntimeException e) {
                LOG.warn("Vert.x did not close cleanly: {}", e.getMessage());
            }
        }
        if (publisher != null) {
            try {
                publisher.close(Duration.ofSeconds(10));
            } catch (RuntimeException e) {
                LOG.warn("producer did not close cleanly: {}", e.getMessage());
            }
        }
        if (state.get() != State.FAILED) {
            state.set(State.CLOSED);
        }
        LOG.info("collector '{}' closed", collectorId);
    }

    private static <T> T await(Future<T> future, Duration timeout) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("not done within " + timeout, e);
        }
    }

    private static String localHostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "collector";
        }
    }
}
