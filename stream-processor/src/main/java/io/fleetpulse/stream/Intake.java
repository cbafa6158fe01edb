package io.fleetpulse.stream;

import io.fleetpulse.events.DeadLetter;

/**
 * What the intake made of one raw record: the decoded value with its event time and original bytes (which a
 * {@code late} dead letter keeps), or the dead letter it goes to the DLQ as.
 */
record Intake<V>(V value, long observedAtMs, byte[] original, DeadLetter deadLetter) {

    static <V> Intake<V> accepted(V value, long observedAtMs, byte[] original) {
        return new Intake<>(value, observedAtMs, original, null);
    }

    static <V> Intake<V> rejected(DeadLetter deadLetter) {
        return new Intake<>(null, -1, null, deadLetter);
    }

    boolean isRejected() {
        return deadLetter != null;
    }
}
