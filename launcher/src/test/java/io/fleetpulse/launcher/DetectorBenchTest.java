package io.fleetpulse.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code fleetpulse bench detectors} on a small corpus: every figure there, and the accounting of its events. */
class DetectorBenchTest {

    @Test
    void shouldReportEveryFigureForEachDetector() {
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        Map<String, Object> result = new DetectorBench(new DetectorBench.Options(7, 12, 1200),
                new PrintStream(progress, true, StandardCharsets.UTF_8)).run();

        for (String prefix : List.of("ensemble", "zscore")) {
            for (String figure : List.of("precision", "recall", "f1", "mean_delay_samples", "threshold",
                    "false_alarms_per_1000", "precision_at_099", "recall_at_099", "f1_at_099", "mean_delay_samples_at_099",
                    "false_alarms_per_1000_at_099", "nab_standard", "nab_standard_threshold", "nab_standard_at_099",
                    "ns_per_sample", "state_bytes")) {
                assertTrue(result.containsKey(prefix + "_" + figure), prefix + "_" + figure + " in " + result.keySet());
            }
            double f1 = ((Number) result.get(prefix + "_f1")).doubleValue();
            assertTrue(f1 >= 0 && f1 <= 1, prefix + " F1 " + f1);
        }
        assertTrue(result.containsKey("trend_ns_per_sample") && result.containsKey("trend_state_bytes"));
        assertEquals(12, result.get("series"));
        assertEquals(12L * 1200, result.get("samples"));
        assertEquals(7L, result.get("seed"));
        assertTrue(progress.toString(StandardCharsets.UTF_8).contains("Scoring with ensemble"));
    }

    @Test
    void shouldGenerateTheSameCorpusFromTheSameSeed() {
        LabelledSeries a = LabelledSeries.corpus(3, 2, 600).get(1);
        LabelledSeries b = LabelledSeries.corpus(3, 2, 600).get(1);

        assertEquals(a.anomalies(), b.anomalies());
        assertEquals(java.util.Arrays.toString(a.values()), java.util.Arrays.toString(b.values()));
    }

    @Test
    void shouldCountARunOfFlaggedNormalSamplesAsOneFalseAlarmAndAWindowOnce() {
        int n = 400;
        long[] times = new long[n];
        for (int i = 0; i < n; i++) {
            times[i] = LabelledSeries.START_MS + i * LabelledSeries.INTERVAL_MS;
        }
        LabelledSeries.Anomaly window = new LabelledSeries.Anomaly(LabelledSeries.AnomalyKind.SPIKE, 200, 224);
        LabelledSeries series = new LabelledSeries("t", LabelledSeries.Kind.CPU, times, new double[n], List.of(window));
        double[] scores = new double[n];
        scores[100] = scores[101] = scores[102] = 1; // one false alarm event of three samples
        scores[150] = 1; // another
        scores[203] = scores[204] = 1; // the window, detected 3 samples late
        scores[10] = 1; // in the probation: not judged

        DetectorBench.Outcome o = DetectorBench.evaluate(List.of(series), List.of(scores), 0.99);

        assertEquals(2, o.falseEvents());
        assertEquals(4, o.falsePoints());
        assertEquals(1, o.detected());
        assertEquals(3.0, o.meanDelay());
        assertEquals(1 / 3.0, o.precision(), 1e-12);
        assertEquals(1.0, o.recall());
        assertEquals(n - series.probationEnd() - 24, o.normalSamples());
    }

    @Test
    void shouldRejectABadOptionNamingIt() {
        CliRun run = CliRun.execute("bench", "detectors", "--series", "0");

        assertEquals(2, run.exit(), run.err());
        assertTrue(run.err().contains("'--series'"), run.err());
    }
}
