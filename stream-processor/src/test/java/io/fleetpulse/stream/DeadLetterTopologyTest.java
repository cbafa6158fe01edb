package io.fleetpulse.stream;

import static io.fleetpulse.stream.TopologyHarness.at;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.events.TargetWindow;
import io.fleetpulse.schemas.DeadLetters;
import io.fleetpulse.schemas.Topics;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input goes to fleet.dlq with its original bytes and a reason, and the pipeline carries on. Values no healthy
 * target can report are bad input too ({@code invalid}, naming the field) and never reach the windows or the rules:
 * a NaN latency used to count as a check and vanish from the percentiles, a negative one was accepted.
 */
class DeadLetterTopologyTest {

    private static final byte[] KEY_A = "a".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path stateDir;
    TopologyHarness topology;

    @BeforeEach
    void start() {
        topology = TopologyHarness.withDefaults(stateDir);
    }

    @AfterEach
    void stop() {
        topology.close();
    }

    @Test
    void shouldRouteGarbageToDlqAndGoOn() {
        byte[] garbage = "{\"not\": \"avro\"}".getBytes(StandardCharsets.UTF_8);
        topology.rawChecks.pipeInput(KEY_A, garbage, at(1));
        topology.rawMetrics.pipeInput(KEY_A, new byte[] {(byte) 0xC3, 0x01, 1, 2, 3}, at(1));
        topology.sendCheck("a", CheckStatus.OK, at(5));
        topology.sendCheck("a", CheckStatus.OK, at(80));

        List<TestRecord<Bytes, DeadLetter>> dead = topology.deadLetters.readRecordsToList();
        assertEquals(2, dead.size());
        DeadLetter checks = dead.get(0).value();
        assertEquals(Bytes.wrap(KEY_A), dead.get(0).key(), "keyed by the original key bytes");
        assertEquals(DeadLetters.UNDECODABLE, checks.getReason());
        assertEquals("stream-processor", checks.getService());
        assertEquals(Topics.CHECKS.name(), checks.getSourceTopic());
        assertEquals(0, checks.getSourcePartition());
        assertEquals(0, checks.getSourceOffset());
        assertArrayEquals(garbage, bytes(checks.getOriginalValue()));
        assertArrayEquals(KEY_A, bytes(checks.getOriginalKey()));
        assertFalse(checks.getError().isBlank(), "the decoder's message is kept");
        DeadLetter metrics = dead.get(1).value();
        assertEquals(DeadLetters.UNDECODABLE, metrics.getReason());
        assertEquals(Topics.METRICS.name(), metrics.getSourceTopic());

        List<TargetWindow> windows = topology.readWindows();
        assertEquals(1, windows.size(), "the good records after the garbage were processed");
        assertEquals(1, windows.get(0).getChecks());
        assertEquals(2, topology.settings.counters().deadLetters(DeadLetters.UNDECODABLE));
    }

    @Test
    void shouldRouteInvalidRecordsToDlqWithTheirReason() {
        topology.checks.pipeInput("a", TopologyHarness.check(" ", CheckStatus.OK, 1.0, at(1)), at(1));
        topology.checks.pipeInput("a", TopologyHarness.check("b", CheckStatus.OK, 1.0, at(2)), at(2));
        topology.checks.pipeInput(null, TopologyHarness.check("a", CheckStatus.OK, 1.0, at(3)), at(3));
        topology.metrics.pipeInput("a", TopologyHarness.metrics("b", 1.0, null, null, at(4)), at(4));
        topology.rawChecks.pipeInput(KEY_A, null, at(5)); // a tombstone is no check

        List<DeadLetter> dead = topology.deadLetters.readValuesToList();
        assertEquals(List.of(DeadLetters.INVALID, DeadLetters.INVALID, DeadLetters.INVALID, DeadLetters.INVALID,
                DeadLetters.INVALID), dead.stream().map(DeadLetter::getReason).toList());
        assertTrue(dead.get(0).getError().contains("targetId is blank"), dead.get(0).getError());
        assertTrue(dead.get(1).getError().contains("'a'") && dead.get(1).getError().contains("'b'"), dead.get(1).getError());
        assertNull(dead.get(2).getOriginalKey());
        assertEquals(List.of(0L, 1L, 2L, 0L, 3L), dead.stream().map(DeadLetter::getSourceOffset).toList());
        assertTrue(topology.alerts.isEmpty());
    }

    // ---------------------------------------------------------------- values no healthy target reports

    @Test
    void shouldDeadLetterImpossibleLatenciesAndKeepThemOutOfTheWindow() {
        topology.sendCheck("a", CheckStatus.OK, 10.0, at(1));
        topology.sendCheck("a", CheckStatus.OK, -5.0, at(2));
        topology.sendCheck("a", CheckStatus.OK, Double.NaN, at(3));
        topology.sendCheck("a", CheckStatus.OK, Double.POSITIVE_INFINITY, at(4));
        topology.sendCheck("a", CheckStatus.OK, Double.NEGATIVE_INFINITY, at(5));
        topology.sendCheck("a", CheckStatus.OK, 0.0, at(6)); // zero is a (very fast) latency
        topology.sendCheck("a", CheckStatus.OK, null, at(7)); // no answer: no latency, still a check
        topology.sendCheck("a", CheckStatus.OK, 30.0, at(75)); // closes [0, 60)

        List<DeadLetter> dead = topology.deadLetters.readValuesToList();
        assertEquals(List.of("latencyMs is -5: must be >= 0", "latencyMs is NaN: must be a finite number >= 0",
                        "latencyMs is +Inf: must be a finite number >= 0", "latencyMs is -Inf: must be a finite number >= 0"),
                dead.stream().map(DeadLetter::getError).toList());
        assertTrue(dead.stream().allMatch(d -> d.getReason().equals(DeadLetters.INVALID)));
        assertEquals(List.of(1L, 2L, 3L, 4L), dead.stream().map(DeadLetter::getSourceOffset).toList());
        assertEquals(4, topology.settings.counters().deadLetters(DeadLetters.INVALID));

        List<TargetWindow> windows = topology.readWindows();
        assertEquals(1, windows.size());
        assertEquals(3, windows.get(0).getChecks(), "only the checks at 1, 6 and 7 s count");
        assertEquals(0.0, windows.get(0).getLatencyP50Ms());
        assertEquals(10.0, windows.get(0).getLatencyP99Ms(), 10.0 * 0.001, "from the latency histogram: within 0.1%");
    }

    @Test
    void shouldNotFeedRejectedChecksToTheRules() {
        // target-down fires on check_failed >= 1 for 15 s: CRITICAL checks with a negative latency must not count.
        for (int s = 0; s <= 30; s += 5) {
            topology.sendCheck("a", CheckStatus.CRITICAL, -1.0, at(s));
        }
        assertTrue(topology.alerts.isEmpty());
        assertEquals(7, topology.settings.counters().deadLetters(DeadLetters.INVALID));
    }

    @Test
    void shouldDeadLetterPercentagesOutside0To100AndNegativeCounters() {
        topology.sendMetrics("a", 100.5, null, null, at(1));
        topology.sendMetrics("a", null, -0.1, null, at(2));
        topology.sendMetrics("a", null, null, Double.NaN, at(3));
        send(sample("a", at(4)).setGpuPercent(Double.POSITIVE_INFINITY));
        send(sample("a", at(5)).setTasksFailed(-3L));
        send(sample("a", at(6)).setNetRxBytes(-1L));
        send(sample("a", at(7)).setTaskLatencyMs(-2.5));
        send(sample("a", at(8)).setExtra(Map.of("temperature_c", Double.NaN)));
        send(sample("a", at(9)).setExtra(Map.of("temperature_c", -12.0))); // the open map allows any finite value
        topology.sendMetrics("a", 0.0, 100.0, 55.0, at(10)); // the bounds themselves are fine
        topology.sendCheck("a", CheckStatus.OK, at(75));

        List<DeadLetter> dead = topology.deadLetters.readValuesToList();
        assertEquals(List.of(
                "cpuPercent is 100.5: must be a percentage from 0 to 100",
                "memoryPercent is -0.1: must be a percentage from 0 to 100",
                "diskPercent is NaN: must be a percentage from 0 to 100",
                "gpuPercent is +Inf: must be a percentage from 0 to 100",
                "tasksFailed is -3: must be >= 0",
                "netRxBytes is -1: must be >= 0",
                "taskLatencyMs is -2.5: must be >= 0",
                "extra[temperature_c] is NaN: must be a finite number"), dead.stream().map(DeadLetter::getError).toList());
        assertTrue(dead.stream().allMatch(d -> d.getReason().equals(DeadLetters.INVALID)));

        TargetWindow window = topology.readWindows().get(0);
        assertEquals(2, window.getSamples(), "the samples at 9 and 10 s");
        assertEquals(0.0, window.getCpuMax());
        assertEquals(100.0, window.getMemoryMax());
    }

    @Test
    void shouldNotFireCpuHighOnAnImpossibleCpu() {
        for (int s = 0; s <= 40; s += 5) {
            topology.sendCpu("a", 250, at(s)); // cpu-high fires on > 90 for 20 s
        }
        List<AlertEvent> alerts = topology.readAlerts();
        assertTrue(alerts.isEmpty(), alerts.toString());
        assertEquals(9, topology.settings.counters().deadLetters(DeadLetters.INVALID));
    }

    private static MetricSample.Builder sample(String target, Instant at) {
        return MetricSample.newBuilder().setTargetId(target).setObservedAt(at);
    }

    private void send(MetricSample.Builder sample) {
        MetricSample m = sample.build();
        topology.metrics.pipeInput(m.getTargetId(), m, m.getObservedAt());
    }

    // ---------------------------------------------------------------- a record on a partition its key does not hash to

    @Test
    void shouldSendARecordOnTheWrongPartitionToTheDeadLetterTopic() {
        // The driver has one partition; with four configured, a key that hashes elsewhere sits on the wrong one, as a
        // record of a producer with another partitioner (librdkafka's CRC32 default) would on a real broker.
        topology.close();
        topology = new TopologyHarness(TopologySettings.defaults().withSourcePartitions(SourcePartitions.of(4)), stateDir);
        String placed = keyOnPartition(0, 4);
        String misplaced = keyOnPartition(3, 4);
        topology.sendTarget(misplaced, "edge", Map.of(), at(0));
        for (int s = 0; s <= 30; s += 5) { // target-down would fire after 15 s, cpu-high after 20 s
            topology.sendCheck(misplaced, CheckStatus.CRITICAL, at(s));
            topology.sendCpu(misplaced, 99, at(s));
            topology.sendCheck(placed, CheckStatus.OK, at(s));
        }
        topology.sendCheck(placed, CheckStatus.OK, at(75)); // closes [0, 60) of the placed target

        List<DeadLetter> dead = topology.deadLetters.readValuesToList();
        assertEquals(1 + 7 + 7, dead.size(), "the inventory entry, its checks and samples");
        assertTrue(dead.stream().allMatch(d -> d.getReason().equals(SourcePartitions.WRONG_PARTITION)));
        assertEquals(List.of(Topics.TARGETS.name(), Topics.CHECKS.name(), Topics.METRICS.name()),
                dead.stream().map(DeadLetter::getSourceTopic).distinct().toList());
        assertTrue(dead.stream().allMatch(d -> d.getSourcePartition() == 0));
        assertEquals("the record is on partition 0 of fleet.checks but its key hashes to partition 3 of 4 (murmur2, as "
                + "Kafka's Java default partitioner); per-target topics are partitioned by the murmur2 hash of the "
                + "targetId key (librdkafka: partitioner=murmur2_random)", dead.get(1).getError());
        assertArrayEquals(misplaced.getBytes(StandardCharsets.UTF_8), bytes(dead.get(1).getOriginalKey()));
        assertEquals(15, topology.settings.counters().deadLetters(SourcePartitions.WRONG_PARTITION));

        assertTrue(topology.alerts.isEmpty(), "never fed to the rules");
        List<TargetWindow> windows = topology.readWindows();
        assertEquals(List.of(placed), windows.stream().map(TargetWindow::getTargetId).toList(), "never windowed");
        assertNull(topology.driver.<String, Object>getKeyValueStore(HealthTopology.INVENTORY_STORE).get(misplaced));
        assertNull(topology.driver.<String, Object>getKeyValueStore(HealthTopology.TARGET_STORE).get(misplaced));

        topology.removeTarget(misplaced, at(80)); // a tombstone on the wrong partition decommissions nothing
        assertEquals(SourcePartitions.WRONG_PARTITION, topology.deadLetters.readValue().getReason());
    }

    /** A targetId that Kafka's own default partitioner puts on {@code partition} of {@code partitions}. */
    private static String keyOnPartition(int partition, int partitions) {
        for (int i = 0; ; i++) {
            String key = "web-" + i;
            if (BuiltInPartitioner.partitionForKey(key.getBytes(StandardCharsets.UTF_8), partitions) == partition) {
                return key;
            }
        }
    }

    // ---------------------------------------------------------------- a dead letter never stops the topology

    @Test
    void shouldTruncateAnOversizedDeadLetterToFitTheBrokerAndGoOn() {
        byte[] garbage = new byte[2 * 1024 * 1024];
        new Random(6).nextBytes(garbage);
        garbage[0] = 0x7B; // not Avro's single-object header
        topology.rawChecks.pipeInput(KEY_A, garbage, at(1));
        topology.sendCheck("a", CheckStatus.OK, at(5));
        topology.sendCheck("a", CheckStatus.OK, at(80));

        List<TestRecord<Bytes, DeadLetter>> dead = topology.deadLetters.readRecordsToList();
        assertEquals(1, dead.size());
        DeadLetter letter = dead.get(0).value();
        assertEquals(DeadLetters.UNDECODABLE, letter.getReason());
        assertEquals(Bytes.wrap(KEY_A), dead.get(0).key());
        int kept = DeadLetterLimit.DEFAULT_MAX_ORIGINAL_BYTES - 2 * KEY_A.length;
        assertArrayEquals(Arrays.copyOf(garbage, kept), bytes(letter.getOriginalValue()), "the first bytes, as they came");
        assertTrue(letter.getError().endsWith("; original value truncated from 2097152 to " + kept + " bytes"),
                letter.getError());
        assertTrue(serializedSize(dead.get(0)) < 1024 * 1024 - 16 * 1024,
                "fits the broker's default max.message.bytes with room for the batch: " + serializedSize(dead.get(0)));

        List<TargetWindow> windows = topology.readWindows();
        assertEquals(1, windows.size(), "the checks after it were processed");
        assertEquals(1, windows.get(0).getChecks());
    }

    @Test
    void shouldTruncateAHugeKeyAndErrorTextToo() {
        topology.close();
        topology = new TopologyHarness(TopologySettings.defaults().withDeadLetterMaxOriginalBytes(4096), stateDir);
        String hugeKey = "k".repeat(10_000);
        CheckResult check = TopologyHarness.check("a", CheckStatus.OK, 1.0, at(1));
        topology.checks.pipeInput(hugeKey, check, at(1)); // the key is not the targetId: invalid, naming the key

        TestRecord<Bytes, DeadLetter> dead = topology.deadLetters.readRecord();
        DeadLetter letter = dead.value();
        assertEquals(DeadLetters.INVALID, letter.getReason());
        assertEquals(1024, dead.key().get().length, "the Kafka key is cut like the letter's copy");
        assertArrayEquals(dead.key().get(), bytes(letter.getOriginalKey()));
        assertArrayEquals(Topics.CHECKS.valueSerde().serializer().serialize(Topics.CHECKS.name(), check),
                bytes(letter.getOriginalValue()), "a small value is kept whole");
        assertTrue(letter.getError().startsWith("the record key 'kkk"), letter.getError());
        assertTrue(letter.getError().endsWith("…; error text truncated from 10078 characters"
                + "; original key truncated from 10000 to 1024 bytes"), letter.getError());
        assertTrue(topology.deadLetters.isEmpty());
    }

    @Test
    void shouldLeaveADeadLetterThatFitsAsItIs() {
        DeadLetterLimit limit = new DeadLetterLimit(4096);
        DeadLetter letter = DeadLetters.of("stream-processor", Topics.CHECKS.name(), 0, 7, KEY_A, new byte[4094],
                DeadLetters.UNDECODABLE, "x".repeat(DeadLetterLimit.MAX_ERROR_CHARS), at(1));
        assertSame(letter, limit.fit(letter), "4094 value bytes + twice the 1-byte key is exactly the bound");
        DeadLetter oneMore = DeadLetters.of("stream-processor", Topics.CHECKS.name(), 0, 7, KEY_A, new byte[4095],
                DeadLetters.UNDECODABLE, "", at(1));
        assertEquals("; original value truncated from 4095 to 4094 bytes", limit.fit(oneMore).getError());
    }

    private static int serializedSize(TestRecord<Bytes, DeadLetter> record) {
        return record.key().get().length
                + Topics.DLQ.valueSerde().serializer().serialize(Topics.DLQ.name(), record.value()).length;
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }
}
