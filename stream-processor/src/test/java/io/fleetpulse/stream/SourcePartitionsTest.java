package io.fleetpulse.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.junit.jupiter.api.Test;

class SourcePartitionsTest {

    @Test
    void shouldPlaceKeysExactlyAsKafkasJavaDefaultPartitioner() {
        for (int partitions : new int[] {1, 2, 6, 7, 64}) {
            for (int i = 0; i < 2_000; i++) {
                byte[] key = ("target-" + i + "-ü").getBytes(StandardCharsets.UTF_8);
                assertEquals(BuiltInPartitioner.partitionForKey(key, partitions), SourcePartitions.partitionOf(key, partitions));
            }
        }
    }

    @Test
    void shouldAcceptARecordOnItsKeysPartitionAndNameBothPartitionsOtherwise() {
        SourcePartitions six = SourcePartitions.of(6);
        byte[] key = "web-1".getBytes(StandardCharsets.UTF_8);
        int home = BuiltInPartitioner.partitionForKey(key, 6);
        assertNull(six.misplacement(Topics.CHECKS.name(), home, key));
        String wrong = six.misplacement(Topics.METRICS.name(), (home + 1) % 6, key);
        assertTrue(wrong.startsWith("the record is on partition " + (home + 1) % 6 + " of fleet.metrics but its key "
                + "hashes to partition " + home + " of 6"), wrong);
        assertTrue(six.misplacement(Topics.TARGETS.name(), 6, key).endsWith(
                "the topic has more partitions than at the processor's start: restart it"));
        assertNull(six.misplacement("some.other.topic", 5, key), "only the source topics are checked");
    }

    @Test
    void shouldRefuseATopicWithoutPartitions() {
        assertThrows(IllegalArgumentException.class, () -> new SourcePartitions(Map.of(Topics.CHECKS.name(), 0)));
    }
}
