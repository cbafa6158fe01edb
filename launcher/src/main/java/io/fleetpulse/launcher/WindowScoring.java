package io.fleetpulse.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The streaming-detection score of the Numenta Anomaly Benchmark (NAB), computed the way its scorer does, so a
 * detector's figures here are comparable with the published ones: every series has labelled anomaly windows; a row is a
 * detection when its score is at or above one threshold for all series; within a window only the earliest detection
 * counts, worth more the earlier it is; every detection outside the windows is a false positive (one per row, not per
 * episode), costing less the closer it follows a window; a window without a detection costs the false-negative weight.
 * The sum is normalised so that 0 is a detector that never fires and 100 one that fires exactly at the start of every
 * window and nowhere else. The first 15 % of a series (at most 750 rows) is its probation: no row there counts.
 *
 * <p>Positions are in rows, as in NAB: a detection at relative position {@code y} (-1 at a window's first row, 0 just
 * past its last; after a window, rows past its end over its width less one) weighs {@code 2 / (1 + e^(5y)) - 1}, and
 * -1 beyond 3 widths after a window or before the first one.
 */
final class WindowScoring {

    /** How much a detected window, a false positive and a missed window weigh: NAB's application profiles. */
    record Profile(String name, double truePositive, double falsePositive, double falseNegative) {
    }

    static final Profile STANDARD = new Profile("standard", 1.0, 0.11, 1.0);
    static final Profile REWARD_LOW_FALSE_POSITIVES = new Profile("reward_low_fp", 1.0, 0.22, 1.0);
    static final Profile REWARD_LOW_FALSE_NEGATIVES = new Profile("reward_low_fn", 1.0, 0.11, 2.0);
    static final List<Profile> PROFILES = List.of(STANDARD, REWARD_LOW_FALSE_POSITIVES, REWARD_LOW_FALSE_NEGATIVES);

    static final double PROBATION = 0.15;
    static final int PROBATION_MAX_ROWS = 750;

    /**
     * One scored series: a detector's score per row, and its labelled windows as {@code [first, last]} row indices
     * (inclusive, ascending, not overlapping).
     */
    record Series(String name, double[] scores, List<int[]> windows) {
        Series {
            int previousLast = -1;
            for (int[] w : windows) {
                if (w.length != 2 || w[0] > w[1] || w[0] <= previousLast || w[1] >= scores.length) {
                    throw new IllegalArgumentException(name + ": window " + Arrays.toString(w)
                            + " is not [first, last] within the " + scores.length + " rows, after the one before it");
                }
                previousLast = w[1];
            }
        }

        int probationRows() {
            return (int) Math.min(Math.floor(PROBATION * scores.length), PROBATION_MAX_ROWS);
        }
    }

    /** The outcome at one threshold: NAB's normalised score and what made it up. */
    record Result(double threshold, double score, double raw, int windows, int detected, long falsePositives) {
    }

    private WindowScoring() {
    }

    /**
     * Labelled windows in NAB's {@code combined_windows.json} form: an object from a series' path (relative to the
     * corpus folder, with '/') to a list of {@code [start, end]} timestamps, as {@link DetectCommand} reads them.
     *
     * @return per path, each window as {@code {startMs, endMs}}, inclusive
     * @throws IllegalArgumentException naming what is wrong, for content not of that form
     */
    static Map<String, List<long[]>> readLabels(Path file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("expected a JSON object from file path to a list of [start, end] windows");
        }
        Map<String, List<long[]>> labels = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : root.properties()) {
            String path = entry.getKey();
            if (!entry.getValue().isArray()) {
                throw new IllegalArgumentException(path + ": expected a list of [start, end] windows");
            }
            List<long[]> windows = new ArrayList<>();
            for (JsonNode window : entry.getValue()) {
                if (!window.isArray() || window.size() != 2) {
                    throw new IllegalArgumentException(path + ": window " + window + " is not [start, end]");
                }
                long start = DetectCommand.epochMillis(window.get(0).asText());
                long end = DetectCommand.epochMillis(window.get(1).asText());
                if (start == DetectCommand.NOT_A_TIME || end == DetectCommand.NOT_A_TIME || end < start) {
                    throw new IllegalArgumentException(path + ": window " + window
                            + " is not two timestamps (such as 2014-04-01 00:05:00), the start first");
                }
                windows.add(new long[] {start, end});
            }
            labels.put(path, windows);
        }
        return labels;
    }

    /**
     * The windows (start and end times, inclusive) as row indices of a series with these row times (ascending): from
     * the first row at or after the start to the last at or before the end; a window with no row in it is dropped.
     */
    static List<int[]> rowsOf(long[] times, int rows, List<long[]> windows) {
        List<int[]> indexed = new ArrayList<>(windows.size());
        for (long[] w : windows) {
            int first = firstAtOrAfter(times, rows, w[0]);
            int last = firstAtOrAfter(times, rows, w[1] + 1) - 1;
            if (first <= last) {
                indexed.add(new int[] {first, last});
            }
        }
        return indexed;
    }

    private static int firstAtOrAfter(long[] times, int rows, long at) {
        int low = 0;
        int high = rows;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (times[mid] < at) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low;
    }

    /** NAB's weight of a detection at {@code position} relative to a window (see the class comment). */
    static double scaledSigmoid(double position) {
        if (position > 3.0) {
            return -1.0;
        }
        return 2.0 / (1.0 + Math.exp(5.0 * position)) - 1.0;
    }

    /** The score of the detections at {@code threshold} (a row with a score at or above it is one). */
    static Result at(List<Series> corpus, Profile profile, double threshold) {
        double raw = 0;
        int windows = 0;
        int detected = 0;
        long falsePositives = 0;
        for (Series series : corpus) {
            Weighted rows = new Weighted(series);
            windows += series.windows().size();
            double[] best = new double[series.windows().size()];
            Arrays.fill(best, Double.NaN);
            for (int i = rows.from; i < series.scores().length; i++) {
                if (series.scores()[i] < threshold) {
                    continue;
                }
                int window = rows.window[i];
                if (window < 0) {
                    falsePositives++;
                    raw += profile.falsePositive() * rows.weight[i];
                } else if (Double.isNaN(best[window])) {
                    best[window] = rows.weight[i]; // the earliest detection of the window: it weighs the most
                }
            }
            for (double b : best) {
                if (Double.isNaN(b)) {
                    raw -= profile.falseNegative();
                } else {
                    detected++;
                    raw += profile.truePositive() * b;
                }
            }
        }
        return new Result(threshold, normalised(raw, windows, profile), raw, windows, detected, falsePositives);
    }

    /**
     * The best threshold for the whole corpus, as NAB optimises it: every distinct score is tried, the rows taken from
     * the highest score down, so the sweep costs a sort. Of equal scores, the highest threshold.
     */
    static Result best(List<Series> corpus, Profile profile) {
        record Row(double score, double weight, int window) {
        }
        List<Row> rows = new ArrayList<>();
        int windows = 0;
        for (Series series : corpus) {
            Weighted weighted = new Weighted(series);
            for (int i = weighted.from; i < series.scores().length; i++) {
                int window = weighted.window[i] < 0 ? -1 : windows + weighted.window[i];
                rows.add(new Row(series.scores()[i], weighted.weight[i], window));
            }
            windows += series.windows().size();
        }
        rows.sort((a, b) -> Double.compare(b.score(), a.score()));
        double[] best = new double[windows];
        Arrays.fill(best, Double.NaN);
        // Nothing detected: every window missed.
        double raw = -profile.falseNegative() * windows;
        int detected = 0;
        long falsePositives = 0;
        Result top = new Result(Double.POSITIVE_INFINITY, normalised(raw, windows, profile), raw, windows, 0, 0);
        for (int i = 0; i < rows.size(); i++) {
            Row row = rows.get(i);
            if (row.window() < 0) {
                falsePositives++;
                raw += profile.falsePositive() * row.weight();
            } else if (Double.isNaN(best[row.window()])) {
                best[row.window()] = row.weight();
                detected++;
                raw += profile.falseNegative() + profile.truePositive() * row.weight();
            } else if (row.weight() > best[row.window()]) {
                raw += profile.truePositive() * (row.weight() - best[row.window()]);
                best[row.window()] = row.weight();
            }
            boolean lastOfScore = i + 1 == rows.size() || rows.get(i + 1).score() < row.score();
            if (lastOfScore) {
                double score = normalised(raw, windows, profile);
                if (score > top.score()) {
                    top = new Result(row.score(), score, raw, windows, detected, falsePositives);
                }
            }
        }
        return top;
    }

    /** 0 for the detector that never fires (every window missed), 100 for the one that fires first in each window. */
    static double normalised(double raw, int windows, Profile profile) {
        if (windows == 0) {
            return Double.NaN;
        }
        double none = -profile.falseNegative() * windows;
        double perfect = profile.truePositive() * scaledSigmoid(-1.0) * windows;
        return 100.0 * (raw - none) / (perfect - none);
    }

    /** Per row of one series: its window (-1 for none) and the weight a detection there has; rows before {@link #from} do not count. */
    private static final class Weighted {
        final int from;
        final int[] window;
        final double[] weight;

        Weighted(Series series) {
            int n = series.scores().length;
            from = series.probationRows();
            window = new int[n];
            weight = new double[n];
            Arrays.fill(window, -1);
            int previousLast = -1;
            int previousWidth = 0;
            int next = 0;
            for (int i = 0; i < n; i++) {
                int[] w = next < series.windows().size() ? series.windows().get(next) : null;
                if (w != null && i >= w[0]) {
                    int width = w[1] - w[0] + 1;
                    window[i] = next;
                    weight[i] = scaledSigmoid(-(w[1] - i + 1) / (double) width);
                    if (i == w[1]) {
                        previousLast = w[1];
                        previousWidth = width;
                        next++;
                    }
                } else if (previousLast < 0) {
                    weight[i] = -1.0;
                } else {
                    // NAB divides by the width less one; a one-row window would divide by zero there.
                    double position = (i - previousLast) / (double) Math.max(1, previousWidth - 1);
                    weight[i] = scaledSigmoid(position);
                }
            }
        }
    }
}
