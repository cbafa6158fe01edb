package io.fleetpulse.stream;

import io.fleetpulse.schemas.Topic;
import io.fleetpulse.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.utils.Utils;

/**
 * How many partitions each source topic has, so the intake can tell a record that sits on a partition its key does
 * not hash to. Per-target state lives in the task of the target's partition: a producer that partitions differently
 * (librdkafka's default {@code consistent_random} is CRC32, not murmur2) puts one target's records in two tasks,
 * which then emit two conflicting "final" windows for the same target and minute. Such a record goes to fleet.dlq as
 * {@value #WRONG_PARTITION} instead of being windowed or fed to the rules.
 *
 * <p>The counts are looked up once, at start ({@link #lookUp}); a topic that gains partitions while the processor
 * runs moves keys to other partitions anyway (co-partitioning breaks), so the processor must be restarted after that.
 *
 * @param counts partitions per source topic name; a topic not in it is not checked
 */
public record SourcePartitions(Map<String, Integer> counts) {

    /** Dead-letter reason: the record is on a partition its key does not hash to. */
    public static final String WRONG_PARTITION = "wrong-partition";

    /** The topics whose records are keyed by targetId and must sit on their key's partition. */
    public static final List<Topic<?, ?>> SOURCES = List.of(Topics.CHECKS, Topics.METRICS, Topics.TARGETS);

    public SourcePartitions {
        counts.forEach((topic, count) -> {
            if (count == null || count < 1) {
                throw new IllegalArgumentException(topic + " must have at least one partition, not " + count);
            }
        });
        counts = Map.copyOf(counts);
    }

    /** Every source topic with {@code count} partitions; one is what a TopologyTestDriver has. */
    public static SourcePartitions of(int count) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        SOURCES.forEach(topic -> counts.put(topic.name(), count));
        return new SourcePartitions(counts);
    }

    /**
     * Asks the broker how many partitions each source topic has.
     *
     * @throws IllegalStateException naming the source topics that do not exist
     */
    public static SourcePartitions lookUp(Admin admin, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, Integer> counts = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, KafkaFuture<TopicDescription>> topic
                : admin.describeTopics(SOURCES.stream().map(Topic::name).toList()).topicNameValues().entrySet()) {
            try {
                long left = Math.max(1, deadline - System.nanoTime());
                counts.put(topic.getKey(), topic.getValue().get(left, TimeUnit.NANOSECONDS).partitions().size());
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw e;
                }
                missing.add(topic.getKey());
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("source topic " + String.join(", ", missing) + (missing.size() == 1
                    ? " does" : " do") + " not exist: create the contract topics (fleetpulse topics create, or "
                    + "kafka.topics.ensure=true)");
        }
        return new SourcePartitions(counts);
    }

    /** Partitions of {@code topic}; 0 when it is not known. */
    public int count(String topic) {
        return counts.getOrDefault(topic, 0);
    }

    /** The partition Kafka's Java default partitioner puts {@code key} on, out of {@code partitions}. */
    public static int partitionOf(byte[] key, int partitions) {
        return Utils.toPositive(Utils.murmur2(key)) % partitions;
    }

    /**
     * What is wrong with a record of {@code topic} with {@code key} sitting on {@code partition}, or null when that
     * is its key's partition (or the topic, or the key, is not checked: a record without a key is refused elsewhere).
     */
    String misplacement(String topic, int partition, byte[] key) {
        Integer count = counts.get(topic);
        if (count == null || key == null) {
            return null;
        }
        int expected = partitionOf(key, count);
        if (expected == partition) {
            return null;
        }
        return "the record is on partition " + partition + " of " + topic + " but its key hashes to partition "
                + expected + " of " + count + " (murmur2, as Kafka's Java default partitioner); per-target topics are "
                + "partitioned by the murmur2 hash of the targetId key (librdkafka: partitioner=murmur2_random)"
                + (partition >= count ? "; the topic has more partitions than at the processor's start: restart it" : "");
    }
}
