package io.fleetpulse.launcher;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.fleetpulse.stream.detect.Detectors;
import io.fleetpulse.stream.detect.SeriesDetector;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.DateTimeException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code fleetpulse detect}: the stream processor's anomaly detectors ({@link Detectors}) run offline over CSV files of
 * {@code timestamp,value} rows, each file one series with a detector of its own, every row written back with its score.
 * Rows are streamed, one at a time, so a file's size costs time but no memory.
 */
@Command(name = "detect", mixinStandardHelpOptions = true,
        description = {"Scores every row of CSV time series with an anomaly detector, adding an anomaly_score column.",
                "%n--input is a CSV file with the header timestamp,value (timestamps YYYY-MM-DD HH:MM:SS or"
                        + " YYYY-MM-DDTHH:MM:SS, optionally with fractional seconds, read as UTC), or a folder whose *.csv"
                        + " files (searched recursively, taken in sorted path order) are each one series. --output gets,"
                        + " per input file, a file at the same relative path (--output is then a folder), or with one"
                        + " input file the output file itself (or, if --output is a folder, a file of the same name in it).",
                "%nEach output file has the input's rows in their order, each row's text followed by ,<score>, under"
                        + " the input's header followed by ,anomaly_score. A score is 1 minus a p-value: how unlikely a"
                        + " sample at least this surprising is, given the series' own past, so one threshold means"
                        + " about the same false-alarm rate on any series (0.99: about 1 %% of normal rows). The"
                        + " detector is online and causal (a row's score uses only it and the rows before it) and starts"
                        + " afresh on each file; the first 16 rows of a file are its warm-up and score 0.",
                "%nWith --windows, the scores are also judged against labelled anomaly windows the way the Numenta"
                        + " Anomaly Benchmark (NAB) scores a detector: per profile (standard, reward_low_fp,"
                        + " reward_low_fn) the normalised score at the best single threshold for all files and at 0.99,"
                        + " with the windows detected and the false-positive rows; --json writes them too.",
                "%nA malformed row stops the run with the file and line named. Progress on stderr; exit 0, 1 for an"
                        + " input file that cannot be read or is malformed (or an output that cannot be written),"
                        + " 2 for a bad option.%n"})
final class DetectCommand implements Callable<Integer> {

    static final String SCORE_COLUMN = "anomaly_score";
    /**
     * Enough to tell p-values down to 10^-12 apart, and never an exponent: with 8 decimals every p-value below 5e-9
     * was written as 1, and the real changes of a corpus tied with each other and with its noisiest spikes at the top
     * (NAB standard score of 16 real NAB series: 40.4 with 8 decimals, 46.0 with 12).
     */
    static final int SCORE_DECIMALS = 12;
    private static final long SCORE_UNITS = 1_000_000_000_000L;
    private static final String EXPECTED_HEADER = "timestamp,value";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--input", required = true, paramLabel = "IN", description = "a CSV file, or a folder of them")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "OUT",
            description = "the scored file (or folder, for a folder of input files); parent folders are created")
    Path output;

    @Option(names = "--detector", paramLabel = "NAME", defaultValue = Detectors.DEFAULT,
            completionCandidates = DetectorNames.class,
            description = "one of ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})")
    String detector;

    @Option(names = "--windows", paramLabel = "LABELS",
            description = "labelled anomaly windows to judge the scores by, in NAB's combined_windows.json form: a JSON"
                    + " object from each file's path relative to --input (with '/') to a list of [start, end] timestamps")
    Path windows;

    @Option(names = "--json", paramLabel = "FILE", description = "with --windows: write the judged figures as JSON to FILE")
    Path json;

    /** The threshold the figures are also given at: the one the docs suggest for every series. */
    static final double SUGGESTED_THRESHOLD = 0.99;

    /** Picocli lists the names from {@link Detectors}, so a new detector shows up in --help without an edit here. */
    static final class DetectorNames implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return Detectors.names().iterator();
        }
    }

    /**
     * One input file to score: where it is, what the progress lines call it, where its scores go, and its path relative
     * to --input with '/' (the key of its labelled windows).
     */
    private record Series(Path source, String shownName, Path target, String labelKey) {
    }

    /** A file's row times and scores, kept when they are to be judged against labelled windows. */
    static final class ScoredRows {
        long[] times = new long[1024];
        double[] scores = new double[1024];
        int size;

        void add(long at, double score) {
            if (size == times.length) {
                times = Arrays.copyOf(times, size * 2);
                scores = Arrays.copyOf(scores, size * 2);
            }
            times[size] = at;
            scores[size] = score;
            size++;
        }
    }

    /** Why a file could not be scored (its content, or reading or writing it), worded with the file and the line. */
    static final class CannotScore extends Exception {
        CannotScore(String message) {
            super(message);
        }
    }

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        try {
            Detectors.create(detector);
        } catch (IllegalArgumentException e) {
            throw FleetPulseCli.invalid(spec, "--detector", e.getMessage());
        }
        Map<String, List<long[]>> labels = labels();
        BenchCommand.checkJsonFolder(spec, json);
        List<Series> plan = plan();
        long started = System.nanoTime();
        long rows = 0;
        List<WindowScoring.Series> judged = new ArrayList<>();
        for (int i = 0; i < plan.size(); i++) {
            Series series = plan.get(i);
            List<long[]> labelled = labels == null ? null : labels.get(series.labelKey());
            ScoredRows kept = labelled == null ? null : new ScoredRows();
            long fileRows;
            try {
                fileRows = score(series.source(), series.target(), Detectors.create(detector), kept);
            } catch (CannotScore e) {
                err.println("fleetpulse detect: " + e.getMessage());
                return 1;
            }
            rows += fileRows;
            err.printf("[%d/%d] %s: %d rows%n", i + 1, plan.size(), series.shownName(), fileRows);
            if (labels != null && labelled == null) {
                err.printf("  not judged: %s has no entry for %s%n", windows, series.labelKey());
            }
            err.flush();
            if (kept != null) {
                judged.add(new WindowScoring.Series(series.labelKey(), Arrays.copyOf(kept.scores, kept.size),
                        WindowScoring.rowsOf(kept.times, kept.size, labelled)));
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        err.printf(Locale.ROOT, "%d %s, %d rows scored with %s in %.2f s, written to %s%n", plan.size(),
                plan.size() == 1 ? "file" : "files", rows, detector, seconds, output);
        err.flush();
        if (labels != null) {
            return judge(judged, labels.size());
        }
        return 0;
    }

    /** The labelled windows of --windows, null without it; a file that cannot be read or parsed is a bad option. */
    private Map<String, List<long[]>> labels() {
        if (windows == null) {
            if (json != null) {
                throw FleetPulseCli.invalid(spec, "--json", "the judged figures need --windows");
            }
            return null;
        }
        try {
            return WindowScoring.readLabels(windows);
        } catch (IOException | IllegalArgumentException e) {
            throw FleetPulseCli.invalid(spec, "--windows", windows + ": " + e.getMessage());
        }
    }

    /** Prints (and with --json writes) the NAB scores of the judged files, per profile, at the best threshold and at 0.99. */
    private int judge(List<WindowScoring.Series> judged, int labelledFiles) {
        PrintWriter out = spec.commandLine().getOut();
        if (judged.isEmpty()) {
            spec.commandLine().getErr().println("fleetpulse detect: no input file has an entry in " + windows);
            return 1;
        }
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("detector", detector);
        figures.put("files_judged", judged.size());
        figures.put("files_labelled", labelledFiles);
        figures.put("windows", judged.stream().mapToInt(s -> s.windows().size()).sum());
        figures.put("rows", judged.stream().mapToLong(s -> s.scores().length).sum());
        out.printf(Locale.ROOT, "Judged %d files (%d windows) against %s, as NAB scores them (0 = never fires, 100 ="
                + " perfect):%n", judged.size(), (int) figures.get("windows"), windows);
        for (WindowScoring.Profile profile : WindowScoring.PROFILES) {
            WindowScoring.Result best = WindowScoring.best(judged, profile);
            WindowScoring.Result suggested = WindowScoring.at(judged, profile, SUGGESTED_THRESHOLD);
            out.printf(Locale.ROOT, "  %-13s %6.2f at threshold %s (%d windows detected, %d false-positive rows);"
                            + " at %s: %6.2f (%d, %d)%n", profile.name(), best.score(), best.threshold(), best.detected(),
                    best.falsePositives(), SUGGESTED_THRESHOLD, suggested.score(), suggested.detected(),
                    suggested.falsePositives());
            String key = "nab_" + profile.name();
            figures.put(key, DetectorBench.round(best.score()));
            figures.put(key + "_threshold", best.threshold());
            figures.put(key + "_detected_windows", best.detected());
            figures.put(key + "_false_positive_rows", best.falsePositives());
            figures.put(key + "_at_099", DetectorBench.round(suggested.score()));
            figures.put(key + "_detected_windows_at_099", suggested.detected());
            figures.put(key + "_false_positive_rows_at_099", suggested.falsePositives());
        }
        out.flush();
        if (json != null) {
            try {
                Files.writeString(json, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                        .writeValueAsString(figures) + System.lineSeparator());
            } catch (IOException e) {
                spec.commandLine().getErr().println("fleetpulse detect: cannot write " + json + ": " + reason(e));
                return 1;
            }
            out.println("Figures written to " + json.toAbsolutePath());
        }
        return 0;
    }

    /** Every file to score and where its scores go, checked before anything is written. */
    private List<Series> plan() {
        if (!Files.exists(input)) {
            throw FleetPulseCli.invalid(spec, "--input", input + " does not exist");
        }
        Path in = input.toAbsolutePath().normalize();
        if (!Files.isDirectory(input)) {
            Path target = Files.isDirectory(output) ? output.resolve(input.getFileName()) : output;
            if (target.toAbsolutePath().normalize().equals(in)) {
                throw FleetPulseCli.invalid(spec, "--output", "it would overwrite the input " + input);
            }
            String name = input.getFileName().toString();
            return List.of(new Series(input, name, target, name));
        }
        if (Files.exists(output) && !Files.isDirectory(output)) {
            throw FleetPulseCli.invalid(spec, "--output", output + " is a file; a folder of inputs needs an output folder");
        }
        // Inside the input, a second run would take the first one's output files for inputs.
        if (output.toAbsolutePath().normalize().startsWith(in)) {
            throw FleetPulseCli.invalid(spec, "--output", "the output folder must not be inside the input folder " + input);
        }
        List<Path> relatives;
        try (Stream<Path> walk = Files.walk(input, FileVisitOption.FOLLOW_LINKS)) {
            relatives = walk.filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".csv"))
                    .filter(Files::isRegularFile)
                    .map(input::relativize)
                    .sorted()
                    .toList();
        } catch (IOException | UncheckedIOException e) {
            throw FleetPulseCli.invalid(spec, "--input", "cannot list " + input + ": " + e.getMessage());
        }
        if (relatives.isEmpty()) {
            throw FleetPulseCli.invalid(spec, "--input", "no *.csv files in " + input + " or its sub-folders");
        }
        List<Series> plan = new ArrayList<>(relatives.size());
        for (Path relative : relatives) {
            String labelKey = relative.toString().replace(relative.getFileSystem().getSeparator(), "/");
            plan.add(new Series(input.resolve(relative), relative.toString(), output.resolve(relative), labelKey));
        }
        return plan;
    }

    /**
     * Scores one file into {@code target}: through a temporary file beside it, moved into place once the whole input
     * was read, so a malformed row leaves no output that looks complete.
     *
     * @param kept where each row's time and score go too, or null
     * @return the rows scored
     */
    static long score(Path source, Path target, SeriesDetector detector, ScoredRows kept) throws CannotScore {
        BufferedReader reader;
        try {
            reader = Files.newBufferedReader(source); // UTF-8, and bad bytes are an error rather than replaced
        } catch (IOException e) {
            throw new CannotScore("cannot read " + source + ": " + reason(e));
        }
        Path partial = null;
        try (reader) {
            Path folder = target.toAbsolutePath().getParent();
            try {
                Files.createDirectories(folder);
                partial = Files.createTempFile(folder, target.getFileName() + ".", ".part");
            } catch (IOException e) {
                throw new CannotScore("cannot write " + target + ": " + reason(e));
            }
            long rows;
            try (BufferedWriter writer = Files.newBufferedWriter(partial)) {
                rows = scoreRows(reader, writer, source, detector, kept);
            }
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            partial = null;
            return rows;
        } catch (CharacterCodingException e) {
            throw new CannotScore(source + ": is not UTF-8 text");
        } catch (IOException e) {
            throw new CannotScore("scoring " + source + " into " + target + ": " + reason(e));
        } finally {
            if (partial != null) {
                try {
                    Files.deleteIfExists(partial);
                } catch (IOException ignored) {
                    // The failure being reported matters more than a leftover .part file.
                }
            }
        }
    }

    /** What went wrong, without the path the message names already. */
    private static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or folder";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException fs && fs.getReason() != null) {
            return fs.getReason();
        }
        return String.valueOf(e.getMessage());
    }

    /** The rows of one series, in order: the header checked and extended, then every row scored and extended. */
    static long scoreRows(BufferedReader reader, BufferedWriter writer, Path source, SeriesDetector detector,
                          ScoredRows kept) throws IOException, CannotScore {
        long lineNumber = 0;
        String line;
        String header = null;
        while (header == null && (line = reader.readLine()) != null) {
            lineNumber++;
            if (lineNumber == 1 && line.startsWith("\uFEFF")) {
                line = line.substring(1);
            }
            if (!line.isBlank()) {
                header = line.stripTrailing();
            }
        }
        if (header == null) {
            throw new CannotScore(source + ": is empty; expected the header " + EXPECTED_HEADER);
        }
        if (!isExpectedHeader(header)) {
            throw new CannotScore(source + ":" + lineNumber + ": header '" + header + "' is not " + EXPECTED_HEADER);
        }
        writer.write(header);
        writer.write(',');
        writer.write(SCORE_COLUMN);
        writer.write('\n');

        long rows = 0;
        while ((line = reader.readLine()) != null) {
            lineNumber++;
            if (line.isBlank()) {
                continue; // no row: blank lines (most often at the end) are not series data
            }
            String row = line.stripTrailing();
            int comma = row.indexOf(',');
            if (comma < 0 || row.indexOf(',', comma + 1) >= 0) {
                int fields = (int) row.chars().filter(c -> c == ',').count() + 1;
                throw new CannotScore(source + ":" + lineNumber + ": " + fields + (fields == 1 ? " field" : " fields")
                        + ", expected 2 (" + EXPECTED_HEADER + ")");
            }
            String timestampText = field(row, 0, comma);
            String valueText = field(row, comma + 1, row.length());
            long atMillis = epochMillis(timestampText);
            if (atMillis == NOT_A_TIME) {
                throw new CannotScore(source + ":" + lineNumber + ": timestamp '" + timestampText
                        + "' is not a UTC time such as 2014-04-01 00:05:00 or 2014-04-01T00:05:00.250");
            }
            if (!looksLikeNumber(valueText)) {
                throw new CannotScore(source + ":" + lineNumber + ": value '" + valueText + "' is not a number");
            }
            double value = Double.parseDouble(valueText);
            if (!Double.isFinite(value)) {
                throw new CannotScore(source + ":" + lineNumber + ": value '" + valueText + "' is out of range");
            }
            String score = formatScore(detector.observe(atMillis, value));
            if (kept != null) {
                kept.add(atMillis, Double.parseDouble(score)); // judged as written, to the decimals a reader sees
            }
            writer.write(row);
            writer.write(',');
            writer.write(score);
            writer.write('\n');
            rows++;
        }
        return rows;
    }

    private static boolean isExpectedHeader(String header) {
        int comma = header.indexOf(',');
        return comma > 0 && header.indexOf(',', comma + 1) < 0
                && field(header, 0, comma).equalsIgnoreCase("timestamp")
                && field(header, comma + 1, header.length()).equalsIgnoreCase("value");
    }

    /** A field without its surrounding whitespace and, when it has them, its double quotes. */
    private static String field(String row, int from, int to) {
        String text = row.substring(from, to).strip();
        if (text.length() >= 2 && text.charAt(0) == '"' && text.charAt(text.length() - 1) == '"') {
            text = text.substring(1, text.length() - 1).strip();
        }
        return text;
    }

    static final long NOT_A_TIME = Long.MIN_VALUE;

    /**
     * {@code YYYY-MM-DD HH:MM:SS} or {@code YYYY-MM-DDTHH:MM:SS}, optionally with a fraction of a second and a
     * {@code Z}, as UTC milliseconds; {@link #NOT_A_TIME} for anything else. By hand rather than with a
     * DateTimeFormatter: exactly these forms, no exception per bad row, and little work on a row.
     */
    static long epochMillis(String text) {
        int end = text.length();
        if (end > 0 && (text.charAt(end - 1) == 'Z' || text.charAt(end - 1) == 'z')) {
            end--;
        }
        if (end < 19 || text.charAt(4) != '-' || text.charAt(7) != '-' || text.charAt(13) != ':' || text.charAt(16) != ':'
                || (text.charAt(10) != ' ' && text.charAt(10) != 'T' && text.charAt(10) != 't')) {
            return NOT_A_TIME;
        }
        int year = digits(text, 0, 4);
        int month = digits(text, 5, 7);
        int day = digits(text, 8, 10);
        int hour = digits(text, 11, 13);
        int minute = digits(text, 14, 16);
        int second = digits(text, 17, 19);
        if (year < 0 || month < 0 || day < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0
                || second > 59) {
            return NOT_A_TIME;
        }
        int millis = 0;
        if (end > 19) {
            if (text.charAt(19) != '.' || end == 20) {
                return NOT_A_TIME;
            }
            int scale = 100;
            for (int i = 20; i < end; i++) {
                int digit = text.charAt(i) - '0';
                if (digit < 0 || digit > 9) {
                    return NOT_A_TIME;
                }
                millis += digit * scale; // digits past the millisecond are dropped, as the detector counts in ms
                scale /= 10;
            }
        }
        long epochDay;
        try {
            epochDay = LocalDate.of(year, month, day).toEpochDay();
        } catch (DateTimeException e) {
            return NOT_A_TIME; // February 30th and the like
        }
        return ((epochDay * 24 + hour) * 60 + minute) * 60_000L + second * 1000L + millis;
    }

    /** The decimal number in {@code text[from, to)}, or -1 when a character there is no digit. */
    private static int digits(String text, int from, int to) {
        int n = 0;
        for (int i = from; i < to; i++) {
            int digit = text.charAt(i) - '0';
            if (digit < 0 || digit > 9) {
                return -1;
            }
            n = n * 10 + digit;
        }
        return n;
    }

    /**
     * A plain decimal number: sign, digits with at most one point, optional exponent. Checked before
     * {@link Double#parseDouble}, which would also take "NaN", "Infinity", hexadecimal and a trailing "d" or "f".
     */
    static boolean looksLikeNumber(String text) {
        int i = 0;
        int n = text.length();
        if (i < n && (text.charAt(i) == '+' || text.charAt(i) == '-')) {
            i++;
        }
        int mantissaDigits = 0;
        while (i < n && text.charAt(i) >= '0' && text.charAt(i) <= '9') {
            i++;
            mantissaDigits++;
        }
        if (i < n && text.charAt(i) == '.') {
            i++;
            while (i < n && text.charAt(i) >= '0' && text.charAt(i) <= '9') {
                i++;
                mantissaDigits++;
            }
        }
        if (mantissaDigits == 0) {
            return false;
        }
        if (i < n && (text.charAt(i) == 'e' || text.charAt(i) == 'E')) {
            i++;
            if (i < n && (text.charAt(i) == '+' || text.charAt(i) == '-')) {
                i++;
            }
            int exponentDigits = 0;
            while (i < n && text.charAt(i) >= '0' && text.charAt(i) <= '9') {
                i++;
                exponentDigits++;
            }
            if (exponentDigits == 0) {
                return false;
            }
        }
        return i == n;
    }

    /** A score in [0, 1] with up to {@value #SCORE_DECIMALS} decimals, trailing zeros dropped: 0, 0.5, 0.99999123, 1. */
    static String formatScore(double score) {
        long units = Math.round(score * SCORE_UNITS);
        if (units % SCORE_UNITS == 0) {
            return Long.toString(units / SCORE_UNITS);
        }
        String fraction = Long.toString(SCORE_UNITS + units % SCORE_UNITS).substring(1);
        int length = fraction.length();
        while (fraction.charAt(length - 1) == '0') {
            length--;
        }
        return (units / SCORE_UNITS) + "." + fraction.substring(0, length);
    }
}
