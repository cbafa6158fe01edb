package io.fleetpulse.alerting.decide;

import static io.fleetpulse.alerting.decide.DecideTopologyTest.firing;
import static io.fleetpulse.alerting.decide.DecideTopologyTest.resolved;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.Severity;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Specifications of inhibition at decide time (Alertmanager's inhibit_rules): a target's target-down alert mutes its
 * other alerts, only those with the same {@code equal} labels, only while it fires; and the resolve guarantee.
 */
class DecideInhibitionTest {

    private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
    private static final String ROUTING = """
            receivers:
              - {name: team-slack, kind: slack, url_env: SLACK}
            route:
              receiver: team-slack
              group_by: [rule, target]
              group_wait: 10s
              group_interval: 1m
              repeat_interval: 4h
            inhibit_rules:
              - source_matchers: ['rule="target-down"']
                target_matchers: ['rule!="target-down"']
                equal: [target]
            """;

    private DecideDriver decide;

    @BeforeEach
    void start() {
        start(ROUTING);
    }

    private void start(String routingFile) {
        if (decide != null) {
            decide.close();
        }
        decide = new DecideDriver(routingFile, T0);
    }

    @AfterEach
    void close() {
        decide.close();
    }

    @Test
    void shouldMuteTheOtherAlertsOfATargetWhoseTargetDownFires() {
        decide.send(down("down-1", "web-1", T0));
        decide.send(firing("cpu-1", "web-1", Severity.CRITICAL, T0));
        decide.send(firing("cpu-2", "web-2", Severity.CRITICAL, T0));

        decide.advanceTo(T0.plusSeconds(10));

        assertEquals(Map.of("down-1", "FIRING", "cpu-2", "FIRING"), decide.notified(),
                "web-1's CPU alert is inhibited by web-1 being down; web-2 (other `equal` value) is not");
        decide.advanceTo(T0.plus(Duration.ofHours(1)));
        assertTrue(decide.nothingNotified(), "a muted alert is not notified later while its source fires");
    }

    @Test
    void shouldNotifyAMutedAlertOnceItsSourceResolves() {
        AlertEvent down = down("down-1", "web-1", T0);
        decide.send(down);
        decide.send(firing("cpu-1", "web-1", Severity.CRITICAL, T0.plusSeconds(1)));
        decide.advanceTo(T0.plusSeconds(11));
        assertEquals(Map.of("down-1", "FIRING"), decide.notified());

        decide.send(resolved(down, T0.plusSeconds(20)));
        decide.advanceTo(T0.plusSeconds(30));

        assertEquals(Map.of("cpu-1", "FIRING"), decide.notified(),
                "unmuted at 20 s: its group, never notified yet, tells it at most group_wait (10 s) later");
        decide.advanceTo(T0.plusSeconds(11 + 60));
        assertEquals(Map.of("down-1", "RESOLVED"), decide.notified(), "the source's own group: group_interval after 11 s");
    }

    @Test
    void shouldAlwaysResolveAnAlertWhoseFiringWasNotifiedEvenIfInhibitedInBetween() {
        AlertEvent cpu = firing("cpu-1", "web-1", Severity.CRITICAL, T0);
        decide.send(cpu);
        decide.advanceTo(T0.plusSeconds(10));
        assertEquals(Map.of("cpu-1", "FIRING"), decide.notified());

        decide.send(down("down-1", "web-1", T0.plusSeconds(20)));
        decide.send(resolved(cpu, T0.plusSeconds(25)));
        decide.advanceTo(T0.plusSeconds(30));
        assertEquals(Map.of("down-1", "FIRING"), decide.notified());
        decide.advanceTo(T0.plusSeconds(10 + 60));

        assertEquals(Map.of("cpu-1", "RESOLVED"), decide.notified(),
                "its trigger was sent: the resolve goes out although web-1 is down");
    }

    @Test
    void shouldKeepANotifiedAlertOutOfLaterNotificationsWhileMutedAndResolveIt() {
        AlertEvent cpu = firing("cpu-1", "web-1", Severity.CRITICAL, T0);
        decide.send(cpu);
        decide.advanceTo(T0.plusSeconds(10));
        decide.notified();
        AlertEvent down = down("down-1", "web-1", T0.plusSeconds(20));
        decide.send(down);
        decide.advanceTo(T0.plusSeconds(30));
        assertEquals(Map.of("down-1", "FIRING"), decide.notified());

        decide.advanceTo(T0.plus(Duration.ofHours(4)).plusSeconds(30));
        assertEquals(Map.of("down-1", "FIRING"), decide.notified(), "repeat_interval repeats the source only");

        decide.send(resolved(cpu, T0.plus(Duration.ofHours(5))));
        decide.advanceTo(T0.plus(Duration.ofHours(5)).plusSeconds(1));
        assertEquals(Map.of("cpu-1", "RESOLVED"), decide.notified());
    }

    @Test
    void shouldNeverLetAnAlertInhibitItself() {
        start("""
                receivers:
                  - {name: team-slack, kind: slack, url_env: SLACK}
                route: {receiver: team-slack, group_by: [fingerprint], group_wait: 0s}
                inhibit_rules:
                  - {source_matchers: ['severity="critical"'], target_matchers: ['severity="critical"'], equal: [target]}
                """);

        decide.send(firing("cpu-1", "web-1", Severity.CRITICAL, T0));

        assertEquals(Map.of("cpu-1", "FIRING"), decide.notified());
    }

    private static AlertEvent down(String fingerprint, String target, Instant at) {
        return AlertEvent.newBuilder(firing(fingerprint, target, Severity.CRITICAL, at)).setRuleId("target-down")
                .setSummary("target unreachable").build();
    }
}
