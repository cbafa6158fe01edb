package io.fleetpulse.runtime.text;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one duration syntax of FleetPulse, used by properties files, the inventory, rule files, incident scripts and
 * CLI options alike: {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 7d}, {@code 2w}, compounds such as
 * {@code 1h30m}, and ISO-8601 such as {@code PT30S} or {@code P1D}. Never negative.
 */
public final class Durations {

    /** What the syntax allows, for error messages. */
    public static final String SYNTAX = "a duration such as 500ms, 30s, 5m, 1h, 7d, 2w, 1h30m or PT30S";

    private static final Pattern PART = Pattern.compile("(\\d+)(ms|s|m|h|d|w)");
    private static final Pattern COMPOUND = Pattern.compile("(?:\\d+(?:ms|s|m|h|d|w))+");

    private Durations() {
    }

    /**
     * Parses a duration of zero or more.
     *
     * @throws IllegalArgumentException naming the text and {@link #SYNTAX} when it is not one
     */
    public static Duration parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("no duration given: expected " + SYNTAX);
        }
        String trimmed = text.strip().toLowerCase(Locale.ROOT);
        if (trimmed.startsWith("p")) {
            return parseIso(text.strip());
        }
        String compact = trimmed.replace(" ", "");
        if (!COMPOUND.matcher(compact).matches()) {
            throw new IllegalArgumentException("'" + text + "' is not " + SYNTAX);
        }
        Duration total = Duration.ZERO;
        Matcher m = PART.matcher(compact);
        try {
            while (m.find()) {
                long amount = Long.parseLong(m.group(1));
                total = total.plus(switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(amount);
                    case "s" -> Duration.ofSeconds(amount);
                    case "m" -> Duration.ofMinutes(amount);
                    case "h" -> Duration.ofHours(amount);
                    case "d" -> Duration.ofDays(amount);
                    default -> Duration.ofDays(Math.multiplyExact(amount, 7));
                });
            }
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("'" + text + "' is too long a duration");
        }
        return total;
    }

    /** As {@link #parse}, refusing zero. */
    public static Duration parsePositive(String text) {
        Duration d = parse(text);
        if (d.isZero()) {
            throw new IllegalArgumentException("'" + text + "' is zero: expected a positive duration");
        }
        return d;
    }

    /** {@code d} in the largest unit that holds it whole, in the same syntax: {@code 90s}, {@code 5m}, {@code 2w}. */
    public static String format(Duration d) {
        long millis = d.toMillis();
        if (millis == 0) {
            return "0s";
        }
        long[] sizes = {7L * 86_400_000, 86_400_000, 3_600_000, 60_000, 1_000};
        String[] units = {"w", "d", "h", "m", "s"};
        for (int i = 0; i < sizes.length; i++) {
            if (millis % sizes[i] == 0) {
                return millis / sizes[i] + units[i];
            }
        }
        return millis + "ms";
    }

    private static Duration parseIso(String text) {
        Duration d;
        try {
            d = Duration.parse(text.toUpperCase(Locale.ROOT));
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("'" + text + "' is not " + SYNTAX);
        }
        if (d.isNegative()) {
            throw new IllegalArgumentException("'" + text + "' is negative: expected " + SYNTAX);
        }
        return d;
    }
}
