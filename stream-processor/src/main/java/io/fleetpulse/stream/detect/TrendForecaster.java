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
 * <p>The slope's standard error has two parts: the scatter of the samples around the line (as for a line through
 * independent errors), and the wander of the series from one sample to the next, beyond the slope, per second of
 * history (as for the drift of a random walk). The second is what tells a disk that fills from one that only wanders: a
 * mean-reverting walk seen for a few minutes lies close to a line, so by its scatter alone its slope looked certain
 * (41 of 1,000 simulated healthy demo disks, a walk of 0.05 points a second, were "full within an hour" with
 * confidence 0.99 inside three minutes; 3 with {@link #secondsUntil(double, boolean, double)}). The
 * confidence is the probability that the slope has the sign it has; {@link #secondsUntil(double, boolean, double)}
 * the time until the limit at the slope's lower bound for a confidence: the limit is reached within it with that
 * confidence, if the series goes on as it has.
 */
public final class TrendForecaster {

    /** What {@link #secondsUntil} returns when the trend does not reach the limit. */
    public static final double NEVER = Double.MAX_VALUE;
    static final double CLIP = 4;
    static final int SHIFT_RUN = 3;
    static final int MIN_SAMPLES = 5;
    static final double ERROR_ALPHA = 0.05;
    /**
     * Steps before the wander is known well enough to forecast: a few steps of a walk can look tame, and the square
     * and the product of a handful are too noisy to tell noise from wander (the 3 healthy disks of 1,000 above were
     * forecast at their 10th to 20th value).
     */
    static final int WANDER_STEPS = 10;
    public static final int BYTES = 2 * Long.BYTES + 14 * Double.BYTES + 3 * Integer.BYTES;
    /** The size of a state written before the wander was kept (read by {@link #readWithoutWander}). */
    public static final int BYTES_WITHOUT_WANDER = 2 * Long.BYTES + 10 * Double.BYTES + 2 * Integer.BYTES;

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
    /** The last sample as learnt (relative to the origin, after clipping), for the next step's wander. */
    private double lastLearnt;
    /**
     * A step's change beyond the slope, scaled to one second ({@code / sqrt(dt)}): the last one, the mean of its
     * squares and the mean product of each with the one before. Noise around a line makes steps that undo each other
     * (the product is minus half the square), a walk makes independent ones, so square + 2 product is the wander per
     * second: about 0 for the first, the walk's variance for the second, the walk's part of a mix of both.
     */
    private double lastStep;
    private double stepSquares;
    private double stepProducts;
    /** Steps learnt into the wander; until {@link #WANDER_STEPS}, plain means, and no forecast. */
    private int wanderSteps;

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
        double slopeBefore = slopeRelative();
        boolean stepped = false;
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
                    stepped = true;
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
        if (samples > 0 && dt > 0 && !stepped) {
            // A cleanup's step is not wander: the history moved with it.
            double step = ((y - lastLearnt) - slopeBefore * dt) / Math.sqrt(dt);
            wanderSteps = Math.min(wanderSteps + 1, WANDER_STEPS);
            double weight = wanderSteps < WANDER_STEPS ? 1.0 / wanderSteps : ERROR_ALPHA;
            stepSquares += weight * (step * step - stepSquares);
            if (wanderSteps > 1) {
                stepProducts += weight * (step * lastStep - stepProducts);
            }
            lastStep = step;
        }
        lastLearnt = y;
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
        double standardError = slopeError();
        if (Double.isNaN(standardError)) {
            return 0.5;
        }
        if (standardError == 0) {
            return slopeRelative() == 0 ? 0.5 : 1;
        }
        return 1 - Normal.upperTail(Math.abs(slopeRelative()) / standardError);
    }

    /** The slope's standard error (units per second): scatter around the line and wander; NaN while too young. */
    private double slopeError() {
        double spreadOfTimes = stt - st * st / Math.max(s0, 1e-300);
        if (samples < MIN_SAMPLES || wanderSteps < WANDER_STEPS || spreadOfTimes <= 0) {
            return Double.NaN;
        }
        // The span the wander adds up over: that of evenly spread samples with the same spread of times as the line's
        // (weighted) samples; the whole window for a young line, about 3.5 memories for an old one.
        double span = Math.sqrt(12 * spreadOfTimes / s0);
        double wanderPerSecond = Math.max(0, stepSquares + 2 * stepProducts);
        return Math.sqrt(errorSquares / spreadOfTimes + wanderPerSecond / span);
    }

    /**
     * Seconds until the limit at the slope's lower bound for {@code confidence} (one-sided): with that confidence the
     * line reaches {@code limit} within them; 0 when it is there already, {@link #NEVER} when even the direction is
     * less sure than that, or while the trend is too young to say.
     */
    public double secondsUntil(double limit, boolean rising, double confidence) {
        double remaining = rising ? limit - level() : level() - limit;
        if (remaining <= 0) {
            return 0;
        }
        double standardError = slopeError();
        if (Double.isNaN(standardError)) {
            return NEVER;
        }
        double towards = (rising ? slopePerSecond() : -slopePerSecond())
                - Normal.upperQuantile(1 - confidence) * standardError;
        return towards <= 0 ? NEVER : Math.min(NEVER, remaining / towards);
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
                .putDouble(lastValue).putInt(run).putInt(runSign)
                .putDouble(lastLearnt).putDouble(lastStep).putDouble(stepSquares).putDouble(stepProducts)
                .putInt(wanderSteps);
    }

    public static TrendForecaster read(ByteBuffer in, Duration memory) {
        TrendForecaster f = readWithoutWander(in, memory);
        f.lastLearnt = in.getDouble();
        f.lastStep = in.getDouble();
        f.stepSquares = in.getDouble();
        f.stepProducts = in.getDouble();
        f.wanderSteps = in.getInt();
        return f;
    }

    /**
     * A state written before the wander was kept: it learns the wander anew from its next samples (no forecast until
     * {@link #WANDER_STEPS} steps), from the last sample as the line saw it.
     */
    public static TrendForecaster readWithoutWander(ByteBuffer in, Duration memory) {
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
        f.lastLearnt = f.lastValue - f.origin;
        return f;
    }
}
