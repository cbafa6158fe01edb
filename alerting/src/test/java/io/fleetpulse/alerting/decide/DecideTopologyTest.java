package io.fleetpulse.alerting.decide;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.alerting.route.RoutingTree;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.events.Evidence;
import io.fleetpulse.events.OutboxRecord;
import io.fleetpulse.events.Severity;
import io.fleetpulse.schemas.DeadLetters;
import io.fleetpulse.schemas.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Specifications of decide: grouping and its timers with Alertmanager's meanings, on a mock wall clock. */
class DecideTopologyTest {

    private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
    private static final Map<String, String> ENV = Map.of("SLACK", "https://hooks.slack.com/services/x",
            "PD", "routing-key");
    private static final String ROUTING = """
            receivers:
              - {name: team-slack, kind: slack, url_env: SLACK}
              - {name: oncall, kind: pagerduty, routing_key_env: PD}
            route:
              receiver: team-slack
              group_by: [target]
              group_wait: 30s
              group_interval: 5m
              repeat_interval: 4h
              routes:
                - {matchers: ['severity="critical"'], receiver: oncall, group_by: ['...'], group_wait: 0s, continue: true}
                - {matchers: ['severity=~"critical|warning"']}
            """;

    private TopologyTestDriver driver;
    private TestInputTopic<String, AlertEvent> alerts;
    private TestInputTopic<byte[], byte[]> rawAlerts;
    private TestOutputTopic<String, OutboxRecord> outbox;
    private TestOutputTopic<Bytes, DeadLetter> dlq;

    private void start(RoutingTree routing) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "decide-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        driver = new TopologyTestDriver(DecideTopology.build(routing, Duration.ofSeconds(1), "team-a"), props, T0);
        alerts = driver.createInputTopic(Topics.ALERTS.name(), Serdes.String().serializer(),
                Topics.ALERTS.valueSerde().serializer());
        rawAlerts = driver.createInputTopic(Topics.ALERTS.name(), Serdes.ByteArray().serializer(),
                Serdes.ByteArray().serializer());
        outbox = driver.createOutputTopic(Topics.OUTBOX.name(), Serdes.String().deserializer(),
                Topics.OUTBOX.valueSerde().deserializer());
        dlq = driver.createOutputTopic(Topics.DLQ.name(), Topics.DLQ.keySerde().deserializer(),
                Topics.DLQ.valueSerde().deserializer());
    }

    private void start() {
        start(RoutingTree.parse(ROUTING, "routing.yaml", ENV::get));
    }

    @AfterEach
    void close() {
        if (driver != null) {
            driver.close();
        }
    }

    @Test
    void shouldWaitGroupWaitAndThenNotifyTheGroupOnce() {
        start();
        send(firing("fp-1", "web-1", Severity.WARNING, T0));
        advanceTo(T0.plusSeconds(10));
        send(firing("fp-2", "web-1", Severity.WARNING, T0.plusSeconds(10)));
        advanceTo(T0.plusMillis(29_999));
        assertTrue(outbox.isEmpty(), "group_wait is 30 s from the group's first alert");

        advanceTo(T0.plusSeconds(30));

        TestRecord<String, OutboxRecord> notification = outbox.readRecord();
        assertEquals("team-slack|root.1{target=\"web-1\"}", notification.key());
        assertEquals(List.of("fp-1", "fp-2"), fingerprints(notification.value()));
        assertEquals(Map.of("target", "web-1"), notification.value().getGroupLabels());
        assertEquals("root.1", notification.value().getRouteId());
        assertEquals(T0.plusSeconds(30), notification.value().getDecidedAt());
        advanceTo(T0.plusSeconds(600));
        assertTrue(outbox.isEmpty(), "nothing changed: no second notification before repeat_interval");
    }

    @Test
    void shouldNotifyAChangeGroupIntervalAfterTheLastNotificationNeverSooner() {
        start();
        send(firing("fp-1", "web-1", Severity.WARNING, T0));
        advanceTo(T0.plusSeconds(30));
        assertEquals(1, outbox.readRecordsToList().size());

        send(firing("fp-2", "web-1", Severity.WARNING, T0.plusSeconds(40)));
        advanceTo(T0.plusSeconds(30 + 299));
        assertTrue(outbox.isEmpty(), "a change waits for group_interval (5 m) after the last notification");
        advanceTo(T0.plusSeconds(30 + 300));

        assertEquals(List.of("fp-1", "fp-2"), fingerprints(outbox.readValue()));
    }

    @Test
    void shouldRepeatAnUnchangedFiringGroupAfterRepeatInterval() {
        start();
        send(firing("fp-1", "web-1", Severity.WARNING, T0));
        advanceTo(T0.plusSeconds(30));
        outbox.readRecordsToList();

        advanceTo(T0.plusSeconds(30).plus(Duration.ofHours(4)).minusSeconds(1));
        assertTrue(outbox.isEmpty());
        advanceTo(T0.plusSeconds(30).plus(Duration.ofHours(4)));

        OutboxRecord repeat = outbox.readValue();
        assertEquals(List.of("fp-1"), fingerprints(repeat));
    }

    @Test
    void shouldResolveWhatWasNotifiedAndEndTheGroup() {
        start();
        AlertEvent fp1 = firing("fp-1", "web-1", Severity.WARNING, T0);
        send(fp1);
        advanceTo(T0.plusSeconds(30));
        outbox.readRecordsToList();

        send(resolved(fp1, T0.plusSeconds(60)));
        advanceTo(T0.plusSeconds(30 + 300));

        OutboxRecord resolve = outbox.readValue();
        assertEquals(List.of(AlertState.RESOLVED), resolve.getAlerts().stream().map(AlertEvent::getState).toList());
        advanceTo(T0.plus(Duration.ofHours(5)));
        assertTrue(outbox.isEmpty(), "the group ended with its resolve: no repeat");
    }

    @Test
    void shouldDropAResolveOfAnAlertThatWasNeverNotified() {
        start();
        AlertEvent fp1 = firing("fp-1", "web-1", Severity.WARNING, T0);
        send(fp1);
        send(resolved(fp1, T0.plusSeconds(5)));
        advanceTo(T0.plusSeconds(30));
        assertTrue(outbox.isEmpty(), "fired and resolved within group_wait: nobody is told either");
    }

    @Test
    void shouldNotifyEveryRouteThatTakesTheAlertEachWithItsOwnGrouping() {
        start();
        send(firing("fp-1", "web-1", Severity.CRITICAL, T0));
        advanceTo(T0.plusSeconds(1));
        TestRecord<String, OutboxRecord> page = outbox.readRecord();
        assertEquals("oncall", page.value().getReceiver(), "group_wait 0: the next tick sends it");
        assertTrue(page.key().startsWith("oncall|root.0{"), page.key());
        assertEquals(List.of("fp-1"), fingerprints(page.value()));

        advanceTo(T0.plusSeconds(30));
        assertEquals("team-slack", outbox.readValue().getReceiver(), "continue: the next route takes it too");
    }

    @Test
    void shouldSendEveryTransitionToEveryReceiverAtOnceWithoutARoutingFile() {
        start(RoutingTree.everyReceiver(List.of("slack", "pagerduty")));
        AlertEvent fp1 = firing("fp-1", "web-1", Severity.INFO, T0);
        send(fp1);
        assertEquals(List.of("slack", "pagerduty"),
                outbox.readValuesToList().stream().map(OutboxRecord::getReceiver).sorted((a, b) -> b.compareTo(a)).toList());
        send(resolved(fp1, T0.plusSeconds(1)));
        List<OutboxRecord> resolves = outbox.readValuesToList();
        assertEquals(2, resolves.size());
        assertEquals(AlertState.RESOLVED, resolves.get(0).getAlerts().get(0).getState());
    }

    @Test
    void shouldDeadLetterWhatIsNoAlertEvent() {
        start();
        rawAlerts.pipeInput("k".getBytes(), new byte[] {1, 2, 3}, T0);
        alerts.pipeInput("fp", AlertEvent.newBuilder(firing("fp", "web-1", Severity.INFO, T0))
                .setState(AlertState.PENDING).build(), T0);

        List<DeadLetter> letters = dlq.readValuesToList();
        assertEquals(List.of(DeadLetters.UNDECODABLE, DeadLetters.INVALID),
                letters.stream().map(DeadLetter::getReason).toList());
        assertEquals(Topics.ALERTS.name(), letters.get(0).getSourceTopic());
    }

    @Test
    void shouldKeepItsTimersInTheStoredGroup() {
        var timers = STORED_TIMERS;
        AlertGroup group = groupWithOneAlert();
        AlertGroup restored = AlertGroup.decode(group.encode());
        assertEquals(T0.plusSeconds(30).toEpochMilli(), restored.dueAt(timers));
        assertEquals(List.of("fp-1"), restored.flush(T0.plusSeconds(30).toEpochMilli(), timers).stream()
                .map(AlertEvent::getFingerprint).toList());
        AlertGroup afterFlush = AlertGroup.decode(restored.encode());
        assertEquals(T0.plusSeconds(30).plus(Duration.ofHours(4)).toEpochMilli(), afterFlush.dueAt(timers));
    }

    @Test
    void shouldReadAGroupStoredBeforeInhibitionExisted() {
        byte[] format3 = groupWithOneAlert().encode();
        byte[] format1 = java.util.Arrays.copyOf(format3, format3.length - 2 * Integer.BYTES); // no muted, no silenced
        format1[0] = 1;

        AlertGroup restored = AlertGroup.decode(format1);

        assertEquals(List.of("fp-1"), restored.flush(T0.plusSeconds(30).toEpochMilli(), STORED_TIMERS).stream()
                .map(AlertEvent::getFingerprint).toList());
    }

    @Test
    void shouldReadAGroupStoredBeforeSilencesExisted() {
        byte[] format3 = groupWithOneAlert().encode();
        byte[] format2 = java.util.Arrays.copyOf(format3, format3.length - Integer.BYTES); // no silenced set
        format2[0] = 2;

        AlertGroup restored = AlertGroup.decode(format2);

        assertTrue(!restored.isSilenced("fp-1"));
        assertEquals(java.util.Arrays.toString(format3), java.util.Arrays.toString(restored.encode()),
                "read as having nothing silenced, written back in the current format");
    }

    private static final io.fleetpulse.alerting.route.Route.Timers STORED_TIMERS =
            new io.fleetpulse.alerting.route.Route.Timers(Duration.ofSeconds(30), Duration.ofMinutes(5),
                    Duration.ofHours(4));

    private static AlertGroup groupWithOneAlert() {
        AlertGroup group = AlertGroup.open("team-slack", "root", "root{}", Map.of());
        group.add(firing("fp-1", "web-1", Severity.INFO, T0), false, T0.toEpochMilli(), STORED_TIMERS);
        return group;
    }

    private void send(AlertEvent event) {
        alerts.pipeInput(event.getFingerprint(), event, event.getOccurredAt());
    }

    private void advanceTo(Instant wallClock) {
        Duration by = Duration.between(Instant.ofEpochMilli(driverTime), wallClock);
        driverTime = wallClock.toEpochMilli();
        driver.advanceWallClockTime(by);
    }

    private long driverTime = T0.toEpochMilli();

    private static List<String> fingerprints(OutboxRecord notification) {
        return notification.getAlerts().stream().map(AlertEvent::getFingerprint).toList();
    }

    static AlertEvent firing(String fingerprint, String target, Severity severity, Instant at) {
        return AlertEvent.newBuilder()
                .setFingerprint(fingerprint).setRuleId("cpu-high").setTargetId(target).setGroup("frontend")
                .setLabels(Map.of("env", "prod")).setState(AlertState.FIRING).setSeverity(severity)
                .setSummary("CPU above 90%")
                .setEvidence(Evidence.newBuilder().setSignal("cpu_percent").setValue(97.5).setOperator(">")
                        .setThreshold(90.0).setWindowStart(at.minusSeconds(60)).setWindowEnd(at).setSamples(6).build())
                .setStartsAt(at).setOccurredAt(at).build();
    }

    static AlertEvent resolved(AlertEvent firing, Instant at) {
        return AlertEvent.newBuilder(firing).setState(AlertState.RESOLVED).setEndsAt(at).setOccurredAt(at).build();
    }
}
