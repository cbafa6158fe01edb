package io.fleetpulse.collector;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.events.Target;
import io.fleetpulse.runtime.ManagedService;
import io.fleetpulse.runtime.StartupWait;
import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.config.ConfigKey;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.runtime.text.Durations;
import io.fleetpulse.schemas.Topic;
import io.fleetpulse.schemas.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Polls the targets of its inventory and publishes what it sees: the inventory itself to {@code fleet.targets},
 * one {@link CheckResult} per check to {@code fleet.checks} and one {@link MetricSample} per metrics poll to
 * {@code fleet.metrics}, all keyed by target id with the poll's start as event time.
 *
 * <p>Its core loop is the Vert.x event loop that runs the {@link PollScheduler}: an exception escaping it (a poll's
 * tick or its outcome) fails the service, and so does the producer's hand-off thread dying, so the process exits
 * non-zero and is restarted instead of polling nothing while looking alive.
 */
public final class CollectorService extends ManagedService {

    private static final Logger LOG = LoggerFactory.getLogger(CollectorService.class);

    public static final List<ConfigKey<?>> KEYS = ManagedService.keysWith(CollectorSettings.KEYS);

    /** Bounds on closing: the drain of polls in flight is bounded by the longest target timeout plus this. */
    private static final Duration DRAIN_MARGIN = Duration.ofSeconds(2);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

    private final CollectorSettings collector;
    private final Inventory inventory;
    /** The group sharing the live inventory, its session timeout sized from the intervals; null: no group. */
    private final TargetsFeed.Group inventoryGroup;
    /** Targets already warned of polling faster than the group's session timeout; touched only on the feed's thread. */
    private final Set<String> warnedFasterThanSession = new HashSet<>();
    private final HealthChecks healthChecks;
    /** Previous counters of Prometheus-text targets; touched only on the event loop. */
    private final NodeExporterMetrics nodeExporter = new NodeExporterMetrics();

    private final Map<PollScheduler.Kind, Map<CheckStatus, Counter>> polls = new EnumMap<>(PollScheduler.Kind.class);
    private final Map<PollScheduler.Kind, Timer> pollLatency = new EnumMap<>(PollScheduler.Kind.class);
    private final Map<String, Counter> produced = new HashMap<>();
    private final Map<String, Counter> produceErrors = new HashMap<>();
    private final Counter metricsPollFailures;
    private final Timer schedulingLag;
    private final PollStats checkStats = new PollStats();

    private volatile boolean metadataReady;
    /** True while the newest produce outcome was a success: the broker is taking our records. */
    private volatile boolean producing = true;
    private final AtomicReference<String> lastProduceError = new AtomicReference<>();
    private volatile InventorySync.Result inventorySync;

    private volatile RecordPublisher publisher;
    private volatile Vertx vertx;
    private volatile HttpClient client;
    private volatile PollScheduler scheduler;
    private volatile TargetsFeed targetsFeed;
    private final PushTokens pushTokens;
    private volatile PushApi pushApi;
    private volatile int pushPort = -1;

    /** Reads and checks every setting and the whole inventory; a bad one throws {@link ConfigException} naming it. */
    public CollectorService(Settings settings) {
        this(settings, Clock.systemUTC());
    }

    CollectorService(Settings settings, Clock clock) {
        super("collector", settings, clock);
        this.collector = CollectorSettings.from(settings);
        this.inventory = Inventory.load(collector.inventory(), collector.inventoryFallbacks(), clock.instant());
        this.inventoryGroup = collector.inventoryGroup() == null ? null
                : collector.inventoryGroup().sizedFor(shortestKnownInterval(collector, inventory));
        this.healthChecks = new HealthChecks(collector.bodyLimits(), collector.certificateLines());
        this.pushTokens = collector.pushTokens() == null ? null : PushTokens.load(collector.pushTokens());

        MeterRegistry registry = meterRegistry();
        for (PollScheduler.Kind kind : PollScheduler.Kind.values()) {
            String kindTag = kind.name().toLowerCase(Locale.ROOT);
            Map<CheckStatus, Counter> byStatus = new EnumMap<>(CheckStatus.class);
            for (CheckStatus status : CheckStatus.values()) {
                byStatus.put(status, Counter.builder(meters().name("polls"))
                        .description("polls finished, by endpoint kind and outcome")
                        .tag("kind", kindTag).tag("outcome", status.name()).register(registry));
            }
            polls.put(kind, byStatus);
            pollLatency.put(kind, Timer.builder(meters().name("poll.latency"))
                    .description("time from sending a poll to its outcome, failures included")
                    .tag("kind", kindTag).register(registry));
        }
        for (Topic<?, ?> topic : List.of(Topics.TARGETS, Topics.CHECKS, Topics.METRICS)) {
            produced.put(topic.name(), Counter.builder(meters().name("records.produced"))
                    .description("records the broker acknowledged, by topic").tag("topic", topic.name()).register(registry));
            produceErrors.put(topic.name(), Counter.builder(meters().name("produce.errors"))
                    .description("records that could not be produced, by topic").tag("topic", topic.name())
                    .register(registry));
        }
        schedulingLag = Timer.builder(meters().name("poll.scheduling.lag"))
                .description("how late polls start: actual minus planned start (waiting for a free slot, a busy loop)")
                .register(registry);
        metricsPollFailures = Counter.builder(meters().name("metrics.poll.failures"))
                .description("metrics polls that produced no sample").register(registry);
        Gauge.builder(meters().name("targets"), this, s -> s.scheduler == null ? inventory.targets().size() : s.scheduler.targets())
                .description("targets polled now: the inventory's, or those on fleet.targets with collector.inventory.live").register(registry);
        // Totals only (label values bounded by the statuses): per-target figures are in /status, never labels.
        for (CheckStatus status : CheckStatus.values()) {
            Gauge.builder(meters().name("targets.by.status"), checkStats, c -> c.targetsByStatus().getOrDefault(status, 0))
                    .description("targets by the status of their last health poll's http check").tag("status", status.name())
                    .register(registry);
        }
        Gauge.builder(meters().name("checks.success.ratio"), checkStats, PollStats::successRate)
                .description("the share of health polls since start whose http check was OK").register(registry);
        Gauge.builder(meters().name("checks.last.run.timestamp.seconds"), checkStats, PollStats::lastRunEpochSeconds)
                .description("when the last health poll started, in seconds since the epoch").register(registry);
        Gauge.builder(meters().name("polls.in.flight"), this, s -> s.scheduler == null ? 0 : s.scheduler.inFlight())
                .description("requests sent and not yet answered").register(registry);
        Gauge.builder(meters().name("polls.queued"), this, s -> s.scheduler == null ? 0 : s.scheduler.queued())
                .description("polls due but waiting for a free slot (collector.max.concurrent.polls)").register(registry);
        Gauge.builder(meters().name("buffer.records"), this, s -> s.publisher == null ? 0 : s.publisher.buffered())
                .description("records waiting for the broker (collector.buffer.max.records)").register(registry);
        Gauge.builder(meters().name("producer.unacked"), this, s -> s.publisher == null ? 0 : s.publisher.unacked())
                .description("records given to the producer and not yet acknowledged (collector.producer.max.unacked)")
                .register(registry);
        FunctionCounter.builder(meters().name("buffer.superseded"), this, s -> s.publisher == null ? 0 : s.publisher.superseded())
                .description("buffered records superseded by a newer record of their series while the broker was away")
                .register(registry);
        FunctionCounter.builder(meters().name("polls.skipped"), this, s -> s.scheduler == null ? 0 : s.scheduler.skipped())
                .description("ticks skipped because the target's previous poll had not finished").register(registry);
    }

    /** Publishes the inventory, then starts polling; returns once polling has started. */
    @Override
    protected void startUp(Instant deadline) throws Exception {
        LOG.info("collector '{}' starting with {} targets from {}", collector.collectorId(), inventory.targets().size(),
                collector.inventory());
        Map<String, Object> producerProps = kafka().producer("fleetpulse-collector-" + collector.collectorId());
        // Until the deadline at start (metadata, the inventory); later it bounds how long a send may wait for the broker.
        producerProps.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) remaining(deadline).toMillis());
        publisher = new RecordPublisher(producerProps, collector.outageBuffer(), this::recordProduced,
                cause -> fail("the producer's hand-off thread died", cause));
        meters().bindKafkaClient(publisher.producer());
        requireTopic(Topics.CHECKS);
        requireTopic(Topics.METRICS);
        metadataReady = true;
        inventorySync = InventorySync.sync(publisher, kafka().common("fleetpulse-collector-inventory-"
                + collector.collectorId()), collector.collectorId(), inventory.targets(), clock().instant(), remaining(deadline));
        if (!inventorySync.decommissioned().isEmpty()) {
            LOG.info("tombstoned targets no longer in the inventory: {}", inventorySync.decommissioned());
        }

        // One event loop is plenty: polls are I/O-bound and all scheduling state lives on one context.
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
        // Vert.x catches what a handler throws and would only log it: the poll's target would stay busy (never polled
        // again) or the scheduler's state half-updated. That is a dead core loop, so the service fails.
        vertx.exceptionHandler(cause -> fail("the poll event loop raised " + StartupWait.describe(cause), cause));
        client = TargetHttpClient.createHttpClient(vertx, collector.maxConcurrentPolls(), collector.tlsTrustPem());
        scheduler = new PollScheduler(vertx,
                new TargetHttpClient(vertx, client, collector.bodyLimits().maxBodyBytes()), clock(), collector.maxConcurrentPolls(),
                collector.pollJitter(), lagMs -> schedulingLag.record(lagMs, TimeUnit.MILLISECONDS), this::polled);
        // With the live inventory the topic says what to poll (the YAML's targets are on it now, published above),
        // so in a group an instance polls only its partitions' targets, never the whole YAML.
        await(scheduler.start(collector.liveInventory() ? List.of() : inventory.targets()), remaining(deadline));
        if (collector.liveInventory()) {
            PollScheduler planned = scheduler;
            targetsFeed = new TargetsFeed(kafka().common("fleetpulse-collector-targets-" + collector.collectorId()),
                    inventoryGroup,
                    new TargetsFeed.Changes() {
                        @Override
                        public void update(Target target, boolean soon) {
                            warnIfFasterThanTheSession(target);
                            planned.update(target, soon);
                        }

                        @Override
                        public void remove(String targetId) {
                            // On the poll context, so a poll of it still in flight cannot bring its figures back.
                            planned.remove(targetId).onSuccess(v -> checkStats.forget(targetId));
                        }
                    }, cause -> fail("the targets feed died", cause));
            if (!targetsFeed.start(remaining(deadline))) {
                throw new IllegalStateException("could not read " + Topics.TARGETS.name() + " to its end before the start "
                        + "deadline (ops.start.timeout " + Durations.format(ops().startTimeout()) + ")");
            }
            LOG.info("following {}: {} target records applied", Topics.TARGETS.name(), targetsFeed.applied());
        }
        if (pushTokens != null) {
            pushApi = new PushApi(vertx, pushTokens, publisher, collector.collectorId(), collector.bodyLimits(),
                    collector.push(), clock(), code -> Counter.builder(meters().name("push.requests"))
                    .description("push API requests answered, by HTTP status").tag("status", String.valueOf(code))
                    .register(meterRegistry()).increment());
            pushPort = await(pushApi.listen(), remaining(deadline));
            LOG.info("push API listening on {} port {}", collector.push().host(), pushPort);
        }
        LOG.info("collector '{}' polling {} targets", collector.collectorId(), scheduler.targets());
    }

    /** The shortest interval the collector knows at start: its own default and its YAML's targets'. */
    private static Duration shortestKnownInterval(CollectorSettings collector, Inventory inventory) {
        Duration yaml = Inventory.shortestInterval(inventory.targets());
        return yaml == null || collector.pollInterval().compareTo(yaml) < 0 ? collector.pollInterval() : yaml;
    }

    /**
     * A target added later may poll faster than the session timeout sized at start allows: if this instance dies,
     * such a target misses more than one poll. Worth one warning per target, not a refusal: the topic is shared.
     */
    private void warnIfFasterThanTheSession(Target target) {
        Duration shortest = Inventory.shortestInterval(List.of(target));
        if (inventoryGroup != null && shortest.compareTo(inventoryGroup.sessionTimeout()) < 0
                && warnedFasterThanSession.add(target.getTargetId())) {
            LOG.warn("target {} is polled every {}, faster than the group's session timeout {} ({}): if this instance "
                            + "dies, it misses more than one poll", target.getTargetId(), Durations.format(shortest),
                    Durations.format(inventoryGroup.sessionTimeout()), CollectorSettings.INVENTORY_GROUP_SESSION_TIMEOUT.name());
        }
    }

    /** The group sharing the live inventory, its session timeout sized at construction; null without one. */
    TargetsFeed.Group inventoryGroup() {
        return inventoryGroup;
    }

    /** The push API's port once it listens; -1 without a push API. */
    public int pushPort() {
        return pushPort;
    }

    /** What is left of the start deadline, which the kernel sets on the wall clock; at least a second per wait. */
    private static Duration remaining(Instant deadline) {
        Duration left = Duration.between(Instant.now(), deadline);
        return left.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : left;
    }

    private void requireTopic(Topic<?, ?> topic) {
        try {
            publisher.partitionsFor(topic);
        } catch (RuntimeException e) {
            throw new IllegalStateException("no metadata for topic " + topic.name() + " from " + kafka().bootstrapServers()
                    + " before the start deadline (ops.start.timeout " + Durations.format(ops().startTimeout())
                    + "; were the topics created?): " + e.getMessage(), e);
        }
    }

    /** One finished poll, on the event loop: map it, count it, hand its records to the producer. */
    private void polled(Target target, PollScheduler.Kind kind, Instant observedAt, HttpOutcome outcome, long elapsedNanos) {
        pollLatency.get(kind).record(elapsedNanos, TimeUnit.NANOSECONDS);
        String id = target.getTargetId();
        if (kind == PollScheduler.Kind.HEALTH) {
            List<CheckResult> results = healthChecks.toCheckResults(target, collector.collectorId(), observedAt, outcome);
            CheckResult http = results.get(0);
            polls.get(kind).get(http.getStatus()).increment();
            // A change of a target's http status is worth a log line. A target removed while this poll was in
            // flight is no longer shown.
            CheckStatus previous = scheduler.plans(id) ? checkStats.record(id, http.getStatus(), observedAt,
                    TimeUnit.NANOSECONDS.toMillis(elapsedNanos)) : null;
            if (previous != null && previous != http.getStatus()) {
                LOG.info("target {} went {} -> {}: {}", id, previous, http.getStatus(), http.getMessage());
            }
            results.forEach(r -> publisher.publish(Topics.CHECKS, id, id + "/" + r.getCheckName(), r, observedAt));
            return;
        }
        CheckStatus status;
        if (outcome instanceof HttpOutcome.Response response && HealthChecks.httpStatus(response.statusCode()) == CheckStatus.OK) {
            try {
                MetricSample sample = MetricsParser.isJson(response.body())
                        ? MetricsParser.parse(id, collector.collectorId(), observedAt, response.body(), collector.bodyLimits())
                        : nodeExporter.parse(id, collector.collectorId(), observedAt, response.body(), collector.bodyLimits());
                publisher.publish(Topics.METRICS, id, id, sample, observedAt);
                CheckResult disk = healthChecks.diskCheck(target, collector.collectorId(), sample);
                if (disk != null) {
                    publisher.publish(Topics.CHECKS, id, id + "/" + disk.getCheckName(), disk, observedAt);
                }
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

    /** Ready once the producer has metadata for the topics and polling has started, while the broker takes our records. */
    @Override
    protected boolean ready() {
        PollScheduler s = scheduler;
        RecordPublisher p = publisher;
        return metadataReady && s != null && s.started() && producing && p != null && p.delivering();
    }

    @Override
    protected Map<String, Object> details() {
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("collectorId", collector.collectorId());
        status.put("inventory", collector.inventory().toString());
        status.put("targets", scheduler == null ? inventory.targets().size() : scheduler.targets());
        status.put("liveInventory", collector.liveInventory());
        if (inventoryGroup != null) {
            status.put("inventoryGroup", inventoryGroup.id());
            status.put("groupSessionTimeoutMs", inventoryGroup.sessionTimeout().toMillis());
        }
        TargetsFeed feed = targetsFeed;
        if (feed != null) {
            status.put("targetRecordsApplied", feed.applied());
            status.put("targetRecordsUnreadable", feed.unreadable());
        }
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
        PollScheduler s = scheduler;
        status.put("polls", pollCounts);
        status.put("checks", checkStats.toStatus());
        status.put("pollsInFlight", s == null ? 0 : s.inFlight());
        status.put("pollsQueued", s == null ? 0 : s.queued());
        status.put("pollsSkipped", s == null ? 0 : s.skipped());
        status.put("metricsPollFailures", (long) metricsPollFailures.count());
        status.put("targetsPublished", (long) produced.get(Topics.TARGETS.name()).count());
        InventorySync.Result sync = inventorySync;
        status.put("targetsDecommissioned", sync == null ? List.of() : sync.decommissioned());
        status.put("checksProduced", (long) produced.get(Topics.CHECKS.name()).count());
        status.put("metricsProduced", (long) produced.get(Topics.METRICS.name()).count());
        long errors = produceErrors.values().stream().mapToLong(c -> (long) c.count()).sum();
        status.put("produceErrors", errors);
        RecordPublisher p = publisher;
        status.put("recordsAccepted", p == null ? 0L : p.accepted());
        status.put("recordsBuffered", p == null ? 0 : p.buffered());
        status.put("recordsUnacked", p == null ? 0 : p.unacked());
        status.put("recordsSuperseded", p == null ? 0L : p.superseded());
        status.put("lastProduceError", lastProduceError.get());
        return status;
    }

    /**
     * Stops scheduling, waits (bounded) for polls in flight and publishes their results, then flushes and closes the
     * producer and Vert.x, in reverse order of opening. Copes with a start that got only part of the way.
     */
    @Override
    protected void shutDown() {
        if (pushApi != null) {
            try {
                await(pushApi.close(), CLOSE_TIMEOUT);
            } catch (RuntimeException e) {
                LOG.warn("push API did not close cleanly: {}", e.getMessage());
            }
        }
        if (targetsFeed != null) {
            try {
                targetsFeed.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (scheduler != null) {
            long longestTimeout = inventory.targets().stream().mapToLong(Target::getTimeoutMs).max().orElse(0);
            try {
                await(scheduler.stop(), Duration.ofMillis(longestTimeout).plus(DRAIN_MARGIN));
            } catch (RuntimeException e) {
                LOG.warn("polls still in flight at close: {}", e.getMessage());
            }
        }
        if (client != null) {
            client.close();
        }
        if (vertx != null) {
            try {
                await(vertx.close(), CLOSE_TIMEOUT);
            } catch (RuntimeException e) {
                LOG.warn("Vert.x did not close cleanly: {}", e.getMessage());
            }
        }
        if (publisher != null) {
            try {
                publisher.close(CLOSE_TIMEOUT);
            } catch (RuntimeException e) {
                LOG.warn("producer did not close cleanly: {}", e.getMessage());
            }
        }
        LOG.info("collector '{}' closed", collector.collectorId());
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
            throw new IllegalStateException("not done within " + Durations.format(timeout), e);
        }
    }
}
