package io.fleetpulse.alerting.decide;

import io.fleetpulse.alerting.route.RoutingTree;
import io.fleetpulse.alerting.silence.SilenceRule;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.events.OutboxRecord;
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

/**
 * The decide topology under TopologyTestDriver for the specifications: alerts and silences in, the outbox and the
 * audit out, the wall clock (which drives the flushes and judges the silences) moved by hand.
 */
final class DecideDriver implements AutoCloseable {

    private final TopologyTestDriver driver;
    private final TestInputTopic<String, AlertEvent> alerts;
    private final TestInputTopic<String, Silence> silences;
    private final TestOutputTopic<String, OutboxRecord> outbox;
    private final TestOutputTopic<String, NotificationRecord> audit;
    private Instant now;

    /** @param routingFile a routing file whose Slack receivers read their URL from {@code SLACK} */
    DecideDriver(String routingFile, Instant wallClock) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "decide-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        RoutingTree routing = RoutingTree.parse(routingFile, "routing.yaml",
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

    Instant now() {
        return now;
    }

    /** Produces {@code event} to fleet.alerts, keyed and timed as the stream processor does. */
    void send(AlertEvent event) {
        alerts.pipeInput(new TestRecord<>(event.getFingerprint(), event, event.getOccurredAt()));
    }

    /** Writes {@code rule} to fleet.silences, as the API does. */
    void silence(SilenceRule rule) {
        silences.pipeInput(new TestRecord<>(rule.id(), rule.toAvro(), now));
    }

    /** Moves the wall clock (and so the flush punctuation) to {@code wallClock}. */
    void advanceTo(Instant wallClock) {
        driver.advanceWallClockTime(Duration.between(now, wallClock));
        now = wallClock;
    }

    boolean nothingNotified() {
        return outbox.isEmpty();
    }

    /** Every alert in the notifications written since the last call, by fingerprint, with its state. */
    Map<String, String> notified() {
        Map<String, String> states = new TreeMap<>();
        for (OutboxRecord notification : outbox.readValuesToList()) {
            for (AlertEvent alert : notification.getAlerts()) {
                states.put(alert.getFingerprint(), alert.getState().name());
            }
        }
        return states;
    }

    /** The decision audit records written since the last call. */
    List<TestRecord<String, NotificationRecord>> audited() {
        return audit.readRecordsToList();
    }

    @Override
    public void close() {
        driver.close();
    }
}
