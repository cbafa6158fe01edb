package io.fleetpulse.sink;

import io.fleetpulse.runtime.text.Durations;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Which dated partitions one table should have at a given moment, and which have expired. Pure date arithmetic,
 * all in UTC, so it is tested without a database.
 *
 * <p>Wanted partitions run from the one holding {@code now - retention} (so a replay of anything the topics
 * still hold lands in a dated partition, not in DEFAULT) to {@code aheadPeriods} partitions after the current
 * one (so the writer never waits on DDL at midnight). A partition expires once its whole range is older than
 * {@code now - retention}: the row that is exactly at the cutoff is kept.
 */
public final class PartitionScheme {

    private final PartitionedTable table;
    private final Duration retention;
    private final int aheadPeriods;

    public PartitionScheme(PartitionedTable table, Duration retention, int aheadPeriods) {
        if (retention.isNegative() || retention.isZero()) {
            throw new IllegalArgumentException("retention must be positive: " + Durations.format(retention));
        }
        if (aheadPeriods < 0) {
            throw new IllegalArgumentException("aheadPeriods must not be negative: " + aheadPeriods);
        }
        this.table = Objects.requireNonNull(table);
        this.retention = retention;
        this.aheadPeriods = aheadPeriods;
    }

    public PartitionedTable table() {
        return table;
    }

    public Duration retention() {
        return retention;
    }

    public int aheadPeriods() {
        return aheadPeriods;
    }

    /** The partition a row whose partition column is {@code time} belongs to. */
    public Partition partitionFor(Instant time) {
        return startingOn(table.granularity().floor(LocalDate.ofInstant(time, ZoneOffset.UTC)));
    }

    /** Rows older than this may be dropped; a partition is dropped once it holds nothing newer. */
    public Instant retentionCutoff(Instant now) {
        return now.minus(retention);
    }

    /** Every partition the table should have at {@code now}, oldest first. */
    public List<Partition> wanted(Instant now) {
        PartitionedTable.Granularity g = table.granularity();
        LocalDate first = partitionFor(retentionCutoff(now)).from();
        LocalDate last = g.plus(partitionFor(now).from(), aheadPeriods);
        List<Partition> wanted = new ArrayList<>();
        for (LocalDate start = first; !start.isAfter(last); start = g.next(start)) {
            wanted.add(startingOn(start));
        }
        return wanted;
    }

    /** True once every row the partition can hold is older than the retention cutoff. */
    public boolean isExpired(Partition partition, Instant now) {
        return !partition.end().isAfter(retentionCutoff(now));
    }

    /**
     * The partition a table name stands for, if it is one of this scheme's dated partitions. Anything else (the
     * DEFAULT partition, a table someone attached by hand) is not ours to drop and yields empty.
     */
    public Optional<Partition> parse(String partitionName) {
        String prefix = table.parent() + "_p";
        PartitionedTable.Granularity g = table.granularity();
        if (partitionName == null || !partitionName.startsWith(prefix)
                || partitionName.length() != prefix.length() + g.suffixLength()) {
            return Optional.empty();
        }
        String digits = partitionName.substring(prefix.length());
        if (!digits.chars().allMatch(Character::isDigit)) {
            return Optional.empty();
        }
        try {
            LocalDate start = g == PartitionedTable.Granularity.DAILY
                    ? LocalDate.parse(digits, g.suffixFormat())
                    : YearMonth.parse(digits, g.suffixFormat()).atDay(1);
            // The lenient parser turns 20260231 into February 28th; only exact round trips are our names.
            return g.suffix(start).equals(digits) ? Optional.of(startingOn(start)) : Optional.empty();
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    private Partition startingOn(LocalDate start) {
        PartitionedTable.Granularity g = table.granularity();
        LocalDate from = g.floor(start);
        String name = PartitionedTable.requireIdentifier(table.parent() + "_p" + g.suffix(from));
        return new Partition(table, name, from, g.next(from));
    }

    /** One dated partition: rows with {@code from <= column < to}, both at midnight UTC. */
    public record Partition(PartitionedTable table, String name, LocalDate from, LocalDate to) {

        public Instant start() {
            return from.atStartOfDay(ZoneOffset.UTC).toInstant();
        }

        public Instant end() {
            return to.atStartOfDay(ZoneOffset.UTC).toInstant();
        }
    }
}
