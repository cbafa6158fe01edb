package io.fleetpulse.stream;

import io.fleetpulse.events.DeadLetter;
import java.nio.ByteBuffer;
import org.apache.kafka.common.utils.Bytes;

/**
 * Cuts a dead letter down to a size the broker takes. Under exactly-once a record the producer cannot send
 * ({@code RecordTooLargeException}) fails the task, the transaction aborts and the same input comes back on restart:
 * one oversized input on {@code fleet.checks} would stop the processor for good. So a dead letter keeps at most
 * {@code maxOriginalBytes} of original key and value together and a bounded error text, and says what it cut.
 *
 * <p>The key counts twice (it is also the dead letter's Kafka key) and keeps at most a quarter of the bound; the value
 * gets the rest. The default bound, 900 KiB, leaves room under the broker's default {@code max.message.bytes}
 * (1 MiB) and the producer's {@code max.request.size} for the error text, the other fields and the batch framing.
 */
record DeadLetterLimit(int maxOriginalBytes) {

    /** 900 KiB of original bytes. */
    static final int DEFAULT_MAX_ORIGINAL_BYTES = 900 * 1024;
    /** Characters of error text kept (at most 3 bytes each in UTF-8), before what was cut is appended. */
    static final int MAX_ERROR_CHARS = 4000;

    DeadLetterLimit {
        if (maxOriginalBytes < 1024) {
            throw new IllegalArgumentException("a dead letter must keep at least 1024 original bytes: " + maxOriginalBytes);
        }
    }

    static DeadLetterLimit defaults() {
        return new DeadLetterLimit(DEFAULT_MAX_ORIGINAL_BYTES);
    }

    /** {@code letter} itself when it fits, else a copy with the original bytes and error cut, and saying so. */
    DeadLetter fit(DeadLetter letter) {
        int keyLength = length(letter.getOriginalKey());
        int valueLength = length(letter.getOriginalValue());
        int keyKept = Math.min(keyLength, maxOriginalBytes / 4);
        int valueKept = Math.min(valueLength, maxOriginalBytes - 2 * keyKept);
        String error = letter.getError();
        boolean errorCut = error.length() > MAX_ERROR_CHARS;
        if (keyKept == keyLength && valueKept == valueLength && !errorCut) {
            return letter;
        }
        StringBuilder text = new StringBuilder(errorCut ? error.substring(0, MAX_ERROR_CHARS) + "…" : error);
        if (errorCut) {
            text.append("; error text truncated from ").append(error.length()).append(" characters");
        }
        if (keyKept < keyLength) {
            text.append("; original key truncated from ").append(keyLength).append(" to ").append(keyKept).append(" bytes");
        }
        if (valueKept < valueLength) {
            text.append("; original value truncated from ").append(valueLength).append(" to ").append(valueKept)
                    .append(" bytes");
        }
        return DeadLetter.newBuilder(letter)
                .setOriginalKey(prefix(letter.getOriginalKey(), keyKept))
                .setOriginalValue(prefix(letter.getOriginalValue(), valueKept))
                .setError(text.toString())
                .build();
    }

    /** The Kafka key a fitted dead letter goes out under: its (possibly cut) original key. */
    static Bytes kafkaKey(DeadLetter fitted) {
        ByteBuffer key = fitted.getOriginalKey();
        if (key == null) {
            return null;
        }
        byte[] out = new byte[key.remaining()];
        key.duplicate().get(out);
        return Bytes.wrap(out);
    }

    private static int length(ByteBuffer buffer) {
        return buffer == null ? 0 : buffer.remaining();
    }

    private static ByteBuffer prefix(ByteBuffer buffer, int length) {
        if (buffer == null) {
            return null;
        }
        ByteBuffer cut = buffer.duplicate();
        cut.limit(cut.position() + length);
        return cut.slice();
    }
}
