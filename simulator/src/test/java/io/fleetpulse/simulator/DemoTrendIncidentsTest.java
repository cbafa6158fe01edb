package io.fleetpulse.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.simulator.Incident.Kind;
import io.fleetpulse.simulator.IncidentScript.Condition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;

/**
 * The demo's two incidents for rules that learn or extrapolate (the latency shift and the leaking disk), sampled as the
 * demo's collector samples them: the default fleet of {@code fleetpulse demo} (50 servers, seed 42), every 5 s.
 */
class DemoTrendIncidentsTest {

    /** {@code fleetpulse demo}'s default {@code --servers}; its {@code --seed} is the fleet's default, 42. */
    private static final int DEMO_SERVERS = 50;
    /** {@code fleetpulse demo}'s default {@code --interval}, for health and metrics alike. */
    private static final int POLL_SECONDS = 5;
    /** The last instant a three-minute demo can see: 180 s of run after up to a minute of start-up. */
    private static final int DEMO_SEEN_UNTIL = 240;

    private final IncidentScript script = IncidentScript.demo(DEMO_SERVERS);
    private final Map<String, VirtualServer> fleet = SimulatedFleet.virtualServers(FleetSpec.of(DEMO_SERVERS).withScript(script));

    @Test
    void shouldShiftTaskLatencyToAboutThreeTimesItsNoisyBaselineAndBack() {
        Incident shift = incident(Kind.LATENCY_SHIFT);
        int start = (int) shift.startOffset().toSeconds();
        int end = (int) shift.endOffset().toSeconds();

        List<Double> before = series(shift.serverId(), 0, start, MetricReading::taskLatencyMs);
        List<Double> during = series(shift.serverId(), start, end, MetricReading::taskLatencyMs);
        List<Double> after = series(shift.serverId(), end, end + 60, MetricReading::taskLatencyMs);

        assertTrue(start >= 50 && end - start >= 60, shift + ": from about a minute in, for at least a minute");
        // A pipeline that starts polling 20 s after the fleet still has a detector's warm-up of normal samples.
        assertTrue(series(shift.serverId(), 20, start, MetricReading::taskLatencyMs).size() >= 17);
        double level = mean(before);
        assertTrue(level >= 30 && level <= 80, "a fast service: " + level + " ms");
        double sd = sd(before);
        assertTrue(sd > 0.03 * level && sd < 0.2 * level, "small noise, not a constant: sd " + sd + " of " + level + " ms");
        assertEquals(MetricReading.LATENCY_SHIFT_FACTOR, mean(during) / level, 0.3, "during " + during + ", before " + before);
        assertTrue(min(during) > 2 * max(before), "a clear step, not a wider noise: " + during + " after " + before);
        assertEquals(1, mean(after) / level, 0.2, "back to normal: " + after);
    }

    @Test
    void shouldChangeNothingButTaskLatencyOnTheShiftedServer() {
        Incident shift = incident(Kind.LATENCY_SHIFT);
        VirtualServer server = fleet.get(shift.serverId());

        for (int t = 0; t <= DEMO_SEEN_UNTIL; t += POLL_SECONDS) {
            Duration at = Duration.ofSeconds(t);
            Condition condition = server.condition(script, at);
            Map<String, Object> shifted = server.reading(at, condition).toJson();
            Map<String, Object> normal = server.reading(at, Condition.NORMAL).toJson();
            shifted.remove("task_latency_ms");
            normal.remove("task_latency_ms");

            assertEquals(normal, shifted, "at " + t + " s");
            assertEquals(server.health(at, Condition.NORMAL), server.health(at, condition), "checks at " + t + " s");
            assertEquals("UP", server.health(at, condition).body().get("status"), "every check OK at " + t + " s");
        }
    }

    @Test
    void shouldLeakTheDiskSteadilyFromEarlyOnAndStayUnderEveryLineForTheWholeDemo() {
        Incident leak = incident(Kind.DISK_LEAK);
        String id = leak.serverId();
        int start = (int) leak.startOffset().toSeconds();
        List<Double> disk = series(id, 0, DEMO_SEEN_UNTIL + 1, MetricReading::diskPercent);
        List<Double> free = series(id, 0, DEMO_SEEN_UNTIL + 1, r -> r.diskFreeBytes());

        assertTrue(start >= 10 && start <= 20, leak + ": from early on");
        assertTrue(disk.get(0) >= 50 && disk.get(0) <= 60, "starts from a disk half full: " + disk.get(0));
        assertTrue(max(disk) < 80, "under the disk check's warning line (80 %) and far under the alert's 90 %: " + max(disk));
        for (int i = (start + 15) / POLL_SECONDS; i < disk.size(); i++) {
            assertTrue(disk.get(i) > disk.get(i - 3), "higher than 15 s before at " + i * POLL_SECONDS + " s: " + disk);
            assertTrue(free.get(i) < free.get(i - 3), "less free than 15 s before at " + i * POLL_SECONDS + " s: " + free);
        }
        List<Double> leaking = disk.subList(start / POLL_SECONDS, disk.size());
        double[] line = fit(start, leaking);
        double perMinute = line[1] * 60;
        assertTrue(perMinute >= 3 && perMinute <= 10, "a few percent a minute: " + perMinute);
        for (int i = 0; i < leaking.size(); i++) {
            double residual = leaking.get(i) - (line[0] + line[1] * (start + i * POLL_SECONDS));
            assertTrue(Math.abs(residual) < 0.5, "linear with small noise; off by " + residual + " at sample " + i);
        }
        // What a predictive rule extrapolates from the last two minutes, flat samples from before the leak included.
        for (int t = 40; t <= DEMO_SEEN_UNTIL; t += POLL_SECONDS) {
            int from = Math.max(0, t - 120);
            double[] recent = fit(from, disk.subList(from / POLL_SECONDS, t / POLL_SECONDS + 1));
            double secondsToFull = (100 - disk.get(t / POLL_SECONDS)) / recent[1];
            assertTrue(secondsToFull > 0 && secondsToFull < 1800, "full in " + secondsToFull + " s by the trend at " + t + " s");
        }
    }

    @Test
    void shouldKeepEveryCheckOfTheLeakingServerOkAndCleanItsDiskUpAfterwards() {
        Incident leak = incident(Kind.DISK_LEAK);
        VirtualServer server = fleet.get(leak.serverId());

        for (int t = 0; t <= DEMO_SEEN_UNTIL; t += POLL_SECONDS) {
            Duration at = Duration.ofSeconds(t);
            assertEquals("UP", server.health(at, server.condition(script, at)).body().get("status"), "at " + t + " s");
        }
        Duration cleanedUp = leak.endOffset();
        assertEquals(server.reading(cleanedUp, Condition.NORMAL), server.reading(cleanedUp, server.condition(script, cleanedUp)));
    }

    private Incident incident(Kind kind) {
        List<Incident> found = script.incidents().stream().filter(i -> i.kind() == kind).toList();
        assertEquals(1, found.size(), kind + " in " + script);
        return found.get(0);
    }

    /** What the collector reads from {@code id} every poll from {@code fromSecond} (inclusive) to {@code toSecond}. */
    private List<Double> series(String id, int fromSecond, int toSecond, ToDoubleFunction<MetricReading> metric) {
        VirtualServer server = fleet.get(id);
        List<Double> values = new ArrayList<>();
        for (int t = fromSecond; t < toSecond; t += POLL_SECONDS) {
            Duration at = Duration.ofSeconds(t);
            values.add(metric.applyAsDouble(server.reading(at, server.condition(script, at))));
        }
        return values;
    }

    /** Least squares through samples {@link #POLL_SECONDS} apart from {@code fromSecond}: {intercept, slope per second}. */
    private static double[] fit(int fromSecond, List<Double> values) {
        double n = values.size();
        double sumT = 0;
        double sumV = 0;
        double sumTT = 0;
        double sumTV = 0;
        for (int i = 0; i < values.size(); i++) {
            double t = fromSecond + (double) i * POLL_SECONDS;
            sumT += t;
            sumV += values.get(i);
            sumTT += t * t;
            sumTV += t * values.get(i);
        }
        double slope = (n * sumTV - sumT * sumV) / (n * sumTT - sumT * sumT);
        return new double[] {(sumV - slope * sumT) / n, slope};
    }

    private static double mean(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }

    private static double sd(List<Double> values) {
        double mean = mean(values);
        return Math.sqrt(values.stream().mapToDouble(v -> (v - mean) * (v - mean)).sum() / (values.size() - 1));
    }

    private static double min(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
    }

    private static double max(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
    }
}
