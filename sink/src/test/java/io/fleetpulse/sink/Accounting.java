package io.fleetpulse.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fleetpulse.testkit.Await;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.jdbi.v3.core.Jdbi;

/**
 * Exact accounting between the topics and the tables, for the outage tests: every record of a topic is one row of
 * its table (the tests' keys never repeat), and the offsets the sink stored with its rows reach the topics' ends.
 */
final class Accounting {

    private final Admin admin;
    private final String jdbcUrl;
    private final Jdbi db;
    private final String group;

    Accounting(Admin admin, String jdbcUrl, String group) {
        this.admin = admin;
        this.jdbcUrl = jdbcUrl;
        this.db = Jdbi.create(jdbcUrl, USER, PASSWORD);
        this.group = group;
    }

    private static final String USER = "postgres";
    private static final String PASSWORD = "postgres";

    /** Records in each sink topic, by table. */
    Map<String, Long> recordsPerTable() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (PartitionedTable table : PartitionedTable.values()) {
            out.put(table.parent(), endOffsets(admin, table.topic()).values().stream().mapToLong(Long::longValue).sum());
        }
        return out;
    }

    /** Offsets stored in sink_offset for this group, summed over each topic's partitions: the records committed. */
    long committed() {
        return db.withHandle(h -> h.createQuery("SELECT coalesce(sum(next_offset), 0) FROM sink_offset WHERE consumer_group = :g")
                .bind("g", group).mapTo(Long.class).one());
    }

    long records() {
        return recordsPerTable().values().stream().mapToLong(Long::longValue).sum();
    }

    /** Waits until the stored offsets reach the end of every sink topic, then checks each table against its topic. */
    void awaitEveryRecordExactlyOnce(Duration timeout, Supplier<Object> context) throws InterruptedException {
        Await.until(() -> storedOffsetsAtEnd(), timeout, "the stored offsets to reach the end of every topic", context);
        assertEquals(recordsPerTable(), SinkQueries.rowCounts(jdbcUrl, USER, PASSWORD),
                "every topic's record count equals its table's row count");
        assertEquals(records(), committed(), "every record's offset was committed once");
    }

    private boolean storedOffsetsAtEnd() {
        Map<TopicPartition, Long> stored = new HashMap<>();
        try {
            db.withHandle(h -> h.createQuery("SELECT topic, partition, next_offset FROM sink_offset WHERE consumer_group = :g")
                            .bind("g", group)
                            .map((rs, ctx) -> Map.entry(new TopicPartition(rs.getString(1), rs.getInt(2)), rs.getLong(3))).list())
                    .forEach(e -> stored.put(e.getKey(), e.getValue()));
        } catch (RuntimeException e) {
            return false; // the server is not back yet, or the schema not migrated yet
        }
        for (PartitionedTable table : PartitionedTable.values()) {
            for (Map.Entry<TopicPartition, Long> end : endOffsets(admin, table.topic()).entrySet()) {
                if (!stored.getOrDefault(end.getKey(), 0L).equals(end.getValue())) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The end offset of every partition of {@code topic}. */
    static Map<TopicPartition, Long> endOffsets(Admin admin, String topic) {
        try {
            int partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size();
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (int p = 0; p < partitions; p++) {
                latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
            }
            Map<TopicPartition, Long> out = new HashMap<>();
            admin.listOffsets(latest).all().get().forEach((tp, info) -> out.put(tp, info.offset()));
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }
}
