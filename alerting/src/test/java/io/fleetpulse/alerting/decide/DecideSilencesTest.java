package io.fleetpulse.alerting.decide;

import static io.fleetpulse.alerting.decide.DecideTopologyTest.firing;
import static io.fleetpulse.alerting.decide.DecideTopologyTest.resolved;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.alerting.route.Matcher;
import io.fleetpulse.alerting.route.RoutingTree;
import io.fleetpulse.alerting.silence.SilenceRule;
import io.fleetpulse.alerting.silence.WeeklyWindows;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.events.OutboxRecord;
import io.fleetpulse.events.Severity;
import io.fleetpulse.events.Silence;
import io.fleetpulse.schemas.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
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

    private TopologyTestDriver driver;
    private TestInputTopic<String, AlertEvent> alerts;
    private TestInputTopic<String, Silence> silences;
    private TestOutputTopic<String, OutboxRecord> outbox;
    private TestOutputTopic<String, NotificationRecord> audit;
    private Instant now;

    private void start(Instant wallClock) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "decide-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        RoutingTree routing = RoutingTree.parse(ROUTING, "routing.yaml",
                Map.of("SLACK", "https://hooks.slack.com/services/x")::get);
        driver = new TopologyTestDriver(DecideTopology.build(routing, Duration.ofSeconds(1), "team-a"), props,
                wallClock);
        alerts = driver.createInputTopic(Topics.ALERTS.name(), Serdes.String().serializer(),
                Topics.ALERTS.valueSerde().serializer());
        silences = driver.createInputTopic(Topics.SILENCES.name(), Serdes.String().serializer(),
                Topics.SILENCES.valueSerde().serializer());
        outbox = driver.createOutputTopic(Topics.OUTBOX.name(), Serdes.String().deserializer(),
                Topics.OUTBOX.valueSerde().deserializer());
        audit = driver.createOutputTopic(Topics.NOTIFICATIONS.name(), Serdes.String().deserializer(),
                Topics.NOTIFICATIONS.valueSerde().deserializer());
        now = wallClock;
    }

    @AfterEach
    void close() {
        if (driver != null) {
            driver.close();
        }
    }

    @Test
    void shouldNotNotifyASilencedAlert() {
        start(T0);
        silence(oneOff("s-web-1", "target=\"web-1\"", T0, T0.plus(Duration.ofHours(2))));
        send(firing("cpu-1", "web-1", Severity.CRITICAL, T0));
        send(firing("cpu-2", "web-2", Severity.CRITICAL, T0));

        advanceTo(T0.plusSeconds(10));

        assertEquals(Map.of("cpu-2", "FIRING"), notified(), "web-1 is silenced, web-2 is not");
        advanceTo(T0.plus(Duration.ofMinutes(90)));
        assertTrue(outbox.isEmpty(), "not later either while the silence lasts");
    }

    @Test
    void shouldSendResolveForAnAlertSilencedAfterItsTriggerWasSent() {
        start(T0);
        AlertEvent cpu = firing("cpu-1", "web-1", Severity.CRITICAL, T0);
        send(cpu);
        advanceTo(T0.plusSeconds(10));
        assertEquals(Map.of("cpu-1", "FIRING"), notified());

        silence(oneOff("s-late", "target=\"web-1\"", now, now.plus(Duration.ofHours(2))));
        advanceTo(T0.plus(Duration.ofHours(1)));
        assertTrue(outbox.isEmpty(), "silenced: nothing more about it");
        send(resolved(cpu, now));
        advanceTo(now.plusSeconds(1));

        assertEquals(Map.of("cpu-1", "RESOLVED"), notified(),
                "its trigger was sent, so its resolve goes out although it is silenced");
    }

    @Test
    void shouldSendNothingForAnAlertThatFiredAndResolvedInsideASilence() {
        start(T0);
        silence(oneOff("s-web-1", "target=\"web-1\"", T0, T0.plus(Duration.ofHours(2))));
        AlertEvent cpu = firing("cpu-1", "web-1", Severity.CRITICAL, T0);
        send(cpu);
        advanceTo(T0.plus(Duration.ofMinutes(30)));
        send(resolved(cpu, now));

        advanceTo(T0.plus(Duration.ofHours(3)));

        assertTrue(outbox.isEmpty(), "nobody heard it fire, so nobody hears it resolve");
    }

    @Test
    void shouldNotifyWhenTheSilenceExpiresWhileStillFiring() {
        start(T0);
        SilenceRule silence = oneOff("s-web-1", "target=\"web-1\"", T0, T0.plus(Duration.ofHours(2)));
        silence(silence);
        send(firing("cpu-1", "web-1", Severity.CRITICAL, T0));
        advanceTo(T0.plus(Duration.ofMinutes(20)));
        assertTrue(outbox.isEmpty());

        silence(silence.expiredAt(now)); // DELETE /v1/silences/s-web-1
        advanceTo(now.plusSeconds(1));
        assertTrue(outbox.isEmpty(), "released: the never-notified group waits group_wait as for a new alert");
        advanceTo(T0.plus(Duration.ofMinutes(20)).plusSeconds(11));

        assertEquals(Map.of("cpu-1", "FIRING"), notified());
    }

    @Test
    void shouldNotifyWhenASilenceEndsByItselfWhileStillFiring() {
        start(T0);
        silence(oneOff("s-web-1", "target=\"web-1\"", T0, T0.plus(Duration.ofMinutes(30))));
        send(firing("cpu-1", "web-1", Severity.CRITICAL, T0));
        advanceTo(T0.plus(Duration.ofMinutes(30)).minusMillis(1));
        assertTrue(outbox.isEmpty());

        advanceTo(T0.plus(Duration.ofMinutes(30))); // the first tick at or after its end releases it
        assertTrue(outbox.isEmpty());
        advanceTo(T0.plus(Duration.ofMinutes(30)).plusSeconds(10));

        assertEquals(Map.of("cpu-1", "FIRING"), notified(), "ended at 30 min, notified group_wait later");
    }

    @Test
    void shouldHoldAlertsBackOnlyInsideAMaintenanceWindowCrossingMidnightOnTheNightTheClocksGoForward() {
        // Sat 2026-03-28 22:00 CET (21:00Z) to Sun 04:00 CEST (02:00Z): the clocks go forward at 02:00 in between
        Instant saturdayEvening = Instant.parse("2026-03-28T20:59:00Z");
        start(saturdayEvening);
        silence(new SilenceRule("w-db", List.of(Matcher.parse("target=~\"db-.*\"")), saturdayEvening, null,
                WeeklyWindows.parse("Sat 22:00-Sun 04:00", "Europe/Berlin"), "ops", "weekly patching", saturdayEvening));

        send(firing("before", "db-1", Severity.CRITICAL, saturdayEvening));
        advanceTo(saturdayEvening.plusSeconds(10));
        assertEquals(Map.of("before", "FIRING"), notified(), "21:59 Berlin: the window has not begun");

        advanceTo(Instant.parse("2026-03-28T23:00:00Z")); // 00:00 Sunday Berlin, across midnight
        send(firing("midnight", "db-2", Severity.CRITICAL, now));
        advanceTo(Instant.parse("2026-03-29T01:59:00Z")); // 03:59 CEST
        assertTrue(outbox.isEmpty(), "inside the window, across midnight and the DST jump");

        advanceTo(Instant.parse("2026-03-29T02:00:00Z")); // 04:00 CEST: the window ends
        advanceTo(Instant.parse("2026-03-29T02:00:10Z"));
        assertEquals("FIRING", notified().get("midnight"),
                "04:00 CEST ends it (02:00Z), an hour before a fixed +01:00 offset would (03:00Z)");
    }

    @Test
    void shouldAuditSilencedAndInhibitedAndGrouped() {
        start(T0);
        silence(oneOff("s-web-1", "target=\"web-1\"", T0, T0.plus(Duration.ofHours(2))));
        send(firing("cpu-1", "web-1", Severity.CRITICAL, T0));
        send(AlertEvent.newBuilder(firing("down-2", "web-2", Severity.CRITICAL, T0)).setRuleId("target-down").build());
        send(firing("cpu-2", "web-2", Severity.CRITICAL, T0));
        send(firing("cpu-3", "web-3", Severity.WARNING, T0));

        Map<String, NotificationRecord> byFingerprint = new TreeMap<>();
        audit.readRecordsToList().forEach(r -> byFingerprint.put(r.key(), r.value()));

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

    private void silence(SilenceRule rule) {
        silences.pipeInput(new TestRecord<>(rule.id(), rule.toAvro(), now));
    }

    private void send(AlertEvent event) {
        alerts.pipeInput(new TestRecord<>(event.getFingerprint(), event, event.getOccurredAt()));
    }

    private void advanceTo(Instant wallClock) {
        driver.advanceWallClockTime(Duration.between(now, wallClock));
        now = wallClock;
    }

    /** Every alert in the notifications written since the last call, by fingerprint, with its state. */
    private Map<String, String> notified() {
        Map<String, String> states = new TreeMap<>();
        for (OutboxRecord notification : outbox.readValuesToList()) {
            for (AlertEvent alert : notification.getAlerts()) {
                states.put(alert.getFingerprint(), alert.getState().name());
            }
        }
        return states;
    }
}
