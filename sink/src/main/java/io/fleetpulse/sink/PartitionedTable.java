package io.fleetpulse.sink;

import io.fleetpulse.schemas.Topics;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.time.format.DateTimeFormatter;
import java.util.regex.Pattern;

/**
 * The sink's table registry: each table is declared once here (the topic it is written from, how a record becomes
 * its columns, its natural key, its partition column and period) plus a Flyway migration that creates it. The
 * writer's subscription, the COPY mapping, the staging and merge SQL ({@link TableSql}), the meters and the
 * partition manager all follow from this declaration; its retention is a key in {@link SinkSettings}.
 * Every identifier the SQL is built from starts here or in {@link PartitionScheme}, never in user text.
 */
public enum PartitionedTable {

    TARGET_WINDOW_1M("target_window_1m", "window_start", Granularity.DAILY, Topics.AGGREGATES_1M.name(),
            CopyRows.WINDOWS, List.of("target_id", "window_start")),
    TARGET_WINDOW_1H("target_window_1h", "window_start", Granularity.MONTHLY, Topics.AGGREGATES_1H.name(),
            CopyRows.WINDOWS, List.of("target_id", "window_start")),
    ALERT_EVENT("alert_event", "occurred_at", Granularity.MONTHLY, Topics.ALERTS.name(),
            CopyRows.ALERTS, List.of("fingerprint", "occurred_at", "state")),
    /**
     * The alerting audit: every delivery decision and attempt, so "why was I not paged" is one query. A group
     * notification is audited once per alert under one id, hence the fingerprint in the key.
     */
    NOTIFICATION("notification", "decided_at", Granularity.MONTHLY, Topics.NOTIFICATIONS.name(),
            CopyRows.NOTIFICATIONS, List.of("notification_id", "fingerprint", "attempt", "outcome", "decided_at")),
    /** Every service's dead letters (fleet.dlq); the sink never dead-letters a record of this topic again. */
    DEAD_LETTER("dead_letter", "failed_at", Granularity.MONTHLY, Topics.DLQ.name(),
            CopyRows.DEAD_LETTERS, List.of("service", "source_topic", "source_partition", "source_offset", "failed_at")),
    /** The history of fleet.health: the latest score of each target per scoring window. */
    TARGET_HEALTH("target_health", "window_start", Granularity.DAILY, Topics.HEALTH.name(),
            CopyRows.HEALTH_SCORES, List.of("target_id", "window_start")),
    /** The inventory's history (fleet.targets): one row per target version; a tombstone sets removed_at. */
    TARGETS("targets", "updated_at", Granularity.MONTHLY, Topics.TARGETS.name(), CopyRows.TARGETS,
            List.of("target_id", "updated_at"));

    /** The column a tombstone of {@link #TARGETS} sets; no record writes it, so it is not among the format's. */
    static final String REMOVED_AT = "removed_at";

    private final String parent;
    private final String column;
    private final Granularity granularity;
    private final String topic;
    private final CopyRows.Format<?> format;
    private final List<String> naturalKey;

    PartitionedTable(String parent, String column, Granularity granularity, String topic, CopyRows.Format<?> format,
                     List<String> naturalKey) {
        this.parent = requireIdentifier(parent);
        this.column = requireIdentifier(column);
        this.granularity = granularity;
        this.topic = topic;
        this.format = format;
        this.naturalKey = naturalKey.stream().map(PartitionedTable::requireIdentifier).toList();
        format.columns().forEach(PartitionedTable::requireIdentifier);
        if (!this.naturalKey.contains(this.column) || !format.columns().containsAll(this.naturalKey)) {
            throw new IllegalArgumentException(parent + ": the natural key must be columns and hold " + column);
        }
    }

    /** The table written from {@code topic}, if any. */
    static Optional<PartitionedTable> forTopic(String topic) {
        return Arrays.stream(values()).filter(t -> t.topic.equals(topic)).findFirst();
    }

    /**
     * True if a tombstone of its topic marks the key's rows removed ({@link #REMOVED_AT}) instead of being
     * skipped; such a table's first natural-key column is the record key.
     */
    boolean recordsRemovals() {
        return this == TARGETS;
    }

    /** The topic its rows come from. */
    String topic() {
        return topic;
    }

    /** How a record of {@link #topic()} becomes a row. */
    CopyRows.Format<?> format() {
        return format;
    }

    /** The columns that identify a row (the primary key, partition column included). */
    List<String> naturalKey() {
        return naturalKey;
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
