package io.fleetpulse.stream;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.events.HealthScore;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.events.TargetWindow;

/**
 * One thing the {@link WindowEngine} hands on, keyed by targetId: an accepted check or sample (for the point signals),
 * a closed window, a silence signal, a health score (null {@code health}: the target was removed, a tombstone for
 * fleet.health), or a record it found late. The topology splits them by {@link #kind()}.
 */
record EngineOutput(Kind kind, CheckResult check, MetricSample sample, TargetWindow window, SignalSample signal,
                    DeadLetter late, HealthScore health) {

    enum Kind { CHECK, METRICS, WINDOW_1M, WINDOW_1H, SIGNAL, LATE, HEALTH }

    EngineOutput(Kind kind, CheckResult check, MetricSample sample, TargetWindow window, SignalSample signal,
                 DeadLetter late) {
        this(kind, check, sample, window, signal, late, null);
    }

    static EngineOutput accepted(Object value) {
        if (value instanceof CheckResult check) {
            return new EngineOutput(Kind.CHECK, check, null, null, null, null);
        }
        return new EngineOutput(Kind.METRICS, null, (MetricSample) value, null, null, null);
    }

    static EngineOutput minute(TargetWindow window) {
        return new EngineOutput(Kind.WINDOW_1M, null, null, window, null, null);
    }

    static EngineOutput hour(TargetWindow window) {
        return new EngineOutput(Kind.WINDOW_1H, null, null, window, null, null);
    }

    static EngineOutput signal(SignalSample signal) {
        return new EngineOutput(Kind.SIGNAL, null, null, null, signal, null);
    }

    static EngineOutput late(DeadLetter letter) {
        return new EngineOutput(Kind.LATE, null, null, null, null, letter);
    }

    /** A health score; null for the removal of the target's health. */
    static EngineOutput health(HealthScore health) {
        return new EngineOutput(Kind.HEALTH, null, null, null, null, null, health);
    }

    boolean is(Kind k) {
        return kind == k;
    }
}
