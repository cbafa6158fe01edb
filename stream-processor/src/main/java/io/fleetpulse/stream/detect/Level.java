package io.fleetpulse.stream.detect;

import java.nio.ByteBuffer;

/**
 * One simple model of a series inside {@link EnsembleDetector}: an exponentially weighted level and the typical size
 * of its errors, learnt robustly. An outlier (an error beyond {@link #CLIP} spreads) moves the level and the spread
 * only as far as the clip, so one spike does not drag the baseline; {@link ShiftRun#SHIFT_RUN} outliers in a row on the same
 * side mean the series has moved, and the level starts again from where it is (alert at the shift, then adapt).
 *
 * <p>Two spreads: {@code scale}, the long-run mean absolute error, and {@code burst}, a short-run one that rises
 * within a few samples when the series gets noisier, so a change in variance is reported at its onset and then
 * learnt instead of alarming on every sample.
 */
final class Level {

    static final double CLIP = 3;
    /** How far above the spread one error may raise the short-run spread. */
    static final double BURST_CLIP = 10;
    static final double BURST_ALPHA = 0.2;
    static final int BYTES = 3 * Double.BYTES + ShiftRun.BYTES;

    double level;
    double scale;
    double burst;
    private final ShiftRun run = new ShiftRun();

    void start(double value) {
        level = value;
        scale = 0;
        burst = 0;
        run.clear();
    }

    /** The mean absolute error to expect, never below {@code floor}. */
    double spread(double floor) {
        return Math.max(floor, Math.max(scale, burst));
    }

    /**
     * Learns {@code value}. {@code alpha} and {@code scaleAlpha} are the weights of the new sample, already adjusted
     * for how much time passed since the last one; {@code robust} is false during the warm-up, when the spread is not
     * known well enough to call anything an outlier.
     */
    void learn(double value, double alpha, double scaleAlpha, double floor, boolean robust) {
        double error = value - level;
        double size = Math.abs(error);
        double limit = CLIP * spread(floor);
        if (robust && size > limit) {
            int sign = error > 0 ? 1 : -1;
            double shifted = run.outlier(sign, value);
            // It stayed there: a new level, not outliers.
            level = Double.isNaN(shifted) ? level + alpha * sign * limit : shifted;
        } else {
            run.clear();
            level += alpha * error;
        }
        double clipped = robust ? Math.min(size, limit) : size;
        scale += scaleAlpha * (clipped - scale);
        burst += BURST_ALPHA * (Math.min(size, BURST_CLIP * spread(floor)) - burst);
    }

    void write(ByteBuffer out) {
        out.putDouble(level).putDouble(scale).putDouble(burst);
        run.write(out);
    }

    void read(ByteBuffer in) {
        level = in.getDouble();
        scale = in.getDouble();
        burst = in.getDouble();
        run.read(in);
    }
}
