package io.fleetpulse.stream;

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
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The door of an input topic: decodes the raw bytes, checks the contract, stamps the record with its event time
 * (observed-at) and turns away what cannot be processed, each with a reason: {@code undecodable}, {@code invalid}
 * (including values outside {@link ValueContract}: NaN, infinities, negative latencies and counters, percentages
 * outside 0 to 100) or {@code late}.
 *
 * <p>Late means: the record's window closed before it arrived, i.e. window end + grace is at or before the task's
 * event-time watermark (the highest observed-at this task has accepted from any of its inputs). The windowed
 * aggregation would drop such a record without a trace; it is caught here instead. The watermark is shared by the
 * checks and metrics intakes and kept in a changelogged store, so it is never behind the aggregation's own stream
 * time, not even after a restart, and a window is never emitted twice.
 *
 * <p>The key stays the raw bytes it came as (a fixed-key processor): the DLQ gets them unchanged, and since a valid
 * key is exactly the UTF-8 of its targetId, the stream stays partitioned as it was and needs no repartition.
 */
final class IntakeProcessor<V> implements FixedKeyProcessor<Bytes, byte[], Intake<V>> {

    static final String SERVICE = "stream-processor";
    /** Observed-at this far ahead of the processor's clock is a broken clock, not an event: it would close every window. */
    static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(5);
    private static final String WATERMARK_KEY = "watermark";

    private final Topic<String, V> topic;
    private final Function<V, String> targetId;
    private final Function<V, Instant> observedAt;
    private final Function<V, String> valueViolation;
    private final long windowSizeMs;
    private final long graceMs;
    private final String watermarkStoreName;
    private final PipelineCounters counters;

    private FixedKeyProcessorContext<Bytes, Intake<V>> context;
    private KeyValueStore<String, Long> watermarks;

    /** @param valueViolation what is wrong with a decoded record's values (naming the field), or null: see {@link ValueContract} */
    IntakeProcessor(Topic<String, V> topic, Function<V, String> targetId, Function<V, Instant> observedAt,
                    Function<V, String> valueViolation, Duration windowSize, Duration grace, String watermarkStoreName,
                    PipelineCounters counters) {
        this.topic = topic;
        this.targetId = targetId;
        this.observedAt = observedAt;
        this.valueViolation = valueViolation;
        this.windowSizeMs = windowSize.toMillis();
        this.graceMs = grace.toMillis();
        this.watermarkStoreName = watermarkStoreName;
        this.counters = counters;
    }

    @Override
    public void init(FixedKeyProcessorContext<Bytes, Intake<V>> context) {
        this.context = context;
        this.watermarks = context.getStateStore(watermarkStoreName);
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
        long now = context.currentSystemTimeMs();
        if (at > now + MAX_CLOCK_SKEW.toMillis()) {
            reject(record, DeadLetters.INVALID, "observedAt " + Instant.ofEpochMilli(at) + " is more than "
                    + MAX_CLOCK_SKEW.toMinutes() + " minutes ahead of the processor's clock " + Instant.ofEpochMilli(now));
            return;
        }
        Long watermark = watermarks.get(WATERMARK_KEY);
        long windowStart = at - at % windowSizeMs;
        long windowEnd = windowStart + windowSizeMs;
        if (watermark != null && windowEnd <= watermark - graceMs) {
            reject(record, DeadLetters.LATE, "observedAt " + Instant.ofEpochMilli(at) + " falls in window ["
                    + Instant.ofEpochMilli(windowStart) + ", " + Instant.ofEpochMilli(windowEnd) + ") which closed at "
                    + Instant.ofEpochMilli(windowEnd + graceMs) + " (grace " + graceMs + " ms); event time had reached "
                    + Instant.ofEpochMilli(watermark));
            return;
        }
        if (watermark == null || at > watermark) {
            watermarks.put(WATERMARK_KEY, at);
        }
        context.forward(record.withValue(Intake.accepted(value)).withTimestamp(at));
    }

    private void reject(FixedKeyRecord<Bytes, byte[]> record, String reason, String error) {
        counters.deadLetter(reason);
        RecordMetadata meta = context.recordMetadata().orElseThrow(
                () -> new IllegalStateException("the intake must sit right after its source topic"));
        var deadLetter = DeadLetters.of(SERVICE, meta.topic(), meta.partition(), meta.offset(),
                record.key() == null ? null : record.key().get(), record.value(), reason, error,
                Instant.ofEpochMilli(context.currentSystemTimeMs()));
        context.forward(record.withValue(Intake.<V>rejected(deadLetter)));
    }
}
