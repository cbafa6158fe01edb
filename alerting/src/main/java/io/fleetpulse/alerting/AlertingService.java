package io.fleetpulse.alerting;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.runtime.DaemonThreads;
import io.fleetpulse.runtime.KafkaSettings;
import io.fleetpulse.runtime.Service;
import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.runtime.config.ConfigKey;
import io.fleetpulse.schemas.DeadLetters;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.schemas.UndecodableRecordException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
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
 */
public final class AlertingService implements Service {

    private static final Logger LOG = LoggerFactory.getLogger(AlertingService.class);
    private static final String NAME = "alerting";
    private static final String CLIENT_ID = "fleetpulse-alerting";
    private static final int MAX_BATCH = 200;
    private static final Duration IDLE_POLL = Duration.ofMillis(200);
    private static final Duration BUSY_POLL = Duration.ofMillis(50);
    private static final Duration PRUNE_EVERY = Duration.ofMinutes(10);
    private static final Duration REBUILD_TIMEOUT = Duration.ofMinutes(2);

    /** Every key the service reads, Kafka's included: for docs and the start-up log. */
    public static final List<ConfigKey<?>> KEYS = Stream.concat(KafkaSettings.KEYS.stream(),
            AlertingSettings.KEYS.stream()).toList();

    private final Config config;
    private final AlertingSettings settings;
    private final KafkaSettings kafka;
    private final Clock clock = Clock.systemUTC();
    private final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final DeliveredSet delivered;
    private final Counter alertsConsumed;
    private final AtomicLong deadLettered = new AtomicLong();
    private final AtomicLong batchesCommitted = new AtomicLong();
    private final AtomicReference<String> fatalError = new AtomicReference<>();
    private final AtomicReference<String> state = new AtomicReference<>("created");
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean running;
    private volatile boolean assigned;

    private KafkaProducer<byte[], byte[]> producer;
    private ExecutorService httpThreads;
    private final Map<String, DeliveryWorker> workers = new LinkedHashMap<>();
    private Router router;
    private KafkaConsumer<byte[], byte[]> consumer;
    private Thread loop;
    /** Touched only by the loop thread (including inside rebalance callbacks, which run on it). */
    private Batch inFlight;

    public AlertingService(Config config) {
        this.config = config;
        this.kafka = new KafkaSettings(config);
        this.settings = new AlertingSettings(config);
        config.describe(KEYS); // reads every key once more, so nothing unchecked is left for later
        this.delivered = new DeliveredSet(settings.deliveredLookback);
        this.alertsConsumed = Counter.builder("alerting.alerts.consumed")
                .description("alert events read from fleet.alerts").register(meters);
        Gauge.builder("alerting.notifications.in.flight", this, s -> s.workers.values().stream()
                .mapToInt(DeliveryWorker::inFlight).sum())
                .description("notifications queued or being delivered").register(meters);
        Gauge.builder("alerting.delivered.set.size", delivered, DeliveredSet::size)
                .description("notification ids remembered as delivered").register(meters);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public synchronized void start() {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("already started");
        }
        state.set("starting");
        List<Receiver> receivers = settings.receivers;
        if (receivers.isEmpty()) {
            LOG.warn("alerting has no receivers configured: alert events are read and counted, nothing is sent");
        } else {
            LOG.info("alerting receivers: {}", receivers.stream().map(Receiver::describe).toList());
        }
        LOG.info("alerting settings: {}", config.describe(KEYS));

        producer = new KafkaProducer<>(kafka.producer(CLIENT_ID + "-audit"), new ByteArraySerializer(),
                new ByteArraySerializer());
        rebuildDeliveredSet();

        httpThreads = Executors.newCachedThreadPool(DaemonThreads.named("alerting-http"));
        HttpClient http = HttpClient.newBuilder()
                .connectTimeout(settings.httpTimeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .executor(httpThreads)
                .build();
        RetryPolicy policy = new RetryPolicy(settings.retryLimits, () -> ThreadLocalRandom.current().nextDouble());
        for (Receiver receiver : receivers) {
            workers.put(receiver.name(), new DeliveryWorker(receiver, http, settings.httpTimeout, policy,
                    TokenBucket.perSecond(settings.ratePerSecond), delivered, this::audit, clock, meters));
        }
        router = new Router(receivers, delivered::contains);

        Map<String, Object> props = kafka.consumer(settings.groupId, CLIENT_ID);
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, MAX_BATCH);
        consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        running = true;
        loop = new Thread(this::run, "alerting-consumer");
        loop.setDaemon(true);
        loop.start();
        state.set("running");
    }

    private void rebuildDeliveredSet() {
        Map<String, Object> props = kafka.common(CLIENT_ID + "-delivered-set");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<String, byte[]> reader = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            delivered.rebuild(reader, clock.instant(), REBUILD_TIMEOUT);
        }
    }

    // ---------------------------------------------------------------- the consumer loop

    private void run() {
        try {
            consumer.subscribe(List.of(Topics.ALERTS.name()), new Rebalance());
            Instant nextPrune = clock.instant().plus(PRUNE_EVERY);
            while (running) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(inFlight == null ? IDLE_POLL : BUSY_POLL);
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
                if (clock.instant().isAfter(nextPrune)) {
                    delivered.prune(clock.instant());
                    nextPrune = clock.instant().plus(PRUNE_EVERY);
                }
            }
            settleOnShutdown();
        } catch (RuntimeException e) {
            fatalError.set(clock.instant() + " " + e);
            state.set("failed");
            LOG.error("alerting consumer loop failed; offsets of the open batch are not committed", e);
        } finally {
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
        Counter.builder("alerting.dead.letters").tag("reason", reason)
                .description("alert events sent to fleet.dlq").register(meters).increment();
        LOG.warn("{}-{}@{} sent to {}: {} ({})", record.topic(), record.partition(), record.offset(),
                Topics.DLQ.name(), reason, error);
        var letter = DeadLetters.of(NAME, record.topic(), record.partition(), record.offset(), record.key(),
                record.value(), reason, error, clock.instant());
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
        if (!inFlight.await(settings.shutdownTimeout)) {
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
            // Another member owns them already; committing would fail. Deliveries still finish and are audited.
            if (inFlight != null) {
                LOG.warn("partitions {} lost mid-batch; the new owner redelivers what was not committed", partitions);
                inFlight = null;
                consumer.resume(consumer.assignment());
            }
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

    // ---------------------------------------------------------------- lifecycle and observation

    @Override
    public boolean isLive() {
        return started.get() && !closed.get() && loop != null && loop.isAlive() && fatalError.get() == null;
    }

    @Override
    public boolean isReady() {
        return isLive() && assigned;
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

    private long sum(String receiverType, java.util.function.ToLongFunction<DeliveryWorker> count) {
        String type = receiverType.toLowerCase(Locale.ROOT);
        return workers.values().stream().filter(w -> w.receiver().type().id().equals(type)).mapToLong(count).sum();
    }

    @Override
    public Map<String, Object> status() {
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("state", state.get());
        Map<String, Map<String, Long>> byType = new LinkedHashMap<>();
        List<Map<String, Object>> receivers = new ArrayList<>();
        for (DeliveryWorker worker : workers.values()) {
            Map<String, Long> counts = byType.computeIfAbsent(worker.receiver().type().id(), t -> new LinkedHashMap<>());
            counts.merge("sent", worker.sentCount(), Long::sum);
            counts.merge("retried", worker.retriedCount(), Long::sum);
            counts.merge("failed", worker.failedCount(), Long::sum);
            counts.merge("skipped", worker.skippedCount(), Long::sum);
            Map<String, Object> receiver = new LinkedHashMap<>();
            receiver.put("name", worker.receiver().name());
            receiver.put("type", worker.receiver().type().id());
            receiver.put("endpoint", worker.receiver().describe());
            receiver.put("sent", worker.sentCount());
            receiver.put("retried", worker.retriedCount());
            receiver.put("failed", worker.failedCount());
            receiver.put("skipped", worker.skippedCount());
            receiver.put("inFlight", worker.inFlight());
            receiver.put("lastError", Objects.toString(worker.lastError(), null));
            receivers.add(receiver);
        }
        if (!started.get()) {
            settings.receivers.forEach(r -> receivers.add(Map.of("name", r.name(), "type", r.type().id(),
                    "endpoint", r.describe())));
        }
        status.put("notifications", byType);
        status.put("receivers", receivers);
        status.put("inFlight", workers.values().stream().mapToInt(DeliveryWorker::inFlight).sum());
        status.put("alertsConsumed", (long) alertsConsumed.count());
        status.put("deadLettered", deadLettered.get());
        status.put("batchesCommitted", batchesCommitted.get());
        status.put("deliveredSetSize", delivered.size());
        status.put("lastError", lastError());
        status.put("config", config.describe(KEYS));
        return status;
    }

    /** The loop's fatal error if any, else the most recent failed delivery attempt of any receiver. */
    private String lastError() {
        String fatal = fatalError.get();
        if (fatal != null) {
            return fatal;
        }
        return workers.values().stream().map(DeliveryWorker::lastError).filter(Objects::nonNull)
                .max(Comparator.comparing(DeliveryWorker.LastError::at)).map(Object::toString).orElse(null);
    }

    @Override
    public MeterRegistry meterRegistry() {
        return meters;
    }

    /**
     * Finishes the batch in flight (up to alerting.shutdown.timeout), commits it, then closes in reverse order of
     * opening: consumer loop, delivery workers, HTTP threads, producer (which flushes the audit records).
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        state.set("stopping");
        running = false;
        if (loop != null) {
            try {
                loop.join(settings.shutdownTimeout.plusSeconds(30).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        workers.values().forEach(w -> w.shutdown(Duration.ofSeconds(1)));
        if (httpThreads != null) {
            httpThreads.shutdownNow();
        }
        if (producer != null) {
            producer.close(Duration.ofSeconds(10));
        }
        meters.close();
        state.set(fatalError.get() == null ? "stopped" : "failed");
        LOG.info("alerting stopped after {} alerts and {} committed batches", (long) alertsConsumed.count(),
                batchesCommitted.get());
    }
}
