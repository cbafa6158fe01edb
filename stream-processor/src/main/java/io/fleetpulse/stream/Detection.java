package io.fleetpulse.stream;

import io.fleetpulse.stream.detect.Detectors;
import java.time.Duration;
import java.util.Objects;

/**
 * What an {@code anomaly} or {@code predictive} rule watches instead of the raw value: a model of each series (per
 * target, signal and check) turns every value into the number the rule's condition is about, an anomaly score or the
 * seconds until a forecast limit. {@link DetectorBank} keeps the models; the rule, its state machine and its options
 * ({@code for}, M of N, recovery, overrides, ...) work on the derived number as on any other value.
 */
sealed interface Detection {

    /**
     * The model's state is shared by every rule with the same state name on the same series, and learns every value
     * of the series whether or not a rule is in warm-up.
     */
    String stateName();

    /** Values the model must have learnt before the rule may act on what it says ({@code min_samples}). */
    long minHistory();

    /** Which way an anomaly rule cares about: a latency that rises, a request rate that falls, or both. */
    enum Direction {
        BOTH, UP, DOWN;

        /** Whether a value on this side of what was expected counts. */
        boolean counts(double value, double expected) {
            return this == BOTH || Double.isNaN(expected) || (this == UP ? value > expected : value < expected);
        }
    }

    /** {@code kind: anomaly}: the detector's score in [0, 1], 0 for a value on the side the rule ignores. */
    record Anomaly(String detector, Direction direction, long minHistory) implements Detection {
        public Anomaly {
            Objects.requireNonNull(direction, "direction");
            if (!Detectors.names().contains(detector)) {
                throw new IllegalArgumentException("unknown detector " + detector);
            }
        }

        @Override
        public String stateName() {
            return detector;
        }
    }

    /**
     * {@code kind: predictive}: seconds within which the series' robust trend (of {@code trendWindow} memory) reaches
     * {@code limit} with {@code minConfidence}, rising or falling to it (its slope's lower bound for that confidence);
     * "never" when the trend heads away or is less sure of its direction than that.
     */
    record Forecast(double limit, boolean rising, Duration trendWindow, double minConfidence, long minHistory)
            implements Detection {
        public Forecast {
            Objects.requireNonNull(trendWindow, "trendWindow");
            if (minConfidence < 0.5 || minConfidence > 1) {
                throw new IllegalArgumentException("a confidence is between 0.5 and 1: " + minConfidence);
            }
        }

        @Override
        public String stateName() {
            return "trend-" + trendWindow.toMillis();
        }
    }
}
