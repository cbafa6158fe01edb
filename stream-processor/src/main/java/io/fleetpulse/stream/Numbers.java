package io.fleetpulse.stream;

import java.math.BigDecimal;

/** How numbers appear in alert summaries: {@code 0.75}, {@code 90}, never {@code 90.0} or {@code 7.5E-4}. */
final class Numbers {

    private Numbers() {
    }

    static String format(double value) {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            return Double.toString(value);
        }
        BigDecimal rounded = BigDecimal.valueOf(value).setScale(4, java.math.RoundingMode.HALF_UP).stripTrailingZeros();
        return rounded.scale() < 0 ? rounded.setScale(0).toPlainString() : rounded.toPlainString();
    }
}
