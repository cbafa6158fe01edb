package io.fleetpulse.stream;

import static io.fleetpulse.stream.TopologyHarness.at;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.events.TargetWindow;
import io.fleetpulse.schemas.DeadLetters;
import io.fleetpulse.schemas.Topics;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input goes to fleet.dlq with its original bytes and a reason, and the pipeline carries on. */
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

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }
}
