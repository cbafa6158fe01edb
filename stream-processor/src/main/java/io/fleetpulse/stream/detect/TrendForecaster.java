package io.fleetpulse.stream.detect;

import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * Where one series is heading: a robust linear trend and the time until it reaches a limit (a disk filling, memory
 * running out), with a confidence.
 *
 * <p>An exponentially weighted least-squares line over the series' recent past (weights halve every
 * {@code memory · ln 2}), kept as running sums with the time origin at the latest sample, so each sample costs constant
 * time and the state is a few numbers. Robust: a sample further than {@link #CLIP} typical errors from the line is
 * pulled in to that distance, so one outlier barely moves it; {@link #SHIFT_RUN} such samples in a row on the same side
 * are a step (a cleanup freeing half a disk), and the whole history is moved by the step, which keeps the slope it had
 * instead of reading the drop as a trend reversal.
 *
 * <p>The confidence is the probability that the slope has the sign it has, from its standard error; a forecast is
 * only as good as the line, so callers ask for a minimum confidence.
 */
public final class TrendForecaster {

    /** What {@link #secondsUntil} returns when the trend does not reach the limit. */
    public static final double NEVER = Double.MAX_VALUE;
    static final double CLIP = 4;
    static final int SHIFT_RUN = 3;
    static final int MIN_SAMPLES = 5;
    static final double ERROR_ALPHA = 0.05;
    public static final int BYTES = 2 * Long.BYTES + 10 * Double.BYTES + 2 * Integer.BYTES;

    private final double memorySeconds;
    private long samples;
    private long lastAt;
    /** Values are kept relative to the first one, so sums of large values (bytes) lose no precision. */
    private double origin;
    private double s0;
    private double st;
    private double stt;
    private double sy;
    private double sty;
    private double errorSquares;
    private double errorSize;
    private double runSum;
    private int run;
    private int runSign;
    private double lastValue;

    public TrendForecaster(Duration memory) {
        if (memory.isNegative() || memory.isZero()) {
            throw new IllegalArgumentException("the trend's memory must be positive: " + memory);
        }
        this.memorySeconds = memory.toMillis() / 1000.0;
    }

    /** Learns {@code value} observed at {@code atMillis}; a sample older than the last one counts as at its time. */
    public void observe(long atMillis, double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException("not a finite value: " + value);
        }
        lastValue = value;
        if (samples == 0) {
            origin = value;
            lastAt = atMillis;
        }
        double dt = Math.max(0, atMillis - lastAt) / 1000.0;
        lastAt = Math.max(lastAt, atMillis);
        // Move the time origin to now, then let the past fade.
        stt = stt - 2 * dt * st + dt * dt * s0;
        st = st - dt * s0;
        sty = sty - dt * sy;
        double decay = Math.exp(-dt / memorySeconds);
        s0 *= decay;
        st *= decay;
        stt *= decay;
        sy *= decay;
        sty *= decay;

        double y = value - origin;
        if (samples >= MIN_SAMPLES) {
            double predicted = intercept();
            double error = y - predicted;
            double limit = CLIP * Math.max(errorSize, 1e-12 * (1 + Math.abs(origin)));
            if (Math.abs(error) > limit && errorSize > 0) {
                int sign = error > 0 ? 1 : -1;
                if (sign != runSign) {
                    run = 0;
                    runSum = 0;
                    runSign = sign;
                }
                run++;
                runSum += error;
                if (run >= SHIFT_RUN) {
                    shiftHistory(runSum / run);
                    run = 0;
                    runSum = 0;
                    runSign = 0;
                } else {
                    y = predicted + sign * limit;
                    error = sign * limit;
                }
            } else {
                run = 0;
                runSum = 0;
                runSign = 0;
            }
            errorSquares += ERROR_ALPHA * (error * error - errorSquares);
            errorSize += ERROR_ALPHA * (Math.min(Math.abs(error), limit) - errorSize);
        }
        s0 += 1;
        sy += y;
        samples++;
        if (samples == MIN_SAMPLES) {
            // The first errors: the spread of the first samples around their line.
            errorSize = Math.max(spreadAroundLine(), 0);
            errorSquares = errorSize * errorSize;
        }
    }

    /** A step of {@code by}: as if every past sample had been that much higher, so the slope is kept. */
    private void shiftHistory(double by) {
        sy += by * s0;
        sty += by * st;
    }

    private double spreadAroundLine() {
        return Math.abs(lastValue - origin - intercept()) + 1e-12;
    }

    /** The line's value now, relative to the origin. */
    private double intercept() {
        double slope = slopeRelative();
        return s0 == 0 ? 0 : (sy - slope * st) / s0;
    }

    private double slopeRelative() {
        double denominator = s0 * stt - st * st;
        return denominator <= 0 ? 0 : (s0 * sty - st * sy) / denominator;
    }

    /** The line's value at the latest sample. */
    public double level() {
        return origin + intercept();
    }

    /** Units per second; 0 before two samples apart in time. */
    public double slopePerSecond() {
        return slopeRelative();
    }

    /** The probability that the slope has the sign it has, from 0.5 (no idea) to 1 (a clean line). */
    public double confidence() {
        double spreadOfTimes = stt - st * st / Math.max(s0, 1e-300);
        if (samples < MIN_SAMPLES || spreadOfTimes <= 0) {
            return 0.5;
        }
        double standardError = Math.sqrt(errorSquares / spreadOfTimes);
        if (standardError == 0) {
            return slopeRelative() == 0 ? 0.5 : 1;
        }
        return 1 - Normal.upperTail(Math.abs(slopeRelative()) / standardError);
    }

    /**
     * Seconds until the line reaches {@code limit} going up ({@code rising}) or down: 0 when it is there already,
     * {@link #NEVER} when it heads the other way or is flat.
     */
    public double secondsUntil(double limit, boolean rising) {
        double level = level();
        double remaining = rising ? limit - level : level - limit;
        if (remaining <= 0) {
            return 0;
        }
        double towards = rising ? slopePerSecond() : -slopePerSecond();
        return towards <= 0 ? NEVER : Math.min(NEVER, remaining / towards);
    }

    public long samples() {
        return samples;
    }

    /** The typical distance of a sample from the line (about one standard deviation). */
    public double spread() {
        return Math.sqrt(errorSquares);
    }

    public void write(ByteBuffer out) {
        out.putLong(samples).putLong(lastAt).putDouble(origin).putDouble(s0).putDouble(st).putDouble(stt)
                .putDouble(sy).putDouble(sty).putDouble(errorSquares).putDouble(errorSize).putDouble(runSum)
                .putDouble(lastValue).putInt(run).putInt(runSign);
    }

    public static TrendForecaster read(ByteBuffer in, Duration memory) {
        TrendForecaster f = new TrendForecaster(memory);
        f.samples = in.getLong();
        f.lastAt = in.getLong();
        f.origin = in.getDouble();
        f.s0 = in.getDouble();
        f.st = in.getDouble();
        f.stt = in.getDouble();
        f.sy = in.getDouble();
        f.sty = in.getDouble();
        f.errorSquares = in.getDouble();
        f.errorSize = in.getDouble();
        f.runSum = in.getDouble();
        f.lastValue = in.getDouble();
        f.run = in.getInt();
        f.runSign = in.getInt();
        return f;
    }
}
