package io.fleetpulse.stream.replay;

import java.util.HashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.Configurable;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.FailOnInvalidTimestamp;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * Where a replay's input ends: the Streams timestamp extractor of a replay, which skips every record at or past its
 * partition's end offset (the first offset at {@code --to}) and gives the others their record timestamp, as the live
 * run's default extractor does. Skipping here, rather than in a step of the topology, keeps the replayed topology
 * exactly the live one; Streams drops a record whose extracted timestamp is negative before any processor sees it.
 */
public final class ReplayBound implements TimestampExtractor, Configurable {

    /** The end offsets, as {@code topic:partition=offset,...}: Streams hands its extractor only its configuration. */
    public static final String END_OFFSETS_CONFIG = "fleetpulse.replay.end.offsets";

    private static final long SKIP = -1;
    private final FailOnInvalidTimestamp live = new FailOnInvalidTimestamp();
    private Map<TopicPartition, Long> ends = Map.of();

    /** The Streams properties that bound a run to {@code ends}; partitions not named are not bounded. */
    public static Map<String, Object> properties(Map<TopicPartition, Long> ends) {
        String encoded = ends.entrySet().stream()
                .map(e -> e.getKey().topic() + ":" + e.getKey().partition() + "=" + e.getValue())
                .collect(Collectors.joining(","));
        return Map.of(StreamsConfig.DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG, ReplayBound.class,
                END_OFFSETS_CONFIG, encoded);
    }

    @Override
    public void configure(Map<String, ?> configs) {
        Object encoded = configs.get(END_OFFSETS_CONFIG);
        Map<TopicPartition, Long> parsed = new HashMap<>();
        if (encoded != null && !encoded.toString().isBlank()) {
            for (String entry : encoded.toString().split(",")) {
                // Topic names hold neither ':' nor '=', so the last of each splits unambiguously.
                int colon = entry.lastIndexOf(':');
                int equals = entry.lastIndexOf('=');
                parsed.put(new TopicPartition(entry.substring(0, colon), Integer.parseInt(entry.substring(colon + 1, equals))),
                        Long.parseLong(entry.substring(equals + 1)));
            }
        }
        ends = Map.copyOf(parsed);
    }

    @Override
    public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
        Long end = ends.get(new TopicPartition(record.topic(), record.partition()));
        if (end != null && record.offset() >= end) {
            return SKIP;
        }
        return live.extract(record, partitionTime);
    }
}
