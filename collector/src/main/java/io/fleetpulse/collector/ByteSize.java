package io.fleetpulse.collector;

import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Sizes in bytes as the inventory writes them: {@code 1073741824}, {@code 10GiB}, {@code 500 MB}. */
final class ByteSize {

    /** The units understood, for messages: decimal (powers of 1000) and binary (powers of 1024). */
    static final String UNITS = "B, KB, MB, GB, TB, KiB, MiB, GiB, TiB";

    private static final Pattern SIZE = Pattern.compile("(\\d[\\d_]*)\\s*([a-z]*)");
    private static final Map<String, Long> FACTORS = Map.of("", 1L, "b", 1L,
            "kb", 1_000L, "mb", 1_000_000L, "gb", 1_000_000_000L, "tb", 1_000_000_000_000L,
            "kib", 1L << 10, "mib", 1L << 20, "gib", 1L << 30, "tib", 1L << 40);

    private ByteSize() {
    }

    /** The bytes {@code text} says, or null when it is not a whole number with an optional known unit. */
    static Long parse(String text) {
        Matcher m = SIZE.matcher(text.strip().toLowerCase(Locale.ROOT));
        if (!m.matches() || !FACTORS.containsKey(m.group(2))) {
            return null;
        }
        try {
            return Math.multiplyExact(Long.parseLong(m.group(1).replace("_", "")), FACTORS.get(m.group(2)));
        } catch (ArithmeticException | NumberFormatException e) {
            return null; // past a long: no disk is that large
        }
    }

    /** {@code bytes} in the largest binary unit it fills, one decimal: {@code 9.3 GiB}, {@code 512 B}. */
    static String format(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        double value = bytes;
        int unit = 0;
        while (Math.abs(value) >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }
}
