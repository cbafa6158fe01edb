package io.fleetpulse.alerting;

import io.fleetpulse.alerting.decide.DecideStage;
import io.fleetpulse.alerting.decide.DecideTopology;
import io.fleetpulse.alerting.silence.SilenceApi;
import io.fleetpulse.alerting.silence.SilenceRule;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.Evidence;
import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.events.OutboxRecord;
import io.fleetpulse.events.Severity;
import io.fleetpulse.runtime.DaemonThreads;
import io.fleetpulse.runtime.ManagedService;
import io.fleetpulse.runtime.config.ConfigKey;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.DeadLetters;
import io.fleetpulse.schemas.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToLongFunction;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumes alert transitions from fleet.alerts and delivers each to every configured receiver (Slack, PagerDuty,
 * generic webhooks), at least once, auditing every decision on fleet.notifications.
 *
 * <p>Each receiver delivers on its own: a {@link ReceiverConsumer} per receiver reads fleet.alerts in its own
 * consumer group ({@link AlertingSettings#groupOf}), keeps its own bounded set of notifications in flight, retried
 * concurrently for hours by its {@link DeliveryWorker}, and commits up to its lowest unsettled offset. A receiver that
 * is down, slow or rate-limited pauses only itself; the others go on at their normal latency.
 *
 * <p>Every receiver's loop is a core loop: when one dies (an exception from Kafka, the member expelled from its
 * group) the service turns FAILED and the process exits non-zero so that it is restarted. Audit and dead-letter
 * sends the broker does not acknowledge are retried, never fatal: what waits for them stays uncommitted. A receiver
 * that keeps failing ({@link ReceiverHealth}) makes the service not ready, shows why on /status, raises
 * {@code fleetpulse_alerting_receiver_failing} and sends one notice to a healthy receiver (and one when it recovers).
 */
public final class AlertingService extends ManagedService {

    private static final Logger LOG = LoggerFactory.getLogger(AlertingService.class);
    private static final String NAME = "alerting";
    private static final String CLIENT_ID = "fleetpulse-alerting";
    private static final int MAX_POLL = 200;
    private static final Duration PRUNE_EVERY = Duration.ofMinutes(10);
    private static final Duration REBUILD_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration RESEND_FIRST = Duration.ofMillis(500);
    private static final Duration RESEND_MAX = Duration.ofSeconds(30);
    static final String FAILING_RULE = "fleetpulse.receiver.failing";

    /** Every key the service reads: ops and Kafka keys, then the alerting ones. */
    public static final List<ConfigKey<?>> KEYS = ManagedService.keysWith(AlertingSettings.KEYS);

    private final AlertingSettings alerting;
    private final DeliveredSet delivered;
    private final AtomicLong deadLettered = new AtomicLong();
    private final AtomicLong resends = new AtomicLong();
    private volatile boolean running;
    /** Filled once by startUp, read by /status and the counters; empty before. */
    private volatile List<ReceiverConsumer> consumers = List.of();
    private volatile List<Thread> loops = List.of();
    /** Failing receiver name → the receiver told about it, so the recovery notice goes to the same place. */
    private final Map<String, ReceiverConsumer> toldAboutFailing = new HashMap<>();
    private volatile Instant nextPrune;

    private KafkaProducer<byte[], byte[]> producer;
    private ExecutorService httpThreads;
    private ScheduledExecutorService sender;
    private Router router;
    private volatile DecideStage decide;
    private volatile SilenceApi silenceApi;

    public AlertingService(Settings settings) {
        this(settings, Clock.systemUTC());
    }

    AlertingService(Settings settings, Clock clock) {
        super(NAME, settings, clock);
        this.alerting = AlertingSettings.from(settings);
        this.delivered = new DeliveredSet(alerting.groupId(), alerting.deliveredLookback());
        Gauge.builder(meters().name("notifications.in.flight"), this, s -> s.consumers.stream()
                        .mapToInt(c -> c.worker().inFlight()).sum())
                .description("notifications being delivered or waiting to be retried, all receivers")
                .register(meterRegistry());
        Gauge.builder(meters().name("delivered.set.size"), delivered, DeliveredSet::size)
                .description("notification ids remembered as delivered").register(meterRegistry());
    }

    @Override
    protected void startUp(Instant deadline) throws InterruptedException {
        List<Receiver> receivers = alerting.receivers();
        if (receivers.isEmpty()) {
            LOG.warn("alerting has no receivers configured: nothing is read from {} and nothing is sent",
                    Topics.ALERTS.name());
        } else {
            LOG.info("alerting receivers: {}", receivers.stream().map(Receiver::describe).toList());
        }
        producer = new KafkaProducer<>(kafka().producer(CLIENT_ID + "-audit"), new ByteArraySerializer(),
                new ByteArraySerializer());
        meters().bindKafkaClient(producer);
        sender = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("fleetpulse-alerting-audit"));
        rebuildDeliveredSet(deadline);
        nextPrune = clock().instant().plus(PRUNE_EVERY);

        httpThreads = Executors.newCachedThreadPool(DaemonThreads.named("fleetpulse-alerting-http"));
        HttpClient http = HttpClient.newBuilder()
                .connectTimeout(alerting.httpTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .executor(httpThreads)
                .build();
        RetryPolicy policy = new RetryPolicy(alerting.retryLimits(), () -> ThreadLocalRandom.current().nextDouble());
        router = new Router(alerting.groupId(), delivered::contains);
        startWhereTheSharedGroupStopped(receivers, deadline);
        if (!receivers.isEmpty()) {
            Map<String, DecideTopology.AuditedReceiver> audited = new HashMap<>();
            receivers.forEach(r -> audited.put(r.name(), new DecideTopology.AuditedReceiver(r.type().id(),
                    r.identity())));
            decide = new DecideStage(alerting.routing(), alerting.decideTick(), alerting.groupId(), audited,
                    alerting.decideApplicationId(),
                    kafka().common(CLIENT_ID + "-decide"), kafka().replicationFactor(), decideStateDir(),
                    this::fail);
            decide.start(deadline);
        }
        openSilenceApi();
        running = true;
        List<ReceiverConsumer> opened = new ArrayList<>();
        for (Receiver receiver : receivers) {
            ReceiverHealth health = new ReceiverHealth(alerting.failing());
            Gauge.builder(meters().name("receiver.failing"), health, h -> h.isFailing() ? 1 : 0)
                    .description("1 while the receiver keeps failing (alerting.receiver.failing.after.failures "
                            + "attempts in a row, or failing for alerting.receiver.failing.after), else 0")
                    .tag("receiver", receiver.name()).tag("receiver_type", receiver.type().id())
                    .register(meterRegistry());
            DeliveryWorker worker = new DeliveryWorker(receiver, alerting.groupId(), http, alerting.httpTimeout(),
                    policy, TokenBucket.perSecond(alerting.ratePerSecond(receiver.type())), delivered, this::audit,
                    DeliveryWorker.Scheduler.onThread("fleetpulse-alerting-deliver-" + receiver.name()), clock(),
                    health, meters());
            String group = alerting.groupOf(receiver);
            Map<String, Object> props = kafka().consumer(group, CLIENT_ID + "-" + receiver.name());
            props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.min(MAX_POLL, alerting.maxInFlight()));
            // Cooperative: a member joining or leaving moves only the partitions that change owner, so the others'
            // notifications keep retrying where they are instead of being handed over.
            props.putIfAbsent(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                    CooperativeStickyAssignor.class.getName());
            KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                    new ByteArrayDeserializer());
            meters().bindKafkaClient(consumer);
            ReceiverConsumer reader = new ReceiverConsumer(worker, consumer, group, alerting.maxInFlight(),
                    alerting.revokeWait(), opened.isEmpty(), alerting.groupId(), new Context());
            FunctionCounter.builder(meters().name("alerts.consumed"), reader, ReceiverConsumer::consumed)
                    .description("group notifications read from fleet.outbox, by the receiver whose consumer read them")
                    .tag("receiver", receiver.name()).tag("receiver_type", receiver.type().id())
                    .register(meterRegistry());
            opened.add(reader);
        }
        consumers = List.copyOf(opened);
        Duration grace = ops().stopTimeout().multipliedBy(2).dividedBy(3);
        List<Thread> started = new ArrayList<>();
        for (ReceiverConsumer consumer : consumers) {
            started.add(startCoreThread("deliver-" + consumer.worker().receiver().name(), () -> consumer.run(grace)));
        }
        loops = List.copyOf(started);
    }

    /** The silences API: reads from decide's global store, writes to fleet.silences through the audit producer. */
    private void openSilenceApi() {
        SilenceApi.View view = () -> decide == null ? java.util.Optional.empty() : decide.silences();
        SilenceApi.Writer writer = this::writeSilence;
        try {
            silenceApi = SilenceApi.start(alerting.apiHost(), alerting.apiPort(), view, writer, clock(),
                    Duration.ofSeconds(10));
        } catch (IOException e) {
            throw new IllegalStateException("cannot listen on " + alerting.apiHost() + ":" + alerting.apiPort() + " ("
                    + AlertingSettings.API_PORT.name() + "): " + e.getMessage(), e);
        }
    }

    /** One silence to fleet.silences; the future completes when the broker acknowledged it (acks=all). */
    private CompletableFuture<?> writeSilence(SilenceRule silence) {
        CompletableFuture<Void> acked = new CompletableFuture<>();
        producer.send(new ProducerRecord<>(Topics.SILENCES.name(), silence.id().getBytes(StandardCharsets.UTF_8),
                Topics.SILENCES.valueSerde().serializer().serialize(Topics.SILENCES.name(), silence.toAvro())),
                (metadata, e) -> {
                    if (e == null) {
                        acked.complete(null);
                    } else {
                        acked.completeExceptionally(e);
                    }
                });
        return acked;
    }

    /** The silences API's port (the one bound when alerting.api.port is 0); -1 before it is open. */
    public int silencesApiPort() {
        SilenceApi api = silenceApi;
        return api == null ? -1 : api.port();
    }

    private Path decideStateDir() {
        if (alerting.decideStateDir() != null) {
            return alerting.decideStateDir();
        }
        try {
            return Files.createTempDirectory("fleetpulse-alerting-decide");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a state directory for decide", e);
        }
    }

    /** Reads fleet.notifications back, within what is left of ops.start.timeout (at most two minutes). */
    private void rebuildDeliveredSet(Instant deadline) {
        Duration left = Duration.between(clock().instant(), deadline).truncatedTo(ChronoUnit.SECONDS);
        Duration timeout = left.compareTo(REBUILD_TIMEOUT) > 0 ? REBUILD_TIMEOUT
                : left.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : left;
        Map<String, Object> props = kafka().common(CLIENT_ID + "-delivered-set");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<String, byte[]> reader = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            delivered.rebuild(reader, clock().instant(), timeout);
        }
    }

    /**
     * Before decide, each receiver read fleet.alerts in its own group, and before that one group named
     * {@code alerting.group.id} read it for all of them. Decide's group, when it has committed nothing yet, starts
     * where they stopped, not at the earliest record: fleet.alerts keeps 30 days and the delivered set only one, so
     * an upgrade would post weeks of old alerts again. Per partition it takes the lowest offset the receiver groups
     * committed (what every receiver had settled; the delivered set keeps the faster ones from sending twice), or,
     * when none did, the shared group's. A decide group with offsets of its own is left alone, so this happens once.
     */
    private void startWhereTheSharedGroupStopped(List<Receiver> receivers, Instant deadline) {
        if (receivers.isEmpty()) {
            return;
        }
        long millis = Math.max(1_000, Math.min(30_000, Duration.between(Instant.now(), deadline).toMillis()));
        String decideGroup = alerting.decideApplicationId();
        try (Admin admin = Admin.create(kafka().admin(CLIENT_ID + "-offsets", (int) millis))) {
            if (!committed(admin, decideGroup, millis).isEmpty()) {
                return;
            }
            Map<TopicPartition, OffsetAndMetadata> start = new HashMap<>();
            for (Receiver receiver : receivers) {
                committed(admin, alerting.groupOf(receiver), millis).forEach((tp, offset) -> start.merge(tp, offset,
                        (a, b) -> a.offset() <= b.offset() ? a : b));
            }
            String from = "the receivers' groups";
            if (start.isEmpty()) {
                start.putAll(committed(admin, alerting.groupId(), millis));
                from = "group " + alerting.groupId();
            }
            if (!start.isEmpty()) {
                admin.alterConsumerGroupOffsets(decideGroup, start).all().get(millis, TimeUnit.MILLISECONDS);
                LOG.info("decide starts in its group {} where {} stopped: {}", decideGroup, from, start);
            }
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("could not read or set the consumer groups' offsets on "
                    + Topics.ALERTS.name() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while setting decide's start offsets", e);
        }
    }

    private static Map<TopicPartition, OffsetAndMetadata> committed(Admin admin, String group, long millis)
            throws ExecutionException, TimeoutException, InterruptedException {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(millis, TimeUnit.MILLISECONDS)
                .forEach((tp, offset) -> {
                    if (offset != null && tp.topic().equals(Topics.ALERTS.name())) {
                        offsets.put(tp, offset);
                    }
                });
        return offsets;
    }

    /** What the receivers' loops ask of the service. */
    private final class Context implements ReceiverConsumer.Context {

        @Override
        public Router.Routing route(OutboxRecord intent, Receiver receiver) {
            return router.route(intent, receiver);
        }

        @Override
        public CompletableFuture<?> deadLetter(ConsumerRecord<byte[], byte[]> record, String reason, String error) {
            return AlertingService.this.deadLetter(record, reason, error);
        }

        @Override
        public void tick(ReceiverConsumer consumer) {
            Instant now = clock().instant();
            ReceiverHealth.Change change = consumer.worker().health().evaluate(now);
            if (change != ReceiverHealth.Change.NONE) {
                onHealthChange(consumer, change, now);
            }
            if (consumer == consumers.get(0) && now.isAfter(nextPrune)) {
                delivered.prune(now);
                nextPrune = now.plus(PRUNE_EVERY);
            }
        }
    }

    /** Why an event cannot be delivered, or null when it can. */
    static String invalidReason(AlertEvent event) {
        return DecideTopology.invalidReason(event);
    }

    private CompletableFuture<?> deadLetter(ConsumerRecord<byte[], byte[]> record, String reason, String error) {
        deadLettered.incrementAndGet();
        Counter.builder(meters().name("dead.letters")).tag("reason", reason)
                .description("alert events sent to fleet.dlq, by reason").register(meterRegistry()).increment();
        LOG.warn("{}-{}@{} sent to {}: {} ({})", record.topic(), record.partition(), record.offset(),
                Topics.DLQ.name(), reason, error);
        var letter = DeadLetters.of(NAME, record.topic(), record.partition(), record.offset(), record.key(),
                record.value(), reason, error, clock().instant());
        return sendUntilAcknowledged(new ProducerRecord<>(Topics.DLQ.name(), record.key(),
                Topics.DLQ.valueSerde().serializer().serialize(Topics.DLQ.name(), letter)));
    }

    /** The audit log the workers write to: fleet.notifications keyed by fingerprint. */
    private CompletableFuture<?> audit(NotificationRecord record) {
        return sendUntilAcknowledged(new ProducerRecord<>(Topics.NOTIFICATIONS.name(),
                record.getFingerprint().getBytes(StandardCharsets.UTF_8),
                Topics.NOTIFICATIONS.valueSerde().serializer().serialize(Topics.NOTIFICATIONS.name(), record)));
    }

    /**
     * A send whose future completes when the broker has acknowledged it. A send that fails (the topic gone, the
     * broker unreachable past the producer's timeouts) is tried again with capped backoff until it succeeds, so it is
     * never fatal; what waits for it stays uncommitted meanwhile. The future fails only when the service stops.
     * Sends run on one thread of their own, so a producer blocked on metadata never holds up a delivery worker.
     */
    private CompletableFuture<?> sendUntilAcknowledged(ProducerRecord<byte[], byte[]> record) {
        CompletableFuture<Void> acked = new CompletableFuture<>();
        trySend(record, acked, 1, Duration.ZERO);
        return acked;
    }

    private void trySend(ProducerRecord<byte[], byte[]> record, CompletableFuture<Void> acked, int attempt,
                         Duration delay) {
        try {
            sender.schedule(() -> {
                if (acked.isDone()) {
                    return;
                }
                try {
                    producer.send(record, (metadata, e) -> {
                        if (e == null) {
                            acked.complete(null);
                        } else {
                            resendLater(record, acked, attempt, e);
                        }
                    });
                } catch (RuntimeException e) {
                    resendLater(record, acked, attempt, e);
                }
            }, delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            acked.completeExceptionally(new IllegalStateException("alerting is stopping; " + record.topic()
                    + " record not acknowledged", e));
        }
    }

    private void resendLater(ProducerRecord<byte[], byte[]> record, CompletableFuture<Void> acked, int attempt,
                             Exception e) {
        if (!running) {
            acked.completeExceptionally(e);
            return;
        }
        resends.incrementAndGet();
        long cap = Math.min(RESEND_MAX.toMillis(), RESEND_FIRST.toMillis() << Math.min(attempt - 1, 16));
        Duration delay = Duration.ofMillis(ThreadLocalRandom.current().nextLong(cap / 2, cap + 1));
        if (attempt <= 3 || attempt % 20 == 0) {
            LOG.warn("a {} record was not acknowledged ({}); sending it again in {} ms (attempt {})", record.topic(),
                    e.toString(), delay.toMillis(), attempt + 1);
        }
        trySend(record, acked, attempt + 1, delay);
    }

    // ---------------------------------------------------------------- receiver health

    /** Runs on the changed receiver's loop; synchronized, as loops of several receivers may change at once. */
    private synchronized void onHealthChange(ReceiverConsumer changed, ReceiverHealth.Change change, Instant now) {
        Receiver receiver = changed.worker().receiver();
        ReceiverHealth.Snapshot health = changed.worker().health().snapshot();
        if (change == ReceiverHealth.Change.FAILING) {
            LOG.warn("receiver {} ({}) is failing since {}: {} failed attempts in a row, last: {}", receiver.name(),
                    receiver.identity(), health.failingSince(), health.consecutiveFailures(), health.lastError());
            consumers.stream().filter(c -> c != changed && !c.worker().health().isFailing()).findFirst()
                    .ifPresentOrElse(told -> {
                        toldAboutFailing.put(receiver.name(), told);
                        told.worker().submit(Notification.of(failingNotice(receiver, health, AlertState.FIRING, now),
                                alerting.groupId(), told.worker().receiver()));
                    }, () -> LOG.warn("no healthy receiver to tell that {} is failing", receiver.name()));
        } else {
            LOG.info("receiver {} ({}) recovered", receiver.name(), receiver.identity());
            ReceiverConsumer told = toldAboutFailing.remove(receiver.name());
            if (told != null) {
                told.worker().submit(Notification.of(failingNotice(receiver, health, AlertState.RESOLVED, now),
                        alerting.groupId(), told.worker().receiver()));
            }
        }
    }

    /**
     * The notice that {@code failing} keeps failing, as an alert event of the deployment itself: one fingerprint per
     * receiver, so PagerDuty folds repeats and the RESOLVED closes what the FIRING opened. Its error text was
     * redacted by the failing receiver, so none of its secrets travel to the other.
     */
    static AlertEvent failingNotice(Receiver failing, ReceiverHealth.Snapshot health, AlertState state, Instant now) {
        Instant since = health.failingSince() != null ? health.failingSince() : now;
        String summary = state == AlertState.FIRING
                ? "alert receiver " + failing.name() + " (" + failing.identity() + ") is failing since " + since
                        + ": " + health.consecutiveFailures() + " failed attempts in a row, last: " + health.lastError()
                : "alert receiver " + failing.name() + " (" + failing.identity() + ") delivers again";
        return AlertEvent.newBuilder()
                .setFingerprint("fleetpulse-receiver-failing-" + failing.identity().replace(':', '-'))
                .setRuleId(FAILING_RULE)
                .setTargetId("alerting/" + failing.name())
                .setGroup("fleetpulse")
                .setLabels(Map.of("receiver", failing.name(), "receiver_type", failing.type().id(),
                        "receiver_id", failing.identity()))
                .setState(state)
                .setSeverity(Severity.WARNING)
                .setSummary(summary)
                .setEvidence(Evidence.newBuilder().setSignal("consecutive_failed_attempts")
                        .setValue(health.consecutiveFailures()).setOperator(">=").setThreshold(1)
                        .setWindowStart(since).setWindowEnd(now).build())
                .setStartsAt(since)
                .setEndsAt(state == AlertState.RESOLVED ? now : null)
                .setOccurredAt(state == AlertState.FIRING ? since : now)
                .build();
    }

    // ---------------------------------------------------------------- readiness and observation

    /**
     * Ready: every receiver's loop runs with its partitions assigned, and no receiver is failing (a failing one is
     * "degraded": not ready, with the reason on /status).
     */
    @Override
    protected boolean ready() {
        List<ReceiverConsumer> current = consumers;
        List<Thread> threads = loops;
        DecideStage deciding = decide;
        return running && (deciding == null || deciding.isRunning()) && threads.stream().allMatch(Thread::isAlive)
                && current.stream().allMatch(ReceiverConsumer::isAssigned) && degraded().isEmpty();
    }

    /** Why the service is degraded: one line per failing receiver, secrets masked. */
    private List<String> degraded() {
        List<String> reasons = new ArrayList<>();
        for (ReceiverConsumer consumer : consumers) {
            ReceiverHealth.Snapshot health = consumer.worker().health().snapshot();
            if (health.failing()) {
                Receiver receiver = consumer.worker().receiver();
                reasons.add("receiver " + receiver.name() + " (" + receiver.identity() + ") failing since "
                        + health.failingSince() + ", " + health.consecutiveFailures() + " failed attempts in a row; "
                        + "last error: " + health.lastError());
            }
        }
        return reasons;
    }

    /** Notifications delivered to receivers of {@code receiverType} (slack, pagerduty, webhook). */
    public long sentCount(String receiverType) {
        return sum(receiverType, DeliveryWorker::sentCount);
    }

    /** Attempts of {@code receiverType} with the given outcome: SENT, RETRIED or FAILED. */
    public long notificationCount(String receiverType, NotificationOutcome outcome) {
        return switch (outcome) {
            case SENT -> sum(receiverType, DeliveryWorker::sentCount);
            case RETRIED -> sum(receiverType, DeliveryWorker::retriedCount);
            case FAILED -> sum(receiverType, DeliveryWorker::failedCount);
            default -> 0;
        };
    }

    /** Notifications not sent because they already were (redelivered events). */
    public long skippedCount(String receiverType) {
        return sum(receiverType, DeliveryWorker::skippedCount);
    }

    private long sum(String receiverType, ToLongFunction<DeliveryWorker> count) {
        String type = receiverType.toLowerCase(Locale.ROOT);
        return consumers.stream().map(ReceiverConsumer::worker).filter(w -> w.receiver().type().id().equals(type))
                .mapToLong(count).sum();
    }

    /** Receivers as configured (endpoints masked) with their counters and health; the kernel adds the rest. */
    @Override
    protected Map<String, Object> details() {
        Map<String, Map<String, Long>> byType = new LinkedHashMap<>();
        List<Map<String, Object>> receivers = new ArrayList<>();
        Map<String, ReceiverConsumer> byName = new HashMap<>();
        List<ReceiverConsumer> current = consumers;
        current.forEach(c -> byName.put(c.worker().receiver().name(), c));
        for (Receiver receiver : alerting.receivers()) {
            Map<String, Object> shown = new LinkedHashMap<>();
            shown.put("name", receiver.name());
            shown.put("type", receiver.type().id());
            shown.put("id", receiver.identity());
            shown.put("endpoint", receiver.describe());
            shown.put("group", alerting.groupOf(receiver));
            ReceiverConsumer consumer = byName.get(receiver.name());
            if (consumer != null) {
                DeliveryWorker worker = consumer.worker();
                Map<String, Long> counts = byType.computeIfAbsent(receiver.type().id(), t -> new LinkedHashMap<>());
                counts.merge("sent", worker.sentCount(), Long::sum);
                counts.merge("retried", worker.retriedCount(), Long::sum);
                counts.merge("failed", worker.failedCount(), Long::sum);
                counts.merge("skipped", worker.skippedCount(), Long::sum);
                shown.put("sent", worker.sentCount());
                shown.put("retried", worker.retriedCount());
                shown.put("failed", worker.failedCount());
                shown.put("skipped", worker.skippedCount());
                shown.put("inFlight", worker.inFlight());
                shown.put("uncommitted", consumer.pending());
                shown.put("partitions", consumer.partitions());
                shown.put("consumed", consumer.consumed());
                shown.put("commits", consumer.commits());
                shown.put("lastError", Objects.toString(worker.lastError(), null));
                ReceiverHealth.Snapshot health = worker.health().snapshot();
                Map<String, Object> healthShown = new LinkedHashMap<>();
                healthShown.put("failing", health.failing());
                healthShown.put("failingSince", Objects.toString(health.failingSince(), null));
                healthShown.put("consecutiveFailures", health.consecutiveFailures());
                healthShown.put("lastError", health.lastError());
                shown.put("health", healthShown);
            }
            receivers.add(shown);
        }
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("degraded", degraded());
        details.put("notifications", byType);
        details.put("receivers", receivers);
        DecideStage deciding = decide;
        details.put("silencesApi", silenceApi == null ? null
                : "http://" + alerting.apiHost() + ":" + silenceApi.port() + "/v1/silences");
        details.put("decide", deciding == null ? Map.of("streams", "not opened")
                : Map.of("streams", deciding.state(), "applicationId", deciding.applicationId()));
        details.put("inFlight", current.stream().mapToInt(c -> c.worker().inFlight()).sum());
        details.put("alertsConsumed", current.stream().mapToLong(ReceiverConsumer::consumed).max().orElse(0));
        details.put("commits", current.stream().mapToLong(ReceiverConsumer::commits).sum());
        details.put("deadLettered", deadLettered.get());
        details.put("auditResends", resends.get());
        details.put("deliveredSetSize", delivered.size());
        details.put("lastDeliveryError", current.stream().map(c -> c.worker().lastError())
                .filter(Objects::nonNull).max(Comparator.comparing(DeliveryWorker.LastError::at))
                .map(Object::toString).orElse(null));
        return details;
    }

    /**
     * Stops every receiver's loop (each commits what settles within two thirds of ops.stop.timeout), then closes in
     * reverse order of opening: HTTP threads, the audit sender, the producer (which flushes the audit records).
     * Copes with a start that got only part of the way, and with loops that already died.
     */
    @Override
    protected void shutDown() {
        if (silenceApi != null) {
            silenceApi.close();
        }
        List<ReceiverConsumer> current = consumers;
        current.forEach(ReceiverConsumer::stop);
        long deadline = System.nanoTime() + ops().stopTimeout().toNanos();
        for (Thread loop : loops) {
            try {
                loop.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        running = false;
        if (decide != null) {
            decide.close(ops().stopTimeout().dividedBy(3));
        }
        if (httpThreads != null) {
            httpThreads.shutdownNow();
        }
        if (producer != null) {
            producer.close(Duration.ofSeconds(10));
        }
        if (sender != null) {
            sender.shutdownNow();
        }
        LOG.info("alerting stopped after {} alerts read and {} commits",
                current.stream().mapToLong(ReceiverConsumer::consumed).max().orElse(0),
                current.stream().mapToLong(ReceiverConsumer::commits).sum());
    }
}
