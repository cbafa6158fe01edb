package io.fleetpulse.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WindowScoringTest {

    private static final WindowScoring.Profile STANDARD = WindowScoring.STANDARD;

    /** 1000 rows (probation: the first 150), windows at rows 400-499 and 700-749. */
    private static WindowScoring.Series series(double[] scores) {
        return new WindowScoring.Series("s", scores, List.of(new int[] {400, 499}, new int[] {700, 749}));
    }

    private static double[] firing(int... rows) {
        double[] scores = new double[1000];
        for (int row : rows) {
            scores[row] = 1.0;
        }
        return scores;
    }

    @Test
    void shouldWeighDetectionsWithNabsScaledSigmoid() {
        assertEquals(0.98661, WindowScoring.scaledSigmoid(-1.0), 1e-5, "a window's first row");
        assertEquals(0.0, WindowScoring.scaledSigmoid(0.0), 1e-12, "just past its last row");
        assertEquals(-0.98661, WindowScoring.scaledSigmoid(1.0), 1e-5);
        assertEquals(-1.0, WindowScoring.scaledSigmoid(3.01), 1e-12, "well after the window");
    }

    @Test
    void shouldScoreAPerfectDetector100AndOneThatNeverFires0() {
        WindowScoring.Result perfect = WindowScoring.at(List.of(series(firing(400, 700))), STANDARD, 0.5);
        WindowScoring.Result never = WindowScoring.at(List.of(series(firing())), STANDARD, 0.5);

        assertEquals(100.0, perfect.score(), 1e-9);
        assertEquals(2, perfect.detected());
        assertEquals(0.0, never.score(), 1e-9);
        assertEquals(-2.0, never.raw(), 1e-12, "two missed windows at the false-negative weight");
    }

    @Test
    void shouldCountOnlyTheEarliestDetectionOfAWindowAndWeighItByItsPosition() {
        WindowScoring.Result early = WindowScoring.at(List.of(series(firing(410, 700))), STANDARD, 0.5);
        WindowScoring.Result late = WindowScoring.at(List.of(series(firing(490, 700))), STANDARD, 0.5);
        WindowScoring.Result both = WindowScoring.at(List.of(series(firing(410, 490, 495, 700))), STANDARD, 0.5);

        assertTrue(early.score() > late.score(), early + " vs " + late);
        assertEquals(early.raw(), both.raw(), 1e-12, "later detections in a detected window neither add nor cost");
        assertEquals(0, both.falsePositives());
        double position = -(499 - 410 + 1) / 100.0;
        assertEquals(WindowScoring.scaledSigmoid(position) + WindowScoring.scaledSigmoid(-1.0), early.raw(), 1e-12);
    }

    @Test
    void shouldChargeEveryFalsePositiveRowLessTheCloserItFollowsAWindow() {
        WindowScoring.Result beforeAnyWindow = WindowScoring.at(List.of(series(firing(300, 400, 700))), STANDARD, 0.5);
        WindowScoring.Result rightAfter = WindowScoring.at(List.of(series(firing(400, 502, 700))), STANDARD, 0.5);
        WindowScoring.Result farAfter = WindowScoring.at(List.of(series(firing(400, 650, 700))), STANDARD, 0.5);
        WindowScoring.Result twoRows = WindowScoring.at(List.of(series(firing(300, 301, 400, 700))), STANDARD, 0.5);

        double perfectRaw = 2 * WindowScoring.scaledSigmoid(-1.0);
        assertEquals(perfectRaw - 0.11, beforeAnyWindow.raw(), 1e-12, "no window before it: the full weight");
        assertEquals(perfectRaw - 0.22, twoRows.raw(), 1e-12, "each row above the threshold is a false positive");
        assertEquals(2, twoRows.falsePositives());
        double justPast = 0.11 * WindowScoring.scaledSigmoid((502 - 499) / 99.0);
        assertEquals(perfectRaw + justPast, rightAfter.raw(), 1e-12);
        assertTrue(rightAfter.raw() > farAfter.raw(), "a false positive far after a window costs more");
    }

    @Test
    void shouldIgnoreTheProbationaryRows() {
        WindowScoring.Result result = WindowScoring.at(List.of(series(firing(0, 149, 400, 700))), STANDARD, 0.5);

        assertEquals(0, result.falsePositives(), "rows 0-149 are the probation of 1000 rows");
        assertEquals(100.0, result.score(), 1e-9);
        assertEquals(750, new WindowScoring.Series("long", new double[10_000], List.of()).probationRows(),
                "probation is at most 750 rows");
    }

    @Test
    void shouldFindTheThresholdASweepOfEveryScoreWouldFind() {
        Random random = new Random(42);
        List<WindowScoring.Series> corpus = new java.util.ArrayList<>();
        for (int s = 0; s < 5; s++) {
            double[] scores = new double[1000];
            for (int i = 0; i < scores.length; i++) {
                scores[i] = Math.round(random.nextDouble() * 200) / 200.0; // ties, as rounded scores have
                if ((i >= 400 && i < 430 && random.nextInt(10) == 0) || (i >= 700 && i < 720 && random.nextInt(5) == 0)) {
                    scores[i] = 0.99 + random.nextDouble() / 100;
                }
            }
            corpus.add(series(scores));
        }
        for (WindowScoring.Profile profile : WindowScoring.PROFILES) {
            WindowScoring.Result best = WindowScoring.best(corpus, profile);
            double bruteForce = 0;
            for (WindowScoring.Series s : corpus) {
                for (double t : s.scores()) {
                    bruteForce = Math.max(bruteForce, WindowScoring.at(corpus, profile, t).score());
                }
            }
            assertEquals(bruteForce, best.score(), 1e-9, profile.name());
            assertEquals(best.score(), WindowScoring.at(corpus, profile, best.threshold()).score(), 1e-9, profile.name());
        }
    }

    @Test
    void shouldReadNabLabelsAndPlaceTheirWindowsOnTheRows(@TempDir Path dir) throws IOException {
        Path labels = Files.writeString(dir.resolve("windows.json"), """
                {"realKnownCause/a.csv": [["2014-04-01 00:10:00.000000", "2014-04-01 00:20:00.000000"]],
                 "b.csv": []}
                """);

        Map<String, List<long[]>> read = WindowScoring.readLabels(labels);

        assertEquals(List.of("realKnownCause/a.csv", "b.csv"), List.copyOf(read.keySet()));
        long start = DetectCommand.epochMillis("2014-04-01 00:00:00");
        long[] times = new long[10];
        for (int i = 0; i < times.length; i++) {
            times[i] = start + i * 300_000L; // every 5 minutes: 00:10 is row 2, 00:20 row 4
        }
        List<int[]> rows = WindowScoring.rowsOf(times, times.length, read.get("realKnownCause/a.csv"));
        assertEquals(1, rows.size());
        assertEquals(2, rows.get(0)[0]);
        assertEquals(4, rows.get(0)[1]);
    }

    @Test
    void shouldRefuseLabelsNotInNabsForm(@TempDir Path dir) throws IOException {
        Path notAnObject = Files.writeString(dir.resolve("a.json"), "[1, 2]");
        Path badWindow = Files.writeString(dir.resolve("b.json"), "{\"x.csv\": [[\"2014-04-01 00:10:00\"]]}");
        Path backwards = Files.writeString(dir.resolve("c.json"),
                "{\"x.csv\": [[\"2014-04-01 00:10:00\", \"2014-04-01 00:00:00\"]]}");

        assertThrows(IllegalArgumentException.class, () -> WindowScoring.readLabels(notAnObject));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> WindowScoring.readLabels(badWindow)).getMessage()
                .startsWith("x.csv: window"));
        assertThrows(IllegalArgumentException.class, () -> WindowScoring.readLabels(backwards));
    }
}
