package io.fleetpulse.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.simulator.IncidentScript.Condition;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class IncidentTimingTest {

    private static Duration s(double seconds) {
        return Duration.ofMillis(Math.round(seconds * 1000));
    }

    @Test
    void shouldBeActiveFromItsStartInclusiveToItsEndExclusive() {
        Incident outage = IncidentScript.parse("outage:srv-002@20s+40s").incidents().get(0);

        assertFalse(outage.isActiveAt(s(19.999)));
        assertTrue(outage.isActiveAt(s(20)));
        assertTrue(outage.isActiveAt(s(59.999)));
        assertFalse(outage.isActiveAt(s(60)));
    }

    @Test
    void shouldMakeTheServerDownOnlyWhileTheOutageLasts() {
        IncidentScript script = IncidentScript.parse("outage:srv-002@20s+40s");

        assertEquals(Condition.NORMAL, script.conditionAt("srv-002", s(10)));
        assertTrue(script.conditionAt("srv-002", s(30)).down());
        assertFalse(script.conditionAt("srv-001", s(30)).down(), "other servers are untouched");
        assertEquals(Condition.NORMAL, script.conditionAt("srv-002", s(60)));
    }

    @Test
    void shouldFlapDownFirstThenUpEveryTenSeconds() {
        IncidentScript script = IncidentScript.parse("flap:srv-001@30s+50s");

        assertFalse(script.conditionAt("srv-001", s(29.9)).down());
        assertTrue(script.conditionAt("srv-001", s(30)).down());
        assertTrue(script.conditionAt("srv-001", s(39.9)).down());
        assertFalse(script.conditionAt("srv-001", s(40)).down());
        assertFalse(script.conditionAt("srv-001", s(49.9)).down());
        assertTrue(script.conditionAt("srv-001", s(50)).down());
        assertTrue(script.conditionAt("srv-001", s(79.9)).down());
        assertFalse(script.conditionAt("srv-001", s(80)).down(), "up for good once the incident ends");
    }

    @Test
    void shouldReportDiskFillProgressLinearlyOverTheDuration() {
        IncidentScript script = IncidentScript.parse("disk:srv-001@10s+60s");

        assertFalse(script.conditionAt("srv-001", s(9)).diskFilling());
        assertEquals(0.0, script.conditionAt("srv-001", s(10)).diskFill(), 1e-9);
        assertEquals(0.5, script.conditionAt("srv-001", s(40)).diskFill(), 1e-9);
        assertEquals(0.75, script.conditionAt("srv-001", s(55)).diskFill(), 1e-9);
        assertFalse(script.conditionAt("srv-001", s(70)).diskFilling(), "cleaned up when the incident ends");
    }

    @Test
    void shouldReportDiskLeakProgressLinearlyOverTheDurationApartFromAnyFill() {
        IncidentScript script = IncidentScript.parse("leak:srv-001@10s+4m");

        assertFalse(script.conditionAt("srv-001", s(9)).diskLeaking());
        assertEquals(0.0, script.conditionAt("srv-001", s(10)).diskLeak(), 1e-9);
        assertEquals(0.5, script.conditionAt("srv-001", s(130)).diskLeak(), 1e-9);
        assertFalse(script.conditionAt("srv-001", s(130)).diskFilling(), "a leak is not a fill");
        assertFalse(script.conditionAt("srv-001", s(250)).diskLeaking(), "cleaned up when the incident ends");
    }

    @Test
    void shouldShiftLatencyOnlyWhileTheIncidentLasts() {
        IncidentScript script = IncidentScript.parse("latency:srv-001@110s+1m");

        assertEquals(Condition.NORMAL, script.conditionAt("srv-001", s(109.999)));
        assertEquals(new Condition(false, false, false, false, -1, false, -1, true), script.conditionAt("srv-001", s(110)),
                "latency shifted, nothing else");
        assertTrue(script.conditionAt("srv-001", s(169.999)).latencyShift());
        assertEquals(Condition.NORMAL, script.conditionAt("srv-001", s(170)));
    }

    @Test
    void shouldCombineOverlappingIncidentsAndManualOverrides() {
        IncidentScript script = IncidentScript.parse("cpu:srv-001@0s+1m,slow:srv-001@30s+1m");

        Condition early = script.conditionAt("srv-001", s(10));
        Condition overlap = script.conditionAt("srv-001", s(45));
        Condition forced = script.conditionAt("srv-001", s(100)).withOverrides(true, true, false);

        assertTrue(early.cpuSpike() && !early.slow());
        assertTrue(overlap.cpuSpike() && overlap.slow());
        assertTrue(forced.down() && forced.unreachable() && !forced.slow() && !forced.cpuSpike());
    }

    @Test
    void shouldShowEveryDemoIncidentWhileItLastsAndTheOlderSixBeNormalAgainAfterEightySeconds() {
        IncidentScript demo = IncidentScript.demo(10);
        VirtualServer disk = new VirtualServer("srv-006", 3);

        assertTrue(demo.conditionAt("srv-002", s(30)).down(), "outage");
        assertTrue(demo.conditionAt("srv-004", s(30)).cpuSpike(), "cpu spike");
        assertTrue(demo.conditionAt("srv-010", s(30)).slow(), "slow");
        assertTrue(demo.conditionAt("srv-003", s(30)).componentDown(), "partial failure: db down");
        assertFalse(demo.conditionAt("srv-003", s(30)).down(), "partial failure: the server itself is up");
        assertTrue(demo.conditionAt("srv-008", s(30)).down(), "flapping, down first");
        assertFalse(demo.conditionAt("srv-008", s(40)).down(), "flapping, then up");
        assertTrue(disk.reading(s(70), demo.conditionAt("srv-006", s(70))).diskPercent() > MetricReading.DISK_CRITICAL_PERCENT,
                "disk nearly full");
        for (String id : java.util.List.of("srv-002", "srv-003", "srv-004", "srv-006", "srv-008", "srv-010")) {
            assertEquals(Condition.NORMAL, demo.conditionAt(id, s(80)), id + " is back to normal");
        }
        assertTrue(demo.conditionAt("srv-001", s(80)).diskLeaking(), "the disk leak goes on");
        assertEquals(Condition.NORMAL, demo.conditionAt("srv-009", s(80)), "latency normal before its shift");
        assertTrue(demo.conditionAt("srv-009", s(120)).latencyShift(), "latency shift");
        assertEquals(Condition.NORMAL, demo.conditionAt("srv-009", s(170)), "latency back to normal");
        assertEquals(Condition.NORMAL, demo.conditionAt("srv-001", s(250)), "the leaking disk cleaned up");
    }
}
