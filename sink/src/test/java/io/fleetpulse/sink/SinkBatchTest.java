package io.fleetpulse.sink;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.schemas.DeadLetters;
import io.fleetpulse.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class SinkBatchTest {

    private static final Instant T = Instant.parse("2026-11-23T10:15:00Z");
    private static final String AGG = Topics.AGGREGATES_1M.name();
    private static final String ALERTS = Topics.ALERTS.name();

    @Test
    void shouldStageGoodRecordsAndDeadLetterUndecodableOnesWithoutLosingTheirOffsets() {
        byte[] garbage = "not avro".getBytes(StandardCharsets.UTF_8);
        SinkBatch batch = SinkBatch.decode(List.of(
                record(AGG, 0, 10, Topics.AGGREGATES_1M.valueSerde().serializer().serialize(AGG, Records.window("a", T, 2))),
                record(AGG, 0, 11, garbage),
                record(AGG, 1, 5, Topics.AGGREGATES_1M.valueSerde().serializer().serialize(AGG, Records.window("b", T, 2))),
                record(ALERTS, 2, 40, Topics.ALERTS.valueSerde().serializer()
                        .serialize(ALERTS, Records.alert("fp", "a", AlertState.FIRING, T)))), T);

        assertEquals(4, batch.records());
        assertEquals(2, batch.windows());
        assertEquals(1, batch.alerts());
        assertEquals(2, batch.windowRows().lines().count());
        assertTrue(batch.windowRows().startsWith("0,\"a\","));
        assertTrue(batch.windowRows().contains("\n2,\"b\","), "seq counts every record, dead letters included");
        assertEquals(Map.of(new TopicPartition(AGG, 0), 12L, new TopicPartition(AGG, 1), 6L, new TopicPartition(ALERTS, 2), 41L),
                batch.nextOffsets());

        assertEquals(1, batch.deadLetters().size());
        DeadLetter letter = batch.deadLetters().get(0).value();
        assertEquals(Topics.DLQ.name(), batch.deadLetters().get(0).topic());
        assertEquals(DeadLetters.UNDECODABLE, letter.getReason());
        assertEquals(AGG, letter.getSourceTopic());
        assertEquals(0, letter.getSourcePartition());
        assertEquals(11, letter.getSourceOffset());
        assertEquals("sink", letter.getService());
        assertArrayEquals(garbage, bytes(letter.getOriginalValue()));
        assertArrayEquals("key".getBytes(StandardCharsets.UTF_8), batch.deadLetters().get(0).key().get());
        assertEquals(Map.of(AGG, Map.of(SinkBatch.STORED, 2L, SinkBatch.DEAD_LETTERED, 1L), ALERTS, Map.of(SinkBatch.STORED, 1L)),
                batch.outcomes());
    }

    @Test
    void shouldDeadLetterTombstonesAndUnstorableValuesAsInvalid() {
        SinkBatch batch = SinkBatch.decode(List.of(
                record(AGG, 0, 1, null),
                record(AGG, 0, 2, Topics.AGGREGATES_1M.valueSerde().serializer().serialize(AGG, Records.window("a\0", T, 2)))), T);
        assertEquals(0, batch.windows());
        assertEquals(List.of(DeadLetters.INVALID, DeadLetters.INVALID),
                batch.deadLetters().stream().map(r -> r.value().getReason()).toList());
        assertEquals(Map.of(new TopicPartition(AGG, 0), 3L), batch.nextOffsets());
    }

    @Test
    void shouldMovePastTombstonesOfACompactedTopicWithoutWritingOrDeadLetteringThem() {
        String health = Topics.HEALTH.name();
        SinkBatch batch = SinkBatch.decode(List.of(
                record(health, 0, 7, null),
                record(health, 0, 8, Topics.HEALTH.valueSerde().serializer().serialize(health, Records.health("a", T, 90)))), T);
        assertEquals(List.of(), batch.deadLetters());
        assertEquals(1, batch.rows().size());
        assertEquals(PartitionedTable.TARGET_HEALTH, batch.rows().get(0).table());
        assertEquals(Map.of(health, Map.of(SinkBatch.TOMBSTONE, 1L, SinkBatch.STORED, 1L)), batch.outcomes());
        assertEquals(Map.of(new TopicPartition(health, 0), 9L), batch.nextOffsets());
    }

    @Test
    void shouldTurnATargetTombstoneIntoARemovalAtItsTimestamp() {
        String targets = Topics.TARGETS.name();
        ConsumerRecord<byte[], byte[]> tombstone = new ConsumerRecord<>(targets, 1, 3, T.toEpochMilli(),
                org.apache.kafka.common.record.TimestampType.CREATE_TIME, 0, 0, "srv-9".getBytes(StandardCharsets.UTF_8),
                null, new org.apache.kafka.common.header.internals.RecordHeaders(), java.util.Optional.empty());
        SinkBatch batch = SinkBatch.decode(List.of(tombstone), T.plusSeconds(60));
        assertEquals(List.of(new SinkBatch.Removal(PartitionedTable.TARGETS, "srv-9", T)), batch.removals());
        assertEquals(List.of(), batch.rows());
        assertEquals(List.of(), batch.deadLetters());
        assertEquals(Map.of(new TopicPartition(targets, 1), 4L), batch.nextOffsets());
    }

    @Test
    void shouldDeadLetterAnAggregateSentToTheAlertTopic() {
        byte[] window = Topics.AGGREGATES_1M.valueSerde().serializer().serialize(AGG, Records.window("a", T, 2));
        SinkBatch batch = SinkBatch.decode(List.of(record(ALERTS, 0, 0, window)), T);
        assertEquals(0, batch.alerts());
        assertEquals(DeadLetters.UNDECODABLE, batch.deadLetters().get(0).value().getReason());
    }

    private static ConsumerRecord<byte[], byte[]> record(String topic, int partition, long offset, byte[] value) {
        return new ConsumerRecord<>(topic, partition, offset, "key".getBytes(StandardCharsets.UTF_8), value);
    }

    private static byte[] bytes(java.nio.ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }
}
