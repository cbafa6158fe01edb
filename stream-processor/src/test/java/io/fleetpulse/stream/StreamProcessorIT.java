package io.fleetpulse.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.events.HealthScore;
import io.fleetpulse.events.HealthStatus;
import io.fleetpulse.events.TargetWindow;
import io.fleetpulse.runtime.ServiceMeters;
import io.fleetpulse.runtime.ServiceRunner;
import io.fleetpulse.runtime.ServiceState;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.DeadLetters;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.testkit.Await;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.Promtool;
import io.fleetpulse.testkit.TopicProbe;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.errors.MissingSourceTopicException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service on a real KRaft broker with exactly-once: alerts, dead letters, windows, and a restart in between; its
 * Kafka series; and supervision: a fault injected into a running processor makes it fail and the process exit 1.
 */
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
        Settings settings = settings(kafka, "stream-processor-it", stateDir, Map.of());
        Instant t0 = Instant.now().truncatedTo(ChronoUnit.MINUTES).minus(Duration.ofMinutes(5));

        StreamProcessorService first = new StreamProcessorService(settings);
        try {
            first.start();
            assertTrue(first.isReady());
            sendChecks(t0, CheckStatus.CRITICAL, 0, 5, 10, 15); // target-down: failing for 15 s
            TopicProbe.sendRaw(kafka.bootstrapServers(), Topics.CHECKS.name(),
                    TARGET.getBytes(StandardCharsets.UTF_8), "not a check".getBytes(StandardCharsets.UTF_8));
            // A good check on the partition its key does not hash to: the service learnt the real count (2) at start.
            assertEquals(new TreeMap<>(Map.of(Topics.CHECKS.name(), 2, Topics.METRICS.name(), 2, Topics.TARGETS.name(), 2)),
                    first.status().get("sourcePartitions"));
            int wrongPartition = 1 - SourcePartitions.partitionOf(TARGET.getBytes(StandardCharsets.UTF_8), 2);
            sendChecksTo(wrongPartition, TARGET, t0, CheckStatus.OK, 16);

            List<ConsumerRecord<String, AlertEvent>> firing = alertsUntil(TARGET, "target-down", seen -> !seen.isEmpty());
            AlertEvent alert = firing.get(0).value();
            assertEquals(AlertState.FIRING, alert.getState());
            assertEquals("target-down", alert.getRuleId());
            assertEquals(alert.getFingerprint(), firing.get(0).key());
            assertEquals(t0.plusSeconds(15), alert.getStartsAt());

            Map<String, ConsumerRecord<Bytes, DeadLetter>> dead = TopicProbe.readUntil(kafka.bootstrapServers(),
                    Topics.DLQ, seen -> seen.size() >= 2, WAIT).stream()
                    .collect(Collectors.toMap(r -> r.value().getReason(), r -> r));
            assertEquals(Set.of(DeadLetters.UNDECODABLE, SourcePartitions.WRONG_PARTITION), dead.keySet());
            assertEquals(Topics.CHECKS.name(), dead.get(DeadLetters.UNDECODABLE).value().getSourceTopic());
            assertEquals(Bytes.wrap(TARGET.getBytes(StandardCharsets.UTF_8)), dead.get(DeadLetters.UNDECODABLE).key());
            DeadLetter misplaced = dead.get(SourcePartitions.WRONG_PARTITION).value();
            assertEquals(wrongPartition, misplaced.getSourcePartition());
            assertTrue(misplaced.getError().contains("hashes to partition " + (1 - wrongPartition) + " of 2"),
                    misplaced.getError());
        } finally {
            first.close();
        }

        // Lose the local state entirely: the second instance must rebuild it from the changelogs.
        deleteContents(stateDir);
        StreamProcessorService second = new StreamProcessorService(settings);
        try {
            second.start();
            sendChecks(t0, CheckStatus.OK, 20, 25, 30, 35); // healthy for 15 s
            sendChecks(t0, CheckStatus.OK, 125); // moves event time past [t0, t0+1m) + grace

            List<ConsumerRecord<String, AlertEvent>> alerts = alertsUntil(TARGET, "target-down", seen -> seen.size() >= 2);
            AlertEvent resolved = alerts.get(1).value();
            assertEquals(AlertState.RESOLVED, resolved.getState(), "the restarted processor remembered the firing alert");
            assertEquals(alerts.get(0).key(), alerts.get(1).key());
            assertEquals(t0.plusSeconds(15), resolved.getStartsAt());
            assertEquals(t0.plusSeconds(35), resolved.getEndsAt());

            TargetWindow window = windowsUntil(TARGET, seen -> !seen.isEmpty()).get(0);
            assertEquals(TARGET, window.getTargetId());
            assertEquals(t0, window.getWindowStart());
            assertEquals(8, window.getChecks(), "checks from before and after the restart, not the garbage nor the "
                    + "misplaced check");
            assertEquals(4, window.getFailures());
            assertEquals(0.5, window.getErrorRate());
            // Its health, from the accumulator the second instance restored: half the checks failed, 50 - 20 * 0.5.
            HealthScore health = healthUntil(TARGET, seen -> seen.stream().anyMatch(h -> h.getWindowStart().equals(t0)))
                    .stream().filter(h -> h.getWindowStart().equals(t0)).findFirst().orElseThrow();
            assertEquals(HealthStatus.CRITICAL, health.getStatus());
            assertEquals(40, health.getScore(), 1e-9);
            assertEquals(List.of("http"), health.getFailingChecks());

            assertEquals(1L, second.status().get("alertsResolved"));
            assertTrue(second.isReady());
            assertOnlyAllowListedKafkaSeries((PrometheusMeterRegistry) second.meterRegistry());
        } finally {
            second.close();
        }
    }

    /**
     * The collector dies: nothing arrives any more. The last window still closes and the silent target fires
     * target-absent on the wall clock alone (short idle and absence timeouts); a restart that rebuilds the state from
     * the changelogs remembers the absence, so the target's next record resolves it and nothing fires twice.
     */
    @Test
    void shouldCloseWindowsAndReportAbsenceOnTheWallClockAloneAcrossARestart() throws Exception {
        String quiet = "quiet-1";
        Settings settings = settings(kafka, "stream-processor-idle-it", stateDir, Map.of(
                "streams.window.idle.timeout", "1s", "streams.absence.timeout", "3s"));
        Instant t0 = Instant.now().truncatedTo(ChronoUnit.MINUTES).minus(Duration.ofMinutes(2));

        StreamProcessorService first = new StreamProcessorService(settings);
        try {
            first.start();
            sendChecks(quiet, t0, CheckStatus.OK, 59);

            List<TargetWindow> windows = windowsUntil(quiet, seen -> !seen.isEmpty());
            assertEquals(t0, windows.get(0).getWindowStart(), "closed with no record after it");
            assertEquals(1, windows.get(0).getChecks());
            AlertEvent absent = alertsUntil(quiet, "target-absent", seen -> !seen.isEmpty()).get(0).value();
            assertEquals(AlertState.FIRING, absent.getState());
            assertTrue(absent.getSummary().startsWith(quiet + " sent nothing for "), absent.getSummary());
            assertTrue(absent.getEvidence().getValue() >= 3, "silent for the absence timeout: " + absent.getEvidence());
            // Its minute is scored too if one punctuation found it due with the silence (a loaded machine); either way
            // the last word on a silent target is UNREACHABLE.
            List<HealthScore> quietHealth = healthUntil(quiet,
                    seen -> seen.stream().anyMatch(h -> h.getStatus() == HealthStatus.UNREACHABLE));
            HealthScore unreachable = quietHealth.get(quietHealth.size() - 1);
            assertEquals(HealthStatus.UNREACHABLE, unreachable.getStatus(), "its silence, with the whole partition silent: "
                    + quietHealth);
            assertTrue(unreachable.getReasons().get(0).startsWith("sent nothing for "), unreachable.getReasons().toString());
        } finally {
            first.close();
        }

        deleteContents(stateDir);
        StreamProcessorService second = new StreamProcessorService(settings);
        try {
            second.start();
            sendChecks(quiet, t0, CheckStatus.OK, 70);

            List<ConsumerRecord<String, AlertEvent>> absence =
                    alertsUntil(quiet, "target-absent", seen -> seen.size() >= 2);
            assertEquals(List.of(AlertState.FIRING, AlertState.RESOLVED),
                    absence.stream().map(r -> r.value().getState()).toList());
            assertEquals(t0.plusSeconds(70), absence.get(1).value().getEndsAt());
        } finally {
            second.close();
        }
    }

    private static List<ConsumerRecord<String, AlertEvent>> alertsUntil(
            String target, String ruleId, Predicate<List<ConsumerRecord<String, AlertEvent>>> until) {
        return mine(TopicProbe.readUntil(kafka.bootstrapServers(), Topics.ALERTS,
                seen -> until.test(mine(seen, target, ruleId)), WAIT), target, ruleId);
    }

    /** Other tests of this class share the topics: only this target's alerts of this rule. */
    private static List<ConsumerRecord<String, AlertEvent>> mine(List<ConsumerRecord<String, AlertEvent>> alerts,
                                                                 String target, String ruleId) {
        return alerts.stream().filter(r -> r.value().getTargetId().equals(target) && r.value().getRuleId().equals(ruleId))
                .toList();
    }

    private static List<HealthScore> healthUntil(String target, Predicate<List<HealthScore>> until) {
        Function<List<ConsumerRecord<String, HealthScore>>, List<HealthScore>> mine = seen ->
                seen.stream().filter(r -> r.key().equals(target) && r.value() != null).map(ConsumerRecord::value).toList();
        return mine.apply(TopicProbe.readUntil(kafka.bootstrapServers(), Topics.HEALTH,
                seen -> until.test(mine.apply(seen)), WAIT));
    }

    private static List<TargetWindow> windowsUntil(String target, Predicate<List<TargetWindow>> until) {
        Function<List<ConsumerRecord<String, TargetWindow>>, List<TargetWindow>> mine = seen ->
                seen.stream().map(ConsumerRecord::value).filter(w -> w.getTargetId().equals(target)).toList();
        return mine.apply(TopicProbe.readUntil(kafka.bootstrapServers(), Topics.AGGREGATES_1M,
                seen -> until.test(mine.apply(seen)), WAIT));
    }

    /**
     * The fault recipe for a process-level test too: once the processor is ready, delete {@code fleet.checks}; it
     * exits within a second or so (plus closing). Nothing may produce to the topic meanwhile, or a broker with
     * {@code auto.create.topics.enable} creates it again before the rebalance notices.
     */
    @Test
    void shouldFailWhenASourceTopicIsDeletedUnderIt() throws Exception {
        StreamProcessorService service = new StreamProcessorService(
                settings(kafka, "stream-processor-supervision-it", stateDir, Map.of()));
        try (ServiceRunner runner = new ServiceRunner(Duration.ofSeconds(20))) {
            runner.start(service, Duration.ofSeconds(60), "127.0.0.1", 0);
            assertTrue(service.isReady());
            CompletableFuture<Integer> exitStatus = CompletableFuture.supplyAsync(() -> {
                try {
                    return runner.awaitStop();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return -1;
                }
            });
            long started = System.nanoTime();
            try (Admin admin = kafka.admin()) {
                admin.deleteTopics(List.of(Topics.CHECKS.name())).all().get(30, TimeUnit.SECONDS);
            }
            // Kafka Streams 4.3 (classic group protocol): the next rebalance finds the topic gone, the stream thread
            // throws MissingSourceTopicException, our handler shuts the client down (PENDING_ERROR, then ERROR).
            Throwable cause = service.failure().toCompletableFuture().get(30, TimeUnit.SECONDS);
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);

            assertTrue(seconds < 30, "failed after " + seconds + " s");
            assertInstanceOf(MissingSourceTopicException.class, cause.getCause(), String.valueOf(cause));
            assertTrue(cause.getMessage().startsWith("stream-processor: a stream thread died: "), cause.getMessage());
            assertEquals(ServiceState.FAILED, service.state());
            assertFalse(service.isLive());
            assertFalse(service.isReady());
            assertEquals("FAILED", service.status().get("state"));
            assertEquals(cause.getMessage(), service.status().get("failure"));
            assertEquals(ServiceRunner.EXIT_FAILED, exitStatus.get(30, TimeUnit.SECONDS), "the process exits 1");
        } finally {
            service.close();
            restoreContractTopics();
        }
        assertEquals(ServiceState.FAILED, service.state(), "a failed service stays FAILED after close");
    }

    @Test
    void shouldFailToStartWithAClearErrorWhenASourceTopicIsMissing() throws Exception {
        try (Admin admin = kafka.admin()) {
            if (admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(Topics.CHECKS.name())) {
                admin.deleteTopics(List.of(Topics.CHECKS.name())).all().get(30, TimeUnit.SECONDS);
            }
        }
        StreamProcessorService service = new StreamProcessorService(settings(kafka,
                "stream-processor-missing-topic-it", stateDir, Map.of("kafka.topics.ensure", "false")));
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class, service::start);

            // Found when the service looks up the source topics' partition counts, before Streams is opened.
            assertEquals("source topic fleet.checks does not exist: create the contract topics (fleetpulse topics "
                    + "create, or kafka.topics.ensure=true)", e.getMessage());
            assertEquals(ServiceState.FAILED, service.state());
            assertFalse(service.isLive());
        } finally {
            service.close();
            restoreContractTopics();
        }
    }

    private static Set<String> topicNames(Admin admin) {
        try {
            return admin.listTopics().names().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot list the topics", e);
        }
    }

    /** Brings back a deleted topic for the next test, once the broker has really deleted it. */
    private static void restoreContractTopics() throws Exception {
        try (Admin admin = kafka.admin()) {
            Await.until(() -> !topicNames(admin).contains(Topics.CHECKS.name()), WAIT,
                    "the broker to finish deleting " + Topics.CHECKS.name());
        }
        kafka.createContractTopics(2);
    }

    /**
     * Of the ~1100 series the Streams client's metrics make (413 names with 2 partitions), only the allow-listed ones
     * reach /metrics, and every allow-listed name is one this Kafka version really has. Task meters appear after the
     * first meter refresh, so this waits for one of them.
     */
    private static void assertOnlyAllowListedKafkaSeries(PrometheusMeterRegistry registry) throws Exception {
        Await.until(() -> registry.scrape().contains("kafka_stream_task_dropped_records_total"), WAIT,
                "the first meter refresh to add the task meters");
        String scraped = registry.scrape();
        Files.writeString(Path.of("target", "stream-processor-metrics.txt"), scraped);
        List<String> series = scraped.lines().filter(l -> l.startsWith("kafka_")).toList();
        Set<String> names = series.stream().map(l -> l.replaceAll("[{ ].*", "")).collect(Collectors.toCollection(TreeSet::new));
        Set<String> allowed = ServiceMeters.KAFKA_ALLOWED.stream().map(n -> n.replace('.', '_'))
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> exported = names.stream().map(n -> allowed.contains(n) ? n : n.replaceAll("_total$", ""))
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(allowed, exported, "exactly the allow-listed kafka series, all of them");
        // The restore consumer has a few series per changelog topic (12 stores), so the bound grows with the stores;
        // what it guards against is Streams' ~1100 unfiltered series.
        assertTrue(series.size() < 100, series.size() + " kafka series:\n" + String.join("\n", series));
        Promtool.assertNoFindings("stream-processor /metrics", scraped);
    }

    /** The service on {@code kafka}'s broker, with the topics the fixture made (2 partitions), committing often. */
    static Settings settings(KafkaFixture kafka, String applicationId, Path stateDir, Map<String, String> overrides) {
        return Settings.of(values(kafka, applicationId, stateDir, overrides), StreamProcessorService.KEYS);
    }

    /** The values {@link #settings} resolves, for what takes a configuration rather than settings (a replay). */
    static Map<String, String> values(KafkaFixture kafka, String applicationId, Path stateDir, Map<String, String> overrides) {
        Map<String, String> values = new HashMap<>(Map.of(
                "kafka.bootstrap.servers", kafka.bootstrapServers(),
                "kafka.topic.partitions", "2",
                "streams.application.id", applicationId,
                "streams.state.dir", stateDir.toString(),
                "streams.commit.interval", "200ms",
                "streams.window.grace", "1s",
                "ops.start.timeout", "60s",
                "ops.stop.timeout", "20s"));
        values.putAll(overrides);
        return values;
    }

    private static void sendChecks(Instant t0, CheckStatus status, int... seconds) {
        sendChecks(TARGET, t0, status, seconds);
    }

    private static void sendChecks(String target, Instant t0, CheckStatus status, int... seconds) {
        sendChecksTo(null, target, t0, status, seconds);
    }

    /** Checks on {@code partition}, or on the key's own partition when it is null. */
    private static void sendChecksTo(Integer partition, String target, Instant t0, CheckStatus status, int... seconds) {
        try (KafkaProducer<String, CheckResult> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                Topics.CHECKS.keySerde().serializer(), Topics.CHECKS.valueSerde().serializer())) {
            for (int s : seconds) {
                Instant at = t0.plusSeconds(s);
                CheckResult check = CheckResult.newBuilder().setTargetId(target).setCheckName("http").setStatus(status)
                        .setLatencyMs(12.0).setObservedAt(at).build();
                producer.send(new ProducerRecord<>(Topics.CHECKS.name(), partition, at.toEpochMilli(), target, check));
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
