package io.fleetpulse.runtime.text;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * How a number appears in every human-facing message (alert summaries, evidence, Slack and PagerDuty texts, logs):
 * at most four significant decimals, no trailing zeros, never an exponent. {@code 0.666667} is {@code 0.6667},
 * {@code 90.0} is {@code 90}, {@code 0.00075} is {@code 0.00075}, {@code 1234567.891} is {@code 1234567.891}.
 */
public final class Numbers {

    private static final int DECIMALS = 4;

    private Numbers() {
    }

    public static String format(double value) {
        if (Double.isNaN(value)) {
            return "NaN";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "+Inf" : "-Inf";
        }
        BigDecimal decimal = BigDecimal.valueOf(value);
        BigDecimal rounded = Math.abs(value) >= 1 || value == 0
                ? decimal.setScale(DECIMALS, RoundingMode.HALF_UP)
                // Small values keep four significant digits, so 0.00075 does not become 0.0008 or 0.
                : decimal.round(new MathContext(DECIMALS, RoundingMode.HALF_UP));
        rounded = rounded.stripTrailingZeros();
        if (rounded.signum() == 0) {
            return "0";
        }
        return rounded.scale() < 0 ? rounded.setScale(0).toPlainString() : rounded.toPlainString();
    }

    /** A ratio as a percentage for people: {@code 0.6667} is {@code 66.67%}. */
    public static String percent(double ratio) {
        return format(Math.round(ratio * 10_000) / 100.0) + "%";
    }
}
