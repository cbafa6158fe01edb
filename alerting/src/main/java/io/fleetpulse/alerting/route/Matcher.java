package io.fleetpulse.alerting.route;

import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One condition on an alert's label set, with Alertmanager's meaning: {@code name="value"}, {@code name!="value"},
 * {@code name=~"regex"}, {@code name!~"regex"}. A missing label matches as the empty string (so {@code env=""} selects
 * alerts without {@code env}, and {@code env!=""} those with it); a regex must match the whole value (it is anchored
 * as {@code ^(?:regex)$}).
 */
public record Matcher(String name, Op op, String value, Pattern pattern) {

    /** The four operators, as written. */
    public enum Op {
        EQUAL("="), NOT_EQUAL("!="), REGEX("=~"), NOT_REGEX("!~");

        private final String symbol;

        Op(String symbol) {
            this.symbol = symbol;
        }

        public String symbol() {
            return symbol;
        }
    }

    private static final Pattern SYNTAX = Pattern.compile("\\s*([A-Za-z_][A-Za-z0-9_.]*)\\s*(=~|!~|!=|=)\\s*(.*?)\\s*");

    public static Matcher of(String name, Op op, String value) {
        Pattern pattern = null;
        if (op == Op.REGEX || op == Op.NOT_REGEX) {
            pattern = Pattern.compile("^(?:" + value + ")$", Pattern.DOTALL);
        }
        return new Matcher(name, op, value, pattern);
    }

    /**
     * Parses {@code name op value}, the value optionally in double quotes (with {@code \"} and {@code \\} escapes).
     *
     * @throws IllegalArgumentException saying what is wrong, for the YAML reader to place
     */
    public static Matcher parse(String text) {
        java.util.regex.Matcher m = SYNTAX.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a matcher: expected name=value, name!=value, "
                    + "name=~regex or name!~regex (e.g. severity=\"critical\")");
        }
        Op op = switch (m.group(2)) {
            case "=" -> Op.EQUAL;
            case "!=" -> Op.NOT_EQUAL;
            case "=~" -> Op.REGEX;
            default -> Op.NOT_REGEX;
        };
        String value = unquote(m.group(3), text);
        try {
            return of(m.group(1), op, value);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("'" + text + "': invalid regex: " + e.getDescription());
        }
    }

    /** Whether {@code labels} (an alert's label set, see {@link AlertLabels}) satisfy this condition. */
    public boolean matches(Map<String, String> labels) {
        String actual = Optional.ofNullable(labels.get(name)).orElse("");
        return switch (op) {
            case EQUAL -> actual.equals(value);
            case NOT_EQUAL -> !actual.equals(value);
            case REGEX -> pattern.matcher(actual).matches();
            case NOT_REGEX -> !pattern.matcher(actual).matches();
        };
    }

    @Override
    public String toString() {
        return name + op.symbol + '"' + value.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Matcher m && m.name.equals(name) && m.op == op && m.value.equals(value);
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }

    private static String unquote(String raw, String text) {
        if (!raw.startsWith("\"")) {
            return raw;
        }
        if (raw.length() < 2 || !raw.endsWith("\"")) {
            throw new IllegalArgumentException("'" + text + "': the value's closing quote is missing");
        }
        StringBuilder out = new StringBuilder();
        for (int i = 1; i < raw.length() - 1; i++) {
            char c = raw.charAt(i);
            if (c == '\\' && i + 1 < raw.length() - 1) {
                out.append(raw.charAt(++i));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
