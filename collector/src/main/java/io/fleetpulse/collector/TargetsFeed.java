package io.fleetpulse.collector;

import io.fleetpulse.events.Target;
import io.fleetpulse.schemas.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live inventory: follows the compacted {@code fleet.targets} topic from its beginning and tells the scheduler
 * of every change, so a target added there (by {@code fleetpulse targets add}, another collector's YAML) is polled
 * within one interval and a tombstoned one is no longer polled, without a restart.
 *
 * <p>Every partition is assigned, not subscribed: each collector with the live inventory polls every target on the
 * topic. A record whose value cannot be read is skipped with a warning (counted in {@link #unreadable()}): the
 * topic's producers are ours, and one bad record must not stop the polling of all the others.
 */
final class TargetsFeed implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TargetsFeed.class);

    /** Where the feed's changes go, on the feed's thread; must not block. */
    interface Changes {
        void update(Target target);

        void remove(String targetId);
    }

    private final KafkaConsumer<String, byte[]> consumer;
    private final Changes changes;
    private final Consumer<Throwable> onDeath;
    private final Thread thread;
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private final AtomicLong unreadable = new AtomicLong();
    private final AtomicLong applied = new AtomicLong();
    private volatile boolean closing;

    TargetsFeed(Map<String, Object> consumerProps, Changes changes, Consumer<Throwable> onDeath) {
        Map<String, Object> props = new HashMap<>(consumerProps);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.remove(ConsumerConfig.GROUP_ID_CONFIG); // assigned, not subscribed: no group, nothing committed
        this.consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
        this.changes = changes;
        this.onDeath = onDeath;
        this.thread = new Thread(this::run, "collector-targets-feed");
        this.thread.setDaemon(true);
    }

    /** Starts following the topic; returns once everything on it at start has been applied, or after {@code timeout}. */
    boolean start(Duration timeout) throws InterruptedException {
        thread.start();
        return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Target records and tombstones applied since start. */
    long applied() {
        return applied.get();
    }

    /** Records whose value could not be read as a {@code Target}. */
    long unreadable() {
        return unreadable.get();
    }

    private void run() {
        try {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.TARGETS.name(), Duration.ofMinutes(1)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (!closing) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    apply(record);
                }
                if (caughtUp.getCount() > 0 && partitions.stream().allMatch(p -> consumer.position(p) >= end.get(p))) {
                    caughtUp.countDown();
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException | Error e) {
            if (!closing) {
                onDeath.accept(e);
            }
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    private void apply(ConsumerRecord<String, byte[]> record) {
        if (record.key() == null) {
            return;
        }
        if (record.value() == null) {
            changes.remove(record.key());
            applied.incrementAndGet();
            return;
        }
        Target target;
        try {
            target = Topics.TARGETS.valueSerde().deserializer().deserialize(record.topic(), record.value());
        } catch (RuntimeException e) {
            unreadable.incrementAndGet();
            LOG.warn("skipped an unreadable target record {} at {}-{}@{}: {}", record.key(), record.topic(),
                    record.partition(), record.offset(), e.getMessage());
            return;
        }
        changes.update(target);
        applied.incrementAndGet();
    }

    @Override
    public void close() throws InterruptedException {
        closing = true;
        if (!thread.isAlive() && thread.getState() == Thread.State.NEW) {
            consumer.close(Duration.ofSeconds(5));
            return;
        }
        consumer.wakeup();
        thread.join(TimeUnit.SECONDS.toMillis(10));
    }
}
