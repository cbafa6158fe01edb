package io.fleetpulse.stream;

import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.events.Target;
import io.fleetpulse.schemas.DeadLetters;
import io.fleetpulse.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * The door of {@code fleet.targets}: decodes the inventory entry, or turns it away to the DLQ ({@code undecodable},
 * or {@code invalid} for a blank targetId, a key that is not the targetId, a tombstone without a key;
 * {@code wrong-partition} for a record on a partition its key does not hash to, see {@link SourcePartitions}).
 * A tombstone is accepted with no value: it decommissions the target of its key.
 */
final class TargetIntake implements FixedKeyProcessor<Bytes, byte[], TargetIntake.Entry> {

    /** An inventory entry ({@code target}, null for a tombstone), or the dead letter it goes to the DLQ as. */
    record Entry(Target target, DeadLetter deadLetter) {

        boolean isRejected() {
            return deadLetter != null;
        }
    }

    private final PipelineCounters counters;
    private final SourcePartitions partitions;
    private FixedKeyProcessorContext<Bytes, Entry> context;

    TargetIntake(PipelineCounters counters, SourcePartitions partitions) {
        this.counters = counters;
        this.partitions = partitions;
    }

    @Override
    public void init(FixedKeyProcessorContext<Bytes, Entry> context) {
        this.context = context;
    }

    @Override
    public void process(FixedKeyRecord<Bytes, byte[]> record) {
        counters.recordIn(Topics.TARGETS.name());
        if (record.value() == null) {
            if (record.key() == null) {
                reject(record, DeadLetters.INVALID, "a tombstone without a key names no target");
            } else if (!misplaced(record)) {
                context.forward(record.withValue(new Entry(null, null)));
            }
            return;
        }
        Target target;
        try {
            target = Topics.TARGETS.valueSerde().deserializer().deserialize(Topics.TARGETS.name(), record.value());
        } catch (RuntimeException e) {
            reject(record, DeadLetters.UNDECODABLE, e.getMessage() == null ? e.toString() : e.getMessage());
            return;
        }
        String id = target.getTargetId();
        if (id == null || id.isBlank()) {
            reject(record, DeadLetters.INVALID, "targetId is blank");
        } else if (record.key() == null || !Arrays.equals(record.key().get(), id.getBytes(StandardCharsets.UTF_8))) {
            String key = record.key() == null ? null : new String(record.key().get(), StandardCharsets.UTF_8);
            reject(record, DeadLetters.INVALID, "the record key " + (key == null ? "is missing" : "'" + key + "'")
                    + " but targetId is '" + id + "'; per-target topics are keyed by targetId");
        } else if (!misplaced(record)) {
            context.forward(record.withValue(new Entry(target, null)));
        }
    }

    /**
     * Rejects a record on a partition its key does not hash to: its entry would land in another task than the
     * target's records, so its group, labels and tombstone would never reach the target's windows and alerts.
     */
    private boolean misplaced(FixedKeyRecord<Bytes, byte[]> record) {
        String misplacement = partitions.misplacement(Topics.TARGETS.name(), metadata().partition(), record.key().get());
        if (misplacement != null) {
            reject(record, SourcePartitions.WRONG_PARTITION, misplacement);
        }
        return misplacement != null;
    }

    private void reject(FixedKeyRecord<Bytes, byte[]> record, String reason, String error) {
        counters.deadLetter(reason);
        RecordMetadata meta = metadata();
        var deadLetter = DeadLetters.of(IntakeProcessor.SERVICE, meta.topic(), meta.partition(), meta.offset(),
                record.key() == null ? null : record.key().get(), record.value(), reason, error,
                Instant.ofEpochMilli(context.currentSystemTimeMs()));
        context.forward(record.withValue(new Entry(null, deadLetter)));
    }

    private RecordMetadata metadata() {
        return context.recordMetadata().orElseThrow(
                () -> new IllegalStateException("the intake must sit right after its source topic"));
    }
}
