package io.fleetpulse.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.events.TargetWindow;
import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.schemas.DeadLetters;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.TopicProbe;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.utils.Bytes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The service on a real KRaft broker with exactly-once: alerts, dead letters, windows, and a restart in between. */
class StreamProcessorIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String TARGET = "web-1";

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
    void shouldFireAndResolveAcrossARestartRouteGarbageAndPublishWindows() throws Exception {
        Config config = Config.of(Map.of(
                "kafka.bootstrap.servers", kafka.bootstrapServers(),
                "streams.application.id", "stream-processor-it",
                "streams.state.dir", stateDir.toString(),
                "streams.commit.interval", "200ms",
                "streams.window.grace", "1s"));
        Instant t0 = Instant.now().truncatedTo(ChronoUnit.MINUTES).minus(Duration.ofMinutes(5));

        StreamProcessorService first = new StreamProcessorService(config);
        try {
            first.start();
            assertTrue(first.isReady());
            sendChecks(t0, CheckStatus.CRITICAL, 0, 5, 10, 15); // target-down: failing for 15 s
            TopicProbe.sendRaw(kafka.bootstrapServers(), Topics.CHECKS.name(),
                    TARGET.getBytes(StandardCharsets.UTF_8), "not a check".getBytes(StandardCharsets.UTF_8));

            List<ConsumerRecord<String, AlertEvent>> firing = TopicProbe.readUntil(kafka.bootstrapServers(), Topics.ALERTS,
                    seen -> !seen.isEmpty(), WAIT);
            AlertEvent alert = firing.get(0).value();
            assertEquals(AlertState.FIRING, alert.getState());
            assertEquals("target-down", alert.getRuleId());
            assertEquals(alert.getFingerprint(), firing.get(0).key());
            assertEquals(t0.plusSeconds(15), alert.getStartsAt());

            ConsumerRecord<Bytes, DeadLetter> dead = TopicProbe.readUntil(kafka.bootstrapServers(), Topics.DLQ,
                    seen -> !seen.isEmpty(), WAIT).get(0);
            assertEquals(DeadLetters.UNDECODABLE, dead.value().getReason());
            assertEquals(Topics.CHECKS.name(), dead.value().getSourceTopic());
            assertEquals(Bytes.wrap(TARGET.getBytes(StandardCharsets.UTF_8)), dead.key());
        } finally {
            first.close();
        }

        // Lose the local state entirely: the second instance must rebuild it from the changelogs.
        deleteContents(stateDir);
        StreamProcessorService second = new StreamProcessorService(config);
        try {
            second.start();
            sendChecks(t0, CheckStatus.OK, 20, 25, 30, 35); // healthy for 15 s
            sendChecks(t0, CheckStatus.OK, 125); // moves event time past [t0, t0+1m) + grace

            List<ConsumerRecord<String, AlertEvent>> alerts = TopicProbe.readUntil(kafka.bootstrapServers(), Topics.ALERTS,
                    seen -> seen.size() >= 2, WAIT);
            AlertEvent resolved = alerts.get(1).value();
            assertEquals(AlertState.RESOLVED, resolved.getState(), "the restarted processor remembered the firing alert");
            assertEquals(alerts.get(0).key(), alerts.get(1).key());
            assertEquals(t0.plusSeconds(15), resolved.getStartsAt());
            assertEquals(t0.plusSeconds(35), resolved.getEndsAt());

            TargetWindow window = TopicProbe.readUntil(kafka.bootstrapServers(), Topics.AGGREGATES_1M,
                    seen -> !seen.isEmpty(), WAIT).get(0).value();
            assertEquals(TARGET, window.getTargetId());
            assertEquals(t0, window.getWindowStart());
            assertEquals(8, window.getChecks(), "checks from before and after the restart, not the garbage");
            assertEquals(4, window.getFailures());
            assertEquals(0.5, window.getErrorRate());

            assertEquals(1L, second.status().get("alertsResolved"));
            assertTrue(second.isReady());
        } finally {
            second.close();
        }
    }

    private static void sendChecks(Instant t0, CheckStatus status, int... seconds) {
        try (KafkaProducer<String, CheckResult> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                Topics.CHECKS.keySerde().serializer(), Topics.CHECKS.valueSerde().serializer())) {
            for (int s : seconds) {
                Instant at = t0.plusSeconds(s);
                CheckResult check = CheckResult.newBuilder().setTargetId(TARGET).setCheckName("http").setStatus(status)
                        .setLatencyMs(12.0).setObservedAt(at).build();
                producer.send(new ProducerRecord<>(Topics.CHECKS.name(), null, at.toEpochMilli(), TARGET, check));
            }
        }
    }

    private static void deleteContents(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                if (!p.equals(dir)) {
                    Files.delete(p);
                }
            }
        }
    }
}
