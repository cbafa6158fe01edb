package io.fleetpulse.stream;

import io.fleetpulse.events.DeadLetter;

/** What the intake made of one raw record: the decoded value, or the dead letter it goes to the DLQ as. */
record Intake<V>(V value, DeadLetter deadLetter) {

    static <V> Intake<V> accepted(V value) {
        return new Intake<>(value, null);
    }

    static <V> Intake<V> rejected(DeadLetter deadLetter) {
        return new Intake<>(null, deadLetter);
    }

    boolean isRejected() {
        return deadLetter != null;
    }
}
