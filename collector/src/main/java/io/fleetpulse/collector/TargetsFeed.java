package io.fleetpulse.collector;

import io.fleetpulse.events.Target;
import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.text.Durations;
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
import org.apache.kafka.common.errors.InvalidSessionTimeoutException;
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
     * @param sessionTimeout how long a silent instance keeps its partitions (most of what a dead one's targets wait),
     *                       or null until {@link #sizedFor} derives it
     * @param instanceId     a static member id, or null: a static member leaves no group on close, so a restart within
     *                       the session timeout keeps its partitions (and a crash and a clean stop look alike)
     */
    record Group(String id, Duration sessionTimeout, String instanceId) {

        /** The longest session timeout derived: longer only buys tolerance of pauses, at the cost of every handover. */
        static final Duration LONGEST_DERIVED_SESSION_TIMEOUT = Duration.ofSeconds(10);

        /**
         * This group with a session timeout fit for targets polled every {@code shortestInterval} or slower: a dead
         * instance's targets must move (session timeout, a heartbeat, the rebalance, a tenth of an interval) within
         * one interval. Unset, it is half the shortest interval, at most {@link #LONGEST_DERIVED_SESSION_TIMEOUT}; set
         * longer than the shortest interval, it is refused.
         *
         * @throws ConfigException naming {@code collector.inventory.group.session.timeout}
         */
        Group sizedFor(Duration shortestInterval) {
            if (sessionTimeout == null) {
                Duration half = shortestInterval.dividedBy(2);
                return new Group(id, half.compareTo(LONGEST_DERIVED_SESSION_TIMEOUT) < 0 ? half
                        : LONGEST_DERIVED_SESSION_TIMEOUT, instanceId);
            }
            if (sessionTimeout.compareTo(shortestInterval) > 0) {
                String key = CollectorSettings.INVENTORY_GROUP_SESSION_TIMEOUT.name();
                throw new ConfigException(key, "'" + key + "' is " + Durations.format(sessionTimeout)
                        + ": expected at most the shortest interval known at start ("
                        + Durations.format(shortestInterval) + ", of collector.poll.interval and the inventory), or a "
                        + "dead instance's targets would miss more than one poll; leave it unset to derive it");
            }
            return this;
        }

        /** A third of the session timeout, as Kafka advises, so one lost heartbeat does not end a session. */
        Duration heartbeatInterval() {
            return Duration.ofMillis(Math.max(1, sessionTimeout.toMillis() / 3));
        }
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
    private volatile Throwable died;

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
            props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, (int) group.heartbeatInterval().toMillis());
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

    /**
     * Starts following the topic; returns once everything on it at start has been applied (true), or after
     * {@code timeout} (false).
     *
     * @throws RuntimeException what stopped the feed first, at once (a session timeout the broker refuses, say)
     */
    boolean start(Duration timeout) throws InterruptedException {
        thread.start();
        boolean done = caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        Throwable cause = died;
        if (cause instanceof RuntimeException e) {
            throw e;
        }
        if (cause != null) {
            throw new IllegalStateException("the targets feed died: " + cause, cause);
        }
        return done;
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
        } catch (InvalidSessionTimeoutException e) {
            String key = CollectorSettings.INVENTORY_GROUP_SESSION_TIMEOUT.name();
            die(new ConfigException(key, "the broker refused the session timeout " + Durations.format(group.sessionTimeout())
                    + " of group '" + group.id() + "' (" + e.getMessage() + "): set '" + key + "' within the broker's "
                    + "group.min.session.timeout.ms and group.max.session.timeout.ms (6 s to 30 min by default), or "
                    + "lower the broker's minimum for intervals that short"));
        } catch (RuntimeException | Error e) {
            die(e);
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    /** Ends the feed: a start still waiting throws {@code cause}, a running service is told. */
    private void die(Throwable cause) {
        if (closing) {
            return;
        }
        died = cause;
        if (caughtUp.getCount() > 0) {
            caughtUp.countDown(); // the start throws it, no need to fail a service that is not running yet
        } else {
            onDeath.accept(cause);
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
