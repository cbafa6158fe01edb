package io.fleetpulse.sink;

import org.jdbi.v3.core.mapper.reflect.ColumnName;

/**
 * What one upsert did: rows inserted or changed ({@code written}; identical replays are not counted) and how
 * many of them went to the DEFAULT partition. Public only because Jdbi maps rows into it reflectively.
 */
public record MergeCounts(@ColumnName("written") long written, @ColumnName("in_default") long inDefault) {

    static final MergeCounts NONE = new MergeCounts(0, 0);

    MergeCounts plus(MergeCounts other) {
        return new MergeCounts(written + other.written, inDefault + other.inDefault);
    }
}
