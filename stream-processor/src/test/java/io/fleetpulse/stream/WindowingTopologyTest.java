package io.fleetpulse.stream;

import static io.fleetpulse.stream.TopologyHarness.T0;
import static io.fleetpulse.stream.TopologyHarness.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.events.TargetWindow;
import io.fleetpulse.schemas.DeadLetters;
import io.fleetpulse.schemas.Topics;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** 1-minute event-time windows with the default 10 s grace: one final result each, late records to the DLQ. */
class WindowingTopologyTest {

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
    void shouldEmitOneFinalWindowAfterGrace() {
        topology.sendCheck("a", CheckStatus.OK, at(5));
        topology.sendCheck("a", CheckStatus.CRITICAL, at(30));
        topology.sendMetrics("a", 50.0, null, null, at(10));
        topology.sendCheck("a", CheckStatus.OK, at(65));
        topology.sendCheck("a", CheckStatus.OK, at(59)); // window [0, 60) is past its end but within grace: counted
        topology.checks.pipeInput("a", TopologyHarness.check("a", CheckStatus.OK, 10.0, at(69).plusMillis(999)));
        assertTrue(topology.windows.isEmpty(), "no result before window end + grace");

        topology.sendCheck("a", CheckStatus.OK, at(70)); // stream time reaches 10:01:10 = end + grace
        List<TargetWindow> first = topology.readWindows();
        assertEquals(1, first.size());
        TargetWindow w = first.get(0);
        assertEquals("a", w.getTargetId());
        assertEquals(T0, w.getWindowStart());
        assertEquals(at(60), w.getWindowEnd());
        assertEquals(3, w.getChecks());
        assertEquals(1, w.getFailures());
        assertEquals(1, w.getSamples());

        topology.sendCheck("a", CheckStatus.OK, at(100));
        topology.sendCheck("a", CheckStatus.OK, at(190)); // closes [60, 120) too
        List<TargetWindow> later = topology.readWindows();
        assertEquals(List.of(at(60)), later.stream().map(TargetWindow::getWindowStart).toList(),
                "window [0, 60) is never emitted again; [60, 120) once");
        assertEquals(4, later.get(0).getChecks());
        assertEquals(0, topology.settings.counters().deadLetters(DeadLetters.LATE), "nothing was late");
    }

    @Test
    void shouldWindowByObservedAtNotArrivalTime() {
        // Observed at 10:00:50, delivered three minutes later: it belongs to [10:00, 10:01).
        topology.checks.pipeInput("a", TopologyHarness.check("a", CheckStatus.ERROR, 10.0, at(50)), at(230));
        topology.sendCheck("a", CheckStatus.OK, at(75));

        List<TargetWindow> windows = topology.readWindows();
        assertEquals(1, windows.size());
        assertEquals(T0, windows.get(0).getWindowStart());
        assertEquals(1, windows.get(0).getFailures());
    }

    @Test
    void shouldComputeErrorRateAndLatencyPercentiles() {
        List<Integer> order = new ArrayList<>(List.of(13, 2, 20, 7, 1, 16, 9, 4, 18, 11, 5, 14, 3, 19, 8, 10, 17, 6, 15, 12));
        for (int i : order) { // latencies 10..200 ms, sent out of order
            CheckStatus status = switch (i) {
                case 4, 16 -> CheckStatus.CRITICAL;
                case 8 -> CheckStatus.ERROR;
                case 12 -> CheckStatus.TIMEOUT;
                case 3, 7 -> CheckStatus.WARN; // WARN is not a failure
                default -> CheckStatus.OK;
            };
            topology.sendCheck("a", status, i * 10.0, at(i * 2));
        }
        topology.sendCheck("a", CheckStatus.UNREACHABLE, null, at(45)); // a failure without a latency
        topology.sendMetrics("a", 20.0, 50.0, null, at(1));
        topology.sendMetrics("a", 40.0, null, null, at(21));
        topology.sendMetrics("a", 60.0, 70.0, null, at(41));
        topology.sendCheck("a", CheckStatus.OK, at(75)); // the target's own event time closes its window

        TargetWindow w = topology.readWindows().get(0);
        assertEquals("a", w.getTargetId());
        assertEquals(21, w.getChecks());
        assertEquals(5, w.getFailures());
        assertEquals(5.0 / 21, w.getErrorRate(), 1e-12);
        // Nearest rank, from the window's latency histogram: to within 0.1%.
        assertEquals(100.0, w.getLatencyP50Ms(), 0.1); // rank 10 of 20
        assertEquals(190.0, w.getLatencyP95Ms(), 0.19); // rank 19
        assertEquals(200.0, w.getLatencyP99Ms(), 0.2); // rank 20
        assertEquals(40.0, w.getCpuAvg(), 1e-9);
        assertEquals(60.0, w.getCpuMax());
        assertEquals(60.0, w.getMemoryAvg(), 1e-9);
        assertEquals(70.0, w.getMemoryMax());
        assertNull(w.getDiskAvg());
        assertNull(w.getDiskMax());
        assertEquals(3, w.getSamples());
    }

    @Test
    void shouldRouteLateRecordsToDlq() {
        topology.sendCheck("a", CheckStatus.OK, at(30));
        topology.checks.pipeInput("a", TopologyHarness.check("a", CheckStatus.OK, 10.0, at(69).plusMillis(999)));
        topology.sendCheck("a", CheckStatus.CRITICAL, at(0)); // 1 ms before [0, 60) closes: still counted
        topology.sendCheck("a", CheckStatus.OK, at(70)); // [0, 60) closes
        topology.sendCheck("a", CheckStatus.CRITICAL, at(59)); // too late
        topology.sendMetrics("a", 99.0, null, null, at(10)); // too late as well: the target's clock is shared by its inputs

        List<TargetWindow> windows = topology.readWindows();
        assertEquals(1, windows.size());
        assertEquals(2, windows.get(0).getChecks(), "the late check is not in the window");
        assertEquals(1, windows.get(0).getFailures());
        assertEquals(0, windows.get(0).getSamples(), "the late sample is not in the window");

        List<DeadLetter> late = topology.deadLetters.readValuesToList();
        assertEquals(List.of(DeadLetters.LATE, DeadLetters.LATE), late.stream().map(DeadLetter::getReason).toList());
        assertEquals(List.of(Topics.CHECKS.name(), Topics.METRICS.name()),
                late.stream().map(DeadLetter::getSourceTopic).toList());
        assertEquals(4, late.get(0).getSourceOffset());
        assertTrue(late.get(0).getError().contains("2024-05-01T10:01:10Z"), late.get(0).getError());
        assertEquals(2, topology.settings.counters().deadLetters(DeadLetters.LATE));

        topology.sendCheck("a", CheckStatus.OK, at(200));
        assertEquals(List.of(at(60)), topology.readWindows().stream().map(TargetWindow::getWindowStart).toList(),
                "the late records did not reopen [0, 60)");
    }
}
