package io.fleetpulse.stream.detect;

import java.nio.ByteBuffer;

/**
 * The third view of {@link EnsembleDetector}: the series' mean and standard deviation over about the last
 * {@code 1 / ALPHA} samples, exponentially weighted and <em>not</em> robust, and a sample's distance from that mean in
 * standard deviations, judged with a Gaussian tail and no calibration against the series' past. The ensemble's other
 * views say "has this series surprised like this before?", which on a series that has had spikes before discounts a
 * new spike or the first samples of a shift to a p-value of about one over its history. This one does not: a sample
 * six recent standard deviations out scores about 1 - 10^-9, so the highest scores of a corpus are its real changes
 * rather than the ordinary spikes of its noisiest series. That ranking is what one threshold for a whole corpus needs
 * (the NAB standard score of {@code fleetpulse detect --windows} on 12 real series of the Numenta Anomaly Benchmark,
 * AWS CloudWatch, traffic and known-cause: 41.1 without this view, 58.8 with it, 53.4 for a rolling mean ± kσ; its
 * one constant was chosen on 8 of them. Held out: on 4 others 45.1, 50.6 and 49.7; on 4 more 43.0, 39.2 and 28.5, so
 * worse there. On all 20 fetched: 37.1, 42.9 and 29.5).
 *
 * <p>The distance is judged as Student's t (see {@link #studentToNormal}), so a young series' uncertain spread does
 * not make its first large values extreme. Its variance is that of the raw series, spikes included, so a heavy-tailed series has a wide spread here too;
 * {@link ShiftRun#SHIFT_RUN} samples in a row beyond {@link Level#CLIP} deviations on one side are a new level and the
 * mean starts again from them (alert at the shift, then adapt), as {@link Level} does.
 */
final class Moments {

    /** About 330 samples: 28 hours at 5-minute samples, so a daily swing is inside the spread. */
    static final double ALPHA = 0.003;
    static final int BYTES = 2 * Double.BYTES + ShiftRun.BYTES;

    private double mean;
    private double variance;
    private final ShiftRun run = new ShiftRun();

    void start(double value) {
        mean = value;
        variance = 0;
        run.clear();
    }

    /** From an older state without this view: its expected value and spread (a standard deviation) to begin with. */
    void startFrom(double expected, double spread) {
        start(Double.isFinite(expected) ? expected : 0);
        variance = Double.isFinite(spread) ? spread * spread : 0;
    }

    /**
     * The two-sided Gaussian p-value of {@code value}, a spread of at least {@code minSpread} (a standard deviation),
     * then learns it; {@code samples} is how many came before it (until {@code 1 / ALPHA} of them, plain running moments),
     * {@code robust} false during the warm-up, when nothing is a shift yet and no score is given (the p-value is then
     * 1). For a score: a p-value above 1/3 is 1 ({@link Normal#twoSidedTailForScore}).
     */
    double pValueThenLearn(double value, double minSpread, long samples, boolean robust) {
        double deviation = value - mean;
        double distance = Math.abs(deviation) / Math.max(Math.sqrt(variance), minSpread);
        // studentToNormal never exceeds the distance, so a small one needs neither it nor the tail.
        double p = !robust || distance < Normal.TWO_SIDED_BELOW_THIRD ? 1
                : Normal.twoSidedTailForScore(studentToNormal(distance, samples));
        double alpha = samples < 1 / ALPHA ? 1.0 / (samples + 1) : ALPHA;
        mean += alpha * deviation;
        variance = (1 - alpha) * (variance + alpha * deviation * deviation);
        if (robust && distance > Level.CLIP) {
            double shifted = run.outlier(deviation > 0 ? 1 : -1, value);
            if (!Double.isNaN(shifted)) {
                mean = shifted; // it stayed there: a new level
            }
        } else {
            run.clear();
        }
        return p;
    }

    /**
     * The Gaussian distance as sure as Student's t with the degrees of freedom of {@code samples} (as many as the
     * weights remember at most): a spread estimated from a few dozen samples is itself uncertain, and a plain Gaussian
     * tail on it would page on the first merely large value of a young series. Abramowitz and Stegun 26.7.8:
     * {@code t (1 - 1/(4 nu)) / sqrt(1 + t^2 / (2 nu))}.
     */
    static double studentToNormal(double t, long samples) {
        double nu = Math.max(1, Math.min(samples, 2 / ALPHA) - 1);
        return t * (1 - 1 / (4 * nu)) / Math.sqrt(1 + t * t / (2 * nu));
    }

    void write(ByteBuffer out) {
        out.putDouble(mean).putDouble(variance);
        run.write(out);
    }

    void read(ByteBuffer in) {
        mean = in.getDouble();
        variance = in.getDouble();
        run.read(in);
    }
}
