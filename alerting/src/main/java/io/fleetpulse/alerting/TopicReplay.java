package io.fleetpulse.alerting;

import io.fleetpulse.runtime.text.Durations;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads a topic from a point in time to its end as it is now, with an unsubscribed consumer (no group, no commits):
 * how the delivered set is rebuilt and how FAILED notifications and their alert events are found again.
 */
final class TopicReplay {

    private TopicReplay() {
    }

    /**
     * Hands every record of {@code topic} whose timestamp is at or after {@code since}, up to the end offsets taken
     * at the start, to {@code each}; returns how many. Fails when the topic is missing or not read within
     * {@code timeout}.
     */
    static <K, V> long read(Consumer<K, V> consumer, String topic, Instant since, Duration timeout,
                            java.util.function.Consumer<ConsumerRecord<K, V>> each) {
        List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        if (partitions.isEmpty()) {
            throw new IllegalStateException("topic " + topic + " does not exist; create the contract topics first "
                    + "(fleetpulse topics create)");
        }
        consumer.assign(partitions);
        Map<TopicPartition, Long> query = new HashMap<>();
        partitions.forEach(tp -> query.put(tp, Math.max(0, since.toEpochMilli())));
        Map<TopicPartition, OffsetAndTimestamp> starts = consumer.offsetsForTimes(query);
        Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
        for (TopicPartition tp : partitions) {
            OffsetAndTimestamp start = starts.get(tp);
            consumer.seek(tp, start == null ? ends.get(tp) : start.offset());
        }
        long read = 0;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!caughtUp(consumer, partitions, ends)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("could not read " + topic + " since " + since + " within "
                        + Durations.format(timeout));
            }
            for (ConsumerRecord<K, V> record : consumer.poll(Duration.ofMillis(200))) {
                read++;
                each.accept(record);
            }
        }
        return read;
    }

    private static boolean caughtUp(Consumer<?, ?> consumer, List<TopicPartition> partitions,
                                    Map<TopicPartition, Long> ends) {
        for (TopicPartition tp : partitions) {
            if (consumer.position(tp) < ends.get(tp)) {
                return false;
            }
        }
        return true;
    }
}
