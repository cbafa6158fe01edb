package io.fleetpulse.stream.detect;

import java.nio.ByteBuffer;

/**
 * How often a series' own surprise reached a given size: a decayed histogram of past raw scores over logarithmic bins
 * (remembering about {@link #MEMORY} samples), turned into a conformal p-value: the share of the past that was at
 * least as surprising, counting the sample itself. That is what makes a score mean the same on a flat gauge and on a
 * bursty rate: a heavy-tailed series has seen large errors before, so they are not surprising for it.
 *
 * <p>In the tail the counts are too few to tell 1e-3 from 1e-5, so there a generalized Pareto tail fitted to the top
 * {@link #TAIL_SHARE} of the past gives the p-value (peaks over threshold): a larger surprise always scores higher,
 * also beyond the largest seen. Constant memory ({@link #BINS} floats) and constant time.
 */
final class Calibration {

    static final int BINS = 64;
    static final double FIRST_EDGE = 0.05;
    static final double RATIO = 1.2;
    static final double MEMORY = 2000;
    /** The share of the past above which the tail is modelled rather than counted. */
    static final double TAIL_SHARE = 0.02;
    /** Heavier tails than this are not believed (a GPD of shape 1/2 has no variance). */
    static final double MAX_SHAPE = 0.45;
    /** The smallest tail scale, relative to the tail's threshold: a tail of one bin is not a wall. */
    static final double MIN_SCALE = 0.05;
    static final int BYTES = BINS * Float.BYTES + 2 * Double.BYTES;
    private static final double LOG_RATIO = Math.log(RATIO);
    private static final double DECAY = 1 - 1 / MEMORY;
    private static final double RESCALE_AT = 1e18;
    /** {@code FIRST_EDGE * RATIO^j}: bin j's upper edge (for j below the last), a table not a {@code pow} per value. */
    private static final double[] EDGE = new double[BINS];

    static {
        for (int j = 0; j < BINS; j++) {
            EDGE[j] = FIRST_EDGE * Math.pow(RATIO, j);
        }
    }

    /** Bin j holds raw scores in [edge(j-1), edge(j)), bin 0 those below {@link #FIRST_EDGE}, the last one the rest. */
    private final float[] mass = new float[BINS];
    /** The weight of the next sample: it grows instead of every bin decaying, and everything is rescaled at times. */
    private double weight = 1;
    private double total;

    /** How many samples' worth it remembers (at most about {@link #MEMORY}). */
    double effectiveSamples() {
        return total / weight;
    }

    void add(double raw) {
        mass[bin(raw)] += (float) weight;
        total += weight;
        weight /= DECAY;
        if (weight > RESCALE_AT) {
            for (int j = 0; j < BINS; j++) {
                mass[j] = (float) (mass[j] / weight);
            }
            total /= weight;
            weight = 1;
        }
    }

    /**
     * The share of the remembered past at least as surprising as {@code raw}, the sample itself counted; in the tail
     * (the top {@link #TAIL_SHARE} of the past) a generalized Pareto distribution fitted to the excesses instead.
     */
    double pValue(double raw) {
        int b = bin(raw);
        double above = 0;
        for (int j = BINS - 1; j > b; j--) {
            above += mass[j];
        }
        double partial = mass[b] * fractionAbove(b, raw);
        double empirical = (above + partial + weight) / (total + weight);
        if (empirical > TAIL_SHARE) {
            // A young history has no tail to fit yet; beyond everything it has seen, the p-value still falls with the
            // square of the distance, so a shift of 40 spreads on a new series does not score like one of 4.
            return above == 0 && partial == 0 ? empirical * beyondSeen(b, raw) : empirical;
        }
        return Math.min(empirical, tail(raw));
    }

    /**
     * Peaks over threshold (as in Siffer et al., "Anomaly detection in streams with extreme value theory", KDD 2017):
     * the excesses over the lowest bin edge {@code u} with at most {@link #TAIL_SHARE} of the past above it follow a
     * generalized Pareto distribution, fitted by its moments, so a p-value far below one over the history is still
     * meaningful.
     */
    private double tail(double raw) {
        double above = 0;
        int j = BINS - 1;
        while (j > 0 && above + mass[j] <= TAIL_SHARE * total) {
            above += mass[j];
            j--;
        }
        // Bins j+1 and up are the tail; u is their lower edge.
        double u = upperEdge(j);
        if (above <= 0 || !(u < raw)) {
            return 1;
        }
        double m1 = 0;
        double m2 = 0;
        for (int k = j + 1; k < BINS; k++) {
            double excess = middle(k) - u;
            m1 += mass[k] * excess;
            m2 += mass[k] * excess * excess;
        }
        m1 /= above;
        m2 /= above;
        double variance = Math.max(m2 - m1 * m1, 1e-12);
        double ratio = m1 * m1 / variance;
        double shape = Math.max(0, Math.min(MAX_SHAPE, 0.5 * (1 - ratio)));
        double scale = Math.max(MIN_SCALE * u, 0.5 * m1 * (1 + ratio));
        double pu = (above + weight) / (total + weight);
        double z = (raw - u) / scale;
        return pu * (shape == 0 ? Math.exp(-z) : Math.pow(1 + shape * z, -1 / shape));
    }

    /** The middle of bin {@code k} on a log scale. */
    private static double middle(int k) {
        return FIRST_EDGE * Math.pow(RATIO, k - 0.5);
    }

    /** {@code (largest seen / raw)^2} for a raw score beyond every one seen (bin {@code b} and above are empty). */
    private double beyondSeen(int b, double raw) {
        for (int j = b; j >= 0; j--) {
            if (mass[j] > 0) {
                double largest = j == BINS - 1 ? raw : EDGE[j];
                return largest >= raw ? 1 : (largest / raw) * (largest / raw);
            }
        }
        return 1;
    }

    private static int bin(double raw) {
        if (!(raw >= FIRST_EDGE)) {
            return 0;
        }
        int j = 1 + (int) (Math.log(raw / FIRST_EDGE) / LOG_RATIO);
        return Math.min(j, BINS - 1);
    }

    private static double upperEdge(int j) {
        return j == BINS - 1 ? Double.POSITIVE_INFINITY : EDGE[j];
    }

    /** The part of bin {@code b}'s mass above {@code raw}, as if spread evenly over the bin (on a log scale). */
    private static double fractionAbove(int b, double raw) {
        if (b == 0) {
            return Math.max(0, (FIRST_EDGE - raw) / FIRST_EDGE);
        }
        if (b == BINS - 1) {
            return 0.5;
        }
        double hi = upperEdge(b);
        return Math.log(hi / raw) / LOG_RATIO;
    }

    void write(ByteBuffer out) {
        for (float m : mass) {
            out.putFloat(m);
        }
        out.putDouble(weight).putDouble(total);
    }

    void read(ByteBuffer in) {
        for (int j = 0; j < BINS; j++) {
            mass[j] = in.getFloat();
        }
        weight = in.getDouble();
        total = in.getDouble();
    }
}
