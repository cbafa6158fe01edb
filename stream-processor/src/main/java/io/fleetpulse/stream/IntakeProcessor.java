package io.fleetpulse.stream;

import io.fleetpulse.runtime.text.Durations;
import io.fleetpulse.schemas.DeadLetters;
import io.fleetpulse.schemas.Topic;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.function.Function;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * The door of an input topic: decodes the raw bytes, checks the contract and turns away what cannot be processed,
 * each with a reason: {@code undecodable} or {@code invalid} (including values outside {@link ValueContract}: NaN,
 * infinities, negative latencies and counters, percentages outside 0 to 100, and an observed-at too far ahead of the
 * record's Kafka timestamp), and {@code wrong-partition} for a record on a partition its key does not hash to
 * ({@link SourcePartitions}). Lateness is not decided here: it is per target, in the {@link WindowEngine}.
 *
 * <p>The observed-at bound is against the record's own broker timestamp, not the processor's clock, so it holds the
 * same in a replay: a target whose clock runs fast would otherwise push its own event time ahead and close its
 * windows early (other targets are safe either way, event time being per target).
 *
 * <p>The key stays the raw bytes it came as (a fixed-key processor): the DLQ gets them unchanged, and since a valid
 * key is exactly the UTF-8 of its targetId, the stream stays partitioned as it was and needs no repartition. The
 * record keeps its Kafka timestamp too: the window engine's store writes carry it, so its changelogs expire by broker
 * time, not by a target's clock.
 */
final class IntakeProcessor<V> implements FixedKeyProcessor<Bytes, byte[], Intake<V>> {

    static final String SERVICE = "stream-processor";

    private final Topic<String, V> topic;
    private final Function<V, String> targetId;
    private final Function<V, Instant> observedAt;
    private final Function<V, String> valueViolation;
    private final long maxAheadMs;
    private final PipelineCounters counters;
    private final SourcePartitions partitions;

    private FixedKeyProcessorContext<Bytes, Intake<V>> context;

    /** @param valueViolation what is wrong with a decoded record's values (naming the field), or null: see {@link ValueContract} */
    IntakeProcessor(Topic<String, V> topic, Function<V, String> targetId, Function<V, Instant> observedAt,
                    Function<V, String> valueViolation, Duration maxAhead, PipelineCounters counters,
                    SourcePartitions partitions) {
        this.topic = topic;
        this.targetId = targetId;
        this.observedAt = observedAt;
        this.valueViolation = valueViolation;
        this.maxAheadMs = maxAhead.toMillis();
        this.counters = counters;
        this.partitions = partitions;
    }

    @Override
    public void init(FixedKeyProcessorContext<Bytes, Intake<V>> context) {
        this.context = context;
    }
    @Override
    public void process(FixedKeyRecord<Bytes, byte[]> record) {
        counters.recordIn(topic.name());
        V value;
        try {
            value = topic.valueSerde().deserializer().deserialize(topic.name(), record.value());
        } catch (RuntimeException e) {
            reject(record, DeadLetters.UNDECODABLE, e.getMessage() == null ? e.toString() : e.getMessage());
            return;
        }
        if (value == null) {
            reject(record, DeadLetters.INVALID, "the record has no value");
            return;
        }
        String id = targetId.apply(value);
        if (id == null || id.isBlank()) {
            reject(record, DeadLetters.INVALID, "targetId is blank");
            return;
        }
        String key = record.key() == null ? null : new String(record.key().get(), StandardCharsets.UTF_8);
        if (record.key() == null || !Arrays.equals(record.key().get(), id.getBytes(StandardCharsets.UTF_8))) {
            reject(record, DeadLetters.INVALID, "the record key " + (key == null ? "is missing" : "'" + key + "'")
                    + " but targetId is '" + id + "'; per-target topics are keyed by targetId");
            return;
        }
        String violation = valueViolation.apply(value);
        if (violation != null) {
            reject(record, DeadLetters.INVALID, violation);
            return;
        }
        long at = observedAt.apply(value).toEpochMilli();
        if (at < 0) {
            reject(record, DeadLetters.INVALID, "observedAt " + Instant.ofEpochMilli(at) + " is before 1970");
            return;
        }
        long recordTimestamp = record.timestamp();
        if (at > recordTimestamp + maxAheadMs) {
            reject(record, DeadLetters.INVALID, "observedAt " + Instant.ofEpochMilli(at) + " is more than "
                    + Durations.format(Duration.ofMillis(maxAheadMs)) + " ahead of the record's Kafka timestamp "
                    + Instant.ofEpochMilli(recordTimestamp) + " (" + TopologySettings.MAX_AHEAD.name() + ")");
            return;
        }
        String misplaced = partitions.misplacement(topic.name(), metadata().partition(), record.key().get());
        if (misplaced != null) {
            reject(record, SourcePartitions.WRONG_PARTITION, misplaced);
            return;
        }
        context.forward(record.withValue(Intake.accepted(value, at, record.value())));
    }

    private void reject(FixedKeyRecord<Bytes, byte[]> record, String reason, String error) {
        counters.deadLetter(reason);
        RecordMetadata meta = metadata();
        var deadLetter = DeadLetters.of(SERVICE, meta.topic(), meta.partition(), meta.offset(),
                record.key() == null ? null : record.key().get(), record.value(), reason, error,
                Instant.ofEpochMilli(context.currentSystemTimeMs()));
        context.forward(record.withValue(Intake.<V>rejected(deadLetter)));
    }

    private RecordMetadata metadata() {
        return context.recordMetadata().orElseThrow(
                () -> new IllegalStateException("the intake must sit right after its source topic"));
    }
}
