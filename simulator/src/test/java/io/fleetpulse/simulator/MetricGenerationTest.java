package io.fleetpulse.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.simulator.IncidentScript.Condition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetricGenerationTest {

    @Test
    void shouldGiveTheSameReadingsForTheSameSeedHoweverOftenItIsAsked() {
        MetricModel pollEverySecond = new MetricModel(7);
        MetricModel pollRarely = new MetricModel(7);
        List<MetricReading> everySecond = new ArrayList<>();
        for (int t = 0; t <= 600; t++) {
            everySecond.add(pollEverySecond.at(Duration.ofSeconds(t)));
        }

        assertEquals(everySecond.get(600), pollRarely.at(Duration.ofSeconds(600)));
        assertEquals(everySecond.get(300), pollRarely.at(Duration.ofMillis(300_999)), "going back replays the same walk");
        assertEquals(everySecond.get(0), new MetricModel(7).at(Duration.ZERO));
    }

    @Test
    void shouldGiveDifferentServersDifferentReadings() {
        assertNotEquals(new MetricModel(7).at(Duration.ofMinutes(5)), new MetricModel(8).at(Duration.ofMinutes(5)));
    }

    @Test
    void shouldOnlyEverIncreaseCountersAndKeepGaugesInRangeAndSmooth() {
        MetricModel model = new MetricModel(123);
        MetricReading previous = model.at(Duration.ZERO);
        for (int t = 1; t <= 4 * 3600; t++) {
            MetricReading r = model.at(Duration.ofSeconds(t));
            assertTrue(r.netRxBytes() >= previous.netRxBytes() && r.netTxBytes() >= previous.netTxBytes(), "net at " + t);
            assertTrue(r.tasksCompleted() >= previous.tasksCompleted() && r.tasksFailed() >= previous.tasksFailed());
            assertTrue(r.llmRequests() >= previous.llmRequests() && r.llmCostUsd() >= previous.llmCostUsd());
            assertTrue(r.cpuPercent() >= 0 && r.cpuPercent() <= 100, "cpu " + r.cpuPercent());
            assertTrue(r.memoryPercent() >= 0 && r.memoryPercent() <= 100);
            assertTrue(r.diskPercent() > 0 && r.diskPercent() <= MetricReading.DISK_WARN_PERCENT,
                    "a healthy disk stays below the warning line: " + r.diskPercent());
            assertTrue(Math.abs(r.cpuPercent() - previous.cpuPercent()) < 15, "cpu jumped at " + t);
            assertTrue(Math.abs(r.diskPercent() - previous.diskPercent()) < 1, "disk jumped at " + t);
            assertEquals(r.servicesTotal(), r.servicesActive() + r.servicesFailed());
            previous = r;
        }
        assertTrue(previous.tasksCompleted() > 0 && previous.llmRequests() > 0, "counters moved");
    }

    @Test
    void shouldPinCpuBetween95And100DuringASpike() {
        MetricModel model = new MetricModel(5);
        for (int t = 0; t < 300; t++) {
            double cpu = model.at(Duration.ofSeconds(t)).withCpuSpike().cpuPercent();
            assertTrue(cpu >= 95 && cpu <= 100, "cpu " + cpu);
        }
    }

    @Test
    void shouldFillTheDiskLinearlyToNinetyNinePercentAndShrinkFreeBytes() {
        IncidentScript script = IncidentScript.parse("disk:srv-001@10s+60s");
        VirtualServer server = new VirtualServer("srv-001", 9);

        MetricReading before = reading(server, script, 9);
        MetricReading half = reading(server, script, 40);
        MetricReading nearlyDone = reading(server, script, 69.999);
        MetricReading after = reading(server, script, 71);

        double base = new MetricModel(9).at(Duration.ofSeconds(40)).diskPercent();
        assertEquals(base + (99 - base) / 2, half.diskPercent(), 0.01);
        assertEquals(99, nearlyDone.diskPercent(), 0.1);
        assertTrue(nearlyDone.diskFreeBytes() < half.diskFreeBytes() && half.diskFreeBytes() < before.diskFreeBytes());
        assertEquals(nearlyDone.diskTotalBytes() / 100.0, nearlyDone.diskFreeBytes(), nearlyDone.diskTotalBytes() * 0.002);
        assertTrue(after.diskPercent() < MetricReading.DISK_WARN_PERCENT, "cleaned up afterwards");
    }

    @Test
    void shouldLeakTheDiskOfAnyServerTowardsSeventyFivePercentWithoutEverReachingTheWarningLine() {
        IncidentScript script = IncidentScript.parse("leak:srv-001@10s+4m");
        for (long seed = 0; seed < 200; seed++) {
            VirtualServer server = new VirtualServer("srv-001", seed);
            double start = reading(server, script, 10).diskPercent();
            double previous = start;
            for (int t = 15; t < 250; t += 5) {
                double disk = reading(server, script, t).diskPercent();
                assertTrue(disk < MetricReading.DISK_WARN_PERCENT, "seed " + seed + ": " + disk + "% at " + t + " s");
                assertTrue(disk > previous - 0.5, "seed " + seed + ": fell from " + previous + " to " + disk + " at " + t + " s");
                previous = disk;
            }
            assertEquals(MetricReading.DISK_LEAK_TARGET_PERCENT, reading(server, script, 249.999).diskPercent(), 0.1, "seed " + seed);
            assertTrue(previous - start > 5, "seed " + seed + ": leaked only from " + start + " to " + previous);
        }
    }

    @Test
    void shouldMultiplyTaskLatencyAloneDuringALatencyShift() {
        MetricReading r = new MetricModel(4).at(Duration.ofSeconds(30));
        MetricReading shifted = r.withLatencyShift();

        assertEquals(3 * r.taskLatencyMs(), shifted.taskLatencyMs(), 0.01);
        assertEquals(r, new MetricReading(shifted.cpuPercent(), shifted.memoryPercent(), shifted.diskPercent(),
                shifted.diskTotalBytes(), shifted.netRxBytes(), shifted.netTxBytes(), shifted.servicesActive(),
                shifted.servicesFailed(), shifted.servicesTotal(), shifted.tasksCompleted(), shifted.tasksFailed(),
                r.taskLatencyMs(), shifted.gpuPercent(), shifted.llmRequests(), shifted.llmCostUsd(), shifted.users(),
                shifted.queueDepth(), shifted.loadAvg1m()));
    }

    @Test
    @SuppressWarnings("unchecked")
    void shouldDeriveHealthChecksFromTheMetrics() {
        IncidentScript script = IncidentScript.parse("disk:srv-001@0s+100s");
        VirtualServer server = new VirtualServer("srv-001", 9);

        assertEquals("OK", diskCheck(server.health(Duration.ofSeconds(0), script.conditionAt("srv-001", Duration.ZERO))));
        Condition late = script.conditionAt("srv-001", Duration.ofSeconds(99));
        VirtualServer.Response full = server.health(Duration.ofSeconds(99), late);
        assertEquals(200, full.status());
        assertEquals("DEGRADED", full.body().get("status"));
        assertEquals("CRITICAL", diskCheck(full));

        VirtualServer.Response down = server.health(Duration.ofSeconds(1), Condition.NORMAL.withOverrides(true, false, false));
        assertEquals(503, down.status());
        assertEquals("DOWN", down.body().get("status"));
        ((List<Map<String, Object>>) down.body().get("checks")).forEach(c -> assertEquals("CRITICAL", c.get("status")));
        assertEquals(503, server.metrics(Duration.ofSeconds(1), Condition.NORMAL.withOverrides(true, false, false)).status());
    }

    @Test
    void shouldGradeServicesAndDiskChecksByThresholds() {
        MetricReading healthy = new MetricModel(1).at(Duration.ZERO);
        MetricReading oneFailed = copyWithServices(healthy, 1);
        MetricReading twoFailed = copyWithServices(healthy, 2);

        assertEquals("OK", healthy.servicesStatus());
        assertEquals("WARN", oneFailed.servicesStatus());
        assertEquals("CRITICAL", twoFailed.servicesStatus());
        double base = healthy.diskPercent();
        assertEquals(base, healthy.withDiskFill(0).diskPercent(), "progress 0 leaves the disk as it was");
        assertEquals("OK", healthy.diskStatus());
        assertEquals("WARN", healthy.withDiskFill((85 - base) / (99 - base)).diskStatus());
        assertEquals("CRITICAL", healthy.withDiskFill((95 - base) / (99 - base)).diskStatus());
    }

    @SuppressWarnings("unchecked")
    private static String diskCheck(VirtualServer.Response response) {
        return ((List<Map<String, Object>>) response.body().get("checks")).stream()
                .filter(c -> c.get("name").equals("disk")).findFirst().orElseThrow().get("status").toString();
    }

    private static MetricReading reading(VirtualServer server, IncidentScript script, double seconds) {
        Duration at = Duration.ofMillis(Math.round(seconds * 1000));
        return server.reading(at, script.conditionAt("srv-001", at));
    }

    private static MetricReading copyWithServices(MetricReading r, int failed) {
        return new MetricReading(r.cpuPercent(), r.memoryPercent(), r.diskPercent(), r.diskTotalBytes(), r.netRxBytes(),
                r.netTxBytes(), r.servicesTotal() - failed, failed, r.servicesTotal(), r.tasksCompleted(), r.tasksFailed(),
                r.taskLatencyMs(), r.gpuPercent(), r.llmRequests(), r.llmCostUsd(), r.users(), r.queueDepth(), r.loadAvg1m());
    }
}
