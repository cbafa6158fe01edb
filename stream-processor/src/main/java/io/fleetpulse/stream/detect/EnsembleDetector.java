package io.fleetpulse.stream.detect;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The default detector: an ensemble of simple models of the series, whose prediction error is judged against the
 * series' own history of errors.
 *
 * <ol>
 *   <li><b>Models.</b> A fast robust level (follows the series within a few samples, so a level shift is reported at
 *       the shift and then learnt), a slow one (the long-run baseline of a noisy stationary series) and, after two days
 *       of history and while its long-run error is no larger than the fast one's, a seasonal one: a level on the series
 *       minus its time-of-day profile ({@link #SEASON_BUCKETS} buckets a day, piecewise constant, so a nightly job
 *       starting at 02:00 sharp is a step, not a ramp). A sample's raw score is its error under the model that explains
 *       it best, in units of that model's typical error: a sample is normal if some model of the series' own past
 *       expects it.</li>
 *   <li><b>Three views.</b> The raw score of the sample (spikes, dips, shifts), its short-run mean (a series that got
 *       noisier or drifts off slowly, where no single sample stands out; one huge raw score enters it only up to
 *       {@link #SMOOTH_CLIP}, so a spike does not keep it high for the samples after), and the sample's distance from
 *       the series' recent mean in recent standard deviations ({@link Moments}; the series less its daily profile
 *       while the seasonal model is in use).</li>
 *   <li><b>Probabilities.</b> The first two views become p-values that are the larger of what a Gaussian series
 *       would give and the conformal p-value against the series' own past ({@link Calibration}), so neither a
 *       heavy-tailed series (which has seen large errors before) nor a flat one (whose errors are nothing in absolute
 *       terms) alarms on what is normal for it. The third is a Gaussian p-value (Student's t while the series is young),
 *       not calibrated, so a real change scores far above the ordinary spikes of a noisy series (see {@link Moments}
 *       for why and what it measured); its weights are per sample, not per unit of time. The three
 *       are combined with a Bonferroni correction; the score is {@code 1 - p}.</li>
 * </ol>
 *
 * Time-aware: weights follow the time since the previous sample in units of the series' usual interval, so irregular
 * sampling and gaps are handled, and the first sample after a gap is judged with the wider spread a gap allows. A
 * constant series has a spread floor relative to its magnitude and to its resolution (half its smallest recent step):
 * no division by zero, a tiny first move is not an alarm, and a sparse count that moves by one again is not either.
 * The first {@link #WARM_UP} samples score 0.
 *
 * <p>State: {@value #BYTES} bytes per series (plus the 2 of {@link Detectors#encode}); about 160 ns
 * a sample with the JIT warm and 1,000 series fed in turn ({@code bench detectors}), about 1.2 µs when the series'
 * state is not in the CPU's cache (50,000 series). A state written before the third view ({@link Detectors} format 1) is read with
 * that view starting from the stored expected value and spread.
 */
final class EnsembleDetector implements SeriesDetector {

    static final String NAME = "ensemble";
    static final int WARM_UP = 16;
    static final int SEASON_BUCKETS = 96;
    static final int BYTES = 3 * Long.BYTES + 9 * Double.BYTES + 3 * Level.BYTES + SEASON_BUCKETS * Float.BYTES
            + 2 * Calibration.BYTES + Moments.BYTES;

    static final double FAST_ALPHA = 0.5;
    static final double SLOW_ALPHA = 0.02;
    static final double SEASON_ALPHA = 0.1;
    static final double SCALE_ALPHA = 0.02;
    static final double SMOOTH_ALPHA = 0.2;
    private static final double LOG_KEEP_FAST = Math.log1p(-FAST_ALPHA);
    private static final double LOG_KEEP_SLOW = Math.log1p(-SLOW_ALPHA);
    private static final double LOG_KEEP_SEASON = Math.log1p(-SEASON_ALPHA);
    private static final double LOG_KEEP_SCALE = Math.log1p(-SCALE_ALPHA);
    private static final double LOG_KEEP_SMOOTH = Math.log1p(-SMOOTH_ALPHA);
    /**
     * The largest raw score the short-run mean takes in: it is there for many moderately surprising samples in a row
     * (more noise, a drift); one huge one is the instant view's, and must not keep the mean high for samples after.
     */
    static final double SMOOTH_CLIP = 6;
    static final double MAGNITUDE_ALPHA = 0.02;
    private static final double LOG_KEEP_MAGNITUDE = Math.log1p(-MAGNITUDE_ALPHA);
    /** The spread floor as a share of the series' magnitude: moves smaller than this are never surprising. */
    static final double RELATIVE_FLOOR = 0.002;
    static final double ABSOLUTE_FLOOR = 1e-9;
    /**
     * The spread floor as a share of the series' resolution (its smallest recent step, 1 for a count): a count that
     * has moved by one before is not surprising when it moves by one again.
     */
    static final double QUANTUM_FLOOR = 0.5;
    /** How fast the resolution forgets its smallest step (per sample), so one tiny step does not lower it for good. */
    static final double QUANTUM_GROWTH = 1.002;
    /** A step of more than this many usual intervals is a gap. */
    static final double MAX_STEPS = 20;
    static final double MIN_STEPS = 0.25;
    /** Beyond this many samples' worth of history the conformal p-value is trusted. */
    static final double MIN_CALIBRATION = 30;
    static final long DAY_MS = 86_400_000L;
    static final long SEASON_MIN_HISTORY_MS = 2 * DAY_MS;
    /** The seasonal model is used while its long-run error is below this share of the fast model's. */
    static final double SEASON_ADVANTAGE = 1.0;
    /** A bucket's profile is an average over about this many days. */
    static final double SEASON_DAYS = 3;
    /** Mean absolute error to standard deviation, for a Gaussian error. */
    static final double MAE_TO_SD = Math.sqrt(Math.PI / 2);
    /** The standard deviation of the short-run mean of raw scores of a Gaussian series ({@link #SMOOTH_ALPHA}). */
    static final double SMOOTH_SD = Math.sqrt((Math.PI / 2 - 1) * SMOOTH_ALPHA / (2 - SMOOTH_ALPHA));

    private long samples;
    private long firstAt;
    private long lastAt;
    private double interval;
    private double magnitude;
    private double last;
    /** The smallest recent non-zero step between consecutive samples; infinite before the first. */
    private double quantum = Double.POSITIVE_INFINITY;
    private double smoothed = 1;
    private double dayLevel;
    private double expected = Double.NaN;
    private double spread = Double.NaN;
    private double score;
    private final Level fast = new Level();
    private final Level slow = new Level();
    private final Level seasonal = new Level();
    /** The daily profile: the series minus its daily level, per time-of-day bucket; NaN for a bucket never seen. */
    private final float[] profile = new float[SEASON_BUCKETS];
    private final Calibration instant = new Calibration();
    private final Calibration sustained = new Calibration();
    private final Moments moments = new Moments();

    EnsembleDetector() {
        Arrays.fill(profile, Float.NaN);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public double observe(long atMillis, double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException("not a finite value: " + value);
        }
        if (samples == 0) {
            start(atMillis, value);
            return 0;
        }
        long dt = Math.max(0, atMillis - lastAt);
        if (samples == 1) {
            interval = dt > 0 ? dt : 1000;
        }
        double steps = Math.min(MAX_STEPS, Math.max(MIN_STEPS, dt / interval));
        double floor = floor();
        // A gap lets a wandering series wander further: judge its first sample after one with a wider spread.
        double gap = Math.sqrt(Math.min(9, Math.max(1, steps)));
        double offsetNow = offset(atMillis);
        boolean useSeason = !Double.isNaN(offsetNow) && atMillis - firstAt >= SEASON_MIN_HISTORY_MS
                && seasonal.scale < SEASON_ADVANTAGE * fast.scale;

        double raw = Math.abs(value - fast.level) / (fast.spread(floor) * gap);
        expected = fast.level;
        spread = fast.spread(floor);
        double rawSlow = Math.abs(value - slow.level) / (slow.spread(floor) * gap);
        if (rawSlow < raw) {
            raw = rawSlow;
            expected = slow.level;
            spread = slow.spread(floor);
        }
        if (useSeason) {
            double predicted = seasonal.level + offsetNow;
            double rawSeason = Math.abs(value - predicted) / (seasonal.spread(floor) * gap);
            if (rawSeason < raw) {
                raw = rawSeason;
                expected = predicted;
                spread = seasonal.spread(floor);
            }
        }
        spread *= MAE_TO_SD;
        smoothed += weight(LOG_KEEP_SMOOTH, steps) * (Math.min(raw, SMOOTH_CLIP) - smoothed);

        boolean warm = samples >= WARM_UP;
        double pMoments = moments.pValueThenLearn(useSeason ? value - offsetNow : value, floor * MAE_TO_SD, samples,
                warm);
        score = warm ? 1 - Math.min(1, 3 * Math.min(pMoments, Math.min(pInstant(raw), pSustained(smoothed)))) : 0;
        if (warm) {
            instant.add(raw);
            sustained.add(smoothed);
        }
        learn(atMillis, value, steps, floor, warm);
        return score;
    }

    private double floor() {
        double resolution = Double.isInfinite(quantum) ? 0 : QUANTUM_FLOOR * quantum;
        return Math.max(Math.max(ABSOLUTE_FLOOR, RELATIVE_FLOOR * magnitude), resolution);
    }

    private void start(long atMillis, double value) {
        samples = 1;
        firstAt = atMillis;
        lastAt = atMillis;
        magnitude = Math.abs(value);
        last = value;
        quantum = Double.POSITIVE_INFINITY;
        dayLevel = value;
        fast.start(value);
        slow.start(value);
        seasonal.start(value);
        moments.start(value);
        expected = value;
        spread = 0;
        score = 0;
    }

    private void learn(long atMillis, double value, double steps, double floor, boolean robust) {
        samples++;
        long dt = Math.max(0, atMillis - lastAt);
        lastAt = Math.max(lastAt, atMillis);
        if (dt > 0) {
            // The usual interval: a gap or a burst moves it only a little.
            interval += 0.05 * (Math.min(4 * interval, Math.max(interval / 4, dt)) - interval);
        }
        // Until the warm-up ends, plain running means: the first samples weigh as much as later ones.
        double warmUp = robust ? 0 : 1.0 / samples;
        // The slow level, the spreads and the magnitude learn at one rate today: one exp for the three.
        double slowWeight = weight(LOG_KEEP_SLOW, steps);
        double scaleWeight = Math.max(warmUp, LOG_KEEP_SCALE == LOG_KEEP_SLOW ? slowWeight : weight(LOG_KEEP_SCALE, steps));
        fast.learn(value, Math.max(warmUp, weight(LOG_KEEP_FAST, steps)), scaleWeight, floor, robust);
        slow.learn(value, Math.max(warmUp, slowWeight), scaleWeight, floor, robust);
        magnitude += (LOG_KEEP_MAGNITUDE == LOG_KEEP_SLOW ? slowWeight : weight(LOG_KEEP_MAGNITUDE, steps))
                * (Math.abs(value) - magnitude);
        double step = Math.abs(value - last);
        quantum = step > 0 ? Math.min(step, quantum * QUANTUM_GROWTH) : quantum * QUANTUM_GROWTH;
        last = value;
        learnSeason(atMillis, value, dt, steps, floor, robust, scaleWeight);
    }

    /**
     * The profile learns the sample's distance from the daily level in the bucket of its time of day (no interpolation
     * between buckets: a nightly job that starts at 02:00 sharp is a step, not a ramp); the seasonal model learns the
     * series with the profile taken out.
     */
    private void learnSeason(long atMillis, double value, long dt, double steps, double floor, boolean robust,
                             double scaleWeight) {
        dayLevel += (1 - Math.exp(-dt / (double) DAY_MS)) * (value - dayLevel);
        double deviation = value - dayLevel;
        int bucket = bucket(atMillis);
        double alpha = 1 - Math.exp(-Math.max(dt, interval) / (SEASON_DAYS * DAY_MS / SEASON_BUCKETS));
        if (Float.isNaN(profile[bucket])) {
            profile[bucket] = (float) deviation;
        } else {
            profile[bucket] += (float) (alpha * (deviation - profile[bucket]));
        }
        double offset = offset(atMillis);
        double deseasonalized = Double.isNaN(offset) ? value : value - offset;
        double warmUp = robust ? 0 : 1.0 / samples;
        seasonal.learn(deseasonalized, Math.max(warmUp, weight(LOG_KEEP_SEASON, steps)), scaleWeight, floor, robust);
    }

    /** The profile at this time of day; NaN while its bucket is unseen. */
    private double offset(long atMillis) {
        return profile[bucket(atMillis)];
    }

    /** The time-of-day bucket of {@code atMillis}. */
    private static int bucket(long atMillis) {
        return (int) (Math.floorMod(atMillis, DAY_MS) / (DAY_MS / SEASON_BUCKETS));
    }

    /**
     * The weight of a new sample {@code steps} usual intervals after the last, for a per-interval weight alpha given
     * as {@code log(1 - alpha)}: {@code 1 - (1 - alpha)^steps}, with an {@code exp} instead of a {@code pow} (five a
     * sample, on every watched series of the fleet).
     */
    private static double weight(double logKeep, double steps) {
        return 1 - Math.exp(logKeep * steps);
    }

    /**
     * The instant view's p-value. The score only tells p-values below 1/3 apart ({@code 1 - min(1, 3 min(p, q, r))}),
     * so a Gaussian reference above {@link Normal#IRRELEVANT_TO_SCORE} is the answer as it is (the conformal p-value
     * could only raise it), and neither that tail nor the pass over the bins is computed for it: on a normal series
     * most samples, and no score changes.
     */
    private double pInstant(double raw) {
        double reference = Normal.twoSidedTailForScore(raw / MAE_TO_SD);
        return reference > Normal.IRRELEVANT_TO_SCORE || instant.effectiveSamples() < MIN_CALIBRATION ? reference
                : Math.max(reference, instant.pValue(raw));
    }

    /** The sustained view's p-value; as in {@link #pInstant}, one above 1/3 as the reference has it. */
    private double pSustained(double mean) {
        double reference = Normal.upperTailForScore((mean - 1) / SMOOTH_SD);
        return reference > Normal.IRRELEVANT_TO_SCORE || sustained.effectiveSamples() < MIN_CALIBRATION ? reference
                : Math.max(reference, sustained.pValue(mean));
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
    public int serializedSize() {
        return BYTES;
    }

    @Override
    public void write(ByteBuffer out) {
        out.putLong(samples).putLong(firstAt).putLong(lastAt);
        out.putDouble(interval).putDouble(magnitude).putDouble(last).putDouble(quantum).putDouble(smoothed).putDouble(dayLevel)
                .putDouble(expected).putDouble(spread).putDouble(score);
        fast.write(out);
        slow.write(out);
        seasonal.write(out);
        for (float p : profile) {
            out.putFloat(p);
        }
        instant.write(out);
        sustained.write(out);
        moments.write(out);
    }

    /** A state of {@link Detectors} format {@code format}: 1 was written before {@link Moments}, 2 since. */
    static EnsembleDetector read(ByteBuffer in, int format) {
        EnsembleDetector d = new EnsembleDetector();
        d.samples = in.getLong();
        d.firstAt = in.getLong();
        d.lastAt = in.getLong();
        d.interval = in.getDouble();
        d.magnitude = in.getDouble();
        d.last = in.getDouble();
        d.quantum = in.getDouble();
        d.smoothed = in.getDouble();
        d.dayLevel = in.getDouble();
        d.expected = in.getDouble();
        d.spread = in.getDouble();
        d.score = in.getDouble();
        d.fast.read(in);
        d.slow.read(in);
        d.seasonal.read(in);
        for (int j = 0; j < SEASON_BUCKETS; j++) {
            d.profile[j] = in.getFloat();
        }
        d.instant.read(in);
        d.sustained.read(in);
        if (format >= 2) {
            d.moments.read(in);
        } else {
            d.moments.startFrom(d.expected, d.spread);
        }
        return d;
    }
}
