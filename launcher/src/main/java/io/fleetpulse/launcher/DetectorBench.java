package io.fleetpulse.launcher;

import io.fleetpulse.stream.detect.Detectors;
import io.fleetpulse.stream.detect.SeriesDetector;
import io.fleetpulse.stream.detect.TrendForecaster;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * {@code fleetpulse bench detectors}: how well the anomaly detectors find labelled anomalies, and what they cost.
 *
 * <ol>
 *   <li><b>Corpus.</b> {@link LabelledSeries#corpus}: synthetic series of server metrics, deterministic from the seed,
 *       with labelled windows from each anomaly's onset to {@link LabelledSeries#window} samples later. The first
 *       {@link LabelledSeries#PROBATION} of every series is not judged (the detectors learn there).</li>
 *   <li><b>Accuracy.</b> Each detector scores every series once; then one threshold for all series is swept. A sample
 *       is flagged when its score is at least the threshold. An <i>alarm event</i> is a run of consecutive flagged
 *       normal samples (outside every window): each is one false positive. A window with at least one flagged sample
 *       is detected: one true positive, however many of its samples are flagged. Precision is detected windows over
 *       detected windows plus false alarm events, recall detected windows over windows, F1 their harmonic mean; the
 *       delay is from the onset to the first flagged sample of a detected window, in samples; false alarms per 1000
 *       are flagged normal samples (not events) per 1000 normal samples. Reported at the threshold of best F1 and at
 *       the fixed {@value #FIXED_THRESHOLD}.</li>
 *   <li><b>Cost.</b> {@link #COST_SERIES} fresh detectors fed the corpus' samples in turn (one sample of each series,
 *       then the next), after a warm-up: nanoseconds per sample from a plain timed loop whose scores go to a sink the
 *       JIT cannot drop; state bytes are {@link Detectors#encode}'s length (for the trend, its {@code BYTES}).</li>
 * </ol>
 */
final class DetectorBench {

    static final double FIXED_THRESHOLD = 0.99;
    static final int COST_SERIES = 1000;
    static final Duration TREND_MEMORY = Duration.ofHours(6);
    /** The JSON prefix of each detector's figures. */
    static final Map<String, String> PREFIXES = Map.of("ensemble", "ensemble", "rolling-zscore", "zscore");

    record Options(long seed, int series, int length) {
        Options {
            if (series < 1) {
                throw new IllegalArgumentException("at least 1 series, not " + series);
            }
            if (length < 200) {
                throw new IllegalArgumentException("at least 200 samples a series, not " + length);
            }
        }
    }

    /** One detector's accuracy at one threshold over a corpus. */
    record Outcome(double threshold, int windows, int detected, int falseEvents, long falsePoints, long normalSamples,
            double meanDelay, double medianDelay) {

        double precision() {
            return detected + falseEvents == 0 ? 0 : detected / (double) (detected + falseEvents);
        }

        double recall() {
            return windows == 0 ? 0 : detected / (double) windows;
        }

        double f1() {
            double p = precision();
            double r = recall();
            return p + r == 0 ? 0 : 2 * p * r / (p + r);
        }

        double falseAlarmsPer1000() {
            return normalSamples == 0 ? 0 : 1000.0 * falsePoints / normalSamples;
        }
    }

    /** Sink for the timed loops: the JIT must compute every score, as it cannot know no one reads this. */
    static volatile double blackhole;

    private final Options options;
    private final PrintStream out;

    DetectorBench(Options options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    Map<String, Object> run() {
        out.printf("Generating %d labelled series of %d samples (seed %d) ...%n", options.series(), options.length(),
                options.seed());
        List<LabelledSeries> corpus = LabelledSeries.corpus(options.seed(), options.series(), options.length());
        int windows = corpus.stream().mapToInt(s -> s.anomalies().size()).sum();
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("series", corpus.size());
        result.put("samples", (long) corpus.size() * options.length());
        result.put("windows", windows);
        result.put("seed", options.seed());
        for (String name : Detectors.names()) {
            String prefix = PREFIXES.getOrDefault(name, name.replace('-', '_'));
            out.printf("Scoring with %s ...%n", name);
            List<double[]> scores = new ArrayList<>(corpus.size());
            for (LabelledSeries s : corpus) {
                scores.add(score(name, s));
            }
            Outcome best = sweep(corpus, scores);
            Outcome fixed = evaluate(corpus, scores, FIXED_THRESHOLD);
            out.printf("  %s: best F1 %.3f at threshold %s (precision %.3f, recall %.3f); at %s F1 %.3f%n", name,
                    best.f1(), best.threshold(), best.precision(), best.recall(), FIXED_THRESHOLD, fixed.f1());
            put(result, prefix, "", best);
            put(result, prefix, "_at_099", fixed);
            List<WindowScoring.Series> judged = windowed(corpus, scores);
            WindowScoring.Result nab = WindowScoring.best(judged, WindowScoring.STANDARD);
            WindowScoring.Result nabFixed = WindowScoring.at(judged, WindowScoring.STANDARD, FIXED_THRESHOLD);
            out.printf("  %s: NAB standard score %.1f at threshold %s; at %s %.1f%n", name, nab.score(), nab.threshold(),
                    FIXED_THRESHOLD, nabFixed.score());
            result.put(prefix + "_nab_standard", round(nab.score()));
            result.put(prefix + "_nab_standard_threshold", nab.threshold());
            result.put(prefix + "_nab_standard_at_099", round(nabFixed.score()));
            for (LabelledSeries.Kind kind : LabelledSeries.Kind.values()) {
                List<LabelledSeries> ofKind = new ArrayList<>();
                List<double[]> kindScores = new ArrayList<>();
                for (int i = 0; i < corpus.size(); i++) {
                    if (corpus.get(i).kind() == kind) {
                        ofKind.add(corpus.get(i));
                        kindScores.add(scores.get(i));
                    }
                }
                if (!ofKind.isEmpty()) {
                    Outcome k = evaluate(ofKind, kindScores, FIXED_THRESHOLD);
                    result.put(prefix + "_false_alarms_per_1000_at_099_" + kind.name().toLowerCase(),
                            round(k.falseAlarmsPer1000()));
                    result.put(prefix + "_recall_at_099_" + kind.name().toLowerCase(), round(k.recall()));
                }
            }
        }
        out.printf("Timing each detector on %d series fed in turn ...%n", COST_SERIES);
        for (String name : Detectors.names()) {
            String prefix = PREFIXES.getOrDefault(name, name.replace('-', '_'));
            result.put(prefix + "_ns_per_sample", round(nanosPerSample(name, corpus)));
            SeriesDetector warm = Detectors.create(name);
            LabelledSeries first = corpus.get(0);
            for (int i = 0; i < first.length(); i++) {
                warm.observe(first.times()[i], first.values()[i]);
            }
            result.put(prefix + "_state_bytes", Detectors.encode(warm).length);
        }
        result.put("trend_ns_per_sample", round(nanosPerSample(null, corpus)));
        result.put("trend_state_bytes", TrendForecaster.BYTES);
        return result;
    }

    /** The corpus as {@link WindowScoring} judges it: each anomaly's window, from its onset to its window's end. */
    static List<WindowScoring.Series> windowed(List<LabelledSeries> corpus, List<double[]> scores) {
        List<WindowScoring.Series> judged = new ArrayList<>(corpus.size());
        for (int i = 0; i < corpus.size(); i++) {
            List<int[]> windows = new ArrayList<>();
            for (LabelledSeries.Anomaly a : corpus.get(i).anomalies()) {
                windows.add(new int[] {a.onset(), a.windowEnd() - 1});
            }
            judged.add(new WindowScoring.Series(corpus.get(i).name(), scores.get(i), windows));
        }
        return judged;
    }

    private static void put(Map<String, Object> result, String prefix, String suffix, Outcome o) {
        result.put(prefix + "_precision" + suffix, round(o.precision()));
        result.put(prefix + "_recall" + suffix, round(o.recall()));
        result.put(prefix + "_f1" + suffix, round(o.f1()));
        result.put(prefix + "_mean_delay_samples" + suffix, round(o.meanDelay()));
        result.put(prefix + "_median_delay_samples" + suffix, round(o.medianDelay()));
        result.put(prefix + "_false_alarms_per_1000" + suffix, round(o.falseAlarmsPer1000()));
        result.put(prefix + "_false_alarm_events" + suffix, o.falseEvents());
        result.put(prefix + "_detected_windows" + suffix, o.detected());
        if (suffix.isEmpty()) {
            result.put(prefix + "_threshold", o.threshold());
        }
    }

    static double round(double v) {
        return Double.isFinite(v) ? Math.round(v * 10_000) / 10_000.0 : v;
    }

    static double[] score(String detector, LabelledSeries series) {
        SeriesDetector d = Detectors.create(detector);
        double[] scores = new double[series.length()];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = d.observe(series.times()[i], series.values()[i]);
        }
        return scores;
    }

    /** The thresholds tried: coarse up to 0.9, then 1 - 10^-k in quarter steps of k up to 1 - 1e-9. */
    static double[] thresholds() {
        List<Double> t = new ArrayList<>();
        for (int i = 10; i < 18; i++) {
            t.add(i * 0.05);
        }
        for (int q = 4; q <= 36; q++) {
            t.add(1 - Math.pow(10, -q / 4.0));
        }
        return t.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** The threshold of best F1; of equal ones, the lowest. */
    static Outcome sweep(List<LabelledSeries> corpus, List<double[]> scores) {
        Outcome best = null;
        for (double threshold : thresholds()) {
            Outcome o = evaluate(corpus, scores, threshold);
            if (best == null || o.f1() > best.f1()) {
                best = o;
            }
        }
        return best;
    }

    static Outcome evaluate(List<LabelledSeries> corpus, List<double[]> scores, double threshold) {
        int windows = 0;
        int falseEvents = 0;
        long falsePoints = 0;
        long normal = 0;
        List<Integer> delays = new ArrayList<>();
        for (int s = 0; s < corpus.size(); s++) {
            LabelledSeries series = corpus.get(s);
            double[] score = scores.get(s);
            windows += series.anomalies().size();
            List<LabelledSeries.Anomaly> detected = new ArrayList<>();
            boolean inFalseEvent = false;
            for (int i = series.probationEnd(); i < score.length; i++) {
                boolean flagged = score[i] >= threshold;
                LabelledSeries.Anomaly window = series.windowOf(i);
                if (window != null) {
                    if (flagged && !detected.contains(window)) {
                        detected.add(window);
                        delays.add(i - window.onset());
                    }
                    inFalseEvent = false;
                    continue;
                }
                normal++;
                if (flagged) {
                    falsePoints++;
                    if (!inFalseEvent) {
                        falseEvents++;
                    }
                }
                inFalseEvent = flagged;
            }
        }
        double mean = delays.stream().mapToInt(Integer::intValue).average().orElse(Double.NaN);
        int[] sorted = delays.stream().mapToInt(Integer::intValue).sorted().toArray();
        double median = sorted.length == 0 ? Double.NaN
                : sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2.0;
        return new Outcome(threshold, windows, delays.size(), falseEvents, falsePoints, normal, mean, median);
    }

    /**
     * Feeds {@link #COST_SERIES} fresh detectors (the corpus' series, repeated when it has fewer) one sample each in
     * turn: the first fifth untimed (warm-up; the corpus' scoring has warmed the JIT already), the rest timed.
     * {@code detector} null times the {@link TrendForecaster}.
     */
    private static double nanosPerSample(String detector, List<LabelledSeries> corpus) {
        int n = COST_SERIES;
        LabelledSeries[] series = new LabelledSeries[n];
        SeriesDetector[] detectors = new SeriesDetector[n];
        TrendForecaster[] trends = new TrendForecaster[n];
        for (int j = 0; j < n; j++) {
            series[j] = corpus.get(j % corpus.size());
            if (detector != null) {
                detectors[j] = Detectors.create(detector);
            } else {
                trends[j] = new TrendForecaster(TREND_MEMORY);
            }
        }
        int length = series[0].length();
        int warmUp = length / 5;
        double sink = 0;
        long started = 0;
        for (int i = 0; i < length; i++) {
            if (i == warmUp) {
                started = System.nanoTime();
            }
            for (int j = 0; j < n; j++) {
                long at = series[j].times()[i];
                double v = series[j].values()[i];
                if (detector != null) {
                    sink += detectors[j].observe(at, v);
                } else {
                    trends[j].observe(at, v);
                    sink += trends[j].slopePerSecond();
                }
            }
        }
        long elapsed = System.nanoTime() - started;
        blackhole = sink;
        return elapsed / (double) ((long) (length - warmUp) * n);
    }

    /** A normal-only series of one kind, for calibration checks. */
    static LabelledSeries normal(LabelledSeries.Kind kind, int length, long seed) {
        return LabelledSeries.generate("normal", kind, length, false, new SplittableRandom(seed));
    }
}
