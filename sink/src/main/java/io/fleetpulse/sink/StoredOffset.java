package io.fleetpulse.sink;

import org.jdbi.v3.core.mapper.reflect.ColumnName;

/** One row of {@code sink_offset}: the next offset the sink will read from a topic partition (public for Jdbi). */
public record StoredOffset(@ColumnName("topic") String topic, @ColumnName("partition") int partition,
                    @ColumnName("next_offset") long nextOffset) {
}
