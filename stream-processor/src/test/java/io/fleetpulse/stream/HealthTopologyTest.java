package io.fleetpulse.stream;

import static io.fleetpulse.stream.TopologyHarness.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.HealthScore;
import io.fleetpulse.events.HealthStatus;
import io.fleetpulse.events.Target;
import io.fleetpulse.events.TargetWindow;
import io.fleetpulse.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Health on fleet.health, the health rule kind and what a fleet.targets tombstone does to the window engine. Defaults:
 * grace 10 s, idle timeout 30 s, absence timeout 2 min; the bundled rules (target-unhealthy: at least CRITICAL for 1m).
 */
class HealthTopologyTest {

    @TempDir
    Path stateDir;
    TopologyHarness topology;
    TestOutputTopic<String, HealthScore> health;

    @BeforeEach
    void start() {
        topology = TopologyHarness.withDefaults(stateDir);
        health = topology.driver.createOutputTopic(Topics.HEALTH.name(), Topics.HEALTH.keySerde().deserializer(),
                Topics.HEALTH.valueSerde().deserializer());
    }

    @AfterEach
    void stop() {
        topology.close();
    }

    private void send(String target, String check, CheckStatus status, Instant at) {
        topology.checks.pipeInput(target, CheckResult.newBuilder().setTargetId(target).setCheckName(check)
                .setStatus(status).setLatencyMs(5.0).setObservedAt(at).build(), at);
    }

    private void list(String target, String group, List<String> criticalChecks, Instant at) {
        topology.targets.pipeInput(target, Target.newBuilder().setTargetId(target).setHealthUrl("http://" + target)
                .setGroup(group).setCriticalChecks(criticalChecks).setUpdatedAt(at).build(), at);
    }

    private KeyValueStore<String, HealthScore> healthStore() {
        return topology.driver.getKeyValueStore(HealthTopology.HEALTH_STORE);
    }

    private List<AlertEvent> alertsOf(String ruleId) {
        return topology.readAlerts().stream().filter(a -> a.getRuleId().equals(ruleId)).toList();
    }

    @Test
    void shouldPublishOneHealthScorePerTargetAndClosedMinute() {
        for (int s : new int[] {5, 20, 35, 50}) {
            send("a", "http", CheckStatus.OK, at(s));
            send("b", "http", s == 50 ? CheckStatus.WARN : CheckStatus.OK, at(s));
        }
        assertTrue(health.isEmpty(), "nothing before the minute closes");

        send("a", "http", CheckStatus.OK, at(70));
        send("b", "http", CheckStatus.OK, at(70));

        List<KeyValue<String, HealthScore>> scores = health.readKeyValuesToList();
        assertEquals(List.of("a", "b"), scores.stream().map(kv -> kv.key).toList());
        HealthScore a = scores.get(0).value;
        assertEquals(100, a.getScore());
        assertEquals(HealthStatus.HEALTHY, a.getStatus());
        assertEquals(at(0), a.getWindowStart());
        assertEquals(at(60), a.getWindowEnd());
        assertEquals(87.5, scores.get(1).value.getScore(), 1e-9, "3 OK and a WARN");
        assertEquals(scores.get(1).value, healthStore().get("b"), "the latest score is kept for the read path");
    }

    @Test
    void shouldMakeATargetCriticalWhenItsCriticalCheckFailsWhileTheOthersPassAndFireTheHealthRule() {
        list("shop", "web", List.of("db"), at(0));
        for (int s = 0; s < 180; s += 10) { // three polls a minute failing db, passing http and cache
            send("shop", "http", CheckStatus.OK, at(s));
            send("shop", "cache", CheckStatus.OK, at(s));
            send("shop", "db", CheckStatus.CRITICAL, at(s));
        }
        send("shop", "http", CheckStatus.OK, at(190)); // closes [120, 180)

        List<HealthScore> scores = health.readValuesToList();
        assertEquals(3, scores.size());
        for (HealthScore score : scores) {
            assertEquals(HealthStatus.CRITICAL, score.getStatus());
            assertEquals(List.of("db"), score.getFailingChecks());
            assertTrue(score.getReasons().contains("critical check db CRITICAL"), score.getReasons().toString());
        }
        assertEquals(3, topology.settings.counters().healthScores(HealthStatus.CRITICAL));
        assertEquals(0, topology.settings.counters().healthScores(HealthStatus.HEALTHY));
        // The windows ending at 60 and 120 are CRITICAL for 1m of event time: target-unhealthy fires at 120.
        List<AlertEvent> fired = alertsOf("target-unhealthy");
        assertEquals(1, fired.size());
        assertEquals(AlertState.FIRING, fired.get(0).getState());
        assertEquals("shop health is CRITICAL", fired.get(0).getSummary());
        assertEquals(at(120), fired.get(0).getStartsAt());
        assertEquals("web", fired.get(0).getGroup());
    }

    @Test
    void shouldFireAHealthRuleAtTheStatusItsGroupOverrideNames() {
        topology.close();
        topology = new TopologyHarness(TopologySettings.defaults().withRules(RuleBook.parse("""
                rules:
                  - id: unhealthy
                    kind: health
                    at_least: critical
                    severity: warning
                    overrides:
                      - { group: fragile, at_least: degraded, severity: critical }
                """, "test")), stateDir);
        list("f-1", "fragile", List.of(), at(0));
        list("s-1", "sturdy", List.of(), at(0));
        for (int s = 0; s < 60; s += 15) { // one poll in four fails: score 70, DEGRADED, for both
            CheckStatus status = s == 45 ? CheckStatus.CRITICAL : CheckStatus.OK;
            send("f-1", "http", status, at(s));
            send("s-1", "http", status, at(s));
        }
        send("f-1", "http", CheckStatus.OK, at(75)); // closes [0, 60) for both
        send("s-1", "http", CheckStatus.OK, at(75));

        List<AlertEvent> fired = alertsOf("unhealthy");
        assertEquals(List.of("f-1"), fired.stream().map(AlertEvent::getTargetId).toList(),
                "DEGRADED fires only where the override lowered the line");
        assertEquals(io.fleetpulse.events.Severity.CRITICAL, fired.get(0).getSeverity());
        assertEquals("f-1 health is DEGRADED", fired.get(0).getSummary());
    }

    @Test
    void shouldResolveTheHealthRuleAfterItsRecoveryDuration() {
        for (int s = 0; s < 120; s += 20) {
            send("w", "http", CheckStatus.ERROR, at(s));
        }
        send("w", "http", CheckStatus.OK, at(120));
        send("w", "http", CheckStatus.OK, at(130)); // closes [60, 120): CRITICAL at 60 and 120, fires
        assertEquals(List.of(AlertState.FIRING), alertsOf("target-unhealthy").stream().map(AlertEvent::getState).toList());
        for (int s = 140; s <= 250; s += 10) {
            send("w", "http", CheckStatus.OK, at(s));
        }
        // HEALTHY at 180, then at 240 (1m later): resolved at 240.
        List<AlertEvent> resolved = alertsOf("target-unhealthy");
        assertEquals(1, resolved.size());
        assertEquals(AlertState.RESOLVED, resolved.get(0).getState());
        assertEquals(at(240), resolved.get(0).getEndsAt());
        assertEquals("w recovered (target-unhealthy): health HEALTHY, below CRITICAL", resolved.get(0).getSummary());
    }

    @Test
    void shouldBeUnreachableWhenEveryCheckTimesOutOrCannotConnect() {
        send("far", "http", CheckStatus.UNREACHABLE, at(10));
        send("far", "db", CheckStatus.TIMEOUT, at(10));
        send("far", "http", CheckStatus.UNREACHABLE, at(75));

        HealthScore score = health.readValue();
        assertEquals(HealthStatus.UNREACHABLE, score.getStatus());
        assertEquals(0, score.getScore());
    }

    @Test
    void shouldReportASilentTargetUnreachableEvenWhenTheWholePartitionIsSilent() {
        send("a", "http", CheckStatus.OK, at(0));
        send("b", "http", CheckStatus.OK, at(30));

        // The partition is quiet: its event time goes on at wall-clock pace once it is idle, so a is 2 min behind it
        // after 90 s of wall clock; a's minute closes at 100 s (end 60 + grace 10 + idle 30).
        topology.advanceWallClock(Duration.ofSeconds(89));
        assertEquals(List.of(HealthStatus.HEALTHY), healthOf("b"), "b's minute closed at 70 s");
        assertEquals(List.of(), healthOf("a"));
        topology.advanceWallClock(Duration.ofSeconds(1));
        List<KeyValue<String, HealthScore>> reported = health.readKeyValuesToList();
        assertEquals(List.of("a"), reported.stream().map(kv -> kv.key).toList());
        HealthScore silent = reported.get(0).value;
        assertEquals(HealthStatus.UNREACHABLE, silent.getStatus());
        assertEquals(List.of("sent nothing for 120 s"), silent.getReasons());
        assertEquals(at(0), silent.getWindowStart());
        assertEquals(at(120), silent.getWindowEnd());

        topology.advanceWallClock(Duration.ofSeconds(10));
        assertEquals(List.of("b", "a"), topology.readWindows().stream().map(TargetWindow::getTargetId).toList(),
                "a's minute closed too");
        assertEquals(List.of(), healthOf("a"), "a minute closing while the target is silent is not scored: UNREACHABLE stands");
        assertEquals(HealthStatus.UNREACHABLE, healthStore().get("a").getStatus());

        send("a", "http", CheckStatus.OK, at(200));
        send("a", "http", CheckStatus.OK, at(250));
        assertEquals(List.of(HealthStatus.HEALTHY), healthOf("a"), "scored again once it sends");
    }

    @Test
    void shouldCountTargetsByGroupAndStatus() {
        list("web-1", "web", List.of(), at(0));
        list("web-2", "web", List.of(), at(0));
        list("batch-1", "batch", List.of(), at(0));
        send("web-1", "http", CheckStatus.OK, at(10));
        send("web-2", "http", CheckStatus.ERROR, at(10));
        send("batch-1", "http", CheckStatus.OK, at(10));
        send("stray", "http", CheckStatus.OK, at(10));
        for (String target : List.of("web-1", "web-2", "batch-1", "stray")) {
            send(target, "http", CheckStatus.OK, at(75));
        }

        Map<String, Map<HealthStatus, Long>> counts = GroupHealth.counts(healthStore(),
                topology.driver.getKeyValueStore(HealthTopology.INVENTORY_STORE));

        assertEquals(List.of("batch", "default", "web"), List.copyOf(counts.keySet()));
        assertEquals(1L, counts.get("web").get(HealthStatus.HEALTHY));
        assertEquals(1L, counts.get("web").get(HealthStatus.CRITICAL));
        assertEquals(0L, counts.get("web").get(HealthStatus.DEGRADED));
        assertEquals(1L, counts.get("batch").get(HealthStatus.HEALTHY));
        assertEquals(1L, counts.get("default").get(HealthStatus.HEALTHY), "not in the inventory: group default");
    }

    @Test
    void shouldDropTheWindowsAndHealthOfARemovedTargetAndNeverReportItAbsent() {
        list("gone", "web", List.of(), at(0));
        send("gone", "http", CheckStatus.OK, at(10));
        send("stays", "http", CheckStatus.OK, at(10));
        send("gone", "http", CheckStatus.OK, at(70)); // closes gone's first minute: it has a health
        send("gone", "http", CheckStatus.OK, at(80));
        assertEquals(HealthStatus.HEALTHY, health.readValue().getStatus());
        topology.readWindows();

        topology.removeTarget("gone", at(85));
        List<KeyValue<String, HealthScore>> removal = health.readKeyValuesToList();
        assertEquals(1, removal.size());
        assertEquals("gone", removal.get(0).key);
        assertNull(removal.get(0).value, "a tombstone on fleet.health");
        assertNull(healthStore().get("gone"));
        assertEquals(List.of(), openWindowKeysOf("gone"), "its open minute [60, 120) and hour are dropped");
        assertTrue(topology.driver.<String, TargetClock>getKeyValueStore(HealthTopology.TARGET_STORE).get("gone").removed());

        send("gone", "http", CheckStatus.OK, at(90)); // one poll still in flight
        for (int s = 100; s <= 400; s += 10) {
            send("stays", "http", CheckStatus.OK, at(s));
        }
        topology.advanceWallClock(Duration.ofMinutes(10));

        List<TargetWindow> windows = topology.readWindows();
        List<TargetWindow> gone = windows.stream().filter(w -> w.getTargetId().equals("gone")).toList();
        assertEquals(1, gone.size(), "only the window of the poll in flight, not the dropped one");
        assertEquals(1, gone.get(0).getChecks());
        assertTrue(health.readValuesToList().stream().noneMatch(h -> h.getTargetId().equals("gone")),
                "a removed target has no health");
        assertTrue(topology.readAlerts().stream().noneMatch(a -> a.getTargetId().equals("gone")),
                "never reported absent, though it has sent nothing for 5 minutes");
    }

    @Test
    void shouldWatchARemovedTargetAgainOnceItIsListedAgain() {
        list("back", "web", List.of(), at(0));
        send("back", "http", CheckStatus.OK, at(10));
        topology.removeTarget("back", at(20));
        send("other", "http", CheckStatus.OK, at(30));
        list("back", "web", List.of(), at(40));
        for (int s = 50; s <= 170; s += 10) {
            send("other", "http", CheckStatus.OK, at(s));
        }

        List<AlertEvent> absent = alertsOf("target-absent");
        assertEquals(List.of("back"), absent.stream().map(AlertEvent::getTargetId).toList(),
                "silent 2 min from the task's event time (30 s) when it was listed again");
        assertEquals(at(150), absent.get(0).getStartsAt());
    }

    /** The statuses published for {@code target} since the last read; the other targets' are read and dropped. */
    private List<HealthStatus> healthOf(String target) {
        return health.readKeyValuesToList().stream().filter(kv -> kv.key.equals(target))
                .map(kv -> kv.value.getStatus()).toList();
    }

    private List<String> openWindowKeysOf(String target) {
        List<String> keys = new java.util.ArrayList<>();
        for (String store : List.of(HealthTopology.WINDOW_STORE, HealthTopology.HOUR_WINDOW_STORE)) {
            try (KeyValueIterator<String, WindowAccumulator> all =
                         topology.driver.<String, WindowAccumulator>getKeyValueStore(store).all()) {
                all.forEachRemaining(kv -> {
                    if (kv.key.endsWith("|" + target)) {
                        keys.add(store + ":" + kv.key);
                    }
                });
            }
        }
        return keys;
    }
}
