package io.fleetpulse.stream;

import static io.fleetpulse.stream.TopologyHarness.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.HealthScore;
import io.fleetpulse.events.HealthStatus;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.config.Settings;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The health formula at its lines, with the default weights (WARN 0.5, 20 error points, saturation 90% / 40 points). */
class HealthScorerTest {

    private final HealthScorer scorer = new HealthScorer(TopologySettings.defaultHealth());

    private static CheckResult check(String name, CheckStatus status) {
        return CheckResult.newBuilder().setTargetId("web-1").setCheckName(name).setStatus(status).setLatencyMs(5.0)
                .setObservedAt(T0).build();
    }

    private static WindowAccumulator window(CheckResult... checks) {
        WindowAccumulator acc = new WindowAccumulator();
        for (CheckResult c : checks) {
            acc.add(c);
        }
        return acc;
    }

    private static WindowAccumulator withCpu(WindowAccumulator acc, double cpu) {
        return acc.add(MetricSample.newBuilder().setTargetId("web-1").setObservedAt(T0).setCpuPercent(cpu).build());
    }

    private HealthScore score(HealthScorer by, WindowAccumulator acc, Collection<String> critical) {
        return by.score(acc, acc.toTargetWindow("web-1", T0, T0.plusSeconds(60)), critical);
    }

    private HealthScore score(WindowAccumulator acc) {
        return score(scorer, acc, List.of());
    }

    @Test
    void shouldScoreAllChecksPassingAsHealthy100() {
        HealthScore health = score(window(check("http", CheckStatus.OK), check("db", CheckStatus.OK)));

        assertEquals(100, health.getScore());
        assertEquals(HealthStatus.HEALTHY, health.getStatus());
        assertEquals(List.of(), health.getFailingChecks());
        assertEquals(List.of(), health.getReasons());
        assertEquals(T0, health.getWindowStart());
        assertEquals(T0.plusSeconds(60), health.getWindowEnd());
    }

    @Test
    void shouldCountAWarnCheckAsHalfAPass() {
        HealthScore health = score(window(check("http", CheckStatus.OK), check("http", CheckStatus.OK),
                check("http", CheckStatus.OK), check("http", CheckStatus.WARN)));

        assertEquals(87.5, health.getScore(), 1e-9);
        assertEquals(HealthStatus.HEALTHY, health.getStatus());
        assertEquals(List.of(), health.getFailingChecks(), "a WARN is not a failure");
    }

    @Test
    void shouldStayHealthyExactlyAtTheHealthyLineAndDegradeJustBelowIt() {
        // cpu 95 is halfway from the saturation line 90 to 100: 40 * 0.5 = 20 points off, 80 = the healthy line.
        HealthScore at = score(withCpu(window(check("http", CheckStatus.OK)), 95));
        HealthScore below = score(withCpu(window(check("http", CheckStatus.OK)), 95.01));

        assertEquals(80, at.getScore(), 1e-9);
        assertEquals(HealthStatus.HEALTHY, at.getStatus());
        assertTrue(at.getReasons().contains("cpu at 95% (over the saturation line 90%)"), at.getReasons().toString());
        assertEquals(79.96, below.getScore(), 1e-9);
        assertEquals(HealthStatus.DEGRADED, below.getStatus());
        assertTrue(below.getReasons().contains("score 79.96 below the healthy line 80"), below.getReasons().toString());
    }

    @Test
    void shouldNotTakeAnythingOffAtTheSaturationLine() {
        assertEquals(100, score(withCpu(window(check("http", CheckStatus.OK)), 90)).getScore());
    }

    @Test
    void shouldTurnCriticalJustBelowTheCriticalLine() {
        // Without error points, one of two checks failing scores exactly 50: the critical line, still DEGRADED.
        HealthScorer noErrorPoints = new HealthScorer(new HealthScorer.Weights(0.5, 0, 90, 40, 80, 50));
        HealthScore at = score(noErrorPoints, window(check("http", CheckStatus.OK), check("http", CheckStatus.ERROR)), List.of());
        // With the default 20 error points: 50 - 20 * 0.5 = 40.
        HealthScore below = score(window(check("http", CheckStatus.OK), check("http", CheckStatus.ERROR)));

        assertEquals(50, at.getScore(), 1e-9);
        assertEquals(HealthStatus.DEGRADED, at.getStatus());
        assertEquals(40, below.getScore(), 1e-9);
        assertEquals(HealthStatus.CRITICAL, below.getStatus());
        assertEquals(List.of("http"), below.getFailingChecks());
    }

    @Test
    void shouldBeCriticalWhenACriticalCheckFailsWhileTheOthersPass() {
        WindowAccumulator acc = window(check("http", CheckStatus.OK), check("cache", CheckStatus.OK),
                check("http", CheckStatus.OK), check("cache", CheckStatus.OK), check("http", CheckStatus.OK),
                check("db", CheckStatus.CRITICAL));

        HealthScore critical = score(scorer, acc, List.of("db"));
        HealthScore notCritical = score(scorer, acc, List.of("cache"));

        // 5 of 6 pass: 83.333 - 20 / 6 = 80, at the healthy line.
        assertEquals(80, critical.getScore(), 1e-9);
        assertEquals(HealthStatus.CRITICAL, critical.getStatus());
        assertEquals(List.of("db"), critical.getFailingChecks());
        assertTrue(critical.getReasons().contains("critical check db CRITICAL"), critical.getReasons().toString());
        assertEquals(HealthStatus.HEALTHY, notCritical.getStatus(), "the same window when db is not a critical check");
        assertEquals(List.of("db"), notCritical.getFailingChecks());
    }

    @Test
    void shouldKeepEachChecksWorstStatusOfTheWindow() {
        HealthScore health = score(window(check("db", CheckStatus.TIMEOUT), check("db", CheckStatus.OK),
                check("db", CheckStatus.ERROR), check("http", CheckStatus.WARN), check("http", CheckStatus.OK)));

        assertEquals(List.of("db"), health.getFailingChecks());
        assertTrue(health.getReasons().contains("check db TIMEOUT"), "the first failure stands: " + health.getReasons());
    }

    @Test
    void shouldBeUnreachableWhenNoCheckCouldContactTheTarget() {
        HealthScore unreachable = score(window(check("http", CheckStatus.UNREACHABLE), check("db", CheckStatus.TIMEOUT)));
        HealthScore failing = score(window(check("http", CheckStatus.UNREACHABLE), check("db", CheckStatus.ERROR)));

        assertEquals(HealthStatus.UNREACHABLE, unreachable.getStatus());
        assertEquals(0, unreachable.getScore());
        assertEquals(List.of("db", "http"), unreachable.getFailingChecks());
        assertTrue(unreachable.getReasons().contains("could not be contacted: all 2 checks UNREACHABLE or TIMEOUT"));
        assertEquals(HealthStatus.CRITICAL, failing.getStatus(), "it answered one check: reachable, failing");
    }

    @Test
    void shouldScoreAWindowOfMetricsAloneByItsSaturation() {
        HealthScore health = score(withCpu(new WindowAccumulator(), 100));

        assertEquals(60, health.getScore(), 1e-9);
        assertEquals(HealthStatus.DEGRADED, health.getStatus());
        assertTrue(health.getReasons().contains("no checks in the window"));
    }

    @Test
    void shouldScoreASilentTargetUnreachable() {
        HealthScore health = HealthScorer.silent("web-1", 120, T0, T0.plusSeconds(120));

        assertEquals(HealthStatus.UNREACHABLE, health.getStatus());
        assertEquals(0, health.getScore());
        assertEquals(List.of("sent nothing for 120 s"), health.getReasons());
    }

    @Test
    void shouldRankStatusesForTheHealthSignal() {
        for (HealthStatus status : HealthStatus.values()) {
            assertEquals(status, HealthScorer.ofRank(HealthScorer.rank(status)));
        }
        assertEquals(HealthStatus.DEGRADED, HealthScorer.ofRank(1.5));
    }

    @Test
    void shouldRefuseABadWeightNamingItsKey() {
        ConfigException e = assertThrows(ConfigException.class, () -> TopologySettings.from(
                Settings.of(Map.of("streams.health.warn.weight", "1.5"), StreamProcessorService.KEYS)));
        assertEquals("streams.health.warn.weight", e.key());
        assertThrows(ConfigException.class, () -> TopologySettings.from(
                Settings.of(Map.of("streams.health.saturation.line", "100"), StreamProcessorService.KEYS)),
                "a line of 100 would leave no room to saturate");
    }

    @Test
    void shouldRefuseACriticalLineAboveTheHealthyLine() {
        ConfigException e = assertThrows(ConfigException.class, () -> TopologySettings.from(Settings.of(
                Map.of("streams.health.healthy.line", "60", "streams.health.critical.line", "70"),
                StreamProcessorService.KEYS)));

        assertEquals("streams.health.critical.line", e.key());
        assertTrue(e.getMessage().contains("70 is above streams.health.healthy.line (60)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new HealthScorer.Weights(0.5, 20, 90, 40, 60, 70));
    }

    @Test
    void shouldReadConfiguredWeights() {
        TopologySettings settings = TopologySettings.from(Settings.of(Map.of("streams.health.warn.weight", "0",
                "streams.health.healthy.line", "95"), StreamProcessorService.KEYS));

        assertEquals(new HealthScorer.Weights(0, 20, 90, 40, 95, 50), settings.health());
    }
}
