package io.fleetpulse.stream;

import io.fleetpulse.events.AlertState;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The lifecycle of one rule on one target: INACTIVE → PENDING → FIRING → RESOLVED (→ INACTIVE), driven by the
 * signal's values at their event times.
 *
 * <ul>
 *   <li>A value meeting the firing condition starts PENDING; it turns FIRING once the condition has held on every
 *       value for {@code for} (at once when {@code for} is 0). A value that breaks the condition ends PENDING quietly.</li>
 *   <li>While FIRING, values meeting the recovery condition for the recovery {@code for} resolve it. A value in the
 *       band between the two conditions (hysteresis) or meeting the firing condition again restarts that clock.</li>
 *   <li>RESOLVED lasts until the next value, which moves it to INACTIVE or starts a new PENDING.</li>
 *   <li>With M of N instead of {@code for}: PENDING while some of the last N values met the firing condition, FIRING
 *       once M of them did; INACTIVE when none of the last N did.</li>
 *   <li>A value standing on fewer observations than the rule's minimum samples is ignored: it changes nothing.</li>
 * </ul>
 *
 * Durations are measured between event times, so a replay decides exactly as the live run did. Only FIRING and
 * RESOLVED are {@link Transition}s worth publishing; the rest is kept in the {@link Snapshot}.
 */
public final class AlertStateMachine {

    private final ThresholdRule rule;
    private Snapshot state;

    public AlertStateMachine(ThresholdRule rule, Snapshot state) {
        this.rule = Objects.requireNonNull(rule, "rule");
        this.state = state == null ? Snapshot.INACTIVE : state;
    }

    public AlertStateMachine(ThresholdRule rule) {
        this(rule, Snapshot.INACTIVE);
    }

    /**
     * Feeds one value observed at {@code at}; {@code observations} is how many raw observations stand behind it
     * (1 for a check or sample, the window's checks for a window signal).
     *
     * @return the FIRING or RESOLVED transition this value caused, if any
     */
    public Optional<Transition> observe(double value, Instant at, int observations) {
        Snapshot s = state;
        if (observations < rule.minSamples()) {
            return Optional.empty();
        }
        if (rule.mOfN() != null && s.state() != AlertState.FIRING) {
            return countTowardsFiring(value, at, s);
        }
        switch (s.state()) {
            case INACTIVE, RESOLVED -> {
                if (rule.fire().holdsFor(value)) {
                    return pendingOrFiring(value, at, at, observations);
                }
                state = Snapshot.INACTIVE;
                return Optional.empty();
            }
            case PENDING -> {
                if (rule.fire().holdsFor(value)) {
                    return pendingOrFiring(value, at, s.conditionSince(), s.conditionObservations() + observations);
                }
                state = Snapshot.INACTIVE;
                return Optional.empty();
            }
            case FIRING -> {
                if (!rule.recovery().holdsFor(value)) {
                    // Still bad, or inside the hysteresis band: recovery has to start over.
                    state = new Snapshot(AlertState.FIRING, s.conditionSince(), s.conditionObservations(), s.startsAt(), null, 0);
                    return Optional.empty();
                }
                Instant since = s.recoverySince() == null ? at : s.recoverySince();
                int seen = s.recoveryObservations() + observations;
                if (elapsed(since, at).compareTo(rule.recoveryFor()) >= 0) {
                    state = new Snapshot(AlertState.RESOLVED, null, 0, s.startsAt(), null, 0);
                    return Optional.of(new Transition(AlertState.RESOLVED, value, rule.recovery(), at, s.startsAt(), at, seen));
                }
                state = new Snapshot(AlertState.FIRING, s.conditionSince(), s.conditionObservations(), s.startsAt(), since, seen);
                return Optional.empty();
            }
            default -> throw new IllegalStateException("unknown alert state " + s.state());
        }
    }

    private Optional<Transition> pendingOrFiring(double value, Instant at, Instant since, int seen) {
        if (elapsed(since, at).compareTo(rule.fireFor()) >= 0) {
            state = new Snapshot(AlertState.FIRING, since, seen, at, null, 0);
            return Optional.of(new Transition(AlertState.FIRING, value, rule.fire(), at, at, null, seen));
        }
        state = new Snapshot(AlertState.PENDING, since, seen, null, null, 0);
        return Optional.empty();
    }

    /** M of N: the last N values as bits (1 = met the firing condition), newest lowest. */
    private Optional<Transition> countTowardsFiring(double value, Instant at, Snapshot s) {
        ThresholdRule.MOfN mOfN = rule.mOfN();
        long recent = s.state() == AlertState.PENDING ? s.recentHits() : 0;
        long hits = ((recent << 1) | (rule.fire().holdsFor(value) ? 1 : 0)) & ((1L << mOfN.n()) - 1);
        int count = Long.bitCount(hits);
        if (count == 0) {
            state = Snapshot.INACTIVE;
            return Optional.empty();
        }
        Instant since = s.state() == AlertState.PENDING ? s.conditionSince() : at;
        if (count >= mOfN.m()) {
            state = new Snapshot(AlertState.FIRING, since, count, at, null, 0);
            return Optional.of(new Transition(AlertState.FIRING, value, rule.fire(), at, at, null, count));
        }
        state = new Snapshot(AlertState.PENDING, since, count, null, null, 0, hits);
        return Optional.empty();
    }

    /** Out-of-order values never count as negative time. */
    private static Duration elapsed(Instant from, Instant to) {
        Duration d = Duration.between(from, to);
        return d.isNegative() ? Duration.ZERO : d;
    }

    public AlertState state() {
        return state.state();
    }

    public Snapshot snapshot() {
        return state;
    }

    /**
     * Everything the machine remembers, as kept in the changelogged store.
     *
     * @param conditionSince        when the current run of firing-condition values began (PENDING, FIRING)
     * @param conditionObservations observations in that run, up to the moment it fired
     * @param startsAt              when it turned FIRING (FIRING, RESOLVED)
     * @param recoverySince         when the current run of recovery-condition values began, while FIRING
     * @param recentHits            M of N while PENDING: which of the last N values met the firing condition (bit 0
     *                              the newest); with M of N, {@code conditionObservations} counts those values
     */
    public record Snapshot(AlertState state, Instant conditionSince, int conditionObservations, Instant startsAt,
                           Instant recoverySince, int recoveryObservations, long recentHits) {

        public static final Snapshot INACTIVE = new Snapshot(AlertState.INACTIVE, null, 0, null, null, 0);

        public Snapshot {
            Objects.requireNonNull(state, "state");
        }

        public Snapshot(AlertState state, Instant conditionSince, int conditionObservations, Instant startsAt,
                        Instant recoverySince, int recoveryObservations) {
            this(state, conditionSince, conditionObservations, startsAt, recoverySince, recoveryObservations, 0);
        }
    }

    /**
     * A change worth telling the world about.
     *
     * @param condition    what the value met: the firing condition for FIRING, the recovery condition for RESOLVED
     * @param observations observations that met it in a row, up to this transition
     */
    public record Transition(AlertState state, double value, Condition condition, Instant at, Instant startsAt,
                             Instant endsAt, int observations) {
    }
}
