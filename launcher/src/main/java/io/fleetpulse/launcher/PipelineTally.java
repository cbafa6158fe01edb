package io.fleetpulse.launcher;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.schemas.Topic;
import io.fleetpulse.schemas.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Counts what the pipeline produces from the moment the tally is created, the way a downstream consumer sees it:
 * committed records only. Create it before the pipeline starts: on a data folder kept from earlier runs the
 * topics already hold their records, and those are not this run's.
 *
 * <p>Windows, alerts and dead letters are written transactionally, so their end offsets include transaction
 * markers; they are counted by reading. Checks and metrics come from a plain producer, so end offsets are exact.
 */
public final class PipelineTally implements AutoCloseable {

    private static final List<Topic<?, ?>> READ = List.of(Topics.AGGREGATES_1M, Topics.ALERTS, Topics.DLQ);
    private static final List<Topic<?, ?>> BY_OFFSET = List.of(Topics.CHECKS, Topics.METRICS);

    private final Admin admin;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final List<TopicPartition> readPartitions;
    private final Map<TopicPartition, Long> positions = new ConcurrentHashMap<>();
    private final Map<String, Long> baseline;
    private final Thread thread;
    private final AtomicLong windows = new AtomicLong();
    private final AtomicLong fired = new AtomicLong();
    private final AtomicLong resolved = new AtomicLong();
    private final Map<String, AtomicLong> deadLetters = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> firedByKind = new ConcurrentHashMap<>();
    private final Function<String, String> kindOfRule;
    private volatile boolean running = true;

    /**
     * Starts counting at the current end of every topic; the topics must exist.
     *
     * @param kindOfRule the rule kind of a rule id, for counting fired alerts by kind
     */
    public PipelineTally(String bootstrapServers, Function<String, String> kindOfRule) throws Exception {
        this.kindOfRule = kindOfRule;
        this.admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers));
        this.consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.CLIENT_ID_CONFIG, "fleetpulse-tally"),
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
        try {
            readPartitions = READ.stream()
                    .flatMap(t -> consumer.partitionsFor(t.name()).stream().map(p -> new TopicPartition(t.name(), p.partition())))
                    .toList();
            consumer.assign(readPartitions);
            consumer.seekToEnd(readPartitions);
            // Resolve the lazy seek now, before the pipeline writes anything this run should count.
            readPartitions.forEach(tp -> positions.put(tp, consumer.position(tp)));
            baseline = BY_OFFSET.stream().collect(Collectors.toMap(Topic::name, this::endOffsetsUnchecked));
        } catch (Exception e) {
            consumer.close(CloseOptions.timeout(Duration.ZERO));
            admin.close(Duration.ZERO);
            throw e;
        }
        this.thread = new Thread(this::run, "pipeline-tally");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try {
            while (running) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(250))) {
                    count(record);
                }
                readPartitions.forEach(tp -> positions.put(tp, consumer.position(tp)));
                synchronized (positions) {
                    positions.notifyAll();
                }
            }
        } catch (WakeupException e) {
            // closing
        } finally {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(2)));
        }
    }

    private void count(ConsumerRecord<byte[], byte[]> record) {
        String topic = record.topic();
        if (topic.equals(Topics.AGGREGATES_1M.name())) {
            windows.incrementAndGet();
        } else if (topic.equals(Topics.ALERTS.name())) {
            AlertEvent alert = Topics.ALERTS.valueSerde().deserializer().deserialize(topic, record.value());
            if (alert.getState() == AlertState.RESOLVED) {
                resolved.incrementAndGet();
            } else {
                fired.incrementAndGet();
                firedByKind.computeIfAbsent(kindOfRule.apply(alert.getRuleId()), k -> new AtomicLong()).incrementAndGet();
            }
        } else if (topic.equals(Topics.DLQ.name())) {
            DeadLetter dead = Topics.DLQ.valueSerde().deserializer().deserialize(topic, record.value());
            deadLetters.computeIfAbsent(dead.getReason(), r -> new AtomicLong()).incrementAndGet();
        }
    }

    /**
     * Waits until everything committed so far on the read topics has been counted: call it after the pipeline
     * closed, so the summary includes the last transactions.
     *
     * @throws TimeoutException when the tally is still behind after {@code timeout}
     */
    public void awaitCaughtUp(Duration timeout) throws Exception {
        Map<TopicPartition, OffsetSpec> request = readPartitions.stream()
                .collect(Collectors.toMap(tp -> tp, tp -> OffsetSpec.latest()));
        Map<TopicPartition, Long> committedEnd = admin.listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                .all().get(timeout.toMillis(), TimeUnit.MILLISECONDS).entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (positions) {
            while (!committedEnd.entrySet().stream().allMatch(e -> positions.getOrDefault(e.getKey(), -1L) >= e.getValue())) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0 || !thread.isAlive()) {
                    throw new TimeoutException("the tally did not catch up with " + committedEnd + " within " + timeout);
                }
                positions.wait(Math.min(left, 500));
            }
        }
    }

    public long windows() {
        return windows.get();
    }

    public long alertsFired() {
        return fired.get();
    }

    public long alertsResolved() {
        return resolved.get();
    }

    /** FIRING events by the kind of their rule (threshold, error_rate, absence, ...). */
    public Map<String, Long> firedByKind() {
        return snapshot(firedByKind);
    }

    public Map<String, Long> deadLettersByReason() {
        return snapshot(deadLetters);
    }

    private static Map<String, Long> snapshot(Map<String, AtomicLong> counts) {
        return new TreeMap<>(counts.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().get())));
    }

    public long deadLetters() {
        return deadLetters.values().stream().mapToLong(AtomicLong::get).sum();
    }

    /** Records this run added to a non-transactional topic (checks, metrics), from its end offsets. */
    public long records(Topic<?, ?> topic) throws Exception {
        return recordsInTopic(topic) - baseline.getOrDefault(topic.name(), 0L);
    }

    /** Records ever written to a non-transactional topic, earlier runs included. */
    public long recordsInTopic(Topic<?, ?> topic) throws Exception {
        return endOffsets(topic);
    }

    private long endOffsetsUnchecked(Topic<?, ?> topic) {
        try {
            return endOffsets(topic);
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the end offsets of " + topic.name() + ": " + e.getMessage(), e);
        }
    }

    private long endOffsets(Topic<?, ?> topic) throws Exception {
        var partitions = admin.describeTopics(List.of(topic.name())).allTopicNames().get().get(topic.name()).partitions();
        Map<TopicPartition, OffsetSpec> request = partitions.stream()
                .collect(Collectors.toMap(p -> new TopicPartition(topic.name(), p.partition()), p -> OffsetSpec.latest()));
        return admin.listOffsets(request).all().get().values().stream().mapToLong(o -> o.offset()).sum();
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        admin.close(Duration.ofSeconds(2));
    }
}
