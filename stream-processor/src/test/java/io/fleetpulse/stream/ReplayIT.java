package io.fleetpulse.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.events.Target;
import io.fleetpulse.events.TargetWindow;
import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topic;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.stream.replay.Replay;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.TopicProbe;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replay on a real broker: the live processor runs over a recorded input, then the same range is replayed; the
 * replay's 1-minute windows, alerts and dead letters equal the live run's, record for record, and nothing outside
 * the range (before --from, at or after --to) reaches the replay.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReplayIT {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Set<String> IN_RANGE = Set.of("web-1", "web-2", "db-1");

    static KafkaFixture kafka;

    @TempDir
    Path stateDir;

    @BeforeAll
    static void startBroker() throws Exception {
        kafka = KafkaFixture.start();
        kafka.createContractTopics(2);
    }

    @AfterAll
    static void stopBroker() throws Exception {
        kafka.close();
    }

    @Test
    @Order(1)
    void shouldReplayTheSameWindowsAlertsAndDeadLettersAsTheLiveRunIntoPrefixedTopics() throws Exception {
        Instant t0 = Instant.now().truncatedTo(ChronoUnit.MINUTES).minus(Duration.ofMinutes(15));
        Instant to = t0.plus(Duration.ofMinutes(4));
        record(t0);

        Map<String, String> values = settings("replay-it-live");
        StreamProcessorService live = new StreamProcessorService(Settings.of(values, StreamProcessorService.KEYS));
        List<TargetWindow> liveWindows;
        List<AlertEvent> liveAlerts;
        List<DeadLetter> liveDead;
        try {
            live.start();
            // 4 minutes of 3 targets, plus one window each of the targets before and after the range
            liveWindows = values(readUntil(Topics.AGGREGATES_1M, seen -> seen.size() >= 14));
            liveAlerts = values(readUntil(Topics.ALERTS, seen -> seen.size() >= 10));
            liveDead = values(readUntil(Topics.DLQ, seen -> !seen.isEmpty()));
        } finally {
            live.close();
        }
        assertEquals(Set.of("web-1", "web-2", "db-1", "old-1", "web-3"),
                liveWindows.stream().map(TargetWindow::getTargetId).collect(Collectors.toSet()));
        assertEquals(List.of("db-1 target-down FIRING", "db-1 target-down RESOLVED",
                        "web-1 cpu-high FIRING", "web-1 cpu-high RESOLVED",
                        "web-2 high-error-rate FIRING", "web-2 high-error-rate RESOLVED",
                        "web-2 target-down FIRING", "web-2 target-down RESOLVED",
                        "web-3 high-error-rate FIRING", "web-3 target-down FIRING"),
                liveAlerts.stream().map(a -> a.getTargetId() + " " + a.getRuleId() + " " + a.getState()).sorted().toList());

        StringWriter printed = new StringWriter();
        Replay.Summary summary = Replay.run(Config.of(settings("replay-it-live")),
                new Replay.Request(t0, to, "replay-", Duration.ofSeconds(10)), new PrintWriter(printed, true));

        String output = printed.toString();
        assertTrue(summary.applicationId().startsWith("replay-it-live-replay-"), summary.applicationId());
        assertTrue(output.contains("every input partition passed --to"), output);
        assertEquals(List.of("replay-fleet.aggregates.1h", "replay-fleet.aggregates.1m", "replay-fleet.alerts",
                "replay-fleet.dlq", "replay-fleet.health"), summary.outputTopics());
        assertEquals(12, summary.windowsOut(), output);

        List<TargetWindow> replayedWindows = values(readUntil(prefixed(Topics.AGGREGATES_1M), seen -> seen.size() >= 12));
        List<AlertEvent> replayedAlerts = values(readUntil(prefixed(Topics.ALERTS), seen -> seen.size() >= 8));
        List<DeadLetter> replayedDead = values(readUntil(prefixed(Topics.DLQ), seen -> !seen.isEmpty()));

        assertEquals(byKey(inRange(liveWindows, TargetWindow::getTargetId), w -> w.getTargetId() + "@" + w.getWindowStart()),
                byKey(replayedWindows, w -> w.getTargetId() + "@" + w.getWindowStart()));
        assertEquals(byKey(inRange(liveAlerts, AlertEvent::getTargetId), a -> a.getFingerprint() + " " + a.getState()),
                byKey(replayedAlerts, a -> a.getFingerprint() + " " + a.getState()));
        assertEquals("edge", replayedAlerts.stream().filter(a -> a.getTargetId().equals("web-1")).findFirst().orElseThrow()
                .getGroup(), "the inventory is read from its beginning");
        assertEquals(withoutWallClock(liveDead), withoutWallClock(replayedDead));
        assertEquals(1, replayedDead.size());

        try (Admin admin = kafka.admin()) {
            Set<String> left = admin.listTopics().names().get().stream()
                    .filter(name -> name.startsWith(summary.applicationId())).collect(Collectors.toCollection(TreeSet::new));
            assertEquals(Set.of(), left, "the replay's changelogs are deleted");
        }
    }

    /**
     * An alert PENDING at {@code --from}: the replay starts with no alert state, so the condition's {@code for} counts
     * from its first value in the range. Live, pend-1 fails its http check from t0 + 50 s to t0 + 100 s: target-down
     * (15 s) is PENDING at {@code --from} = t0 + 1 min and fires at t0 + 65 s; the replay fires it at t0 + 75 s, under the
     * same fingerprint, and resolves it when the live run did. What lies wholly in the range (high-error-rate over the
     * minute [t0 + 1 min, t0 + 2 min)) is equal. Runs after the test above: that one expects the live topics to hold its
     * input alone.
     */
    @Test
    @Order(2)
    void shouldStartAnAlertPendingAtFromAfreshInTheReplay() throws Exception {
        Instant t0 = Instant.now().truncatedTo(ChronoUnit.MINUTES).minus(Duration.ofMinutes(10));
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int s = 0; s < 180; s += 5) {
                Instant at = t0.plusSeconds(s);
                CheckStatus status = s >= 50 && s <= 100 ? CheckStatus.CRITICAL : CheckStatus.OK;
                send(producer, Topics.CHECKS, "pend-1", check("pend-1", "http", status, 10.0, at), at);
            }
        }
        StreamProcessorService live = new StreamProcessorService(
                Settings.of(settings("replay-it-pending"), StreamProcessorService.KEYS));
        Map<String, AlertEvent> liveAlerts;
        try {
            live.start();
            liveAlerts = byRuleAndState(values(readUntil(Topics.ALERTS, seen -> pending(values(seen)).size() >= 4)));
        } finally {
            live.close();
        }
        assertEquals(t0.plusSeconds(65), liveAlerts.get("target-down FIRING").getStartsAt());
        assertEquals(t0.plusSeconds(120), liveAlerts.get("target-down RESOLVED").getEndsAt());

        Replay.run(Config.of(settings("replay-it-pending")), new Replay.Request(t0.plus(Duration.ofMinutes(1)),
                t0.plus(Duration.ofMinutes(3)), "replay-pending-", Duration.ofSeconds(10)), new PrintWriter(new StringWriter()));
        Map<String, AlertEvent> replayed = byRuleAndState(values(readUntil(Replay.prefixed("replay-pending-", Topics.ALERTS),
                seen -> pending(values(seen)).size() >= 4)));

        assertEquals(liveAlerts.keySet(), replayed.keySet(), "the same transitions");
        AlertEvent firing = replayed.get("target-down FIRING");
        assertEquals(t0.plusSeconds(75), firing.getStartsAt(), "15 s after its first failing value in the range");
        assertEquals(liveAlerts.get("target-down FIRING").getFingerprint(), firing.getFingerprint());
        assertEquals(t0.plusSeconds(120), replayed.get("target-down RESOLVED").getEndsAt(), "recovered as live");
        assertEquals(t0.plusSeconds(75), replayed.get("target-down RESOLVED").getStartsAt());
        assertEquals(liveAlerts.get("high-error-rate FIRING"), replayed.get("high-error-rate FIRING"));
        assertEquals(liveAlerts.get("high-error-rate RESOLVED"), replayed.get("high-error-rate RESOLVED"));
    }

    private static List<AlertEvent> pending(List<AlertEvent> alerts) {
        return alerts.stream().filter(a -> a.getTargetId().equals("pend-1")).toList();
    }

    private static Map<String, AlertEvent> byRuleAndState(List<AlertEvent> alerts) {
        return byKey(pending(alerts), a -> a.getRuleId() + " " + a.getState());
    }

    /**
     * The recorded input: 4 minutes of 3 targets from t0 (web-2 failing its http check for a minute, db-1 its db
     * check, web-1 at 95% CPU for 50 s, one negative latency), a target before t0 and one at or after t0 + 4 min
     * (outside the replayed range), and web-1's inventory entry from before t0.
     */
    private static void record(Instant t0) {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            Instant before = t0.minus(Duration.ofMinutes(6));
            send(producer, Topics.TARGETS, "web-1", Target.newBuilder().setTargetId("web-1")
                    .setHealthUrl("http://web-1/health").setGroup("edge").setUpdatedAt(before).build(), before);
            // Late in their minute, so the wall clock closes their windows soon after the input ends.
            for (int s = 30; s < 60; s += 5) {
                send(producer, Topics.CHECKS, "old-1", check("old-1", "http", CheckStatus.OK, 10.0, before.plusSeconds(s)), before.plusSeconds(s));
            }
            for (int s = 0; s < 240; s += 5) {
                Instant at = t0.plusSeconds(s);
                send(producer, Topics.CHECKS, "web-1", check("web-1", "http", CheckStatus.OK, 10.0 + s % 7, at), at);
                CheckStatus web2 = s >= 60 && s < 120 ? CheckStatus.CRITICAL : CheckStatus.OK;
                send(producer, Topics.CHECKS, "web-2", check("web-2", "http", web2, 20.0 + s % 11, at), at);
                send(producer, Topics.CHECKS, "db-1", check("db-1", "http", CheckStatus.OK, 5.0, at), at);
                CheckStatus db = s >= 30 && s <= 90 ? CheckStatus.CRITICAL : CheckStatus.OK;
                send(producer, Topics.CHECKS, "db-1", check("db-1", "db", db, 3.0, at), at);
                double cpu = s >= 100 && s <= 150 ? 95.0 : 20.0;
                send(producer, Topics.METRICS, "web-1", MetricSample.newBuilder().setTargetId("web-1").setObservedAt(at)
                        .setCpuPercent(cpu).build(), at);
                if (s == 30) {
                    send(producer, Topics.CHECKS, "web-1", check("web-1", "http", CheckStatus.OK, -5.0, at), at);
                }
            }
            Instant after = t0.plus(Duration.ofMinutes(4));
            for (int s = 30; s < 60; s += 5) {
                send(producer, Topics.CHECKS, "web-3", check("web-3", "http", CheckStatus.CRITICAL, 10.0, after.plusSeconds(s)),
                        after.plusSeconds(s));
            }
        }
    }

    private static CheckResult check(String target, String name, CheckStatus status, double latencyMs, Instant at) {
        return CheckResult.newBuilder().setTargetId(target).setCheckName(name).setStatus(status).setLatencyMs(latencyMs)
                .setObservedAt(at).build();
    }

    private static <V> void send(KafkaProducer<byte[], byte[]> producer, Topic<String, V> topic, String key, V value,
                                 Instant timestamp) {
        producer.send(new ProducerRecord<>(topic.name(), null, timestamp.toEpochMilli(),
                topic.keySerde().serializer().serialize(topic.name(), key),
                topic.valueSerde().serializer().serialize(topic.name(), value)));
    }

    private Map<String, String> settings(String applicationId) {
        return StreamProcessorIT.values(kafka, applicationId, stateDir, Map.of("streams.window.idle.timeout", "1s",
                // Longer than the test: no target of a silent partition is reported absent by the wall clock.
                "streams.absence.timeout", "30m"));
    }

    private static <K, V> Topic<K, V> prefixed(Topic<K, V> t) {
        return Replay.prefixed("replay-", t);
    }

    private static <K, V> List<ConsumerRecord<K, V>> readUntil(Topic<K, V> topic, Predicate<List<ConsumerRecord<K, V>>> until) {
        return TopicProbe.readUntil(kafka.bootstrapServers(), topic, until, WAIT);
    }

    private static <K, V> List<V> values(List<ConsumerRecord<K, V>> records) {
        return records.stream().map(ConsumerRecord::value).toList();
    }

    private static <V> List<V> inRange(List<V> values, java.util.function.Function<V, String> target) {
        return values.stream().filter(v -> IN_RANGE.contains(target.apply(v))).toList();
    }

    /** By key and content, not by offset or partition; a key seen twice would show as a different map. */
    private static <V> Map<String, V> byKey(List<V> values, java.util.function.Function<V, String> key) {
        Map<String, V> out = new TreeMap<>();
        for (V v : values) {
            V before = out.put(key.apply(v), v);
            assertEquals(null, before, "one record per key: " + key.apply(v));
        }
        return out;
    }

    /** A dead letter's failedAt is when it was written; the rest comes from the record. */
    private static List<DeadLetter> withoutWallClock(List<DeadLetter> letters) {
        return letters.stream().map(d -> DeadLetter.newBuilder(d).setFailedAt(Instant.EPOCH).build()).toList();
    }
}
