package io.fleetpulse.collector;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4, what node_exporter serves): one sample
 * per line, {@code name{label="value",...} value [timestamp]}, with {@code #} comments ({@code HELP}, {@code TYPE})
 * and blank lines skipped. Label values may hold {@code \\}, {@code \"} and {@code \n} escapes; values are Go-style
 * floats including {@code NaN}, {@code +Inf} and {@code -Inf}. Any other line is refused with its line number, so a
 * body that is not this format (HTML, say) is one clear error, never half a sample. No maintained Java parser of the
 * format resolves here (Prometheus' client_java only writes it), hence this one; linear in the input, no regex.
 */
final class PrometheusText {

    /** One sample line: the metric name, its labels in order, its value. */
    record Series(String name, Map<String, String> labels, double value) {
    }

    private PrometheusText() {
    }

    static List<Series> parse(String body) {
        List<Series> out = new ArrayList<>();
        int lineNumber = 0;
        int start = 0;
        while (start < body.length()) {
            int end = body.indexOf('\n', start);
            if (end < 0) {
                end = body.length();
            }
            lineNumber++;
            String line = body.substring(start, end);
            start = end + 1;
            if (line.endsWith("\r")) {
                line = line.substring(0, line.length() - 1);
            }
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.charAt(0) == '#') {
                continue;
            }
            out.add(new LineReader(trimmed, lineNumber).series());
        }
        return out;
    }

    /** Reads one sample line left to right. */
    private static final class LineReader {
        private final String line;
        private final int number;
        private int at;

        LineReader(String line, int number) {
            this.line = line;
            this.number = number;
        }

        Series series() {
            String name = name(true);
            Map<String, String> labels = Map.of();
            if (at < line.length() && line.charAt(at) == '{') {
                labels = labels();
            }
            if (at >= line.length() || (line.charAt(at) != ' ' && line.charAt(at) != '\t')) {
                throw fail("expected a space and a value after '" + HealthChecks.excerpt(line.substring(0, at)) + "'");
            }
            skipBlanks();
            int valueStart = at;
            while (at < line.length() && line.charAt(at) != ' ' && line.charAt(at) != '\t') {
                at++;
            }
            double value = value(line.substring(valueStart, at));
            skipBlanks();
            if (at < line.length()) {
                int tsStart = at;
                while (at < line.length() && (Character.isDigit(line.charAt(at)) || line.charAt(at) == '-')) {
                    at++;
                }
                if (tsStart == at || at < line.length()) {
                    throw fail("unexpected text after the value: '" + HealthChecks.excerpt(line.substring(tsStart)) + "'");
                }
            }
            return new Series(name, labels, value);
        }

        private String name(boolean metric) {
            int begin = at;
            while (at < line.length()) {
                char c = line.charAt(at);
                boolean letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':');
                if (!letter && !(at > begin && c >= '0' && c <= '9')) {
                    break;
                }
                at++;
            }
            if (begin == at) {
                throw fail("expected a " + (metric ? "metric" : "label") + " name at column " + (at + 1));
            }
            return line.substring(begin, at);
        }

        private Map<String, String> labels() {
            Map<String, String> labels = new LinkedHashMap<>();
            at++; // '{'
            while (true) {
                skipBlanks();
                if (at < line.length() && line.charAt(at) == '}') {
                    at++;
                    return Collections.unmodifiableMap(labels);
                }
                String label = name(false);
                if (at >= line.length() || line.charAt(at) != '=') {
                    throw fail("expected '=' after label '" + label + "'");
                }
                at++;
                if (at >= line.length() || line.charAt(at) != '"') {
                    throw fail("expected a quoted value for label '" + label + "'");
                }
                at++;
                StringBuilder value = new StringBuilder();
                while (true) {
                    if (at >= line.length()) {
                        throw fail("the value of label '" + label + "' is not closed");
                    }
                    char c = line.charAt(at++);
                    if (c == '"') {
                        break;
                    }
                    if (c == '\\') {
                        if (at >= line.length()) {
                            throw fail("a dangling escape in label '" + label + "'");
                        }
                        char escaped = line.charAt(at++);
                        switch (escaped) {
                            case '\\' -> value.append('\\');
                            case '"' -> value.append('"');
                            case 'n' -> value.append('\n');
                            default -> throw fail("unknown escape '\\" + escaped + "' in label '" + label + "'");
                        }
                    } else {
                        value.append(c);
                    }
                }
                if (labels.put(label, value.toString()) != null) {
                    throw fail("label '" + label + "' twice");
                }
                skipBlanks();
                if (at < line.length() && line.charAt(at) == ',') {
                    at++;
                } else if (at >= line.length() || line.charAt(at) != '}') {
                    throw fail("expected ',' or '}' after label '" + label + "'");
                }
            }
        }

        private double value(String text) {
            switch (text) {
                case "NaN" -> {
                    return Double.NaN;
                }
                case "+Inf", "Inf" -> {
                    return Double.POSITIVE_INFINITY;
                }
                case "-Inf" -> {
                    return Double.NEGATIVE_INFINITY;
                }
                default -> {
                    // Double.parseDouble also takes "Infinity", hex and a trailing 'd'; the format has none of those.
                    if (text.isEmpty() || text.length() > 100 || !text.chars().allMatch(c -> (c >= '0' && c <= '9')
                            || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) {
                        throw fail("'" + HealthChecks.excerpt(text) + "' is not a number");
                    }
                    try {
                        return Double.parseDouble(text);
                    } catch (NumberFormatException e) {
                        throw fail("'" + HealthChecks.excerpt(text) + "' is not a number");
                    }
                }
            }
        }

        private void skipBlanks() {
            while (at < line.length() && (line.charAt(at) == ' ' || line.charAt(at) == '\t')) {
                at++;
            }
        }

        private MetricsParser.MalformedMetricsException fail(String message) {
            return new MetricsParser.MalformedMetricsException("Prometheus text, line " + number + ": " + message);
        }
    }
}
