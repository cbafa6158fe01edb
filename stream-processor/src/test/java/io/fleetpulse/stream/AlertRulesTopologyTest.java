package io.fleetpulse.stream;

import static io.fleetpulse.stream.TopologyHarness.T0;
import static io.fleetpulse.stream.TopologyHarness.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.Evidence;
import io.fleetpulse.events.Severity;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KeyValue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bundled rules driving alerts through the topology, on event time. */
class AlertRulesTopologyTest {

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
    void shouldFireAfterForDuration() {
        topology.sendCheck("a", CheckStatus.CRITICAL, at(0));
        topology.sendCheck("a", CheckStatus.OK, at(5)); // a blip: PENDING ends quietly
        for (int s = 10; s < 25; s += 5) {
            topology.sendCheck("a", CheckStatus.CRITICAL, at(s));
        }
        assertTrue(topology.alerts.isEmpty(), "failing for 10 s is not failing for 15 s");

        topology.sendCheck("a", CheckStatus.UNREACHABLE, null, at(25));

        List<KeyValue<String, AlertEvent>> alerts = topology.alerts.readKeyValuesToList();
        assertEquals(1, alerts.size());
        AlertEvent firing = alerts.get(0).value;
        assertEquals(Fingerprint.of("target-down", "a", Map.of("check", "http")), alerts.get(0).key, "keyed by fingerprint");
        assertEquals(Fingerprint.of("target-down", "a", Map.of("check", "http")), firing.getFingerprint());
        assertEquals("target-down", firing.getRuleId());
        assertEquals("a", firing.getTargetId());
        assertEquals(AlertState.FIRING, firing.getState());
        assertEquals(Severity.CRITICAL, firing.getSeverity());
        assertEquals("a is failing its http check", firing.getSummary());
        assertEquals(Map.of("check", "http"), firing.getLabels(), "a check signal's alert names its check");
        assertEquals("default", firing.getGroup(), "a target missing from the inventory is in the default group");
        assertEquals(at(25), firing.getStartsAt());
        assertEquals(at(25), firing.getOccurredAt());
        assertNull(firing.getEndsAt());
        Evidence evidence = firing.getEvidence();
        assertEquals("check_failed", evidence.getSignal());
        assertEquals(1.0, evidence.getValue());
        assertEquals(">=", evidence.getOperator());
        assertEquals(1.0, evidence.getThreshold());
        assertEquals(4, evidence.getSamples(), "the checks at 10, 15, 20 and 25 s");
        assertNull(evidence.getWindowStart());

        topology.sendCheck("a", CheckStatus.CRITICAL, at(30));
        assertTrue(topology.alerts.isEmpty(), "a firing alert is announced once");
    }

    @Test
    void shouldResolveAfterRecoveryDuration() {
        fireTargetDown();
        topology.sendCheck("a", CheckStatus.OK, at(20));
        topology.sendCheck("a", CheckStatus.WARN, at(25));
        topology.sendCheck("a", CheckStatus.OK, at(30));
        assertTrue(topology.alerts.isEmpty(), "healthy for 10 s is not healthy for 15 s");

        topology.sendCheck("a", CheckStatus.OK, at(35));

        List<KeyValue<String, AlertEvent>> alerts = topology.alerts.readKeyValuesToList();
        assertEquals(1, alerts.size());
        AlertEvent resolved = alerts.get(0).value;
        assertEquals(Fingerprint.of("target-down", "a", Map.of("check", "http")), alerts.get(0).key, "the resolve has the key of the firing");
        assertEquals(AlertState.RESOLVED, resolved.getState());
        assertEquals(at(15), resolved.getStartsAt());
        assertEquals(at(35), resolved.getEndsAt());
        assertEquals(at(35), resolved.getOccurredAt());
        assertEquals("<", resolved.getEvidence().getOperator());
        assertEquals(0.0, resolved.getEvidence().getValue());
        assertEquals(4, resolved.getEvidence().getSamples());
        assertEquals(1, topology.settings.counters().alertsFired());
        assertEquals(1, topology.settings.counters().alertsResolved());
    }

    @Test
    void shouldNotResolveWithinHysteresisBand() {
        // cpu-high: fire on > 90 for 20 s, recover on < 75 for 20 s.
        for (int s = 0; s <= 20; s += 5) {
            topology.sendCpu("a", 95, at(s));
        }
        assertEquals(List.of(AlertState.FIRING), states(topology.readAlerts()));

        for (int s = 25; s <= 90; s += 5) {
            topology.sendCpu("a", 80, at(s)); // under the firing line, above the recovery line
        }
        topology.sendCpu("a", 70, at(95));
        topology.sendCpu("a", 70, at(100));
        topology.sendCpu("a", 80, at(105)); // back in the band: the recovery clock starts over
        topology.sendCpu("a", 70, at(110));
        topology.sendCpu("a", 70, at(115));
        topology.sendCpu("a", 70, at(125));
        assertTrue(topology.alerts.isEmpty(), "never 20 s in a row under 75");

        topology.sendCpu("a", 74.5, at(130));
        List<AlertEvent> alerts = topology.readAlerts();
        assertEquals(List.of(AlertState.RESOLVED), states(alerts));
        assertEquals("cpu-high", alerts.get(0).getRuleId());
        assertEquals(at(130), alerts.get(0).getEndsAt());
        assertEquals(74.5, alerts.get(0).getEvidence().getValue());
        assertEquals(75.0, alerts.get(0).getEvidence().getThreshold());
    }

    @Test
    void shouldFireOnWindowErrorRate() {
        // 4 of 6 checks fail, never 15 s in a row: high-error-rate fires, target-down does not.
        CheckStatus[] statuses = {CheckStatus.CRITICAL, CheckStatus.CRITICAL, CheckStatus.OK,
                CheckStatus.TIMEOUT, CheckStatus.OK, CheckStatus.ERROR};
        for (int i = 0; i < statuses.length; i++) {
            topology.sendCheck("a", statuses[i], at(i * 10));
        }
        topology.sendCheck("a", CheckStatus.OK, at(70)); // closes [0, 60)

        List<AlertEvent> alerts = topology.readAlerts();
        assertEquals(1, alerts.size());
        AlertEvent firing = alerts.get(0);
        assertEquals("high-error-rate", firing.getRuleId());
        assertEquals(AlertState.FIRING, firing.getState());
        assertEquals(Severity.WARNING, firing.getSeverity());
        assertEquals(at(60), firing.getStartsAt(), "a window signal happens at the window's end");
        assertEquals("a failed 0.6667 of its checks over the last minute (threshold 0.5)", firing.getSummary());
        Evidence evidence = firing.getEvidence();
        assertEquals("error_rate_1m", evidence.getSignal());
        assertEquals(4.0 / 6, evidence.getValue(), 1e-12);
        assertEquals(">", evidence.getOperator());
        assertEquals(0.5, evidence.getThreshold());
        assertEquals(T0, evidence.getWindowStart());
        assertEquals(at(60), evidence.getWindowEnd());
        assertEquals(6, evidence.getSamples(), "the window's checks");

        for (int s = 80; s <= 130; s += 10) {
            topology.sendCheck("a", CheckStatus.OK, at(s)); // [60, 120) clean, closed by the check at 130
        }
        List<AlertEvent> after = topology.readAlerts();
        assertEquals(List.of(AlertState.RESOLVED), states(after));
        assertEquals(at(120), after.get(0).getEndsAt());
        assertEquals(firing.getFingerprint(), after.get(0).getFingerprint());
    }

    private void fireTargetDown() {
        for (int s = 0; s <= 15; s += 5) {
            topology.sendCheck("a", CheckStatus.CRITICAL, at(s));
        }
        assertEquals(List.of(AlertState.FIRING), states(topology.readAlerts()));
    }

    private static List<AlertState> states(List<AlertEvent> alerts) {
        return alerts.stream().map(AlertEvent::getState).toList();
    }
}
