package io.fleetpulse.stream;

import static io.fleetpulse.stream.TopologyHarness.T0;
import static io.fleetpulse.stream.TopologyHarness.at;
import static io.fleetpulse.stream.TopologyHarness.check;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.events.TargetWindow;
import io.fleetpulse.schemas.DeadLetters;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The window engine: event time per target, idle closing by the wall clock, 1-hour roll-ups and absence. Defaults:
 * grace 10 s, idle timeout 30 s, absence timeout 2 min, observedAt at most 1 min ahead of the record timestamp.
 */
class WindowEngineTopologyTest {

    @TempDir
    Path stateDir;
    TopologyHarness topology;

    @AfterEach
    void stop() {
        if (topology != null) {
            topology.close();
        }
    }

    private TopologyHarness start(TopologySettings settings, String dir) {
        topology = new TopologyHarness(settings, stateDir.resolve(dir));
        return topology;
    }

    private TopologyHarness start() {
        return start(TopologySettings.defaults(), "default");
    }

    // ---------------------------------------------------------------- event time per target

    @Test
    void shouldLetAFastTargetCloseOnlyItsOwnWindows() {
        // c's clock runs 3 minutes fast (allowed here: up to 5 min ahead of the record timestamp).
        start(TopologySettings.defaults().withTiming(new TopologySettings.WindowTiming(
                Duration.ofSeconds(30), Duration.ofMinutes(10), Duration.ofMinutes(5))), "fast");
        for (int s : new int[] {5, 20, 35, 50}) {
            topology.sendCheck("a", CheckStatus.OK, at(s));
            topology.sendCheck("b", s == 35 ? CheckStatus.CRITICAL : CheckStatus.OK, at(s));
            topology.checks.pipeInput("c", check("c", CheckStatus.OK, 10.0, at(180 + s)), at(s));
        }
        topology.sendCheck("a", CheckStatus.OK, at(59)); // after c's clock passed 10:04: still a's open window
        assertTrue(topology.windows.isEmpty(), "c's clock closes no one else's window");

        topology.sendCheck("a", CheckStatus.OK, at(70));
        topology.sendCheck("b", CheckStatus.OK, at(70));

        List<TargetWindow> windows = topology.readWindows();
        assertEquals(List.of("a", "b"), windows.stream().map(TargetWindow::getTargetId).toList());
        assertEquals(List.of(5L, 4L), windows.stream().map(TargetWindow::getChecks).toList(), "complete windows");
        assertEquals(1, windows.get(1).getFailures());
        assertTrue(topology.deadLetters.isEmpty(), "none of their records is late");
        assertEquals(0, topology.settings.counters().deadLetters(DeadLetters.LATE));

        topology.checks.pipeInput("c", check("c", CheckStatus.OK, 10.0, at(250)), at(70)); // c's own clock closes c's window
        List<TargetWindow> fast = topology.readWindows();
        assertEquals(1, fast.size());
        assertEquals("c", fast.get(0).getTargetId());
        assertEquals(at(180), fast.get(0).getWindowStart());
        assertEquals(4, fast.get(0).getChecks());
    }

    @Test
    void shouldDecideLatenessPerTarget() {
        start();
        topology.sendCheck("a", CheckStatus.OK, at(30));
        topology.sendCheck("b", CheckStatus.OK, at(30));
        topology.sendCheck("a", CheckStatus.OK, at(70)); // a's [0, 60) closes; b's stays open
        topology.sendCheck("b", CheckStatus.OK, at(59));
        topology.sendCheck("a", CheckStatus.OK, at(59)); // late for a

        List<DeadLetter> late = topology.deadLetters.readValuesToList();
        assertEquals(1, late.size());
        assertEquals(DeadLetters.LATE, late.get(0).getReason());
        assertTrue(late.get(0).getError().contains("of target 'a'"), late.get(0).getError());
        assertEquals(4, late.get(0).getSourceOffset());
        topology.sendCheck("b", CheckStatus.OK, at(70));
        List<TargetWindow> windows = topology.readWindows();
        assertEquals(List.of(1L, 2L), windows.stream().map(TargetWindow::getChecks).toList());
    }

    @Test
    void shouldRejectAnObservedAtTooFarAheadOfItsRecordTimestamp() {
        start();
        topology.checks.pipeInput("a", check("a", CheckStatus.OK, 10.0, at(90)), at(30)); // exactly 1 min ahead: fine
        topology.checks.pipeInput("a", check("a", CheckStatus.OK, 10.0, at(90).plusMillis(1)), at(30));

        List<DeadLetter> dead = topology.deadLetters.readValuesToList();
        assertEquals(1, dead.size());
        assertEquals(DeadLetters.INVALID, dead.get(0).getReason());
        assertEquals(1, dead.get(0).getSourceOffset());
        assertTrue(dead.get(0).getError().startsWith("observedAt 2024-05-01T10:01:30.001Z is more than 1m ahead of the "
                + "record's Kafka timestamp 2024-05-01T10:00:30Z"), dead.get(0).getError());
        topology.sendCheck("a", CheckStatus.OK, at(130));
        assertEquals(1, topology.readWindows().get(0).getChecks(), "the rejected record moved no clock and counted nowhere");
    }

    // ---------------------------------------------------------------- the wall clock

    @Test
    void shouldCloseTheWindowsOfASilentPartitionAfterGracePlusIdleTimeout() {
        start();
        topology.sendCheck("a", CheckStatus.OK, at(30));
        topology.sendCheck("b", CheckStatus.OK, at(45));

        // a's event time, carried on at wall-clock pace, reaches end 60 + grace 10 + idle 30 after 70 s; b's after 55 s.
        topology.advanceWallClock(Duration.ofSeconds(54));
        assertTrue(topology.windows.isEmpty());
        topology.advanceWallClock(Duration.ofSeconds(1));
        assertEquals(List.of("b"), topology.readWindows().stream().map(TargetWindow::getTargetId).toList());
        topology.advanceWallClock(Duration.ofSeconds(14));
        assertTrue(topology.windows.isEmpty());
        topology.advanceWallClock(Duration.ofSeconds(1));
        assertEquals(List.of("a"), topology.readWindows().stream().map(TargetWindow::getTargetId).toList());

        topology.sendCheck("a", CheckStatus.OK, at(50)); // its window was closed by the wall clock: late
        topology.sendCheck("a", CheckStatus.OK, at(65)); // the next window is open
        List<DeadLetter> late = topology.deadLetters.readValuesToList();
        assertEquals(1, late.size());
        assertTrue(late.get(0).getError().contains("closed by the wall clock"), late.get(0).getError());
        topology.advanceWallClock(Duration.ofMinutes(5));
        List<TargetWindow> next = topology.readWindows();
        assertEquals(1, next.size(), "exactly one result per target and window");
        assertEquals(at(60), next.get(0).getWindowStart());
        assertEquals(1, next.get(0).getChecks());
    }

    @Test
    void shouldGiveTheSameWindowsWhetherTheWallClockClosesThemOrEventTimeDoes() {
        Consumer<TopologyHarness> firstMinute = t -> {
            for (int s : new int[] {5, 20, 40, 55}) {
                t.sendCheck("a", s == 20 ? CheckStatus.CRITICAL : CheckStatus.OK, s * 1.0, at(s));
                t.sendCheck("b", CheckStatus.OK, s * 2.0, at(s + 1));
                t.sendCpu("b", s, at(s + 2));
            }
        };
        Consumer<TopologyHarness> rest = t -> {
            t.sendCheck("a", CheckStatus.OK, at(75));
            t.sendCheck("b", CheckStatus.TIMEOUT, at(90));
            t.sendCheck("a", CheckStatus.OK, at(130));
            t.sendCheck("b", CheckStatus.OK, at(131));
            t.sendCheck("a", CheckStatus.OK, at(3700)); // closes the rest, the hour too
            t.sendCheck("b", CheckStatus.OK, at(3700));
        };

        TopologyHarness quiet = start(TopologySettings.defaults(), "by-event-time");
        firstMinute.accept(quiet);
        rest.accept(quiet);
        List<TargetWindow> byEventTime = sorted(quiet.readWindows());
        List<TargetWindow> hoursByEventTime = sorted(quiet.hourWindows.readValuesToList());
        quiet.close();

        TopologyHarness idle = start(TopologySettings.defaults(), "by-wall-clock");
        firstMinute.accept(idle);
        idle.advanceWallClock(Duration.ofMinutes(3)); // the partition goes quiet: its first windows close by the wall clock
        assertEquals(2, idle.windows.getQueueSize(), "closed by the wall clock");
        rest.accept(idle);
        List<TargetWindow> byWallClock = sorted(idle.readWindows());

        assertEquals(6, byEventTime.size());
        assertEquals(byEventTime, byWallClock);
        assertEquals(hoursByEventTime, sorted(idle.hourWindows.readValuesToList()));
        assertTrue(idle.deadLetters.isEmpty());
    }

    private static List<TargetWindow> sorted(List<TargetWindow> windows) {
        return windows.stream().sorted(Comparator.comparing(TargetWindow::getTargetId)
                .thenComparing(TargetWindow::getWindowStart)).toList();
    }

    // ---------------------------------------------------------------- 1 hour

    @Test
    void shouldRollTheMinutesOfAnHourIntoOneHourWindowWhenTheHourCloses() {
        start();
        for (int minute = 0; minute < 60; minute += 20) {
            topology.sendCheck("a", minute == 20 ? CheckStatus.ERROR : CheckStatus.OK, 10.0 + minute, at(minute * 60 + 5));
            topology.sendMetrics("a", 10.0 + minute, null, null, at(minute * 60 + 6));
        }
        topology.sendCheck("a", CheckStatus.OK, 500.0, at(3599)); // the hour's last minute
        topology.sendCheck("a", CheckStatus.OK, at(3609).plusMillis(999));
        assertTrue(topology.hourWindows.isEmpty(), "no hour before its end + grace");

        topology.sendCheck("a", CheckStatus.OK, at(3610));
        List<TargetWindow> hours = topology.hourWindows.readValuesToList();
        assertEquals(1, hours.size());
        TargetWindow hour = hours.get(0);
        assertEquals(T0, hour.getWindowStart());
        assertEquals(T0.plus(Duration.ofHours(1)), hour.getWindowEnd());
        assertEquals(4, hour.getChecks());
        assertEquals(1, hour.getFailures());
        assertEquals(0.25, hour.getErrorRate());
        assertEquals(30.0, hour.getLatencyP50Ms(), 0.03, "merged from the minutes' histograms");
        assertEquals(500.0, hour.getLatencyP99Ms(), 0.5);
        assertEquals(30.0, hour.getCpuAvg(), 1e-9);
        assertEquals(50.0, hour.getCpuMax());
        assertEquals(3, hour.getSamples());
        assertEquals(4, topology.readWindows().size(), "the four minutes that had records, each once");

        topology.sendCheck("a", CheckStatus.OK, at(7300));
        assertEquals(List.of(T0.plus(Duration.ofHours(1))),
                topology.hourWindows.readValuesToList().stream().map(TargetWindow::getWindowStart).toList(),
                "the first hour is never emitted again");
    }

    @Test
    void shouldCloseTheHourOfASilentTargetByTheWallClock() {
        start();
        topology.sendCheck("a", CheckStatus.OK, 20.0, at(3000));
        topology.sendCheck("a", CheckStatus.OK, 40.0, at(3300));

        // The hour ends 300 s of a's event time after its last record: closes after that + grace 10 s + idle 30 s.
        topology.advanceWallClock(Duration.ofSeconds(339));
        assertTrue(topology.hourWindows.isEmpty());
        assertEquals(2, topology.readWindows().size(), "the minutes closed long before");
        topology.advanceWallClock(Duration.ofSeconds(1));
        List<TargetWindow> hours = topology.hourWindows.readValuesToList();
        assertEquals(1, hours.size());
        assertEquals(2, hours.get(0).getChecks());
        assertEquals(40.0, hours.get(0).getLatencyP99Ms(), 0.04);
    }

    // ---------------------------------------------------------------- absence

    @Test
    void shouldFireTargetAbsentForASilentTargetAmongActiveOnesAndResolveWhenItReturns() {
        start();
        topology.sendCheck("c", CheckStatus.OK, at(0));
        for (int s = 0; s < 120; s += 10) {
            topology.sendCheck("a", CheckStatus.OK, at(s));
            topology.sendCheck("b", CheckStatus.OK, at(s));
        }
        assertTrue(topology.alerts.isEmpty(), "c is 110 s behind: not absent yet");

        topology.sendCheck("a", CheckStatus.OK, at(120)); // the task's event time is 2 min past c's
        List<AlertEvent> firing = topology.readAlerts();
        assertEquals(1, firing.size());
        AlertEvent alert = firing.get(0);
        assertEquals("target-absent", alert.getRuleId());
        assertEquals("c", alert.getTargetId());
        assertEquals(AlertState.FIRING, alert.getState());
        assertEquals("c sent nothing for 120 s", alert.getSummary());
        assertEquals(at(120), alert.getStartsAt());

        topology.sendCheck("b", CheckStatus.OK, at(130));
        assertTrue(topology.alerts.isEmpty(), "reported once");
        topology.sendCheck("c", CheckStatus.OK, at(135));
        List<AlertEvent> resolved = topology.readAlerts();
        assertEquals(1, resolved.size());
        assertEquals(AlertState.RESOLVED, resolved.get(0).getState());
        assertEquals(alert.getFingerprint(), resolved.get(0).getFingerprint());
        assertEquals(at(135), resolved.get(0).getEndsAt());
    }

    @Test
    void shouldNotReportATargetWhoseClockIsSlowButWhichKeepsSending() {
        start();
        for (int s = 180; s <= 420; s += 10) {
            topology.sendCheck("a", CheckStatus.OK, at(s));
            topology.sendCheck("slow", CheckStatus.OK, at(s - 180)); // its clock runs 3 minutes behind
        }

        assertEquals(List.of(), absences(topology.readAlerts()));
        assertTrue(topology.deadLetters.isEmpty(), "nor is any of its records late: lateness is its own clock's");
    }

    @Test
    void shouldNotReportTheOthersSilentWhenAFastClockJoinsThePartition() {
        start(TopologySettings.defaults().withTiming(new TopologySettings.WindowTiming(
                Duration.ofSeconds(30), Duration.ofMinutes(2), Duration.ofMinutes(5))), "fast-joins");
        for (int s = 0; s <= 60; s += 10) {
            topology.sendCheck("a", CheckStatus.OK, at(s));
            topology.sendCheck("b", CheckStatus.OK, at(s));
        }
        topology.checks.pipeInput("c", check("c", CheckStatus.OK, 10.0, at(60 + 180)), at(60)); // 3 minutes fast
        for (int s = 70; s <= 200; s += 10) {
            topology.sendCheck("a", CheckStatus.OK, at(s));
            topology.sendCheck("b", CheckStatus.OK, at(s));
            topology.checks.pipeInput("c", check("c", CheckStatus.OK, 10.0, at(s + 180)), at(s));
        }

        assertEquals(List.of(), absences(topology.readAlerts()), "a and b kept sending");
        for (int s = 210; s <= 330; s += 10) { // a and b stop; c goes on
            topology.checks.pipeInput("c", check("c", CheckStatus.OK, 10.0, at(s + 180)), at(s));
        }
        assertEquals(List.of("a", "b"), absences(topology.readAlerts()).stream().map(AlertEvent::getTargetId).toList(),
                "silence still counts once the partition's event time moves on at its pace");
    }

    @Test
    void shouldFireTargetAbsentWhenTheWholePartitionIsSilent() {
        start();
        topology.sendCheck("a", CheckStatus.OK, at(0));
        topology.sendCheck("b", CheckStatus.OK, at(30));

        // Once the partition is quiet for the idle timeout, its event time goes on at wall-clock pace: a is 2 min behind
        // it after 90 s, b after 120 s.
        topology.advanceWallClock(Duration.ofSeconds(89));
        assertEquals(List.of(), absences(topology.readAlerts()));
        topology.advanceWallClock(Duration.ofSeconds(1));
        List<AlertEvent> first = absences(topology.readAlerts());
        assertEquals(List.of("a"), first.stream().map(AlertEvent::getTargetId).toList());
        assertEquals("a sent nothing for 120 s", first.get(0).getSummary());
        assertEquals(AlertState.FIRING, first.get(0).getState());
        topology.advanceWallClock(Duration.ofSeconds(29));
        assertEquals(List.of(), absences(topology.readAlerts()));
        topology.advanceWallClock(Duration.ofSeconds(1));
        assertEquals(List.of("b"), absences(topology.readAlerts()).stream().map(AlertEvent::getTargetId).toList());
        topology.advanceWallClock(Duration.ofMinutes(5));
        assertTrue(topology.alerts.isEmpty(), "reported once");

        topology.sendCheck("b", CheckStatus.OK, at(200));
        List<AlertEvent> back = absences(topology.readAlerts());
        assertEquals(List.of("b"), back.stream().map(AlertEvent::getTargetId).toList());
        assertEquals(AlertState.RESOLVED, back.get(0).getState());
    }

    private static List<AlertEvent> absences(List<AlertEvent> alerts) {
        return alerts.stream().filter(a -> a.getRuleId().equals("target-absent")).toList();
    }
}
