package io.fleetpulse.stream.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.streams.errors.StreamsException;
import org.junit.jupiter.api.Test;

class ReplayBoundTest {

    private final ReplayBound bound = configured(Map.of(new TopicPartition("fleet.checks", 0), 10L,
            new TopicPartition("fleet.checks", 1), 0L));

    @Test
    void shouldGiveARecordBeforeItsPartitionsEndItsOwnTimestamp() {
        assertEquals(1_000L, bound.extract(record("fleet.checks", 0, 9, 1_000L), 0));
    }

    @Test
    void shouldSkipARecordAtOrPastItsPartitionsEnd() {
        assertEquals(-1L, bound.extract(record("fleet.checks", 0, 10, 1_000L), 0));
        assertEquals(-1L, bound.extract(record("fleet.checks", 1, 0, 1_000L), 0), "an empty range skips everything");
    }

    @Test
    void shouldLeavePartitionsItWasNotGivenUnbounded() {
        assertEquals(2_000L, bound.extract(record("fleet.metrics", 0, 1_000_000, 2_000L), 0));
    }

    @Test
    void shouldFailOnANegativeRecordTimestampAsTheLiveRunDoes() {
        assertThrows(StreamsException.class, () -> bound.extract(record("fleet.checks", 0, 1, -5L), 0));
    }

    private static ReplayBound configured(Map<TopicPartition, Long> ends) {
        ReplayBound extractor = new ReplayBound();
        extractor.configure(ReplayBound.properties(ends));
        return extractor;
    }

    private static ConsumerRecord<Object, Object> record(String topic, int partition, long offset, long timestamp) {
        return new ConsumerRecord<>(topic, partition, offset, timestamp, TimestampType.CREATE_TIME, 0, 0, null, null,
                new RecordHeaders(), Optional.empty());
    }
}
