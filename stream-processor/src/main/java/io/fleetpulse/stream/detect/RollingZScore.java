package io.fleetpulse.stream.detect;

import java.nio.ByteBuffer;

/**
 * The textbook baseline, kept to measure the ensemble against: the mean and standard deviation of the last
 * {@link #WINDOW} samples, and a sample's distance from that mean in standard deviations ({@code |z|}). Its score is
 * {@code erf(|z| / sqrt 2)}, the probability a Gaussian sample falls closer, so the rule "outside mean ± kσ" is the
 * threshold {@code erf(k / sqrt 2)} (k = 3 is 0.9973). A constant window has σ = 0: any other value scores 1.
 */
final class RollingZScore implements SeriesDetector {

    static final String NAME = "rolling-zscore";
    static final int WINDOW = 100;
    static final int BYTES = Long.BYTES + Integer.BYTES + 2 * Double.BYTES + WINDOW * Double.BYTES;

    private final double[] window = new double[WINDOW];
    private long samples;
    private int next;
    private double expected = Double.NaN;
    private double spread = Double.NaN;

    @Override
    public double observe(long atMillis, double value) {
        int n = (int) Math.min(samples, WINDOW);
        double score = 0;
        if (n > 0) {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += window[i];
            }
            double mean = sum / n;
            double squares = 0;
            for (int i = 0; i < n; i++) {
                squares += (window[i] - mean) * (window[i] - mean);
            }
            double sd = n > 1 ? Math.sqrt(squares / (n - 1)) : 0;
            expected = mean;
            spread = sd;
            if (n >= EnsembleDetector.WARM_UP) {
                double distance = Math.abs(value - mean);
                score = sd > 0 ? 1 - Normal.twoSidedTail(distance / sd) : distance > 0 ? 1 : 0;
            }
        }
        window[next] = value;
        next = (next + 1) % WINDOW;
        samples++;
        return score;
    }

    @Override
    public double expected() {
        return expected;
    }

    @Override
    public double spread() {
        return spread;
    }

    @Override
    public long samples() {
        return samples;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int serializedSize() {
        return BYTES;
    }

    @Override
    public void write(ByteBuffer out) {
        out.putLong(samples).putInt(next).putDouble(expected).putDouble(spread);
        for (double v : window) {
            out.putDouble(v);
        }
    }

    static RollingZScore read(ByteBuffer in) {
        RollingZScore d = new RollingZScore();
        d.samples = in.getLong();
        d.next = in.getInt();
        d.expected = in.getDouble();
        d.spread = in.getDouble();
        for (int i = 0; i < WINDOW; i++) {
            d.window[i] = in.getDouble();
        }
        return d;
    }
}
