package io.fleetpulse.schemas;

import org.apache.kafka.common.errors.SerializationException;

/**
 * Bytes that are not a record of the expected type. Services catch it and send the original bytes to
 * {@code fleet.dlq} with {@link #reason()} instead of stopping.
 */
public final class UndecodableRecordException extends SerializationException {

    private final String reason;

    public UndecodableRecordException(String reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    /** A short machine-readable reason: {@code bad-header}, {@code unknown-schema} or {@code corrupt-body}. */
    public String reason() {
        return reason;
    }
}
