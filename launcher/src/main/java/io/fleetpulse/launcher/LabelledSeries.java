package io.fleetpulse.launcher;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One synthetic series of server metrics with its anomalies labelled, for {@code fleetpulse bench detectors}: the
 * samples (5-minute interval, some series jittered or with gaps), and for each injected anomaly its onset and a window
 * from the onset to {@link #window} samples later in which a detection counts.
 *
 * <p>Generated from a seed, so a run is repeatable: a {@link Kind} of series (its noise and seasonality), then up to
 * {@link #MAX_ANOMALIES} anomalies after the first {@link #PROBATION} of the series (a detector's learning time, as in
 * the Numenta Anomaly Benchmark): level shifts, spikes, dips, variance changes, slow drifts and, on a seasonal series,
 * its daily bump at an unusual hour. Every anomaly is sized in units of the series' own noise, so it is as visible on a
 * flat gauge as on a bursty rate.
 */
record LabelledSeries(String name, Kind kind, long[] times, double[] values, List<Anomaly> anomalies) {

    static final long INTERVAL_MS = 300_000;
    /** 2024-01-01T00:00Z: days start at midnight, so the nightly batch is at 02:00. */
    static final long START_MS = 1_704_067_200_000L;
    static final double PROBATION = 0.15;
    static final int MAX_ANOMALIES = 3;
    private static final int SAMPLES_PER_DAY = (int) (86_400_000L / INTERVAL_MS);

    /** The kinds of series: what the benchmark corpus and the calibration tests are made of. */
    enum Kind {
        /** A CPU gauge: a level with small Gaussian noise, a mild daily swing, bounded to 0..100, 0.1 resolution. */
        CPU,
        /** A request count per interval: over-dispersed Poisson (gamma-Poisson) around a daily cycle. */
        REQUESTS,
        /** A latency: log-normal, so it has spikes of several times its median all the time. */
        LATENCY,
        /** A per-second rate derived from a monotonic counter, divided by the real interval. */
        COUNTER_RATE,
        /** A sharp daily pattern: a nightly batch bump at 02:00 for half an hour over a daily swing. */
        SEASONAL,
        /** An integer gauge (processes, connections) that mostly stays and sometimes moves by one. */
        STEPS
    }

    enum AnomalyKind { LEVEL_SHIFT, SPIKE, DIP, VARIANCE, DRIFT, OFF_HOUR_BUMP }

    /** An injected anomaly: its first sample and the first sample after its window. */
    record Anomaly(AnomalyKind kind, int onset, int windowEnd) {
        boolean contains(int i) {
            return i >= onset && i < windowEnd;
        }
    }

    int length() {
        return values.length;
    }

    /** The first sample a detector is judged on. */
    int probationEnd() {
        return (int) (values.length * PROBATION);
    }

    /** The window of the anomaly holding sample {@code i}, or null for a normal sample. */
    Anomaly windowOf(int i) {
        for (Anomaly a : anomalies) {
            if (a.contains(i)) {
                return a;
            }
        }
        return null;
    }

    /** How long after its onset a detection still counts: 2.5 % of the series, at least 24 samples (2 hours). */
    static int window(int length) {
        return Math.max(24, length / 40);
    }

    /** A corpus of {@code count} series of {@code length} samples, the kinds in turn, deterministic from the seed. */
    static List<LabelledSeries> corpus(long seed, int count, int length) {
        List<LabelledSeries> corpus = new ArrayList<>(count);
        SplittableRandom seeds = new SplittableRandom(seed);
        Kind[] kinds = Kind.values();
        for (int s = 0; s < count; s++) {
            corpus.add(generate("s" + s, kinds[s % kinds.length], length, true, seeds.split()));
        }
        return corpus;
    }

    /**
     * One series. With {@code anomalous} false it is all normal behaviour (for false-alarm rates), with the same
     * irregular timing the corpus has.
     */
    static LabelledSeries generate(String name, Kind kind, int length, boolean anomalous, SplittableRandom rng) {
        double[] offset = new double[length];
        double[] noise = new double[length];
        java.util.Arrays.fill(noise, 1);
        List<Anomaly> anomalies = new ArrayList<>();
        if (anomalous) {
            inject(kind, length, rng, offset, noise, anomalies);
        }
        long[] times = times(length, rng);
        Generator generator = new Generator(kind, rng);
        double[] values = new double[length];
        for (int i = 0; i < length; i++) {
            long dt = i == 0 ? INTERVAL_MS : times[i] - times[i - 1];
            values[i] = generator.next(times[i], dt, offset[i], noise[i]);
        }
        return new LabelledSeries(name + "-" + kind.name().toLowerCase(), kind, times, values, List.copyOf(anomalies));
    }

    /** Regular 5-minute samples; a third of the series jittered (±30 %), a third with a few gaps of 30 min to 3 h. */
    private static long[] times(int length, SplittableRandom rng) {
        boolean jitter = rng.nextDouble() < 0.33;
        boolean gaps = rng.nextDouble() < 0.33;
        long[] times = new long[length];
        long at = START_MS + rng.nextLong(SAMPLES_PER_DAY) * INTERVAL_MS;
        for (int i = 0; i < length; i++) {
            long step = INTERVAL_MS;
            if (jitter) {
                step = Math.round(INTERVAL_MS * (0.7 + 0.6 * rng.nextDouble()));
            }
            if (gaps && i > 0 && rng.nextDouble() < 0.002) {
                step += INTERVAL_MS * (6 + rng.nextInt(30));
            }
            at += i == 0 ? 0 : step;
            times[i] = at;
        }
        return times;
    }

    private static void inject(Kind kind, int length, SplittableRandom rng, double[] offset, double[] noise,
            List<Anomaly> anomalies) {
        int first = (int) (length * PROBATION) + 10;
        int count = 1 + rng.nextInt(MAX_ANOMALIES);
        int slot = (length - first) / count;
        int window = window(length);
        if (slot < 2 * window) {
            return;
        }
        AnomalyKind[] kinds = AnomalyKind.values();
        for (int a = 0; a < count; a++) {
            int onset = first + a * slot + rng.nextInt(slot - 2 * window);
            AnomalyKind what = kinds[rng.nextInt(kind == Kind.SEASONAL ? kinds.length : kinds.length - 1)];
            int end = Math.min(length, a == count - 1 ? length : first + (a + 1) * slot);
            double sign = rng.nextBoolean() ? 1 : -1;
            switch (what) {
                case LEVEL_SHIFT -> {
                    double by = sign * (5 + 5 * rng.nextDouble());
                    for (int i = onset; i < length; i++) {
                        offset[i] += by;
                    }
                }
                case SPIKE -> offset[onset] += 7 + 8 * rng.nextDouble();
                case DIP -> {
                    double by = -(7 + 8 * rng.nextDouble());
                    int run = 1 + rng.nextInt(3);
                    for (int i = onset; i < Math.min(length, onset + run); i++) {
                        offset[i] += by;
                    }
                }
                case VARIANCE -> {
                    double factor = 2 + 1.5 * rng.nextDouble();
                    for (int i = onset; i < Math.min(end, onset + 2 * window); i++) {
                        noise[i] *= factor;
                    }
                }
                case DRIFT -> {
                    double perSample = sign * 10.0 / window; // 10 noise units over the window
                    for (int i = onset; i < length; i++) {
                        offset[i] += perSample * Math.min(i - onset, 2 * window);
                    }
                }
                case OFF_HOUR_BUMP -> {
                    for (int i = onset; i < Math.min(length, onset + 6); i++) {
                        offset[i] += Generator.SEASONAL_BUMP;
                    }
                }
                default -> throw new IllegalStateException(what.name());
            }
            anomalies.add(new Anomaly(what, onset, Math.min(length, onset + window)));
        }
    }

    /** Draws the samples of one kind of series: {@code offset} in units of its noise, {@code noise} its multiplier. */
    private static final class Generator {

        /** The nightly bump (and the off-hour one), in noise units. */
        static final double SEASONAL_BUMP = 10;

        private final Kind kind;
        private final SplittableRandom rng;
        private final double level;
        private final double sigma;
        private final double daily;

        Generator(Kind kind, SplittableRandom rng) {
            this.kind = kind;
            this.rng = rng;
            switch (kind) {
                case CPU -> {
                    level = 10 + 50 * rng.nextDouble();
                    sigma = 0.5 + 2.5 * rng.nextDouble();
                    daily = rng.nextDouble() < 0.5 ? 0 : 2 * sigma * rng.nextDouble();
                }
                case REQUESTS, COUNTER_RATE -> {
                    level = Math.exp(Math.log(5) + Math.log(200) * rng.nextDouble());
                    sigma = 0;
                    daily = 0.6 * rng.nextDouble();
                }
                case LATENCY -> {
                    level = Math.log(20 + 200 * rng.nextDouble());
                    sigma = 0.15 + 0.35 * rng.nextDouble();
                    daily = 0;
                }
                case SEASONAL -> {
                    level = 100 + 400 * rng.nextDouble();
                    sigma = 2 + 8 * rng.nextDouble();
                    daily = 3 * sigma;
                }
                case STEPS -> {
                    level = 5 + rng.nextInt(100);
                    sigma = 0.2 + 0.1 * rng.nextDouble();
                    daily = 0;
                }
                default -> throw new IllegalStateException(kind.name());
            }
        }

        double next(long at, long dtMs, double offset, double noise) {
            double phase = 2 * Math.PI * Math.floorMod(at, 86_400_000L) / 86_400_000.0;
            double season = Math.sin(phase - Math.PI / 2);
            return switch (kind) {
                case CPU -> {
                    double v = level + daily * season + sigma * (offset + noise * rng.nextGaussian());
                    yield Math.round(Math.min(100, Math.max(0, v)) * 10) / 10.0;
                }
                case REQUESTS -> {
                    double mean = level * (1 + daily * season);
                    yield requests(mean, offset, noise);
                }
                case COUNTER_RATE -> {
                    double perInterval = level * (1 + daily * season) * dtMs / (double) INTERVAL_MS;
                    // The counter's increase over the real interval, divided by that interval.
                    yield requests(perInterval, offset, noise) / (dtMs / 1000.0);
                }
                case LATENCY -> Math.exp(level + sigma * (offset + noise * rng.nextGaussian()));
                case SEASONAL -> {
                    long minute = Math.floorMod(at, 86_400_000L) / 60_000;
                    double bump = minute >= 120 && minute < 150 ? SEASONAL_BUMP * sigma : 0;
                    yield level + daily * season + bump + sigma * (offset + noise * rng.nextGaussian());
                }
                case STEPS -> Math.max(0, Math.round(level + offset + sigma * noise * rng.nextGaussian()));
                default -> throw new IllegalStateException(kind.name());
            };
        }

        /** Gamma-Poisson counts of mean {@code mean}: variance mean + mean²/20, shifted by offset sd's. */
        private double requests(double mean, double offset, double noise) {
            double shape = 20;
            double sd = Math.sqrt(mean + mean * mean / shape);
            double m = Math.max(0.05, mean + offset * sd);
            double factor = gamma(shape / (noise * noise)) / (shape / (noise * noise));
            return poisson(m * factor);
        }

        private double gamma(double shape) {
            if (shape < 1) {
                return gamma(shape + 1) * Math.pow(rng.nextDouble(), 1 / shape);
            }
            // Marsaglia and Tsang, scale 1.
            double d = shape - 1.0 / 3;
            double c = 1 / Math.sqrt(9 * d);
            while (true) {
                double x = rng.nextGaussian();
                double v = 1 + c * x;
                if (v <= 0) {
                    continue;
                }
                v = v * v * v;
                double u = rng.nextDouble();
                if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) {
                    return d * v;
                }
            }
        }

        private double poisson(double mean) {
            if (mean > 50) {
                return Math.max(0, Math.round(mean + Math.sqrt(mean) * rng.nextGaussian()));
            }
            double limit = Math.exp(-mean);
            double p = rng.nextDouble();
            int k = 0;
            while (p > limit) {
                p *= rng.nextDouble();
                k++;
            }
            return k;
        }
    }
}
