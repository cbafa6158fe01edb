package io.fleetpulse.stream;

import static io.fleetpulse.stream.TopologyHarness.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.Evidence;
import io.fleetpulse.events.MetricSample;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code anomaly} and {@code predictive} kinds through the topology on event time: a latency level shift that no
 * static line would see fires and resolves once the new level is learnt; a steadily filling disk fires before it is
 * full and resolves when the filling stops; both carry the model's evidence.
 */
class ModelledRulesTopologyTest {

    private static final int STEP_SECONDS = 10;

    @TempDir
    Path stateDir;
    TopologyHarness topology;
    private final Random random = new Random(7);
    private int second;
    private final List<AlertEvent> alerts = new ArrayList<>();

    @AfterEach
    void stop() {
        if (topology != null) {
            topology.close();
        }
    }

    private void start(String rules) {
        topology = new TopologyHarness(TopologySettings.defaults().withRules(RuleBook.parse(rules, "test")), stateDir);
    }

    private static final String LATENCY_ANOMALY = """
            rules:
              - id: latency-unusual
                kind: anomaly
                signal: task_latency_ms
                direction: up
                value: 0.999
                recovery: { for: 30s }
                severity: warning
                runbook: https://runbooks.example/{target}/latency
            """;

    /** A rules-file entry (no {@code rules:} header), so it can follow {@link #LATENCY_ANOMALY} or stand alone. */
    private static final String DISK_WILL_FILL = """
              - id: disk-will-fill
                kind: predictive
                signal: disk_percent
                limit: 100
                horizon: 2h
                trend_window: 10m
                for: 1m
                severity: warning
            """;

    /** {@code n} task latencies around {@code level} (±5 %), one every 10 s. */
    private void sendLatencies(String target, int n, double level) {
        for (int i = 0; i < n; i++) {
            double latency = level * (1 + 0.05 * random.nextGaussian());
            send(MetricSample.newBuilder().setTargetId(target).setObservedAt(at(second))
                    .setTaskLatencyMs(latency).build());
        }
    }

    private void sendDisk(String target, int n, double from, double perSecond) {
        for (int i = 0; i < n; i++) {
            double disk = from + perSecond * i * STEP_SECONDS + 0.05 * random.nextGaussian();
            send(MetricSample.newBuilder().setTargetId(target).setObservedAt(at(second)).setDiskPercent(disk).build());
        }
    }

    private void send(MetricSample sample) {
        topology.metrics.pipeInput(sample.getTargetId(), sample, sample.getObservedAt());
        second += STEP_SECONDS;
        alerts.addAll(topology.readAlerts());
    }

    @Test
    void shouldFireAnAnomalyAtALatencyLevelShiftAndResolveOnceTheNewLevelIsLearnt() {
        start(LATENCY_ANOMALY);
        sendLatencies("w-1", 60, 50);
        assertEquals(List.of(), alerts, "ten minutes of normal latency page nobody");

        Instant shift = at(second);
        sendLatencies("w-1", 40, 150); // three times slower, still far under any static line one would set
        AlertEvent firing = alerts.get(0);
        assertEquals(AlertState.FIRING, firing.getState());
        assertTrue(Duration.between(shift, firing.getOccurredAt()).getSeconds() <= 30,
                "fires within three samples of the shift: " + firing.getOccurredAt());
        Evidence evidence = firing.getEvidence();
        assertEquals("task_latency_ms", evidence.getSignal());
        assertEquals("ensemble", evidence.getDetector());
        assertTrue(evidence.getScore() >= 0.999, evidence.toString());
        assertTrue(evidence.getValue() > 120, "the evidence's value is the observed latency: " + evidence);
        assertEquals(50, evidence.getExpected(), 10, "the baseline before the shift");
        assertTrue(evidence.getSpread() > 0 && evidence.getSpread() < 10, evidence.toString());
        assertEquals(">=", evidence.getOperator());
        assertEquals(0.999, evidence.getThreshold(), 1e-12);
        assertTrue(firing.getSummary().startsWith("w-1: task_latency_ms at "), firing.getSummary());
        assertTrue(firing.getSummary().contains("unusual"), firing.getSummary());
        assertEquals("https://runbooks.example/w-1/latency", firing.getRunbookUrl());

        assertEquals(2, alerts.size(), "the shift is learnt while it lasts and the alert resolves: " + alerts);
        AlertEvent resolved = alerts.get(1);
        assertEquals(AlertState.RESOLVED, resolved.getState());
        assertEquals(firing.getFingerprint(), resolved.getFingerprint());
        assertTrue(resolved.getSummary().contains("anomaly score"), resolved.getSummary());
        assertEquals("ensemble", resolved.getEvidence().getDetector());
        assertEquals("anomaly", topology.settings.rules().kind(firing.getRuleId()).orElseThrow());
    }

    @Test
    void shouldIgnoreAShiftTheOtherWayAndValuesBeforeTheRequiredHistory() {
        start(LATENCY_ANOMALY + """
                  - id: latency-unusual-late
                    kind: anomaly
                    signal: task_latency_ms
                    min_samples: 500
                    severity: info
                """);
        sendLatencies("w-1", 60, 150);
        sendLatencies("w-1", 20, 50); // faster: not what a "direction: up" rule is about; and only 80 samples so far

        assertEquals(List.of(), alerts);
    }

    /**
     * A metric sample feeds several of its target's models: they are one entry of the store, found with one lookup,
     * each series its own model; the entry survives its serialisation (a checkpoint, a restore), and a removed target's
     * entry goes, so the target is learnt anew if it comes back.
     */
    @Test
    void shouldKeepATargetsModelsInOneEntryPerSeriesAndDropThemWithTheTarget() {
        start(LATENCY_ANOMALY + DISK_WILL_FILL);
        for (String target : List.of("w-1", "w-2")) {
            for (int i = 0; i < 20; i++) {
                send(MetricSample.newBuilder().setTargetId(target).setObservedAt(at(second)).setTaskLatencyMs(100.0 + i)
                        .setDiskPercent(40.0 + i).build());
            }
        }
        KeyValueStore<String, TargetModels> store = topology.driver.getKeyValueStore(HealthTopology.DETECTOR_STORE);
        TargetModels models = store.get(AlertRecord.targetPrefix("w-1"));
        assertEquals(2, models.size(), "latency and disk, one model each");
        SeriesModel latency = models.get("task_latency_ms", "ensemble", null);
        SeriesModel disk = models.get("disk_percent", "trend-600000", null);
        assertEquals(20, latency.detector().samples());
        assertEquals(20, disk.trend().samples());

        TargetModels restored = TargetModels.fromBytes(models.toBytes());
        assertEquals(2, restored.size());
        assertEquals(latency.detector().expected(),
                restored.get("task_latency_ms", "ensemble", null).detector().expected());
        assertEquals(disk.trend().slopePerSecond(),
                restored.get("disk_percent", "trend-600000", null).trend().slopePerSecond());
        TargetModels checks = new TargetModels();
        checks.add("check_latency_ms", "ensemble", "db|primary:5432", latency);
        checks.add("check_latency_ms", "ensemble", null, disk);
        TargetModels checksBack = TargetModels.fromBytes(checks.toBytes());
        assertEquals(20, checksBack.get("check_latency_ms", "ensemble", "db|primary:5432").detector().samples(),
                "a check name with the separators in it");
        assertNotNull(checksBack.get("check_latency_ms", "ensemble", null).trend());
        assertEquals(0, TargetModels.fromBytes(new byte[] {1, 0}).size(),
                "a per-series model of the earlier layout is not read as a target's models");

        topology.removeTarget("w-1", at(second));
        assertNull(store.get(AlertRecord.targetPrefix("w-1")), "a removed target's models go");
        assertEquals(2, store.get(AlertRecord.targetPrefix("w-2")).size());
    }

    @Test
    void shouldForecastADiskFillingUpAndResolveWhenItStops() {
        start("rules:\n" + DISK_WILL_FILL);
        sendDisk("db-1", 30, 50, 0); // five flat minutes
        assertEquals(List.of(), alerts, "a flat disk is going nowhere");

        double rate = 0.02; // %/s: 72 % an hour, full in 42 min from 50 %
        sendDisk("db-1", 90, 50, rate);
        AlertEvent firing = alerts.get(0);
        assertEquals(AlertState.FIRING, firing.getState());
        Evidence evidence = firing.getEvidence();
        assertEquals("trend", evidence.getDetector());
        assertEquals(100, evidence.getLimit(), 0);
        // It fires soon after the fill starts, while the window still holds the flat minutes: the slope is low then.
        double slope = evidence.getSlopePerSecond();
        assertTrue(slope > 0.3 * rate && slope < 1.1 * rate, "the slope so far: " + evidence);
        assertTrue(evidence.getConfidence() > 0.9, evidence.toString());
        assertNotNull(evidence.getPredictedAt());
        double secondsLeft = (100 - evidence.getValue()) / rate;
        double forecast = Duration.between(firing.getOccurredAt(), evidence.getPredictedAt()).getSeconds();
        assertTrue(forecast >= 0.9 * secondsLeft && forecast <= 7200, "a forecast not earlier than the truth, inside "
                + "the horizon: " + forecast + " s against " + secondsLeft + " s: " + evidence);
        assertTrue(evidence.getThreshold() == 7200 && evidence.getOperator().equals("<="), evidence.toString());
        assertTrue(firing.getSummary().contains("reaches 100 in "), firing.getSummary());

        double reached = 50 + rate * 89 * STEP_SECONDS;
        sendDisk("db-1", 120, reached, 0); // the filling stops; twenty flat minutes
        AlertEvent resolved = alerts.get(alerts.size() - 1);
        assertEquals(2, alerts.size(), alerts.toString());
        assertEquals(AlertState.RESOLVED, resolved.getState());
        assertTrue(resolved.getSummary().contains("db-1 recovered (disk-will-fill)"), resolved.getSummary());
    }

    @Test
    void shouldForecastFreeBytesFallingToZeroAndKeepTheTrendThroughACleanup() {
        start("""
                rules:
                  - id: disk-free-running-out
                    kind: predictive
                    signal: disk_free_bytes
                    limit: 0
                    horizon: 1h
                    trend_window: 10m
                    severity: critical
                    summary: "{target} runs out of disk in {eta} ({value} bytes free, {slope} bytes/s)"
                """);
        long total = 500_000_000_000L;
        long free = 60_000_000_000L;
        long perSecond = 20_000_000; // 20 MB/s: the 60 GB go in 50 minutes
        for (int i = 0; i < 60; i++) {
            long bytes = free - perSecond * i * STEP_SECONDS;
            if (i == 40) {
                bytes = total; // one wild reading does not move the trend
            }
            send(MetricSample.newBuilder().setTargetId("db-2").setObservedAt(at(second)).setDiskFreeBytes(bytes).build());
        }
        assertTrue(alerts.size() >= 1, "60 GB at 20 MB/s is 50 min away, inside the hour: " + alerts);
        AlertEvent firing = alerts.get(0);
        assertEquals(AlertState.FIRING, firing.getState());
        assertTrue(firing.getSummary().startsWith("db-2 runs out of disk in "), firing.getSummary());
        assertEquals(-perSecond, firing.getEvidence().getSlopePerSecond(), perSecond * 0.2);
        assertEquals(1, alerts.size(), "still firing through the outlier: " + alerts);
    }
}
