package io.fleetpulse.stream.detect;

/** The standard normal distribution's tails, accurate in relative terms far into the tail (p down to 1e-300). */
final class Normal {

    private static final double SQRT_2 = Math.sqrt(2);

    private Normal() {
    }

    /** P(Z > z) for a standard normal Z. */
    static double upperTail(double z) {
        return Math.min(1, 0.5 * erfc(z / SQRT_2));
    }

    /** P(|Z| > z) for a standard normal Z and z >= 0. */
    static double twoSidedTail(double z) {
        return Math.min(1, erfc(Math.abs(z) / SQRT_2));
    }

    /** The last {@link #upperQuantile} asked and its answer: callers ask for one confidence again and again. */
    private static volatile double[] lastQuantile = {0.5, 0};

    /**
     * The z with {@code P(Z > z) = p}: +Infinity for p = 0, -Infinity for p = 1. Abramowitz and Stegun 26.2.23 (error
     * under 4.5e-4), then two Newton steps on {@link #upperTail}, so it inverts this class's own tail.
     */
    static double upperQuantile(double p) {
        double[] last = lastQuantile;
        if (last[0] == p) {
            return last[1];
        }
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("not a probability: " + p);
        }
        double z;
        if (p == 0 || p == 1) {
            z = p == 0 ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
        } else if (p > 0.5) {
            z = -upperQuantile(1 - p);
        } else {
            double t = Math.sqrt(-2 * Math.log(p));
            z = t - (2.515517 + t * (0.802853 + t * 0.010328)) / (1 + t * (1.432788 + t * (0.189269 + t * 0.001308)));
            for (int i = 0; i < 2; i++) {
                double density = Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
                z += (upperTail(z) - p) / density;
            }
        }
        lastQuantile = new double[] {p, z};
        return z;
    }

    /**
     * A p-value above this cannot move a score that tells apart only p-values below 1/3 (the ensemble's
     * {@code 1 - min(1, 3 min(p, q, r))}, three times it being at least 1 with room for rounding).
     */
    static final double IRRELEVANT_TO_SCORE = 0.34;
    /** Below this z, {@code P(|Z| > z)} is above {@link #IRRELEVANT_TO_SCORE} (it is 0.342 at 0.95). */
    static final double TWO_SIDED_BELOW_THIRD = 0.95;
    /** Below this z, {@code P(Z > z)} is above {@link #IRRELEVANT_TO_SCORE} (it is 0.341 at 0.41). */
    static final double UPPER_BELOW_THIRD = 0.41;

    /**
     * {@link #twoSidedTail}, or 1 for a z whose tail is above {@link #IRRELEVANT_TO_SCORE} anyway: for a score that
     * cannot tell such p-values apart, and skipping the {@code exp} on most samples of a normal series changes none.
     */
    static double twoSidedTailForScore(double z) {
        return Math.abs(z) < TWO_SIDED_BELOW_THIRD ? 1 : twoSidedTail(z);
    }

    /** {@link #upperTail}, or 1 for a z whose tail is above {@link #IRRELEVANT_TO_SCORE} (see {@link #twoSidedTailForScore}). */
    static double upperTailForScore(double z) {
        return z < UPPER_BELOW_THIRD ? 1 : upperTail(z);
    }

    /**
     * The complementary error function, Chebyshev fit of Numerical Recipes' {@code erfcc}: fractional error under
     * 1.2e-7 everywhere, which keeps small tail probabilities meaningful (a plain {@code 1 - cdf} would round to 0).
     */
    static double erfc(double x) {
        double z = Math.abs(x);
        double t = 1 / (1 + 0.5 * z);
        double ans = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? ans : 2 - ans;
    }
}
