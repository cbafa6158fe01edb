package io.fleetpulse.alerting.decide;

import static io.fleetpulse.alerting.decide.DecideTopologyTest.firing;
import static io.fleetpulse.alerting.decide.DecideTopologyTest.resolved;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.alerting.route.Matcher;
import io.fleetpulse.alerting.silence.SilenceRule;
import io.fleetpulse.alerting.silence.WeeklyWindows;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.events.Severity;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Specifications of silences and maintenance windows at decide time, judged on decide's wall clock (the driver's),
 * with the resolve guarantee and the decision audit on fleet.notifications.
 */
class DecideSilencesTest {

    private static final Instant T0 = Instant.parse("2026-12-02T10:00:00Z");
    private static final String ROUTING = """
            receivers:
              - {name: team-slack, kind: slack, url_env: SLACK}
            route:
              receiver: team-slack
              group_by: [target]
              group_wait: 10s
              group_interval: 1m
              repeat_interval: 4h
            inhibit_rules:
              - source_matchers: ['rule="target-down"']
                target_matchers: ['rule!="target-down"']
                equal: [target]
            """;

    private DecideDriver decide;

    private void start(Instant wallClock) {
        decide = new DecideDriver(ROUTING, wallClock);
    }

    @AfterEach
    void close() {
        if (decide != null) {
            decide.close();
        }
    }

    @Test
    void shouldNotNotifyASilencedAlert() {
        start(T0);
        decide.silence(oneOff("s-web-1", "target=\"web-1\"", T0, T0.plus(Duration.ofHours(2))));
        decide.send(firing("cpu-1", "web-1", Severity.CRITICAL, T0));
        decide.send(firing("cpu-2", "web-2", Severity.CRITICAL, T0));

        decide.advanceTo(T0.plusSeconds(10));

        assertEquals(Map.of("cpu-2", "FIRING"), decide.notified(), "web-1 is silenced, web-2 is not");
        decide.advanceTo(T0.plus(Duration.ofMinutes(90)));
        assertTrue(decide.nothingNotified(), "not later either while the silence lasts");
    }

    @Test
    void shouldSendResolveForAnAlertSilencedAfterItsTriggerWasSent() {
        start(T0);
        AlertEvent cpu = firing("cpu-1", "web-1", Severity.CRITICAL, T0);
        decide.send(cpu);
        decide.advanceTo(T0.plusSeconds(10));
        assertEquals(Map.of("cpu-1", "FIRING"), decide.notified());

        decide.silence(oneOff("s-late", "target=\"web-1\"", decide.now(), decide.now().plus(Duration.ofHours(2))));
        decide.advanceTo(T0.plus(Duration.ofHours(1)));
        assertTrue(decide.nothingNotified(), "silenced: nothing more about it");
        decide.send(resolved(cpu, decide.now()));
        decide.advanceTo(decide.now().plusSeconds(1));

        assertEquals(Map.of("cpu-1", "RESOLVED"), decide.notified(),
                "its trigger was sent, so its resolve goes out although it is silenced");
    }

    @Test
    void shouldSendNothingForAnAlertThatFiredAndResolvedInsideASilence() {
        start(T0);
        decide.silence(oneOff("s-web-1", "target=\"web-1\"", T0, T0.plus(Duration.ofHours(2))));
        AlertEvent cpu = firing("cpu-1", "web-1", Severity.CRITICAL, T0);
        decide.send(cpu);
        decide.advanceTo(T0.plus(Duration.ofMinutes(30)));
        decide.send(resolved(cpu, decide.now()));

        decide.advanceTo(T0.plus(Duration.ofHours(3)));

        assertTrue(decide.nothingNotified(), "nobody heard it fire, so nobody hears it resolve");
    }

    @Test
    void shouldNotifyWhenTheSilenceExpiresWhileStillFiring() {
        start(T0);
        SilenceRule silence = oneOff("s-web-1", "target=\"web-1\"", T0, T0.plus(Duration.ofHours(2)));
        decide.silence(silence);
        decide.send(firing("cpu-1", "web-1", Severity.CRITICAL, T0));
        decide.advanceTo(T0.plus(Duration.ofMinutes(20)));
        assertTrue(decide.nothingNotified());

        decide.silence(silence.expiredAt(decide.now())); // DELETE /v1/silences/s-web-1
        decide.advanceTo(decide.now().plusSeconds(1));
        assertTrue(decide.nothingNotified(), "released: the never-notified group waits group_wait as for a new alert");
        decide.advanceTo(T0.plus(Duration.ofMinutes(20)).plusSeconds(11));

        assertEquals(Map.of("cpu-1", "FIRING"), decide.notified());
    }

    @Test
    void shouldNotifyWhenASilenceEndsByItselfWhileStillFiring() {
        start(T0);
        decide.silence(oneOff("s-web-1", "target=\"web-1\"", T0, T0.plus(Duration.ofMinutes(30))));
        decide.send(firing("cpu-1", "web-1", Severity.CRITICAL, T0));
        decide.advanceTo(T0.plus(Duration.ofMinutes(30)).minusMillis(1));
        assertTrue(decide.nothingNotified());

        decide.advanceTo(T0.plus(Duration.ofMinutes(30))); // the first tick at or after its end releases it
        assertTrue(decide.nothingNotified());
        decide.advanceTo(T0.plus(Duration.ofMinutes(30)).plusSeconds(10));

        assertEquals(Map.of("cpu-1", "FIRING"), decide.notified(), "ended at 30 min, notified group_wait later");
    }

    @Test
    void shouldHoldAlertsBackOnlyInsideAMaintenanceWindowCrossingMidnightOnTheNightTheClocksGoForward() {
        // Sat 2026-03-28 22:00 CET (21:00Z) to Sun 04:00 CEST (02:00Z): the clocks go forward at 02:00 in between
        Instant saturdayEvening = Instant.parse("2026-03-28T20:59:00Z");
        start(saturdayEvening);
        decide.silence(new SilenceRule("w-db", List.of(Matcher.parse("target=~\"db-.*\"")), saturdayEvening, null,
                WeeklyWindows.parse("Sat 22:00-Sun 04:00", "Europe/Berlin"), "ops", "weekly patching", saturdayEvening));

        decide.send(firing("before", "db-1", Severity.CRITICAL, saturdayEvening));
        decide.advanceTo(saturdayEvening.plusSeconds(10));
        assertEquals(Map.of("before", "FIRING"), decide.notified(), "21:59 Berlin: the window has not begun");

        decide.advanceTo(Instant.parse("2026-03-28T23:00:00Z")); // 00:00 Sunday Berlin, across midnight
        decide.send(firing("midnight", "db-2", Severity.CRITICAL, decide.now()));
        decide.advanceTo(Instant.parse("2026-03-29T01:59:00Z")); // 03:59 CEST
        assertTrue(decide.nothingNotified(), "inside the window, across midnight and the DST jump");

        decide.advanceTo(Instant.parse("2026-03-29T02:00:00Z")); // 04:00 CEST: the window ends
        decide.advanceTo(Instant.parse("2026-03-29T02:00:10Z"));
        assertEquals("FIRING", decide.notified().get("midnight"),
                "04:00 CEST ends it (02:00Z), an hour before a fixed +01:00 offset would (03:00Z)");
    }

    @Test
    void shouldAuditSilencedAndInhibitedAndGrouped() {
        start(T0);
        decide.silence(oneOff("s-web-1", "target=\"web-1\"", T0, T0.plus(Duration.ofHours(2))));
        decide.send(firing("cpu-1", "web-1", Severity.CRITICAL, T0));
        decide.send(AlertEvent.newBuilder(firing("down-2", "web-2", Severity.CRITICAL, T0)).setRuleId("target-down").build());
        decide.send(firing("cpu-2", "web-2", Severity.CRITICAL, T0));
        decide.send(firing("cpu-3", "web-3", Severity.WARNING, T0));

        Map<String, NotificationRecord> byFingerprint = new TreeMap<>();
        decide.audited().forEach(r -> byFingerprint.put(r.key(), r.value()));

        assertEquals(Map.of("cpu-1", NotificationOutcome.SILENCED, "down-2", NotificationOutcome.GROUPED,
                        "cpu-2", NotificationOutcome.INHIBITED, "cpu-3", NotificationOutcome.GROUPED),
                new TreeMap<>(Map.of("cpu-1", byFingerprint.get("cpu-1").getOutcome(),
                        "down-2", byFingerprint.get("down-2").getOutcome(),
                        "cpu-2", byFingerprint.get("cpu-2").getOutcome(),
                        "cpu-3", byFingerprint.get("cpu-3").getOutcome())));
        NotificationRecord silenced = byFingerprint.get("cpu-1");
        assertTrue(silenced.getError().contains("s-web-1"), silenced.getError());
        assertEquals("team-slack", silenced.getReceiver());
        assertEquals("slack", silenced.getReceiverType());
        assertEquals(0, silenced.getAttempt());
        assertEquals("team-a", silenced.getDeployment());
        assertEquals(T0, silenced.getDecidedAt());
        String inhibited = byFingerprint.get("cpu-2").getError();
        assertTrue(inhibited.contains("target-down") && inhibited.contains("down-2"), inhibited);
        assertTrue(byFingerprint.get("cpu-3").getError().contains("team-slack|root{target=\"web-3\"}"),
                byFingerprint.get("cpu-3").getError());
    }

    private static SilenceRule oneOff(String id, String matcher, Instant startsAt, Instant endsAt) {
        return new SilenceRule(id, List.of(Matcher.parse(matcher)), startsAt, endsAt, null, "alice", "maintenance",
                startsAt);
    }
}
