package io.fleetpulse.alerting;

import java.time.Duration;
import java.time.Instant;

/**
 * Whether one receiver keeps failing: a pure state machine over its attempts' outcomes and the time, so the
 * thresholds are tested without a receiver. A receiver is failing once {@code failures} attempts in a row have failed,
 * or once it has failed without a success for {@code after}; its next success makes it healthy again. Throttled
 * attempts (a 429 honoured with Retry-After) are pacing and are not reported here.
 *
 * <p>{@link #evaluate} reports each change once, so the caller raises one meta-notification per episode.
 */
final class ReceiverHealth {

    /** When a streak of failures makes a receiver failing (alerting.receiver.failing.after[.failures]). */
    record Thresholds(int failures, Duration after) {
    }

    enum Change { NONE, FAILING, RECOVERED }

    /** What /status shows; {@code lastError} is already redacted by the worker. */
    record Snapshot(boolean failing, Instant failingSince, int consecutiveFailures, Instant firstFailureAt,
                    String lastError) {
    }

    private final Thresholds thresholds;
    private int consecutive;
    private Instant firstFailureAt;
    private String lastError;
    private Instant failingSince;

    ReceiverHealth(Thresholds thresholds) {
        this.thresholds = thresholds;
    }

    synchronized void failed(Instant at, String error) {
        if (consecutive++ == 0) {
            firstFailureAt = at;
        }
        lastError = error;
    }

    synchronized void succeeded() {
        consecutive = 0;
        firstFailureAt = null;
    }

    /** Moves to failing or healthy as the streak and {@code now} say; returns the change, once. */
    synchronized Change evaluate(Instant now) {
        boolean failingNow = consecutive > 0 && (consecutive >= thresholds.failures()
                || !now.isBefore(firstFailureAt.plus(thresholds.after())));
        if (failingNow && failingSince == null) {
            failingSince = firstFailureAt;
            return Change.FAILING;
        }
        if (!failingNow && failingSince != null && consecutive == 0) {
            failingSince = null;
            return Change.RECOVERED;
        }
        return Change.NONE;
    }

    synchronized boolean isFailing() {
        return failingSince != null;
    }

    synchronized Snapshot snapshot() {
        return new Snapshot(failingSince != null, failingSince, consecutive, firstFailureAt, lastError);
    }
}
