package io.fleetpulse.sink;

import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.regex.Pattern;

/**
 * The sink's range-partitioned tables: which column they are partitioned on and how wide one partition is.
 * Every identifier the partition DDL is built from starts here or in {@link PartitionScheme}, never in user text.
 */
public enum PartitionedTable {

    TARGET_WINDOW_1M("target_window_1m", "window_start", Granularity.DAILY),
    ALERT_EVENT("alert_event", "occurred_at", Granularity.MONTHLY);

    private final String parent;
    private final String column;
    private final Granularity granularity;

    PartitionedTable(String parent, String column, Granularity granularity) {
        this.parent = requireIdentifier(parent);
        this.column = requireIdentifier(column);
        this.granularity = granularity;
    }

    public String parent() {
        return parent;
    }

    /** The partition column, the time the rows are ranged on. */
    public String column() {
        return column;
    }

    public Granularity granularity() {
        return granularity;
    }

    public String defaultPartition() {
        return requireIdentifier(parent + "_default");
    }

    /**
     * Refuses anything that is not a plain lower-case identifier, so a name can be spliced into DDL (which cannot
     * take bound parameters) without quoting or injection risk.
     */
    static String requireIdentifier(String name) {
        if (name == null || !Identifier.PATTERN.matcher(name).matches()) {
            throw new IllegalArgumentException("not a safe SQL identifier: " + name);
        }
        return name;
    }

    /** Its own class because enum constants are built before an enum's static fields. */
    private static final class Identifier {
        /** Lower-case SQL identifiers that need no quoting; PostgreSQL truncates names past 63 bytes. */
        static final Pattern PATTERN = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
    }

    /** How wide one partition is; partitions start at midnight UTC (daily) or on the first of a month (monthly). */
    public enum Granularity {
        DAILY(DateTimeFormatter.ofPattern("uuuuMMdd"), 8),
        MONTHLY(DateTimeFormatter.ofPattern("uuuuMM"), 6);

        private final DateTimeFormatter suffix;
        private final int suffixLength;

        Granularity(DateTimeFormatter suffix, int suffixLength) {
            this.suffix = suffix;
            this.suffixLength = suffixLength;
        }

        /** The first day of the partition holding {@code day}. */
        public LocalDate floor(LocalDate day) {
            return this == DAILY ? day : day.withDayOfMonth(1);
        }

        /** The first day of the partition after the one starting on {@code start}. */
        public LocalDate next(LocalDate start) {
            return this == DAILY ? start.plusDays(1) : start.plusMonths(1);
        }

        public LocalDate plus(LocalDate start, long periods) {
            return this == DAILY ? start.plusDays(periods) : start.plusMonths(periods);
        }

        String suffix(LocalDate start) {
            return suffix.format(start);
        }

        int suffixLength() {
            return suffixLength;
        }

        DateTimeFormatter suffixFormat() {
            return suffix;
        }
    }
}
