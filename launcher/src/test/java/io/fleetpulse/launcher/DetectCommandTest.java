package io.fleetpulse.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DetectCommandTest {

    private static final long FIVE_MINUTES = 300_000L;
    private static final long START = Instant.parse("2014-04-01T00:00:00Z").toEpochMilli();

    @Test
    void shouldWriteEveryRowInOrderFollowedByItsScore(@TempDir Path dir) throws IOException {
        Path in = write(dir.resolve("cpu.csv"), noisySeries(40, 7));
        Path out = dir.resolve("scored/cpu-scores.csv");

        CliRun run = CliRun.execute("detect", "--input", in.toString(), "--output", out.toString());

        assertEquals(0, run.exit(), run.err());
        assertEquals("", run.out(), "scores go to --output, nothing to stdout");
        List<String> input = Files.readAllLines(in);
        List<String> output = Files.readAllLines(out);
        assertEquals(input.size(), output.size());
        assertEquals("timestamp,value,anomaly_score", output.get(0));
        for (int i = 1; i < input.size(); i++) {
            String line = output.get(i);
            assertTrue(line.startsWith(input.get(i) + ","), line);
            assertTrue(line.substring(input.get(i).length() + 1).matches("0|1|0\\.[0-9]{0,11}[1-9]"), line);
        }
        assertTrue(run.err().contains("1 file, 40 rows scored with ensemble"), run.err());
    }

    @Test
    void shouldWriteAFolderOfSeriesToTheSameRelativePathsInSortedOrder(@TempDir Path dir) throws IOException {
        Path in = dir.resolve("corpus");
        write(in.resolve("realKnownCause/nyc_taxi.csv"), noisySeries(30, 1));
        write(in.resolve("artificial/deeper/flat.csv"), noisySeries(20, 2));
        write(in.resolve("a.csv"), noisySeries(25, 3));
        write(in.resolve("README.txt"), List.of("not a series"));
        Path out = dir.resolve("results");

        CliRun run = CliRun.execute("detect", "--input", in.toString(), "--output", out.toString());

        assertEquals(0, run.exit(), run.err());
        assertEquals(List.of("a.csv", "artificial/deeper/flat.csv", "realKnownCause/nyc_taxi.csv"), files(out));
        assertEquals(31, Files.readAllLines(out.resolve("realKnownCause/nyc_taxi.csv")).size());
        List<String> progress = run.err().lines().toList();
        assertEquals("[1/3] a.csv: 25 rows", progress.get(0));
        assertEquals("[2/3] artificial/deeper/flat.csv: 20 rows", progress.get(1));
        assertEquals("[3/3] realKnownCause/nyc_taxi.csv: 30 rows", progress.get(2));
        assertTrue(progress.get(3).startsWith("3 files, 75 rows scored with ensemble in "), progress.get(3));
    }

    @Test
    void shouldScoreWithTheNamedDetector(@TempDir Path dir) throws IOException {
        List<String> series = noisySeries(200, 4);
        series.set(150, series.get(150).replaceFirst(",.*", ",80"));
        Path in = write(dir.resolve("s.csv"), series);

        CliRun ensemble = CliRun.execute("detect", "--input", in.toString(), "--output", dir.resolve("e.csv").toString());
        CliRun zscore = CliRun.execute("detect", "--input", in.toString(), "--output", dir.resolve("z.csv").toString(),
                "--detector", "rolling-zscore");

        assertEquals(0, ensemble.exit(), ensemble.err());
        assertEquals(0, zscore.exit(), zscore.err());
        assertTrue(zscore.err().contains("scored with rolling-zscore"), zscore.err());
        assertNotEquals(scores(dir.resolve("e.csv")), scores(dir.resolve("z.csv")));
    }

    @Test
    void shouldRefuseAnUnknownDetectorNamingTheKnownOnes(@TempDir Path dir) throws IOException {
        Path in = write(dir.resolve("s.csv"), noisySeries(20, 5));

        CliRun run = CliRun.execute("detect", "--input", in.toString(), "--output", dir.resolve("o.csv").toString(),
                "--detector", "prophet");

        assertEquals(2, run.exit());
        assertTrue(run.err().contains("'prophet'") && run.err().contains("ensemble")
                && run.err().contains("rolling-zscore"), run.err());
        assertEquals(1, run.err().lines().count(), run.err());
        assertFalse(Files.exists(dir.resolve("o.csv")));
    }

    @Test
    void shouldStopAtAMalformedRowNamingTheFileTheLineAndTheProblem(@TempDir Path dir) throws IOException {
        assertMalformed(dir, "2014-04-01 00:20:00,abc", "a.csv:5: value 'abc' is not a number");
        assertMalformed(dir, "2014-04-01 00:20:00,1,2", "a.csv:5: 3 fields, expected 2 (timestamp,value)");
        assertMalformed(dir, "2014-04-01 00:20:00", "a.csv:5: 1 field, expected 2 (timestamp,value)");
        assertMalformed(dir, "2014-02-30 00:20:00,1", "a.csv:5: timestamp '2014-02-30 00:20:00' is not a UTC time");
        assertMalformed(dir, "04/01/2014 00:20,1", "a.csv:5: timestamp '04/01/2014 00:20' is not a UTC time");
        assertMalformed(dir, "2014-04-01 00:20:00,NaN", "a.csv:5: value 'NaN' is not a number");
        assertMalformed(dir, "2014-04-01 00:20:00,1e999", "a.csv:5: value '1e999' is out of range");
    }

    private static void assertMalformed(Path dir, String badRow, String expected) throws IOException {
        List<String> rows = new ArrayList<>(noisySeries(6, 6));
        rows.set(4, badRow);
        Path in = write(dir.resolve("in/a.csv"), rows);
        Path out = dir.resolve("out");

        CliRun run = CliRun.execute("detect", "--input", dir.resolve("in").toString(), "--output", out.toString());

        assertEquals(1, run.exit(), run.err());
        assertTrue(run.err().contains("fleetpulse detect: " + in.getParent() + "/" + expected), run.err());
        assertEquals(List.of(), files(out), "no output file that looks complete");
    }

    @Test
    void shouldRefuseAWrongHeaderAnEmptyFileAMissingInputAndAFolderWithoutCsv(@TempDir Path dir) throws IOException {
        Path wrong = write(dir.resolve("wrong.csv"), List.of("time,val", "2014-04-01 00:00:00,1"));
        Path empty = write(dir.resolve("empty.csv"), List.of("", ""));
        Files.createDirectories(dir.resolve("nothing/here"));
        Path out = dir.resolve("o.csv");

        CliRun wrongHeader = CliRun.execute("detect", "--input", wrong.toString(), "--output", out.toString());
        CliRun noHeader = CliRun.execute("detect", "--input", empty.toString(), "--output", out.toString());
        CliRun missing = CliRun.execute("detect", "--input", dir.resolve("gone.csv").toString(), "--output", out.toString());
        CliRun noCsv = CliRun.execute("detect", "--input", dir.resolve("nothing").toString(), "--output",
                dir.resolve("out").toString());

        assertEquals(1, wrongHeader.exit());
        assertEquals("fleetpulse detect: " + wrong + ":1: header 'time,val' is not timestamp,value",
                wrongHeader.err().strip());
        assertEquals(1, noHeader.exit());
        assertTrue(noHeader.err().contains(empty + ": is empty; expected the header timestamp,value"), noHeader.err());
        assertEquals(2, missing.exit());
        assertTrue(missing.err().contains("gone.csv does not exist"), missing.err());
        assertEquals(2, noCsv.exit());
        assertTrue(noCsv.err().contains("no *.csv files in"), noCsv.err());
        for (CliRun run : List.of(wrongHeader, noHeader, missing, noCsv)) {
            assertEquals(1, run.err().lines().count(), run.err());
        }
        assertFalse(Files.exists(out));
    }

    @Test
    void shouldScoreASpikeInANoisySeriesAboveTheThresholdAfterAWarmUpOfZeros(@TempDir Path dir) throws IOException {
        List<String> rows = noisySeries(600, 8);
        int spike = 450;
        rows.set(spike, rows.get(spike).replaceFirst(",.*", ",62.5")); // about 12 standard deviations up
        Path in = write(dir.resolve("spike.csv"), rows);
        Path out = dir.resolve("scored.csv");

        CliRun run = CliRun.execute("detect", "--input", in.toString(), "--output", out.toString());

        assertEquals(0, run.exit(), run.err());
        List<Double> scores = scores(out);
        assertEquals(List.of(0.0), scores.subList(0, 16).stream().distinct().toList(), "16 rows of warm-up score 0");
        assertTrue(scores.get(spike - 1) > 0.99, "spike scored " + scores.get(spike - 1));
        long falseAlarms = scores.stream().filter(s -> s > 0.99).count() - 1;
        assertTrue(falseAlarms <= 12, falseAlarms + " normal rows above 0.99 of " + scores.size());
    }

    @Test
    void shouldJudgeAFolderAgainstNabLabelledWindowsAndWriteTheFigures(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("corpus");
        List<String> shifted = noisySeries(600, 9);
        for (int i = 451; i <= 600; i++) {
            shifted.set(i, shifted.get(i).replaceFirst(",.*", "," + (58 + (i % 3) * 0.5))); // a level shift at row 450
        }
        write(in.resolve("realKnownCause/shift.csv"), shifted);
        write(in.resolve("flat/quiet.csv"), noisySeries(600, 10));
        write(in.resolve("unlabelled.csv"), noisySeries(100, 11));
        Path labels = Files.writeString(dir.resolve("windows.json"), """
                {"realKnownCause/shift.csv": [["2014-04-02 13:00:00.000000", "2014-04-02 16:00:00.000000"]],
                 "flat/quiet.csv": []}
                """);
        Path json = dir.resolve("figures.json");

        CliRun run = CliRun.execute("detect", "--input", in.toString(), "--output", dir.resolve("out").toString(),
                "--windows", labels.toString(), "--json", json.toString());

        assertEquals(0, run.exit(), run.err());
        assertTrue(run.err().contains("not judged: " + labels + " has no entry for unlabelled.csv"), run.err());
        assertTrue(run.out().contains("Judged 2 files (1 windows)"), run.out());
        Map<?, ?> figures = new ObjectMapper().readValue(json.toFile(), Map.class);
        assertEquals(2, figures.get("files_judged"));
        assertEquals(1, figures.get("windows"));
        assertEquals(1, figures.get("nab_standard_detected_windows"), "the shift is found: " + figures);
        assertTrue(((Number) figures.get("nab_standard")).doubleValue() > 50, "standard score: " + figures);
        for (String key : List.of("nab_standard_at_099", "nab_reward_low_fp", "nab_reward_low_fn_threshold",
                "nab_reward_low_fp_false_positive_rows_at_099")) {
            assertTrue(figures.containsKey(key), key + " in " + figures);
        }
    }

    @Test
    void shouldRefuseLabelsThatCannotBeReadAndJsonWithoutThem(@TempDir Path dir) throws IOException {
        Path in = write(dir.resolve("s.csv"), noisySeries(20, 1));
        Path broken = Files.writeString(dir.resolve("broken.json"), "{\"s.csv\": [[\"yesterday\", \"today\"]]}");

        CliRun badLabels = CliRun.execute("detect", "--input", in.toString(), "--output", dir.resolve("o.csv").toString(),
                "--windows", broken.toString());
        CliRun jsonAlone = CliRun.execute("detect", "--input", in.toString(), "--output", dir.resolve("o.csv").toString(),
                "--json", dir.resolve("f.json").toString());

        assertEquals(2, badLabels.exit());
        assertTrue(badLabels.err().contains("--windows") && badLabels.err().contains("is not two timestamps"),
                badLabels.err());
        assertEquals(2, jsonAlone.exit());
        assertTrue(jsonAlone.err().contains("--json") && jsonAlone.err().contains("need --windows"), jsonAlone.err());
        assertFalse(Files.exists(dir.resolve("o.csv")), "nothing scored after a bad option");
    }

    @Test
    void shouldReadABomCrlfAnyCaseHeaderSurroundingSpaceAndExponentValues(@TempDir Path dir) throws IOException {
        StringBuilder csv = new StringBuilder("\uFEFF Timestamp , VALUE \r\n");
        for (int i = 0; i < 20; i++) {
            String separator = i % 2 == 0 ? " " : "T";
            csv.append(String.format(Locale.ROOT, " 2014-04-01%s00:%02d:00.5 ,  %.3fE+1 \r\n", separator, i, 4 + i % 3 / 10.0));
        }
        csv.append("2014-04-01 00:20:00,-7\r\n\r\n   \r\n");
        Path in = dir.resolve("windows.csv");
        Files.writeString(in, csv, StandardCharsets.UTF_8);
        Path out = dir.resolve("out.csv");

        CliRun run = CliRun.execute("detect", "--input", in.toString(), "--output", out.toString());

        assertEquals(0, run.exit(), run.err());
        List<String> lines = Files.readAllLines(out);
        assertEquals(22, lines.size());
        assertEquals(" Timestamp , VALUE,anomaly_score", lines.get(0));
        assertTrue(lines.get(1).startsWith(" 2014-04-01 00:00:00.5 ,  4.000E+1,"), lines.get(1));
        assertTrue(lines.get(21).startsWith("2014-04-01 00:20:00,-7,"), lines.get(21));
    }

    @Test
    void shouldSayInTheHelpWhatAScoreMeansAndThatTheFirstRowsAreWarmUp() {
        CliRun help = CliRun.execute("detect", "--help");

        assertEquals(0, help.exit());
        String text = help.out().replaceAll("\\s+", " ");
        assertTrue(text.contains("A score is 1 minus a p-value"), text);
        assertTrue(text.contains("(0.99: about 1 % of normal rows)"), text);
        assertTrue(text.contains("the first 16 rows of a file are its warm-up and score 0"), text);
        assertTrue(text.contains("one of ensemble, rolling-zscore (default ensemble)"), text);
    }

    @Test
    void shouldReadBothTimestampFormsAsUtcMilliseconds() {
        assertEquals(START, DetectCommand.epochMillis("2014-04-01 00:00:00"));
        assertEquals(START + 1_250, DetectCommand.epochMillis("2014-04-01T00:00:01.25"));
        assertEquals(START + 999, DetectCommand.epochMillis("2014-04-01T00:00:00.999999Z"));
        assertEquals(DetectCommand.NOT_A_TIME, DetectCommand.epochMillis("2014-04-01 24:00:00"));
        assertEquals(DetectCommand.NOT_A_TIME, DetectCommand.epochMillis("2014-04-01 00:00:00."));
    }

    @Test
    void shouldWriteScoresThatTellFourNinesFromFiveWithoutAnExponent() {
        assertEquals("0.9999", DetectCommand.formatScore(0.9999));
        assertEquals("0.99999", DetectCommand.formatScore(0.99999));
        assertEquals("0.99999999", DetectCommand.formatScore(0.99999999));
        assertEquals("0.00000001", DetectCommand.formatScore(1e-8));
        assertEquals("0.999999999999", DetectCommand.formatScore(1 - 1e-12), "a p-value of 1e-12 is not 1");
        assertEquals("0.99999999", DetectCommand.formatScore(1 - 1e-8 + 1e-14), "beyond 12 decimals, rounded");
        assertEquals("0", DetectCommand.formatScore(0));
        assertEquals("1", DetectCommand.formatScore(1));
    }

    /** A header and {@code rows} samples five minutes apart: Gaussian noise around 50 with a standard deviation of 1. */
    private static List<String> noisySeries(int rows, long seed) {
        Random random = new Random(seed);
        List<String> lines = new ArrayList<>(List.of("timestamp,value"));
        for (int i = 0; i < rows; i++) {
            String at = Instant.ofEpochMilli(START + i * FIVE_MINUTES).toString().replace('T', ' ').replace("Z", "");
            lines.add(String.format(Locale.ROOT, "%s,%.4f", at, 50 + random.nextGaussian()));
        }
        return lines;
    }

    private static Path write(Path file, List<String> lines) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.write(file, lines);
    }

    private static List<Double> scores(Path scored) throws IOException {
        return Files.readAllLines(scored).stream().skip(1)
                .map(line -> Double.parseDouble(line.substring(line.lastIndexOf(',') + 1))).toList();
    }

    private static List<String> files(Path folder) throws IOException {
        if (!Files.exists(folder)) {
            return List.of();
        }
        try (Stream<Path> walk = Files.walk(folder)) {
            return walk.filter(Files::isRegularFile).map(p -> folder.relativize(p).toString()).sorted().toList();
        }
    }
}
