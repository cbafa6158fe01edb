package io.fleetpulse.alerting;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.runtime.DaemonThreads;
import io.fleetpulse.runtime.ManagedService;
import io.fleetpulse.runtime.config.ConfigKey;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.DeadLetters;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.schemas.UndecodableRecordException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
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
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToLongFunction;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
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
 * generic webhooks), at least once, auditing every attempt on fleet.notifications.
 *
 * <p>One consumer thread polls a batch, asks the {@link Router} who gets each event, and hands notifications to one
 * {@link DeliveryWorker} per receiver. While the batch is in flight its partitions are paused and the consumer keeps
 * polling (so it stays in the group however long retries take). Offsets are committed only when every notification of
 * the batch is settled (SENT, FAILED or already delivered) and its audit records are acknowledged; a crash in between
 * redelivers the batch, and the {@link DeliveredSet} keeps Slack and webhooks from seeing it twice.
 *
 * <p>The consumer loop is the service's core loop: when it dies (an exception, an audit or dead-letter record the
 * broker did not acknowledge, the member expelled from its group) the service turns FAILED with the batch in flight
 * uncommitted, and the process exits non-zero so that it is restarted and the batch redelivered.
 */
public final class AlertingService extends ManagedService {

    private static final Logger LOG = LoggerFactory.getLogger(AlertingService.class);
    private static final String NAME = "alerting";
    private static final String CLIENT_ID = "fleetpulse-alerting";
    private static final int MAX_BATCH = 200;
    private static final Duration IDLE_POLL = Duration.ofMillis(200);
    private static final Duration BUSY_POLL = Duration.ofMillis(50);
    private static final Duration PRUNE_EVERY = Duration.ofMinutes(10);
    private static final Duration REBUILD_TIMEOUT = Duration.ofMinutes(2);

    /** Every key the service reads: ops and Kafka keys, then the alerting ones. */
    public static final List<ConfigKey<?>> KEYS = ManagedService.keysWith(AlertingSettings.KEYS);

    private final AlertingSettings alerting;
    private final DeliveredSet delivered;
    private final Counter alertsConsumed;
    private final AtomicLong deadLettered = new AtomicLong();
    private final AtomicLong batchesCommitted = new AtomicLong();
    private volatile boolean running;
    private volatile boolean assigned;
    /** Filled once by startUp, read by /status and the counters; empty before. */
    private volatile Map<String, DeliveryWorker> workers = Map.of();

    private KafkaProducer<byte[], byte[]> producer;
    private ExecutorService httpThreads;
    private Router router;
    private KafkaConsumer<byte[], byte[]> consumer;
    private volatile Thread loop;
    /** Touched only by the loop thread (including inside rebalance callbacks, which run on it). */
    private Batch inFlight;
    /** Set by the rebalance listener when the group expelled this member; the loop then dies. */
    private Collection<TopicPartition> lost;

    public AlertingService(Settings settings) {
        this(settings, Clock.systemUTC());
    }

    AlertingService(Settings settings, Clock clock) {
        super(NAME, settings, clock);
        this.alerting = AlertingSettings.from(settings);
        this.delivered = new DeliveredSet(alerting.groupId(), alerting.deliveredLookback());
        this.alertsConsumed = Counter.builder(meters().name("alerts.consumed"))
                .description("alert events read from fleet.alerts").register(meterRegistry());
        Gauge.builder(meters().name("notifications.in.flight"), this, s -> s.workers.values().stream()
                        .mapToInt(DeliveryWorker::inFlight).sum())
                .description("notifications queued or being delivered").register(meterRegistry());
        Gauge.builder(meters().name("delivered.set.size"), delivered, DeliveredSet::size)
                .description("notification ids remembered as delivered").register(meterRegistry());
    }

    @Override
    protected void startUp(Instant deadline) {
        List<Receiver> receivers = alerting.receivers();
        if (receivers.isEmpty()) {
            LOG.warn("alerting has no receivers configured: alert events are read and counted, nothing is sent");
        } else {
            LOG.info("alerting receivers: {}", receivers.stream().map(Receiver::describe).toList());
        }
        producer = new KafkaProducer<>(kafka().producer(CLIENT_ID + "-audit"), new ByteArraySerializer(),
                new ByteArraySerializer());
        meters().bindKafkaClient(producer);
        rebuildDeliveredSet(deadline);

        httpThreads = Executors.newCachedThreadPool(DaemonThreads.named("fleetpulse-alerting-http"));
        HttpClient http = HttpClient.newBuilder()
                .connectTimeout(alerting.httpTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .executor(httpThreads)
                .build();
        RetryPolicy policy = new RetryPolicy(alerting.retryLimits(), () -> ThreadLocalRandom.current().nextDouble());
        Map<String, DeliveryWorker> byName = new LinkedHashMap<>();
        for (Receiver receiver : receivers) {
            byName.put(receiver.name(), new DeliveryWorker(receiver, alerting.groupId(), http, alerting.httpTimeout(), policy,
                    TokenBucket.perSecond(alerting.ratePerSecond(receiver.type())), delivered, this::audit, clock(), meters()));
        }
        workers = Collections.unmodifiableMap(byName);
        router = new Router(receivers, alerting.groupId(), delivered::contains);

        Map<String, Object> props = kafka().consumer(alerting.groupId(), CLIENT_ID);
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, MAX_BATCH);
        consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        meters().bindKafkaClient(consumer);
        running = true;
        loop = startCoreThread("consumer", this::consume);
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

    // ---------------------------------------------------------------- the consumer loop

    /** The core loop: returns when shutDown asks it to; anything it throws fails the service (see ManagedService). */
    private void consume() {
        try {
            consumer.subscribe(List.of(Topics.ALERTS.name()), new Rebalance());
            Instant nextPrune = clock().instant().plus(PRUNE_EVERY);
            while (running) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(inFlight == null ? IDLE_POLL : BUSY_POLL);
                if (lost != null) {
                    throw new IllegalStateException("expelled from consumer group " + alerting.groupId()
                            + " (partitions " + lost + " lost: no poll or heartbeat within the group's timeouts); "
                            + "what was not committed is redelivered to their next owner");
                }
                if (!records.isEmpty()) {
                    if (inFlight == null) {
                        inFlight = dispatch(records);
                        consumer.pause(consumer.assignment());
                    } else {
                        // Only a partition assigned mid-batch can deliver here; read it again after this batch.
                        rewind(records);
                    }
                }
                if (inFlight != null && inFlight.isDone()) {
                    finish(inFlight);
                }
                if (clock().instant().isAfter(nextPrune)) {
                    delivered.prune(clock().instant());
                    nextPrune = clock().instant().plus(PRUNE_EVERY);
                }
            }
            settleOnShutdown();
        } finally {
            assigned = false;
            try {
                consumer.close(Duration.ofSeconds(10));
            } catch (RuntimeException e) {
                LOG.warn("error closing the alerts consumer", e);
            }
        }
    }

    /** Routes each record of the batch and hands its notifications to the receivers' workers. */
    private Batch dispatch(ConsumerRecords<byte[], byte[]> records) {
        Batch batch = new Batch();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            batch.offsets.put(new TopicPartition(record.topic(), record.partition()),
                    new OffsetAndMetadata(record.offset() + 1));
            alertsConsumed.increment();
            AlertEvent event;
            try {
                event = Topics.ALERTS.valueSerde().deserializer().deserialize(record.topic(), record.value());
            } catch (UndecodableRecordException e) {
                batch.pending.add(deadLetter(record, DeadLetters.UNDECODABLE, e.getMessage()));
                continue;
            }
            String invalid = invalidReason(event);
            if (invalid != null) {
                batch.pending.add(deadLetter(record, DeadLetters.INVALID, invalid));
                continue;
            }
            Router.Routing routing = router.route(event);
            routing.alreadyDelivered().forEach(n -> workers.get(n.receiver().name()).countSkipped());
            for (Notification notification : routing.deliver()) {
                batch.pending.add(workers.get(notification.receiver().name()).submit(notification));
            }
        }
        return batch;
    }

    /** Why an event cannot be delivered, or null when it can. */
    static String invalidReason(AlertEvent event) {
        if (event == null) {
            return "empty value (tombstone) on " + Topics.ALERTS.name();
        }
        if (event.getFingerprint() == null || event.getFingerprint().isBlank()) {
            return "alert event without a fingerprint";
        }
        if (event.getTargetId() == null || event.getTargetId().isBlank()) {
            return "alert event without a targetId";
        }
        if (event.getState() != AlertState.FIRING && event.getState() != AlertState.RESOLVED) {
            return "alert state " + event.getState() + " is not published on " + Topics.ALERTS.name()
                    + " (only FIRING and RESOLVED)";
        }
        return null;
    }

    private CompletableFuture<?> deadLetter(ConsumerRecord<byte[], byte[]> record, String reason, String error) {
        deadLettered.incrementAndGet();
        Counter.builder(meters().name("dead.letters")).tag("reason", reason)
                .description("alert events sent to fleet.dlq, by reason").register(meterRegistry()).increment();
        LOG.warn("{}-{}@{} sent to {}: {} ({})", record.topic(), record.partition(), record.offset(),
                Topics.DLQ.name(), reason, error);
        var letter = DeadLetters.of(NAME, record.topic(), record.partition(), record.offset(), record.key(),
                record.value(), reason, error, clock().instant());
        return send(new ProducerRecord<>(Topics.DLQ.name(), record.key(),
                Topics.DLQ.valueSerde().serializer().serialize(Topics.DLQ.name(), letter)));
    }

    /** The audit log the workers write to: fleet.notifications keyed by fingerprint. */
    private CompletableFuture<?> audit(NotificationRecord record) {
        return send(new ProducerRecord<>(Topics.NOTIFICATIONS.name(),
                record.getFingerprint().getBytes(StandardCharsets.UTF_8),
                Topics.NOTIFICATIONS.valueSerde().serializer().serialize(Topics.NOTIFICATIONS.name(), record)));
    }

    /** A send whose future completes when the broker has acknowledged it; never throws. */
    private CompletableFuture<?> send(ProducerRecord<byte[], byte[]> record) {
        CompletableFuture<Void> acked = new CompletableFuture<>();
        try {
            producer.send(record, (metadata, e) -> {
                if (e != null) {
                    acked.completeExceptionally(e);
                } else {
                    acked.complete(null);
                }
            });
        } catch (RuntimeException e) {
            acked.completeExceptionally(e);
        }
        return acked;
    }

    /** Commits the batch if every notification settled and every audit record was acknowledged. */
    private void finish(Batch batch) {
        inFlight = null;
        switch (batch.outcome()) {
            case COMMIT -> {
                consumer.commitSync(batch.offsets);
                batchesCommitted.incrementAndGet();
            }
            case ABANDONED -> LOG.info("shutdown interrupted deliveries of a batch of {} partitions; not committed, "
                    + "it is redelivered after restart", batch.offsets.size());
            default -> throw new IllegalStateException("an audit or dead-letter record was not acknowledged; "
                    + "stopping without committing so the batch is redelivered", batch.failure());
        }
        consumer.resume(consumer.assignment());
    }

    private void settleOnShutdown() {
        if (inFlight == null) {
            return;
        }
        // Two thirds of ops.stop.timeout for the deliveries in flight, the rest to commit and close.
        if (!inFlight.await(ops().stopTimeout().multipliedBy(2).dividedBy(3))) {
            workers.values().forEach(w -> w.shutdown(Duration.ZERO));
            inFlight.await(Duration.ofSeconds(10));
        }
        if (inFlight.isDone()) {
            finish(inFlight);
        }
    }

    private void rewind(ConsumerRecords<byte[], byte[]> records) {
        for (TopicPartition tp : records.partitions()) {
            consumer.seek(tp, records.records(tp).get(0).offset());
        }
        consumer.pause(records.partitions());
    }

    private final class Rebalance implements ConsumerRebalanceListener {

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            assigned = true;
            if (inFlight != null) {
                consumer.pause(partitions);
            }
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            // Still the owner here: settle and commit the batch so the next owner does not redo it.
            if (inFlight != null && !partitions.isEmpty()) {
                if (running) {
                    inFlight.await(null);
                } else {
                    settleOnShutdown();
                    return;
                }
                finish(inFlight);
            }
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            // The group expelled this member: another owns the partitions, so committing would fail. The batch in
            // flight is left uncommitted (its deliveries still finish and are audited) and the loop dies, so the
            // process restarts instead of carrying on as a member that missed its deadlines.
            assigned = false;
            lost = List.copyOf(partitions);
            inFlight = null;
        }
    }

    /** One poll's worth of records in delivery. */
    private static final class Batch {
        enum Outcome { COMMIT, ABANDONED, BROKEN }

        final Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        final List<CompletableFuture<?>> pending = new ArrayList<>();

        boolean isDone() {
            return pending.stream().allMatch(CompletableFuture::isDone);
        }

        /** Waits until done, at most {@code timeout} (null: no limit); false if it timed out. */
        boolean await(Duration timeout) {
            CompletableFuture<Void> all = CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new));
            try {
                if (timeout == null) {
                    all.get();
                } else {
                    all.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                }
                return true;
            } catch (ExecutionException e) {
                return true; // done, with a failure finish() reports
            } catch (TimeoutException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }

        Outcome outcome() {
            if (failure() != null) {
                return Outcome.BROKEN;
            }
            boolean abandoned = pending.stream().map(CompletableFuture::join)
                    .anyMatch(r -> r == DeliveryWorker.Result.ABANDONED);
            return abandoned ? Outcome.ABANDONED : Outcome.COMMIT;
        }

        Throwable failure() {
            for (CompletableFuture<?> f : pending) {
                if (f.isCompletedExceptionally()) {
                    try {
                        f.join();
                    } catch (RuntimeException e) {
                        return e.getCause() == null ? e : e.getCause();
                    }
                }
            }
            return null;
        }
    }

    // ---------------------------------------------------------------- readiness and observation

    /** Ready: the consumer loop runs and the group has given this member its partitions. */
    @Override
    protected boolean ready() {
        return running && assigned && loop != null && loop.isAlive();
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
        return workers.values().stream().filter(w -> w.receiver().type().id().equals(type)).mapToLong(count).sum();
    }

    /** Receivers as configured (endpoints masked) with their counters; the kernel adds state and settings. */
    @Override
    protected Map<String, Object> details() {
        Map<String, Map<String, Long>> byType = new LinkedHashMap<>();
        List<Map<String, Object>> receivers = new ArrayList<>();
        Map<String, DeliveryWorker> current = workers;
        for (Receiver receiver : alerting.receivers()) {
            Map<String, Object> shown = new LinkedHashMap<>();
            shown.put("name", receiver.name());
            shown.put("type", receiver.type().id());
            shown.put("endpoint", receiver.describe());
            DeliveryWorker worker = current.get(receiver.name());
            if (worker != null) {
                Map<String, Long> counts = byType.computeIfAbsent(receiver.type().id(), t -> new LinkedHashMap<>());
                counts.merge("sent", worker.sentCount(), Long::sum);
                counts.merge("retried", worker.retriedCount(), Long::sum);
                counts.merge("failed", worker.failedCount(), Long::sum);
                counts.merge("skipped", worker.skippedCount(), Long::sum);
                shown.putAll(Map.of("sent", worker.sentCount(), "retried", worker.retriedCount(),
                        "failed", worker.failedCount(), "skipped", worker.skippedCount(), "inFlight", worker.inFlight()));
                shown.put("lastError", Objects.toString(worker.lastError(), null));
            }
            receivers.add(shown);
        }
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("notifications", byType);
        details.put("receivers", receivers);
        details.put("inFlight", current.values().stream().mapToInt(DeliveryWorker::inFlight).sum());
        details.put("alertsConsumed", (long) alertsConsumed.count());
        details.put("deadLettered", deadLettered.get());
        details.put("batchesCommitted", batchesCommitted.get());
        details.put("deliveredSetSize", delivered.size());
        details.put("lastDeliveryError", current.values().stream().map(DeliveryWorker::lastError)
                .filter(Objects::nonNull).max(Comparator.comparing(DeliveryWorker.LastError::at))
                .map(Object::toString).orElse(null));
        return details;
    }

    /**
     * Finishes the batch in flight (within ops.stop.timeout), commits it, then closes in reverse order of
     * opening: consumer loop, delivery workers, HTTP threads, producer (which flushes the audit records). Copes with
     * a start that got only part of the way, and with a loop that already died.
     */
    @Override
    protected void shutDown() {
        running = false;
        if (loop != null) {
            try {
                loop.join(ops().stopTimeout().toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        } else if (consumer != null) {
            consumer.close(Duration.ofSeconds(10)); // opened by a start that failed before the loop took it over
        }
        workers.values().forEach(w -> w.shutdown(Duration.ofSeconds(1)));
        if (httpThreads != null) {
            httpThreads.shutdownNow();
        }
        if (producer != null) {
            producer.close(Duration.ofSeconds(10));
        }
        LOG.info("alerting stopped after {} alerts and {} committed batches", (long) alertsConsumed.count(),
                batchesCommitted.get());
    }
}
