package io.fleetpulse.stream;

import io.fleetpulse.events.Evidence;
import io.fleetpulse.runtime.text.Durations;
import io.fleetpulse.runtime.text.Numbers;
import io.fleetpulse.stream.detect.TrendForecaster;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * What a {@link Detection} made of one value: the number the rule's condition tests ({@link #value}, an anomaly score
 * or seconds until a limit) and what stands behind it, for the alert's summary and {@link Evidence}.
 *
 * @param observed    the value as it came
 * @param history     values the model had learnt, this one included
 * @param expected    anomaly: the baseline's expected value; predictive: the trend's value now
 * @param spread      the typical distance from {@code expected}
 * @param slope       predictive: units per second; NaN for an anomaly
 * @param confidence  predictive: how sure the trend is of its direction; NaN for an anomaly
 * @param predictedAt predictive: when the trend reaches the limit; null when it does not (or for an anomaly)
 */
record Derived(Detection detection, double value, double observed, long history, String detector, double score,
               double expected, double spread, double slope, double confidence, Instant predictedAt) {

    /** The rule's condition tests seconds until the limit; this stands for "it does not get there". */
    static final double NEVER = TrendForecaster.NEVER;
    static final String TREND_DETECTOR = "trend";

    /**
     * A rule template with the derived placeholders filled in: {@code {value}} (the observed value), {@code {score}},
     * {@code {expected}} and {@code {spread}} for an anomaly; {@code {value}}, {@code {limit}}, {@code {eta}} (how
     * long until the limit), {@code {slope}} (per second) and {@code {threshold}} (the horizon) for a forecast.
     */
    String fill(String template) {
        String filled = template
                .replace("{value}", Numbers.format(observed))
                .replace("{expected}", Numbers.format(expected))
                .replace("{spread}", Numbers.format(spread));
        if (detection instanceof Detection.Forecast forecast) {
            return filled
                    .replace("{limit}", Numbers.format(forecast.limit()))
                    .replace("{eta}", eta(value))
                    .replace("{slope}", Numbers.format(slope));
        }
        return filled.replace("{score}", String.format(Locale.ROOT, "%.4f", score));
    }

    /**
     * How long until the limit, as a person reads it: whole seconds under an hour ({@code 7m10s}), whole minutes
     * above ({@code 2h22m}); "never" for a forecast that does not reach its limit.
     */
    static String eta(double seconds) {
        if (seconds >= NEVER) {
            return "never";
        }
        long whole = Math.round(seconds);
        return Durations.format(Duration.ofSeconds(whole >= 3600 ? Math.round(whole / 60.0) * 60 : whole));
    }

    /** How a resolve says the series recovered under the rule's {@code recovery} condition. */
    String recovered(Condition recovery) {
        if (detection instanceof Detection.Forecast forecast) {
            return value >= NEVER
                    ? "no longer heading for " + Numbers.format(forecast.limit())
                    : Numbers.format(forecast.limit()) + " is " + eta(value) + " away (" + recovery.op().symbol() + " "
                    + eta(recovery.threshold()) + ")";
        }
        return "anomaly score " + String.format(Locale.ROOT, "%.4f", score) + " "
                + recovery.op().symbol() + " " + Numbers.format(recovery.threshold());
    }

    /** The evidence fields of the derived value, added to the rule's evidence. */
    Evidence.Builder addTo(Evidence.Builder evidence) {
        evidence.setValue(observed).setSamples((int) Math.min(Integer.MAX_VALUE, history)).setDetector(detector)
                .setExpected(finite(expected)).setSpread(finite(spread));
        if (detection instanceof Detection.Forecast forecast) {
            evidence.setSlopePerSecond(finite(slope)).setLimit(forecast.limit()).setPredictedAt(predictedAt)
                    .setConfidence(finite(confidence));
        } else {
            evidence.setScore(score);
        }
        return evidence;
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
