package io.fleetpulse.stream;

import static io.fleetpulse.stream.TopologyHarness.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.events.Severity;
import io.fleetpulse.events.Target;
import io.fleetpulse.schemas.DeadLetters;
import io.fleetpulse.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The alert state through the topology: one state per check, target-first keys that keep what an alert fired with,
 * the upgrade from format-1 state, the inventory (group, labels, tombstones) and rules removed while firing.
 */
class AlertStateTopologyTest {

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
    void shouldFireTargetDownForAFailingCheckWhileAnotherCheckOfTheSamePollPasses() {
        // The collector's poll: one result for http and one per body check, all with the same observedAt.
        for (int s = 0; s <= 60; s += 5) {
            poll("a", CheckStatus.OK, CheckStatus.CRITICAL, at(s));
        }

        List<AlertEvent> firing = topology.readAlerts();
        assertEquals(1, firing.size(), "one alert, for db only: " + firing);
        AlertEvent dbDown = firing.get(0);
        assertEquals("target-down", dbDown.getRuleId());
        assertEquals(AlertState.FIRING, dbDown.getState());
        assertEquals(at(15), dbDown.getStartsAt(), "db failed at 0, 5, 10 and 15 s: for 15 s");
        assertEquals(Map.of("check", "db"), dbDown.getLabels());
        assertEquals(Fingerprint.of("target-down", "a", Map.of("check", "db")), dbDown.getFingerprint());
        assertEquals("a is failing its db check", dbDown.getSummary());
        assertEquals(4, dbDown.getEvidence().getSamples(), "db's own results, not http's");

        for (int s = 65; s <= 80; s += 5) {
            poll("a", CheckStatus.OK, CheckStatus.OK, at(s)); // db recovers
        }

        List<AlertEvent> resolved = topology.readAlerts();
        assertEquals(1, resolved.size(), resolved.toString());
        assertEquals(AlertState.RESOLVED, resolved.get(0).getState());
        assertEquals(dbDown.getFingerprint(), resolved.get(0).getFingerprint());
        assertEquals(Map.of("check", "db"), resolved.get(0).getLabels());
        assertEquals(at(80), resolved.get(0).getEndsAt(), "healthy from 65 s, for 15 s");
        assertEquals("a recovered (target-down, check db): check_failed 0 < 1", resolved.get(0).getSummary());
    }

    @Test
    void shouldWatchOnlyTheSelectedCheckWhenARuleNamesOne() {
        runWith(TestRules.DB_DOWN, "db-only");

        for (int s = 0; s <= 30; s += 5) {
            poll("a", CheckStatus.CRITICAL, CheckStatus.OK, at(s)); // http fails, db passes
        }
        assertTrue(topology.alerts.isEmpty(), "http is not watched");

        poll("a", CheckStatus.CRITICAL, CheckStatus.CRITICAL, at(35));
        List<AlertEvent> alerts = topology.readAlerts();
        assertEquals(List.of("db-down"), alerts.stream().map(AlertEvent::getRuleId).toList());
        assertEquals(Map.of("check", "db"), alerts.get(0).getLabels());
    }

    @Test
    void shouldFireOnMOfNChecksAndJudgeOnlyWindowsWithMinSamples() {
        runWith(TestRules.FLAPPING_CHECK_AND_THIN_WINDOWS, "m-of-n");

        // A flapping check: no 'for' could fire on it, 3 of the last 5 does.
        topology.sendCheck("a", CheckStatus.CRITICAL, at(0));
        topology.sendCheck("a", CheckStatus.CRITICAL, at(50));
        topology.sendCheck("a", CheckStatus.OK, at(65));
        assertTrue(topology.alerts.isEmpty(), "2 of the last 3");

        topology.sendCheck("a", CheckStatus.CRITICAL, at(75)); // also closes [0, 60): 2 checks, both failed

        List<AlertEvent> flapping = topology.readAlerts();
        assertEquals(List.of("flapping"), flapping.stream().map(AlertEvent::getRuleId).toList(),
                "an error rate of 1 over 2 checks is too few checks (min_samples 3) to judge");
        assertEquals(3, flapping.get(0).getEvidence().getSamples(), "the values that met the condition");
        assertEquals(Map.of("check", "http"), flapping.get(0).getLabels());

        topology.sendCheck("a", CheckStatus.CRITICAL, at(80));
        topology.sendCheck("a", CheckStatus.CRITICAL, at(90));
        topology.sendCheck("a", CheckStatus.OK, at(130)); // closes [60, 120): 4 checks, 3 failed

        AlertEvent errors = topology.readAlerts().stream().filter(e -> e.getRuleId().equals("errors")).findFirst()
                .orElseThrow();
        assertEquals(AlertState.FIRING, errors.getState());
        assertEquals(4, errors.getEvidence().getSamples());
        assertEquals(at(60), errors.getEvidence().getWindowStart());
    }

    @Test
    void shouldMoveOneAlertsSeverityUpThroughItsTiersAndResolveWithTheHighest() {
        runWith(RuleBook.parse("""
                rules:
                  - id: cpu
                    kind: threshold
                    signal: cpu_percent
                    op: ">"
                    value: 80
                    severity: warning
                    escalate: { critical: 95 }
                    recovery: { op: "<", value: 75 }
                    summary: "{target} CPU {value}% over {threshold}%"
                    description: "{target} has been busy; now {value}%"
                    runbook: "https://runbooks.example/cpu?target={target}"
                """, "test"), "tiers");

        topology.sendCpu("a", 85, at(0));
        topology.sendCpu("a", 90, at(5));
        topology.sendCpu("a", 97, at(10));
        topology.sendCpu("a", 99, at(15)); // already critical
        topology.sendCpu("a", 85, at(20)); // back in the warning band: stays critical until resolved
        topology.sendCpu("a", 70, at(25));

        List<AlertEvent> alerts = topology.readAlerts();
        assertEquals(List.of(AlertState.FIRING, AlertState.FIRING, AlertState.RESOLVED),
                alerts.stream().map(AlertEvent::getState).toList());
        assertEquals(List.of(Severity.WARNING, Severity.CRITICAL, Severity.CRITICAL),
                alerts.stream().map(AlertEvent::getSeverity).toList());
        assertEquals(1, alerts.stream().map(AlertEvent::getFingerprint).distinct().count(), "one alert");
        AlertEvent escalation = alerts.get(1);
        assertEquals("a CPU 97% over 95%", escalation.getSummary());
        assertEquals(95.0, escalation.getEvidence().getThreshold());
        assertEquals(at(0), escalation.getStartsAt(), "still the alert that started at 0 s");
        assertEquals(at(10), escalation.getOccurredAt());
        assertEquals("a CPU 85% over 80%", alerts.get(0).getSummary());
        assertEquals(List.of("a has been busy; now 85%", "a has been busy; now 97%"),
                alerts.subList(0, 2).stream().map(AlertEvent::getDescription).toList());
        assertNull(alerts.get(2).getDescription(), "a resolve's summary says how it recovered");
        assertTrue(alerts.stream().allMatch(e -> "https://runbooks.example/cpu?target=a".equals(e.getRunbookUrl())));
    }

    @Test
    void shouldApplyATargetsAndAGroupsOverridesOfARule() {
        runWith(RuleBook.parse("""
                rules:
                  - id: cpu-high
                    kind: threshold
                    signal: cpu_percent
                    op: ">"
                    value: 90
                    severity: warning
                    overrides:
                      - { target: gpu-box, value: 98 }
                      - { group: batch, severity: info }
                """, "test"), "overrides");
        topology.sendTarget("worker-7", "batch", Map.of(), at(0));

        topology.sendCpu("web-1", 95, at(1));
        topology.sendCpu("gpu-box", 95, at(1)); // under its own line
        topology.sendCpu("worker-7", 95, at(1));
        topology.sendCpu("gpu-box", 99, at(2));

        List<AlertEvent> alerts = topology.readAlerts();
        assertEquals(List.of("web-1 WARNING", "worker-7 INFO", "gpu-box WARNING"),
                alerts.stream().map(e -> e.getTargetId() + " " + e.getSeverity()).toList());
    }

    @Test
    void shouldKeyStateTargetFirstAndResolveWithTheLabelsAndGroupItFiredWith() {
        topology.sendTarget("a", "edge", Map.of("team", "payments", "check", "overridden by the check"), at(0));
        fireTargetDownOnHttp("a");
        assertNotNull(topology.alertStore().get("a|target-down|http"), "keyed targetId|ruleId|check");
        List<AlertEvent> firing = topology.readAlerts();
        assertEquals("edge", firing.get(0).getGroup());
        assertEquals(Map.of("team", "payments", "check", "http"), firing.get(0).getLabels());

        // The inventory changes while the alert fires: the resolve still says what was paged.
        topology.sendTarget("a", "core", Map.of("team", "search"), at(20));
        for (int s = 20; s <= 35; s += 5) {
            topology.sendCheck("a", CheckStatus.OK, at(s));
        }

        AlertEvent resolved = topology.readAlerts().get(0);
        assertEquals(AlertState.RESOLVED, resolved.getState());
        assertEquals(firing.get(0).getFingerprint(), resolved.getFingerprint());
        assertEquals("edge", resolved.getGroup());
        assertEquals(Map.of("team", "payments", "check", "http"), resolved.getLabels());
    }

    @Test
    void shouldResolveWithTheSeverityStoredAtFiringNotTheCurrentRules() {
        // Fired as INFO under an earlier version of target-down (critical today).
        AlertStateMachine.Snapshot firing = new AlertStateMachine.Snapshot(AlertState.FIRING, at(0), 4, at(15), null, 0);
        topology.alertStore().put(AlertRecord.key("a", "target-down", "http"), new AlertRecord("f1", "target-down",
                "a", "http", Severity.INFO, "edge", Map.of("check", "http", "tier", "old"), firing));

        for (int s = 20; s <= 35; s += 5) {
            topology.sendCheck("a", CheckStatus.OK, at(s));
        }

        AlertEvent resolved = topology.readAlerts().get(0);
        assertEquals(AlertState.RESOLVED, resolved.getState());
        assertEquals("f1", resolved.getFingerprint());
        assertEquals(Severity.INFO, resolved.getSeverity());
        assertEquals(Map.of("check", "http", "tier", "old"), resolved.getLabels());
        assertEquals(at(15), resolved.getStartsAt());
    }

    @Test
    void shouldMigrateFormat1StateKeyedRuleFirstAndStillResolveIt() {
        // What the first release left in the store: keyed ruleId|targetId, format 1 (fingerprint and machine only).
        String legacyFingerprint = Fingerprint.of("target-down", "a", Map.of());
        AlertStateMachine.Snapshot firing = new AlertStateMachine.Snapshot(AlertState.FIRING, at(-30), 4, at(-15), null, 0);
        topology.alertStore().put("target-down|a", legacy(legacyFingerprint, firing));
        topology.alertStore().put("cpu-high|a", legacy(Fingerprint.of("cpu-high", "a", Map.of()), firing));
        topology.alertStore().put("cpu-high|b", legacy(null, new AlertStateMachine.Snapshot(AlertState.PENDING,
                at(-5), 1, null, null, 0)));

        topology.driver.advanceWallClockTime(RuleEvaluator.STARTUP_SWEEP_DELAY); // the start's sweep, no input needed

        assertEquals(List.of("a|cpu-high|", "a|target-down|", "b|cpu-high|"), storeKeys(),
                "re-keyed target-first; old keys gone");
        assertFalse(topology.alertStore().get("a|target-down|").legacy(), "written back as format 2");
        assertTrue(topology.alerts.isEmpty(), "migration publishes nothing");

        // Format 1 kept one state for all of a target's checks: it resolves once every check is healthy for 15 s.
        for (int s = 0; s <= 15; s += 5) {
            poll("a", CheckStatus.OK, CheckStatus.OK, at(s));
        }
        topology.sendCpu("a", 70, at(15));
        topology.sendCpu("a", 70, at(35));

        List<AlertEvent> resolved = topology.readAlerts();
        assertEquals(List.of("target-down", "cpu-high"), resolved.stream().map(AlertEvent::getRuleId).toList());
        assertTrue(resolved.stream().allMatch(e -> e.getState() == AlertState.RESOLVED));
        assertEquals(legacyFingerprint, resolved.get(0).getFingerprint(), "the fingerprint PagerDuty knows");
        assertEquals(Severity.CRITICAL, resolved.get(0).getSeverity(), "format 1 kept none: the rule's");
        assertEquals(at(-15), resolved.get(0).getStartsAt());
        assertEquals(Fingerprint.of("cpu-high", "a", Map.of()), resolved.get(1).getFingerprint());
        assertEquals(List.of("a|cpu-high|", "b|cpu-high|"), storeKeys(),
                "the all-checks state is gone once resolved; b's PENDING goes on");
        AlertRecord cpuAfter = topology.alertStore().get("a|cpu-high|");
        assertEquals(AlertState.RESOLVED, cpuAfter.machine().state(), "RESOLVED until its next value");
        assertNull(cpuAfter.fingerprint(), "a resolved alert lets go of its identity");
    }

    @Test
    void shouldCarryTheTargetsGroupAndLabelsAndResolveEverythingOnItsTombstone() {
        topology.sendTarget("a", "edge", Map.of("team", "payments", "env", "prod"), at(0));
        topology.sendTarget("b", "core", Map.of(), at(0));
        for (int s = 0; s <= 20; s += 5) {
            topology.sendCpu("a", 95, at(s));
            topology.sendCpu("b", 95, at(s));
        }
        topology.sendCheck("a", CheckStatus.CRITICAL, at(20)); // target-down PENDING on a
        List<AlertEvent> firing = topology.readAlerts();
        assertEquals(2, firing.size(), firing.toString());
        AlertEvent cpuA = firing.get(0);
        assertEquals("a", cpuA.getTargetId());
        assertEquals("edge", cpuA.getGroup());
        assertEquals(Map.of("team", "payments", "env", "prod"), cpuA.getLabels());
        assertEquals(Fingerprint.of("cpu-high", "a", Map.of("team", "payments", "env", "prod")), cpuA.getFingerprint());
        assertEquals("core", firing.get(1).getGroup());

        topology.removeTarget("a", at(30));

        List<KeyValue<String, AlertEvent>> resolved = topology.alerts.readKeyValuesToList();
        assertEquals(1, resolved.size(), "a's firing alert; its PENDING one goes quietly: " + resolved);
        AlertEvent removed = resolved.get(0).value;
        assertEquals(cpuA.getFingerprint(), resolved.get(0).key);
        assertEquals(AlertState.RESOLVED, removed.getState());
        assertEquals("a resolved (cpu-high): target removed", removed.getSummary());
        assertEquals("target_removed", removed.getEvidence().getSignal());
        assertEquals("edge", removed.getGroup());
        assertEquals(cpuA.getLabels(), removed.getLabels());
        assertEquals(at(20), removed.getStartsAt());
        assertEquals(at(30), removed.getEndsAt());
        assertEquals(List.of("b|cpu-high|"), storeKeys(), "a's alert state is dropped, b's kept");
        assertNull(topology.driver.getKeyValueStore(HealthTopology.INVENTORY_STORE).get("a"));
        assertNotNull(topology.driver.getKeyValueStore(HealthTopology.INVENTORY_STORE).get("b"));
    }

    @Test
    void shouldResolveAlertsOfRemovedRulesAtStartWithoutInput() {
        AlertStateMachine.Snapshot firing = new AlertStateMachine.Snapshot(AlertState.FIRING, at(0), 3, at(10), null, 0);
        topology.alertStore().put(AlertRecord.key("a", "gpu-hot", null), new AlertRecord("f-gpu", "gpu-hot", "a", null,
                Severity.CRITICAL, "edge", Map.of("team", "ml"), firing));
        topology.alertStore().put(AlertRecord.key("a", "old-pending", null), AlertRecord.unfired("old-pending", "a", null,
                new AlertStateMachine.Snapshot(AlertState.PENDING, at(0), 1, null, null, 0)));
        topology.alertStore().put(AlertRecord.key("a", "cpu-high", null), new AlertRecord("f-cpu", "cpu-high", "a", null,
                Severity.WARNING, "edge", Map.of(), firing));
        assertTrue(topology.alerts.isEmpty());

        topology.driver.advanceWallClockTime(RuleEvaluator.STARTUP_SWEEP_DELAY);

        List<AlertEvent> resolved = topology.readAlerts();
        assertEquals(1, resolved.size(), resolved.toString());
        AlertEvent gone = resolved.get(0);
        assertEquals("f-gpu", gone.getFingerprint());
        assertEquals(AlertState.RESOLVED, gone.getState());
        assertEquals("a resolved (gpu-hot): rule removed", gone.getSummary());
        assertEquals("rule_removed", gone.getEvidence().getSignal());
        assertEquals(Severity.CRITICAL, gone.getSeverity());
        assertEquals(Map.of("team", "ml"), gone.getLabels());
        assertEquals(TopologyHarness.T0.plusSeconds(3600).plus(RuleEvaluator.STARTUP_SWEEP_DELAY), gone.getEndsAt(),
                "no event time to go by: the wall clock of the sweep");
        assertEquals(List.of("a|cpu-high|"), storeKeys(), "a rule still in the book keeps its alert");

        topology.driver.advanceWallClockTime(RuleEvaluator.STARTUP_SWEEP_DELAY.multipliedBy(10));
        assertTrue(topology.alerts.isEmpty(), "the sweep runs once");
    }

    @Test
    void shouldSweepRemovedRulesOnTheFirstRecordWhenItComesBeforeTheWallClock() {
        AlertStateMachine.Snapshot firing = new AlertStateMachine.Snapshot(AlertState.FIRING, at(0), 3, at(10), null, 0);
        topology.alertStore().put(AlertRecord.key("a", "gpu-hot", null), new AlertRecord("f-gpu", "gpu-hot", "a", null,
                Severity.CRITICAL, "edge", Map.of(), firing));

        topology.sendCpu("b", 10, at(0));

        assertEquals(List.of("a resolved (gpu-hot): rule removed"),
                topology.readAlerts().stream().map(AlertEvent::getSummary).toList());
    }

    @Test
    void shouldSendBadInventoryRecordsToTheDeadLetterTopicWithAReason() {
        byte[] good = Topics.TARGETS.valueSerde().serializer().serialize(Topics.TARGETS.name(), Target.newBuilder()
                .setTargetId("a").setHealthUrl("http://a/health").setUpdatedAt(at(0)).build());
        topology.rawTargets.pipeInput("a".getBytes(StandardCharsets.UTF_8), "not a target".getBytes(StandardCharsets.UTF_8));
        topology.rawTargets.pipeInput("b".getBytes(StandardCharsets.UTF_8), good);
        topology.rawTargets.pipeInput((byte[]) null, (byte[]) null);

        List<DeadLetter> letters = topology.deadLetters.readValuesToList();
        assertEquals(List.of(DeadLetters.UNDECODABLE, DeadLetters.INVALID, DeadLetters.INVALID),
                letters.stream().map(DeadLetter::getReason).toList());
        assertEquals(List.of(Topics.TARGETS.name()), letters.stream().map(DeadLetter::getSourceTopic).distinct().toList());
        assertEquals("the record key 'b' but targetId is 'a'; per-target topics are keyed by targetId",
                letters.get(1).getError());
        assertEquals("a tombstone without a key names no target", letters.get(2).getError());
        assertNull(topology.driver.getKeyValueStore(HealthTopology.INVENTORY_STORE).get("b"));
        assertEquals(3, topology.settings.counters().recordsIn(Topics.TARGETS.name()));
    }

    /** The topology again, with other rules (and a fresh state dir). */
    private void runWith(RuleBook rules, String stateSubDir) {
        topology.close();
        topology = new TopologyHarness(TopologySettings.defaults().withRules(rules), stateDir.resolve(stateSubDir));
    }

    /** One poll of a target with an http and a db check, observed at the same instant. */
    private void poll(String target, CheckStatus http, CheckStatus db, Instant observedAt) {
        topology.sendCheck(target, http, observedAt);
        CheckResult dbCheck = TopologyHarness.check(target, db, 3.0, observedAt);
        dbCheck.setCheckName("db");
        topology.checks.pipeInput(target, dbCheck, observedAt);
    }

    private void fireTargetDownOnHttp(String target) {
        for (int s = 0; s <= 15; s += 5) {
            topology.sendCheck(target, CheckStatus.CRITICAL, at(s));
        }
    }

    private static AlertRecord legacy(String fingerprint, AlertStateMachine.Snapshot machine) {
        return AlertRecord.SERDE.deserializer().deserialize("t", LegacyAlertState.format1(fingerprint, machine));
    }

    private List<String> storeKeys() {
        List<String> keys = new ArrayList<>();
        try (KeyValueIterator<String, AlertRecord> all = topology.alertStore().all()) {
            all.forEachRemaining(kv -> keys.add(kv.key));
        }
        return keys;
    }
}
