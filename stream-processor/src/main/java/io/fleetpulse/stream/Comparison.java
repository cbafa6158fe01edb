package io.fleetpulse.stream;

import java.util.Arrays;
import java.util.Optional;

/** The comparison operators a threshold rule may use. */
public enum Comparison {

    GT(">"), GE(">="), LT("<"), LE("<=");

    private final String symbol;

    Comparison(String symbol) {
        this.symbol = symbol;
    }

    public String symbol() {
        return symbol;
    }

    public boolean test(double value, double threshold) {
        return switch (this) {
            case GT -> value > threshold;
            case GE -> value >= threshold;
            case LT -> value < threshold;
            case LE -> value <= threshold;
        };
    }

    /** The operator that holds exactly when this one does not: the default recovery of a rule. */
    public Comparison negation() {
        return switch (this) {
            case GT -> LE;
            case GE -> LT;
            case LT -> GE;
            case LE -> GT;
        };
    }

    /** True for {@code >} and {@code >=}: the condition holds for everything above a line. */
    public boolean pointsUp() {
        return this == GT || this == GE;
    }

    public static Optional<Comparison> fromSymbol(String symbol) {
        return Arrays.stream(values()).filter(c -> c.symbol.equals(symbol)).findFirst();
    }

    @Override
    public String toString() {
        return symbol;
    }
}
