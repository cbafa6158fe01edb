package io.fleetpulse.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.Severity;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The per-(rule, target) lifecycle on its own, fed values at explicit event times. */
class AlertStateMachineTest {

    private static final Instant T0 = Instant.parse("2024-05-01T10:00:00Z");

    /** cpu > 90 for 20 s fires; cpu < 75 for 20 s resolves. */
    private final ThresholdRule cpuHigh = new ThresholdRule("cpu-high", Signal.CPU_PERCENT,
            new Condition(Comparison.GT, 90), Duration.ofSeconds(20), new Condition(Comparison.LT, 75),
            Duration.ofSeconds(20), Severity.WARNING, "{target} cpu {value}", Map.of());

    private final AlertStateMachine machine = new AlertStateMachine(cpuHigh);

    @Test
    void shouldStayInactiveWhileTheConditionDoesNotHold() {
        assertTrue(observe(90, 0).isEmpty(), "90 is not > 90");
        assertTrue(observe(50, 30).isEmpty());
        assertEquals(AlertState.INACTIVE, machine.state());
    }

    @Test
    void shouldGoPendingThenFireOnceTheConditionHeldForItsDuration() {
        assertTrue(observe(95, 0).isEmpty());
        assertEquals(AlertState.PENDING, machine.state());
        assertTrue(observe(99, 10).isEmpty());
        assertTrue(observe(91, 19).isEmpty());

        AlertStateMachine.Transition firing = observe(96, 20).orElseThrow();

        assertEquals(AlertState.FIRING, firing.state());
        assertEquals(96, firing.value());
        assertEquals(cpuHigh.fire(), firing.condition());
        assertEquals(T0.plusSeconds(20), firing.startsAt());
        assertNull(firing.endsAt());
        assertEquals(4, firing.observations());
        assertEquals(AlertState.FIRING, machine.state());
    }

    @Test
    void shouldEndPendingQuietlyWhenTheConditionBreaks() {
        observe(95, 0);
        assertTrue(observe(80, 10).isEmpty());
        assertEquals(AlertState.INACTIVE, machine.state());
        observe(95, 15);
        assertTrue(observe(95, 30).isEmpty(), "the 20 s are counted from 15 s, not from 0 s");
        assertEquals(AlertState.FIRING, observe(95, 35).orElseThrow().state());
    }

    @Test
    void shouldFireAtOnceWhenForIsZero() {
        ThresholdRule instant = new ThresholdRule("disk", Signal.DISK_PERCENT, new Condition(Comparison.GE, 90),
                Duration.ZERO, new Condition(Comparison.LT, 90), Duration.ZERO, Severity.CRITICAL, "x", Map.of());
        AlertStateMachine disk = new AlertStateMachine(instant);

        assertEquals(AlertState.FIRING, disk.observe(90, T0, 1).orElseThrow().state());
        assertEquals(AlertState.RESOLVED, disk.observe(89.9, T0.plusSeconds(5), 1).orElseThrow().state());
    }

    @Test
    void shouldResolveAfterTheRecoveryDuration() {
        fire();
        assertTrue(observe(70, 30).isEmpty());
        assertTrue(observe(60, 45).isEmpty());

        AlertStateMachine.Transition resolved = observe(74, 50).orElseThrow();

        assertEquals(AlertState.RESOLVED, resolved.state());
        assertEquals(cpuHigh.recovery(), resolved.condition());
        assertEquals(T0.plusSeconds(20), resolved.startsAt());
        assertEquals(T0.plusSeconds(50), resolved.endsAt());
        assertEquals(3, resolved.observations());
        assertEquals(AlertState.RESOLVED, machine.state());
    }

    @Test
    void shouldNotResolveOnValuesInTheHysteresisBand() {
        fire();
        for (int s = 25; s <= 300; s += 5) {
            assertTrue(observe(80, s).isEmpty(), "80 is neither > 90 nor < 75");
        }
        assertEquals(AlertState.FIRING, machine.state());
    }

    @Test
    void shouldRestartTheRecoveryClockWhenAValueLeavesTheRecoveryCondition() {
        fire();
        observe(70, 30);
        observe(75, 45); // 75 is not < 75
        assertTrue(observe(70, 50).isEmpty());
        assertTrue(observe(70, 69).isEmpty(), "only 19 s since the clock restarted at 50 s");
        assertEquals(AlertState.RESOLVED, observe(70, 70).orElseThrow().state());
    }

    @Test
    void shouldGoInactiveAfterResolvingAndFireAgainLater() {
        fire();
        observe(70, 30);
        observe(70, 50);
        assertEquals(AlertState.RESOLVED, machine.state());

        assertTrue(observe(50, 60).isEmpty());
        assertEquals(AlertState.INACTIVE, machine.state());
        observe(95, 100);
        AlertStateMachine.Transition again = observe(95, 120).orElseThrow();
        assertEquals(AlertState.FIRING, again.state());
        assertEquals(T0.plusSeconds(120), again.startsAt());
    }

    @Test
    void shouldResumeFromASnapshot() {
        observe(95, 0);
        observe(95, 10);
        AlertStateMachine restored = new AlertStateMachine(cpuHigh, machine.snapshot());

        AlertStateMachine.Transition firing = restored.observe(95, T0.plusSeconds(20), 1).orElseThrow();

        assertEquals(AlertState.FIRING, firing.state());
        assertEquals(3, firing.observations());
    }

    @Test
    void shouldKeepItsSnapshotAndFiredIdentityThroughTheStoreSerde() {
        fire();
        observe(70, 30);
        AlertRecord stored = new AlertRecord("abc123", "cpu-high", "web|1", null, Severity.WARNING, "edge",
                Map.of("team", "infra", "zone", "a"), machine.snapshot());

        byte[] bytes = AlertRecord.SERDE.serializer().serialize("t", stored);

        assertEquals(AlertRecord.FORMAT, bytes[0]);
        assertEquals(stored, AlertRecord.SERDE.deserializer().deserialize("t", bytes));
        AlertRecord inactive = AlertRecord.unfired("target-down", "web-1", "db", AlertStateMachine.Snapshot.INACTIVE);
        assertEquals(inactive, AlertRecord.SERDE.deserializer().deserialize("t",
                AlertRecord.SERDE.serializer().serialize("t", inactive)));
    }

    @Test
    void shouldKeepWhenItLastSawAValueAndWhetherItFiresAsNoDataThroughTheSerde() {
        fire();
        AlertRecord noData = new AlertRecord("abc123", "cpu-high", "web-1", null, Severity.WARNING, "edge", Map.of(),
                machine.snapshot(), T0.plusSeconds(40), true);

        AlertRecord read = AlertRecord.SERDE.deserializer().deserialize("t", AlertRecord.SERDE.serializer().serialize("t", noData));

        assertEquals(noData, read);
        assertEquals(T0.plusSeconds(40), read.lastValueAt());
    }

    @Test
    void shouldReadAFormat2RecordWithoutLastSeenAsStaleFromTheMachinesLatestInstant() {
        fire(); // FIRING since 20 s
        AlertRecord stored = new AlertRecord("abc123", "cpu-high", "web-1", null, Severity.WARNING, "edge", Map.of(),
                machine.snapshot());
        byte[] format3 = AlertRecord.SERDE.serializer().serialize("t", stored);
        // Format 2 is format 3 without the two trailing fields (last seen absent: 1 byte; no data: 1 byte).
        byte[] format2 = java.util.Arrays.copyOf(format3, format3.length - 2);
        format2[0] = AlertRecord.FORMAT_2;

        AlertRecord read = AlertRecord.SERDE.deserializer().deserialize("t", format2);

        assertEquals(stored, read);
        assertNull(read.lastSeen());
        assertEquals(machine.snapshot().startsAt(), read.lastValueAt());
    }

    @Test
    void shouldReadAFormat1RecordAsLegacyWithItsFingerprintAndMachine() {
        fire();
        byte[] format1 = LegacyAlertState.format1("abc123", machine.snapshot());

        AlertRecord read = AlertRecord.SERDE.deserializer().deserialize("t", format1);

        assertTrue(read.legacy(), "format 1 kept no identity: the engine migrates it under its old key");
        assertEquals("abc123", read.fingerprint());
        assertEquals(machine.snapshot(), read.machine());
    }

    @Test
    void shouldKeyTargetFirstWithEscapingSoOneTargetsPrefixNeverMatchesAnother() {
        assertEquals("web-1|target-down|db", AlertRecord.key("web-1", "target-down", "db"));
        assertEquals("web-1|cpu-high|", AlertRecord.key("web-1", "cpu-high", null));
        assertTrue(AlertRecord.key("web-1", "cpu-high", null).startsWith(AlertRecord.targetPrefix("web-1")));
        // Without escaping, target "a|b" would sit under the prefix of target "a".
        assertFalse(AlertRecord.key("a|b", "r", "c").startsWith(AlertRecord.targetPrefix("a")));
        assertEquals("a%7Cb|r|x%25y%7Cz", AlertRecord.key("a|b", "r", "x%y|z"));
    }

    @Test
    void shouldFireOnMOfNWhereForWouldRestartOnEveryGoodValue() {
        // 3 of the last 5 values over 90 fire; a good value in between does not start over.
        ThresholdRule flappy = cpuOverNinety(new ThresholdRule.MOfN(3, 5));
        AlertStateMachine m = new AlertStateMachine(flappy);

        assertTrue(m.observe(95, T0, 1).isEmpty());
        assertEquals(AlertState.PENDING, m.state());
        assertTrue(m.observe(50, T0.plusSeconds(5), 1).isEmpty());
        assertTrue(m.observe(95, T0.plusSeconds(10), 1).isEmpty());
        assertTrue(m.observe(50, T0.plusSeconds(15), 1).isEmpty());
        assertEquals(AlertState.PENDING, m.state(), "2 of the last 4");
        AlertStateMachine restored = new AlertStateMachine(flappy, m.snapshot()); // the history survives the store

        AlertStateMachine.Transition firing = restored.observe(95, T0.plusSeconds(20), 1).orElseThrow();

        assertEquals(AlertState.FIRING, firing.state());
        assertEquals(3, firing.observations(), "the values that met the condition");
        assertEquals(T0.plusSeconds(20), firing.startsAt());
        assertEquals(AlertState.RESOLVED, restored.observe(70, T0.plusSeconds(25), 1).orElseThrow().state());
    }

    @Test
    void shouldForgetMOfNHitsThatFellOutOfTheLastN() {
        AlertStateMachine m = new AlertStateMachine(cpuOverNinety(new ThresholdRule.MOfN(2, 3)));

        m.observe(95, T0, 1);
        m.observe(50, T0.plusSeconds(5), 1);
        m.observe(50, T0.plusSeconds(10), 1);
        assertEquals(AlertState.PENDING, m.state(), "the hit at 0 s is still one of the last 3");
        m.observe(50, T0.plusSeconds(12), 1);
        assertEquals(AlertState.INACTIVE, m.state(), "none of the last 3");
        assertTrue(m.observe(95, T0.plusSeconds(15), 1).isEmpty(), "1 of the last 3: the hit at 0 s fell out");
        assertEquals(AlertState.FIRING, m.observe(95, T0.plusSeconds(20), 1).orElseThrow().state());
    }

    @Test
    void shouldIgnoreValuesStandingOnFewerObservationsThanMinSamples() {
        ThresholdRule errors = new ThresholdRule("errors", Signal.ERROR_RATE_1M, null, new Condition(Comparison.GT, 0.5),
                Duration.ZERO, null, 5, new Condition(Comparison.LE, 0.5), Duration.ZERO, Severity.WARNING, List.of(),
                "{target}",
                Map.of(), null, null);
        AlertStateMachine m = new AlertStateMachine(errors);

        assertTrue(m.observe(1.0, T0, 4).isEmpty(), "4 checks are too few to judge");
        assertEquals(AlertState.INACTIVE, m.state());
        assertEquals(AlertState.FIRING, m.observe(0.6, T0.plusSeconds(60), 5).orElseThrow().state());
        assertTrue(m.observe(0.0, T0.plusSeconds(120), 1).isEmpty(), "a thin window does not resolve it either");
        assertEquals(AlertState.FIRING, m.state());
    }

    /** cpu > 90 fires on M of N; cpu < 75 resolves at once. */
    private static ThresholdRule cpuOverNinety(ThresholdRule.MOfN mOfN) {
        return new ThresholdRule("cpu", Signal.CPU_PERCENT, null, new Condition(Comparison.GT, 90), Duration.ZERO, mOfN,
                1, new Condition(Comparison.LT, 75), Duration.ZERO, Severity.WARNING, List.of(), "{target}", Map.of(),
                null, null);
    }

    private void fire() {
        observe(95, 0);
        assertEquals(AlertState.FIRING, observe(95, 20).orElseThrow().state());
    }

    private Optional<AlertStateMachine.Transition> observe(double value, int seconds) {
        return machine.observe(value, T0.plusSeconds(seconds), 1);
    }
}
