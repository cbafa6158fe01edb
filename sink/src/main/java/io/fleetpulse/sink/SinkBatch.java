package io.fleetpulse.sink;

import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.schemas.DeadLetters;
import io.fleetpulse.schemas.Topics;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.utils.Bytes;

/**
 * One polled batch, decoded: staging rows per table, the dead letters for records that could not be stored,
 * and the next offset of every partition it touched. Every record ends up in exactly one of rows or dead letters,
 * and every record's offset is covered by {@link #nextOffsets()}, so committing the batch moves past all of it.
 */
final class SinkBatch {

    static final String SERVICE = "sink";
    static final String STORED = "stored";
    static final String DEAD_LETTERED = "dead-lettered";
    static final String UNSTORABLE = "unstorable";
    /** A tombstone of a compacted topic: moved past, nothing written. */
    static final String TOMBSTONE = "tombstone";
    private static final java.util.Set<String> COMPACTED = Topics.ALL.stream().filter(t -> t.compacted())
            .map(t -> t.name()).collect(java.util.stream.Collectors.toUnmodifiableSet());
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SinkBatch.class);

    /** Each table's topic's value deserializer (they are stateless, so shared). */
    private static final Map<PartitionedTable, Deserializer<?>> DESERIALIZERS = deserializers();

    /** Why the database refused a row (its SQLState and message are the dead letter's error). */
    static final String REJECTED = "rejected";

    private final List<Row> rows = new ArrayList<>();
    private final List<Removal> removals = new ArrayList<>();
    private final Map<PartitionedTable, Integer> perTable = new java.util.EnumMap<>(PartitionedTable.class);
    private int records;
    private final Map<TopicPartition, Long> nextOffsets = new LinkedHashMap<>();
    private final List<ProducerRecord<Bytes, DeadLetter>> deadLetters = new ArrayList<>();
    private final Map<String, Map<String, Long>> outcomes = new LinkedHashMap<>();

    private SinkBatch() {
    }

    /** Decodes {@code polled}; {@code now} stamps the dead letters. */
    static SinkBatch decode(Iterable<ConsumerRecord<byte[], byte[]>> polled, Instant now) {
        SinkBatch batch = new SinkBatch();
        for (ConsumerRecord<byte[], byte[]> record : polled) {
            batch.add(record, now);
        }
        return batch;
    }

    private void add(ConsumerRecord<byte[], byte[]> record, Instant now) {
        long seq = records++;
        nextOffsets.merge(new TopicPartition(record.topic(), record.partition()), record.offset() + 1, Math::max);
        String topic = record.topic();
        if (record.value() == null) {
            java.util.Optional<PartitionedTable> removing = PartitionedTable.forTopic(topic)
                    .filter(PartitionedTable::recordsRemovals);
            if (removing.isPresent() && record.key() != null) {
                removals.add(new Removal(removing.get(), new String(record.key(), java.nio.charset.StandardCharsets.UTF_8),
                        Instant.ofEpochMilli(record.timestamp())));
                count(topic, TOMBSTONE);
            } else if (removing.isEmpty() && COMPACTED.contains(topic)) {
                // A compacted topic's tombstone only says "no current value any more"; the table keeps history.
                count(topic, TOMBSTONE);
            } else {
                deadLetter(record, DeadLetters.INVALID, "null value (tombstone) on a topic of immutable records", now);
            }
            return;
        }
        PartitionedTable table = PartitionedTable.forTopic(topic)
                .orElseThrow(() -> new IllegalStateException("the sink is not subscribed to " + topic));
        CopyRows.Decoded decoded = table.format().decode(DESERIALIZERS.get(table), topic, record.value(), seq);
        if (decoded.line() == null) {
            deadLetter(record, decoded.reason(), decoded.error(), now);
            return;
        }
        rows.add(new Row(table, record, decoded.line()));
        perTable.merge(table, 1, Integer::sum);
        count(topic, STORED);
    }

    private void deadLetter(ConsumerRecord<byte[], byte[]> record, String reason, String error, Instant now) {
        if (isDeadLetterTopic(record.topic())) {
            // Dead-lettering a dead letter would feed the sink its own output, forever.
            LOG.warn("cannot store dead letter {}-{}@{} in dead_letter ({}: {}); skipped, not dead-lettered again",
                    record.topic(), record.partition(), record.offset(), reason, error);
            count(record.topic(), UNSTORABLE);
            return;
        }
        deadLetters.add(deadLetterOf(record, reason, error, now));
        count(record.topic(), DEAD_LETTERED);
    }

    /** True for fleet.dlq: its unstorable records are counted and logged, never dead-lettered. */
    static boolean isDeadLetterTopic(String topic) {
        return Topics.DLQ.name().equals(topic);
    }

    /** The {@code fleet.dlq} record that stands for {@code record}. */
    static ProducerRecord<Bytes, DeadLetter> deadLetterOf(ConsumerRecord<byte[], byte[]> record, String reason,
                                                         String error, Instant now) {
        DeadLetter letter = DeadLetters.of(SERVICE, record.topic(), record.partition(), record.offset(), record.key(),
                record.value(), reason, error, now);
        return new ProducerRecord<>(Topics.DLQ.name(), record.key() == null ? null : Bytes.wrap(record.key()), letter);
    }

    /**
     * The outcomes once the database has refused {@code rejected} (rows of this batch): each moves from stored to
     * dead-lettered.
     */
    Map<String, Map<String, Long>> outcomesAfter(List<Row> rejected) {
        Map<String, Map<String, Long>> out = new LinkedHashMap<>();
        outcomes.forEach((topic, counts) -> out.put(topic, new LinkedHashMap<>(counts)));
        for (Row row : rejected) {
            Map<String, Long> counts = out.get(row.record().topic());
            counts.merge(STORED, -1L, Long::sum);
            counts.merge(isDeadLetterTopic(row.record().topic()) ? UNSTORABLE : DEAD_LETTERED, 1L, Long::sum);
        }
        return out;
    }

    private void count(String topic, String outcome) {
        outcomes.computeIfAbsent(topic, t -> new LinkedHashMap<>()).merge(outcome, 1L, Long::sum);
    }

    boolean isEmpty() {
        return records == 0;
    }

    int records() {
        return records;
    }

    int windows() {
        return perTable.getOrDefault(PartitionedTable.TARGET_WINDOW_1M, 0);
    }

    int alerts() {
        return perTable.getOrDefault(PartitionedTable.ALERT_EVENT, 0);
    }

    private static Map<PartitionedTable, Deserializer<?>> deserializers() {
        Map<PartitionedTable, Deserializer<?>> out = new java.util.EnumMap<>(PartitionedTable.class);
        for (PartitionedTable table : PartitionedTable.values()) {
            Topics.ALL.stream().filter(t -> t.name().equals(table.topic())).findFirst()
                    .ifPresent(t -> out.put(table, t.valueSerde().deserializer()));
        }
        return out;
    }

    /** Every storable record as a staging row, in the order polled. */
    List<Row> rows() {
        return Collections.unmodifiableList(rows);
    }

    /** The tombstones that mark rows removed, in the order polled; written after the rows. */
    List<Removal> removals() {
        return Collections.unmodifiableList(removals);
    }

    /** A tombstone of {@code key} on the topic of {@code table}, at the record's timestamp. */
    record Removal(PartitionedTable table, String key, Instant at) {
    }

    /** CSV rows of target_window_1m (tests). */
    String windowRows() {
        return Row.csv(rows, PartitionedTable.TARGET_WINDOW_1M);
    }

    /** CSV rows of alert_event (tests). */
    String alertRows() {
        return Row.csv(rows, PartitionedTable.ALERT_EVENT);
    }

    /** One record as a staging row of {@code table}: the CSV line COPY reads, and the record it came from. */
    record Row(PartitionedTable table, ConsumerRecord<byte[], byte[]> record, String csvLine) {

        /** The CSV text of those of {@code rows} that go to {@code table}. */
        static String csv(List<Row> rows, PartitionedTable table) {
            StringBuilder out = new StringBuilder();
            for (Row row : rows) {
                if (row.table() == table) {
                    out.append(row.csvLine());
                }
            }
            return out.toString();
        }

        /** The same rows without their leading {@code seq} field: the COPY straight into the table's columns. */
        static String csvWithoutSeq(List<Row> rows, PartitionedTable table) {
            StringBuilder out = new StringBuilder();
            for (Row row : rows) {
                if (row.table() == table) {
                    String line = row.csvLine();
                    out.append(line, line.indexOf(',') + 1, line.length());
                }
            }
            return out.toString();
        }
    }

    /** For each partition in the batch, the offset after its last record: what the database stores as next_offset. */
    Map<TopicPartition, Long> nextOffsets() {
        return Collections.unmodifiableMap(nextOffsets);
    }

    List<ProducerRecord<Bytes, DeadLetter>> deadLetters() {
        return Collections.unmodifiableList(deadLetters);
    }

    /** topic → outcome ({@link #STORED} or {@link #DEAD_LETTERED}) → records. */
    Map<String, Map<String, Long>> outcomes() {
        return Collections.unmodifiableMap(outcomes);
    }
}
