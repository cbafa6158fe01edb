package io.fleetpulse.schemas;

import io.fleetpulse.events.DeadLetter;
import java.nio.ByteBuffer;
import java.time.Instant;

/** Builds the {@link DeadLetter} for a record a service could not process; the one way every service does it. */
public final class DeadLetters {

    /** The record's value was not a decodable record of its topic's type. */
    public static final String UNDECODABLE = "undecodable";
    /** The record decoded but broke the contract (missing target id, impossible value, ...). */
    public static final String INVALID = "invalid";
    /** The record arrived after its window had closed (event time older than window end + grace). */
    public static final String LATE = "late";

    private DeadLetters() {
    }

    public static DeadLetter of(String service, String topic, int partition, long offset, byte[] key, byte[] value,
                                String reason, String error, Instant failedAt) {
        return DeadLetter.newBuilder()
                .setService(service)
                .setSourceTopic(topic)
                .setSourcePartition(partition)
                .setSourceOffset(offset)
                .setOriginalKey(key == null ? null : ByteBuffer.wrap(key))
                .setOriginalValue(value == null ? null : ByteBuffer.wrap(value))
                .setReason(reason)
                .setError(error == null ? "" : error)
                .setFailedAt(failedAt)
                .build();
    }
}
