package io.fleetpulse.stream;

import static io.fleetpulse.stream.TopologyHarness.T0;
import static io.fleetpulse.stream.TopologyHarness.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.Severity;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every rule kind and the options every rule has (warm-up, staleness), through the topology on event time. */
class RuleKindsTopologyTest {

    @TempDir
    Path stateDir;
    TopologyHarness topology;

    @AfterEach
    void stop() {
        if (topology != null) {
            topology.close();
        }
    }

    /** The one alert published since the last read. */
    private AlertEvent onlyAlert() {
        List<AlertEvent> alerts = topology.readAlerts();
        assertEquals(1, alerts.size(), alerts.toString());
        return alerts.get(0);
    }

    /** One rule, cpu-high ({@code cpu_percent > 90}), with {@code options} (one per line) added to it. */
    private void startCpuHigh(String options) {
        start("""
                rules:
                  - id: cpu-high
                    kind: threshold
                    signal: cpu_percent
                    op: ">"
                    value: 90
                """ + options.lines().map(line -> "    " + line + "\n").collect(java.util.stream.Collectors.joining()));
    }

    private void start(String rules) {
        topology = new TopologyHarness(TopologySettings.defaults().withRules(RuleBook.parse(rules, "test")), stateDir);
    }

    // ---------------------------------------------------------------- kinds

    @Test
    void shouldFireErrorRateOverTheClosedMinute() {
        start("""
                rules:
                  - id: errors
                    kind: error_rate
                    window: 1m
                    value: 0.5
                    severity: warning
                """);
        topology.sendCheck("a", CheckStatus.CRITICAL, at(0));
        topology.sendCheck("a", CheckStatus.CRITICAL, at(20));
        topology.sendCheck("a", CheckStatus.OK, at(40));
        topology.sendCheck("a", CheckStatus.OK, at(69));
        assertTrue(topology.alerts.isEmpty(), "the minute is open until its end + 10 s grace");

        topology.sendCheck("a", CheckStatus.OK, at(70));

        AlertEvent firing = onlyAlert();
        assertEquals(AlertState.FIRING, firing.getState());
        assertEquals("a failed 0.6667 of its checks over 1m (threshold 0.5)", firing.getSummary());
        assertEquals("error_rate_1m", firing.getEvidence().getSignal());
        assertEquals(T0, firing.getEvidence().getWindowStart());
        assertEquals(at(60), firing.getOccurredAt(), "at the window's end");
        assertEquals(3, firing.getEvidence().getSamples());
        assertEquals("error_rate", topology.settings.rules().kind(firing.getRuleId()).orElseThrow());
    }

    @Test
    void shouldFireErrorRateOverTheClosedHourWhereEveryMinuteStaysUnderTheLine() {
        start("""
                rules:
                  - id: errors-hour
                    kind: error_rate
                    window: 1h
                    value: 0.2
                    min_samples: 10
                    severity: critical
                  - id: errors-minute
                    kind: error_rate
                    value: 0.5
                    severity: warning
                """);
        // Each minute: 1 failure of 3 checks (1/3 < 0.5, no minute fires); the hour: 60 of 180 > 0.2.
        for (int minute = 0; minute < 60; minute++) {
            topology.sendCheck("a", CheckStatus.CRITICAL, at(minute * 60));
            topology.sendCheck("a", CheckStatus.OK, at(minute * 60 + 20));
            topology.sendCheck("a", CheckStatus.OK, at(minute * 60 + 40));
        }
        topology.sendCheck("a", CheckStatus.OK, at(3609));
        assertTrue(topology.alerts.isEmpty(), "the hour closes at its end + grace");

        topology.sendCheck("a", CheckStatus.OK, at(3610));

        AlertEvent firing = onlyAlert();
        assertEquals("errors-hour", firing.getRuleId());
        assertEquals(Severity.CRITICAL, firing.getSeverity());
        assertEquals("error_rate_1h", firing.getEvidence().getSignal());
        assertEquals(1.0 / 3, firing.getEvidence().getValue(), 1e-9);
        assertEquals(T0, firing.getEvidence().getWindowStart());
        assertEquals(at(3600), firing.getEvidence().getWindowEnd());
        assertEquals(180, firing.getEvidence().getSamples());
    }

    @Test
    void shouldFireAbsenceAfterItsDurationAndAThresholdOnSilenceSecondsAlike() {
        start("""
                rules:
                  - id: silent
                    kind: absence
                    after: 2m
                    severity: critical
                  - id: legacy-silent
                    kind: threshold
                    signal: silence_seconds
                    op: ">"
                    value: 0
                    severity: info
                """);
        topology.sendCheck("c", CheckStatus.OK, at(0));
        for (int s = 0; s <= 120; s += 10) {
            topology.sendCheck("a", CheckStatus.OK, at(s));
        }

        List<AlertEvent> firing = topology.readAlerts();
        assertEquals(List.of("silent", "legacy-silent"), firing.stream().map(AlertEvent::getRuleId).toList());
        assertEquals("c sent nothing for 120 s", firing.get(0).getSummary());
        assertEquals(">=", firing.get(0).getEvidence().getOperator());
        assertEquals(120.0, firing.get(0).getEvidence().getThreshold());
        assertEquals("absence", topology.settings.rules().kind("silent").orElseThrow());

        topology.sendCheck("c", CheckStatus.OK, at(125));
        List<AlertEvent> resolved = topology.readAlerts();
        assertEquals(List.of(AlertState.RESOLVED, AlertState.RESOLVED), resolved.stream().map(AlertEvent::getState).toList());
        assertEquals(firing.get(0).getFingerprint(), resolved.get(0).getFingerprint());
    }

    // ---------------------------------------------------------------- warm-up

    @Test
    void shouldNotFireDuringTheWarmUpAfterATargetFirstAppears() {
        startCpuHigh("""
                for: 10s
                warm_up: 30s
                severity: warning
                """);
        topology.sendCpu("a", 99, at(0));
        topology.sendCpu("a", 99, at(20));
        topology.sendCpu("a", 99, at(29));
        assertTrue(topology.alerts.isEmpty(), "a is warming up: its values change nothing");

        topology.sendCpu("a", 99, at(30)); // warm: PENDING from here, the for counts from 30 s
        topology.sendCpu("b", 99, at(35)); // b first appears at 35 s: its own warm-up
        assertTrue(topology.alerts.isEmpty());
        topology.sendCpu("a", 99, at(40));
        topology.sendCpu("b", 99, at(55));

        AlertEvent a = onlyAlert();
        assertEquals("a", a.getTargetId());
        assertEquals(at(40), a.getStartsAt(), "for 10 s from the first value after warm-up");

        topology.sendCpu("b", 99, at(65));
        topology.sendCpu("b", 99, at(75));
        assertEquals(List.of("b"), topology.readAlerts().stream().map(AlertEvent::getTargetId).toList());
    }

    @Test
    void shouldWarmUpAgainWhenARemovedTargetComesBack() {
        startCpuHigh("""
                warm_up: 30s
                severity: warning
                """);
        topology.sendCpu("a", 10, at(0));
        topology.sendCpu("a", 99, at(30));
        assertEquals(1, topology.readAlerts().size());

        topology.removeTarget("a", at(40));
        assertEquals(AlertState.RESOLVED, topology.readAlerts().get(0).getState());
        topology.sendCpu("a", 99, at(50));
        assertTrue(topology.alerts.isEmpty(), "removed and back: a new target, warming up from 50 s");
        topology.sendCpu("a", 99, at(80));
        assertEquals(AlertState.FIRING, topology.readAlerts().get(0).getState());
    }

    // ---------------------------------------------------------------- staleness

    /** cpu-high with {@code for} and {@code on_stale} as given, stale after 1 min, with a runbook. */
    private void startStaleCpu(String fireFor, String onStale) {
        startCpuHigh("""
                for: %s
                severity: warning
                stale_after: 1m
                on_stale: %s
                runbook: "https://runbooks.example/cpu?target={target}"
                """.formatted(fireFor, onStale));
    }

    @Test
    void shouldResolveAFiringAlertAsStaleWhenItsSeriesHasNoFreshValue() {
        startStaleCpu("0s", "resolve");
        topology.sendCpu("a", 95, at(0));
        AlertEvent firing = topology.readAlerts().get(0);
        for (int s = 10; s < 60; s += 10) {
            topology.sendCheck("a", CheckStatus.OK, at(s)); // checks go on, the cpu gauge stopped
        }
        assertTrue(topology.alerts.isEmpty(), "59 s without a cpu value is not stale yet");

        topology.sendCheck("a", CheckStatus.OK, at(61));

        AlertEvent stale = onlyAlert();
        assertEquals(AlertState.RESOLVED, stale.getState());
        assertEquals(firing.getFingerprint(), stale.getFingerprint());
        assertEquals("a resolved (cpu-high): stale (no value for 1m)", stale.getSummary());
        assertEquals(at(60), stale.getEndsAt(), "when it went stale: last value + stale_after");
        assertEquals(at(60), stale.getOccurredAt());
        assertEquals("no_data_seconds", stale.getEvidence().getSignal());
        assertEquals(60.0, stale.getEvidence().getThreshold());
        assertEquals("https://runbooks.example/cpu?target=a", stale.getRunbookUrl());
        assertTrue(topology.alertStore().get(AlertRecord.key("a", "cpu-high", null)) == null, "its state is gone");

        topology.sendCpu("a", 95, at(70));
        assertEquals(AlertState.FIRING, topology.readAlerts().get(0).getState(), "fresh data fires anew");
    }

    @Test
    void shouldEndAPendingAlertQuietlyWhenItGoesStale() {
        startStaleCpu("30s", "resolve");
        topology.sendCpu("a", 95, at(0));
        topology.sendCheck("a", CheckStatus.OK, at(60)); // stale at 60 s: PENDING ends
        topology.sendCpu("a", 95, at(70));
        topology.sendCpu("a", 95, at(90));
        assertTrue(topology.alerts.isEmpty(), "the for starts over at 70 s, not at 0 s");

        topology.sendCpu("a", 95, at(100));
        assertEquals(at(100), topology.readAlerts().get(0).getStartsAt());
    }

    @Test
    void shouldNotGoStaleWhileValuesKeepComing() {
        startStaleCpu("0s", "resolve");
        topology.sendCpu("a", 95, at(0));
        topology.readAlerts();
        for (int s = 30; s <= 300; s += 30) {
            topology.sendCpu("a", 95, at(s));
            topology.sendCheck("b", CheckStatus.OK, at(s));
        }

        assertTrue(topology.alerts.isEmpty(), "fresh every 30 s, while b moves the task's event time on");
    }

    @Test
    void shouldGoStaleInASilentPartitionOnceTheWindowEngineCarriesItsEventTimeOn() {
        startStaleCpu("0s", "resolve");
        topology.sendCpu("a", 95, at(0));
        topology.readAlerts();
        topology.advanceWallClock(Duration.ofSeconds(20));
        assertTrue(topology.alerts.isEmpty(), "the wall clock alone decides nothing");

        // Silent past the idle timeout: the engine carries the task's event time on and reports a's silence.
        topology.advanceWallClock(Duration.ofMinutes(3));
        topology.advanceWallClock(Duration.ofSeconds(1));

        AlertEvent stale = onlyAlert();
        assertEquals(AlertState.RESOLVED, stale.getState());
        assertEquals(at(60), stale.getEndsAt(), "at last value + stale_after, whenever it is found");
    }

    @Test
    void shouldTurnAStaleFiringAlertIntoNoDataAndResolveItWhenDataReturnsRecovered() {
        startStaleCpu("0s", "absent");
        topology.sendCpu("a", 95, at(0));
        AlertEvent firing = topology.readAlerts().get(0);
        topology.sendCheck("a", CheckStatus.OK, at(60));

        AlertEvent noData = onlyAlert();
        assertEquals(AlertState.FIRING, noData.getState());
        assertEquals(firing.getFingerprint(), noData.getFingerprint(), "the same alert, now about the missing data");
        assertEquals("a sent no cpu_percent for 1m (cpu-high)", noData.getSummary());
        assertEquals(at(0), noData.getStartsAt());
        assertEquals(at(60), noData.getOccurredAt());
        assertEquals("no_data_seconds", noData.getEvidence().getSignal());
        topology.sendCheck("a", CheckStatus.OK, at(200));
        assertTrue(topology.alerts.isEmpty(), "announced once");

        topology.sendCpu("a", 40, at(210));
        AlertEvent resolved = topology.readAlerts().get(0);
        assertEquals(AlertState.RESOLVED, resolved.getState());
        assertEquals(firing.getFingerprint(), resolved.getFingerprint());
        assertEquals(at(210), resolved.getEndsAt());
    }

    @Test
    void shouldTurnNoDataBackIntoTheRulesAlertWhenDataReturnsStillBad() {
        startStaleCpu("0s", "absent");
        topology.sendCpu("a", 95, at(0));
        topology.sendCheck("a", CheckStatus.OK, at(60));
        String fingerprint = topology.readAlerts().get(1).getFingerprint();

        topology.sendCpu("a", 97, at(70));

        AlertEvent back = topology.readAlerts().get(0);
        assertEquals(AlertState.FIRING, back.getState());
        assertEquals(fingerprint, back.getFingerprint());
        assertEquals("a: cpu_percent is 97 (threshold 90)", back.getSummary());
        assertEquals("cpu_percent", back.getEvidence().getSignal());
        topology.sendCpu("a", 97, at(80));
        assertTrue(topology.alerts.isEmpty(), "back to an ordinary firing alert");
        topology.sendCheck("a", CheckStatus.OK, at(140));
        assertEquals("a sent no cpu_percent for 1m (cpu-high)", topology.readAlerts().get(0).getSummary(),
                "and it can go stale again");
    }

    @Test
    void shouldAnnounceNothingWhileANoDataAlertsReturnedDataIsOnItsWayToRecovery() {
        startCpuHigh("""
                recovery: { op: "<", value: 75, for: 20s }
                severity: warning
                stale_after: 1m
                on_stale: absent
                """);
        topology.sendCpu("a", 95, at(0));
        topology.sendCheck("a", CheckStatus.OK, at(60));
        assertEquals(2, topology.readAlerts().size(), "FIRING, then FIRING as no data");

        topology.sendCpu("a", 80, at(70)); // in the hysteresis band
        topology.sendCpu("a", 50, at(80)); // recovering, for 20 s
        assertTrue(topology.alerts.isEmpty(), "no page that it is still bad: it is not");
        topology.sendCpu("a", 50, at(100));
        assertEquals(AlertState.RESOLVED, topology.readAlerts().get(0).getState());
    }

    @Test
    void shouldKeepNoFirstSeenStateWhenNoRuleHasAWarmUp() {
        topology = TopologyHarness.withDefaults(stateDir);
        topology.sendCpu("a", 10, at(0));
        topology.sendCheck("a", CheckStatus.OK, at(5));

        org.apache.kafka.streams.state.KeyValueStore<String, Long> firstSeen =
                topology.driver.getKeyValueStore(HealthTopology.FIRST_SEEN_STORE);
        assertNull(firstSeen.get("a"), "a read and a write per new target only for books that need them");
    }

    @Test
    void shouldFireAStalePendingAlertAsNoDataUnderOnStaleAbsent() {
        startStaleCpu("30s", "absent");
        topology.sendTarget("a", "edge", Map.of("zone", "z1"), at(0));
        topology.sendCpu("a", 95, at(0));
        topology.sendCheck("a", CheckStatus.OK, at(60));

        AlertEvent noData = onlyAlert();
        assertEquals(AlertState.FIRING, noData.getState());
        assertEquals(Fingerprint.of("cpu-high", "a", Map.of("zone", "z1")), noData.getFingerprint());
        assertEquals("edge", noData.getGroup());
        assertEquals(at(60), noData.getStartsAt());
        assertNull(noData.getEndsAt());
    }

    @Test
    void shouldFindStaleAlertsStoredBeforeTheTaskStartedIncludingOnesWrittenWithoutLastSeen() {
        startStaleCpu("0s", "resolve");
        AlertStateMachine.Snapshot firingSince10 = new AlertStateMachine.Snapshot(AlertState.FIRING, at(10), 1, at(10),
                null, 0);
        // As a previous run left them: one with its last value at 20 s, one from format 2 (no last seen: 10 s).
        topology.alertStore().put(AlertRecord.key("a", "cpu-high", null), new AlertRecord("fa", "cpu-high", "a", null,
                Severity.WARNING, "default", Map.of(), firingSince10, at(20), false));
        topology.alertStore().put(AlertRecord.key("b", "cpu-high", null), new AlertRecord("fb", "cpu-high", "b", null,
                Severity.WARNING, "default", Map.of(), firingSince10));

        topology.sendCheck("c", CheckStatus.OK, at(75));

        List<AlertEvent> alerts = topology.readAlerts();
        assertEquals(List.of("fb"), alerts.stream().map(AlertEvent::getFingerprint).toList(), "b stale at 70 s");
        assertEquals(at(70), alerts.get(0).getEndsAt());
        topology.sendCheck("c", CheckStatus.OK, at(80));
        assertEquals(List.of("fa"), topology.readAlerts().stream().map(AlertEvent::getFingerprint).toList());
    }
}
