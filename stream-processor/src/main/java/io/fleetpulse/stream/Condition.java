package io.fleetpulse.stream;

import io.fleetpulse.runtime.text.Numbers;

/** {@code value <op> threshold}, e.g. {@code cpu_percent > 90}. */
public record Condition(Comparison op, double threshold) {

    public boolean holdsFor(double value) {
        return op.test(value, threshold);
    }

    public Condition negation() {
        return new Condition(op.negation(), threshold);
    }

    /**
     * Whether some value satisfies both conditions. A firing condition and its recovery must not overlap,
     * otherwise the state machine could not tell whether such a value means "still bad" or "recovered".
     */
    public boolean overlaps(Condition other) {
        if (op.pointsUp() == other.op.pointsUp()) {
            return true; // both unbounded in the same direction
        }
        Condition up = op.pointsUp() ? this : other;
        Condition down = op.pointsUp() ? other : this;
        // up: x > a (or >= a); down: x < b (or <= b). They share a value when a < b, or a == b with both inclusive.
        if (up.threshold < down.threshold) {
            return true;
        }
        return up.threshold == down.threshold && up.op == Comparison.GE && down.op == Comparison.LE;
    }

    @Override
    public String toString() {
        return op.symbol() + " " + Numbers.format(threshold);
    }
}
