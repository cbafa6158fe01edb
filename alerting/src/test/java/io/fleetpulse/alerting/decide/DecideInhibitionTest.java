package io.fleetpulse.alerting.decide;

import static io.fleetpulse.alerting.decide.DecideTopologyTest.firing;
import static io.fleetpulse.alerting.decide.DecideTopologyTest.resolved;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.alerting.route.RoutingTree;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.OutboxRecord;
import io.fleetpulse.events.Severity;
import io.fleetpulse.schemas.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
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

    private TopologyTestDriver driver;
    private TestInputTopic<String, AlertEvent> alerts;
    private TestOutputTopic<String, OutboxRecord> outbox;
    private Instant now = T0;

    @BeforeEach
    void start() {
        start(ROUTING);
    }

    private void start(String routingFile) {
        if (driver != null) {
            driver.close();
        }
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "decide-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        RoutingTree routing = RoutingTree.parse(routingFile, "routing.yaml",
                Map.of("SLACK", "https://hooks.slack.com/services/x")::get);
        driver = new TopologyTestDriver(DecideTopology.build(routing, Duration.ofSeconds(1), "team-a"), props, T0);
        alerts = driver.createInputTopic(Topics.ALERTS.name(), Serdes.String().serializer(),
                Topics.ALERTS.valueSerde().serializer());
        outbox = driver.createOutputTopic(Topics.OUTBOX.name(), Serdes.String().deserializer(),
                Topics.OUTBOX.valueSerde().deserializer());
        now = T0;
    }

    @AfterEach
    void close() {
        driver.close();
    }

    @Test
    void shouldMuteTheOtherAlertsOfATargetWhoseTargetDownFires() {
        send(down("down-1", "web-1", T0));
        send(firing("cpu-1", "web-1", Severity.CRITICAL, T0));
        send(firing("cpu-2", "web-2", Severity.CRITICAL, T0));

        advanceTo(T0.plusSeconds(10));

        assertEquals(Map.of("down-1", "FIRING", "cpu-2", "FIRING"), notified(),
                "web-1's CPU alert is inhibited by web-1 being down; web-2 (other `equal` value) is not");
        advanceTo(T0.plus(Duration.ofHours(1)));
        assertTrue(outbox.isEmpty(), "a muted alert is not notified later while its source fires");
    }

    @Test
    void shouldNotifyAMutedAlertOnceItsSourceResolves() {
        AlertEvent down = down("down-1", "web-1", T0);
        send(down);
        send(firing("cpu-1", "web-1", Severity.CRITICAL, T0.plusSeconds(1)));
        advanceTo(T0.plusSeconds(11));
        assertEquals(Map.of("down-1", "FIRING"), notified());

        send(resolved(down, T0.plusSeconds(20)));
        advanceTo(T0.plusSeconds(30));

        assertEquals(Map.of("cpu-1", "FIRING"), notified(),
                "unmuted at 20 s: its group, never notified yet, tells it at most group_wait (10 s) later");
        advanceTo(T0.plusSeconds(11 + 60));
        assertEquals(Map.of("down-1", "RESOLVED"), notified(), "the source's own group: group_interval after 11 s");
    }

    @Test
    void shouldAlwaysResolveAnAlertWhoseFiringWasNotifiedEvenIfInhibitedInBetween() {
        AlertEvent cpu = firing("cpu-1", "web-1", Severity.CRITICAL, T0);
        send(cpu);
        advanceTo(T0.plusSeconds(10));
        assertEquals(Map.of("cpu-1", "FIRING"), notified());

        send(down("down-1", "web-1", T0.plusSeconds(20)));
        send(resolved(cpu, T0.plusSeconds(25)));
        advanceTo(T0.plusSeconds(30));
        assertEquals(Map.of("down-1", "FIRING"), notified());
        advanceTo(T0.plusSeconds(10 + 60));

        assertEquals(Map.of("cpu-1", "RESOLVED"), notified(),
                "its trigger was sent: the resolve goes out although web-1 is down");
    }

    @Test
    void shouldKeepANotifiedAlertOutOfLaterNotificationsWhileMutedAndResolveIt() {
        AlertEvent cpu = firing("cpu-1", "web-1", Severity.CRITICAL, T0);
        send(cpu);
        advanceTo(T0.plusSeconds(10));
        notified();
        AlertEvent down = down("down-1", "web-1", T0.plusSeconds(20));
        send(down);
        advanceTo(T0.plusSeconds(30));
        assertEquals(Map.of("down-1", "FIRING"), notified());

        advanceTo(T0.plus(Duration.ofHours(4)).plusSeconds(30));
        assertEquals(Map.of("down-1", "FIRING"), notified(), "repeat_interval repeats the source only");

        send(resolved(cpu, T0.plus(Duration.ofHours(5))));
        advanceTo(T0.plus(Duration.ofHours(5)).plusSeconds(1));
        assertEquals(Map.of("cpu-1", "RESOLVED"), notified());
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

        send(firing("cpu-1", "web-1", Severity.CRITICAL, T0));

        assertEquals(Map.of("cpu-1", "FIRING"), notified());
    }

    private static AlertEvent down(String fingerprint, String target, Instant at) {
        return AlertEvent.newBuilder(firing(fingerprint, target, Severity.CRITICAL, at)).setRuleId("target-down")
                .setSummary("target unreachable").build();
    }

    /** Produces {@code event} to fleet.alerts, keyed and timed as the stream processor does. */
    private void send(AlertEvent event) {
        alerts.pipeInput(new org.apache.kafka.streams.test.TestRecord<>(event.getFingerprint(), event,
                event.getOccurredAt()));
    }

    /** Moves the wall clock (and so the flush punctuation) to {@code wallClock}. */
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
