package io.fleetpulse.collector;

import io.fleetpulse.events.Target;
import io.fleetpulse.schemas.Topics;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
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
 * <p>Without a group every partition is assigned: the collector polls every target on the topic. With a group
 * ({@link Group}) the instances share the partitions: each rebuilds the targets of a partition it is assigned from the
 * partition's beginning (nothing is committed: the compacted topic is the state) and drops them when the partition is
 * revoked or lost. The cooperative sticky assignor moves only the partitions that must move, so a rebalance does not
 * stop and restart the polling of the partitions an instance keeps. A record whose value cannot be read is skipped with a warning (counted in {@link #unreadable()}): the
 * topic's producers are ours, and one bad record must not stop the polling of all the others.
 */
final class TargetsFeed implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TargetsFeed.class);

    /** Where the feed's changes go, on the feed's thread; must not block. */
    interface Changes {
        /** @param soon whether it should be polled soon: it arrived after the start (added, or moved here) */
        void update(Target target, boolean soon);

        void remove(String targetId);
    }

    /**
     * A consumer group sharing the targets.
     *
     * @param id             the group's id
     * @param sessionTimeout how long a silent instance keeps its partitions: its targets' longest gap when it dies
     * @param instanceId     a static member id, or null: a static member leaves no group on close, so a restart within
     *                       the session timeout keeps its partitions (and a crash and a clean stop look alike)
     */
    record Group(String id, Duration sessionTimeout, String instanceId) {
    }

    private final KafkaConsumer<String, byte[]> consumer;
    private final Group group;
    // Touched only on the feed's thread (the rebalance listener runs inside poll).
    private final Map<TopicPartition, Set<String>> idsByPartition = new HashMap<>();
    private final Map<TopicPartition, Long> rebuildEnd = new HashMap<>();
    private boolean assigned;
    private final Changes changes;
    private final Consumer<Throwable> onDeath;
    private final Thread thread;
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private final AtomicLong unreadable = new AtomicLong();
    private final AtomicLong applied = new AtomicLong();
    private volatile boolean closing;

    /** @param group the group sharing the targets, or null: this collector polls every target on the topic */
    TargetsFeed(Map<String, Object> consumerProps, Group group, Changes changes, Consumer<Throwable> onDeath) {
        Map<String, Object> props = new HashMap<>(consumerProps);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        if (group != null) {
            props.put(ConsumerConfig.GROUP_ID_CONFIG, group.id());
            props.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
            props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) group.sessionTimeout().toMillis());
            props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, (int) Math.max(100, group.sessionTimeout().toMillis() / 4));
            if (group.instanceId() != null) {
                props.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, group.instanceId());
            }
        }
        this.group = group;
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
            if (group == null) {
                List<TopicPartition> partitions = consumer.partitionsFor(Topics.TARGETS.name(), Duration.ofMinutes(1))
                        .stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
                consumer.assign(partitions);
                rebuild(partitions);
            } else {
                consumer.subscribe(List.of(Topics.TARGETS.name()), new Rebalance());
            }
            while (!closing) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    apply(record);
                }
                rebuildEnd.entrySet().removeIf(e -> consumer.position(e.getKey()) >= e.getValue());
                if (caughtUp.getCount() > 0 && assigned && rebuildEnd.isEmpty()) {
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

    /** Reads {@code partitions} from their beginning: their targets are this instance's now. */
    private void rebuild(Collection<TopicPartition> partitions) {
        consumer.seekToBeginning(partitions);
        rebuildEnd.putAll(consumer.endOffsets(partitions));
        assigned = true;
    }

    /** {@code partitions} are another instance's now (or nobody's): their targets are no longer polled here. */
    private void drop(Collection<TopicPartition> partitions) {
        for (TopicPartition p : partitions) {
            rebuildEnd.remove(p);
            Set<String> ids = idsByPartition.remove(p);
            if (ids != null) {
                ids.forEach(changes::remove);
            }
        }
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            rebuild(partitions);
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            drop(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            drop(partitions);
        }
    }

    private void apply(ConsumerRecord<String, byte[]> record) {
        if (record.key() == null) {
            return;
        }
        TopicPartition partition = new TopicPartition(record.topic(), record.partition());
        if (record.value() == null) {
            Set<String> ids = idsByPartition.get(partition);
            if (ids != null) {
                ids.remove(record.key());
            }
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
        idsByPartition.computeIfAbsent(partition, p -> new HashSet<>()).add(record.key());
        changes.update(target, caughtUp.getCount() == 0);
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
