package io.fleetpulse.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.testkit.Await;
import io.fleetpulse.testkit.ChildJvm;
import io.fleetpulse.testkit.KafkaFixture;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stream processor killed mid-stream (SIGKILL: no close, no commit, no flush) publishes every alert transition once:
 * none twice, none lost. The first processor runs in a JVM of its own ({@link StreamProcessorProcess}) so it can really
 * be killed while checks flow; a second one, in this JVM, with the same state dir and application id, takes over from
 * what the first committed. The expected transitions are those of the same topology and settings over the same
 * records with no crash (a TopologyTestDriver run): with idle closing and absence out of reach, the alerts depend only
 * on each target's records in their order, which both runs see alike.
 */
class StreamProcessorCrashIT {

    private static final String APPLICATION_ID = "stream-processor-crash-it";
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int TARGETS = 12;
    /** Event time covered, in seconds, one poll every {@link #POLL} seconds; the second half flows around the kill. */
    private static final int SPAN = 600;
    private static final int POLL = 2;

    private KafkaFixture kafka;
    private Process first;
    private StreamProcessorService second;

    @TempDir
    Path stateDir;
    @TempDir
    Path driverStateDir;

    @BeforeEach
    void start() throws Exception {
        kafka = KafkaFixture.start();
        kafka.createContractTopics(2);
    }

    @AfterEach
    void stop() throws Exception {
        if (first != null) {
            first.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (second != null) {
            second.close();
        }
        kafka.close();
    }

    @Test
    void shouldPublishEveryAlertTransitionExactlyOnceWhenKilledMidStream() throws Exception {
        Instant t0 = Instant.now().truncatedTo(ChronoUnit.MINUTES).minus(Duration.ofMinutes(12));
        List<CheckResult> checks = input(t0);
        List<CheckResult> firstHalf = checks.stream().filter(c -> c.getObservedAt().isBefore(t0.plusSeconds(SPAN / 2)))
                .toList();
        List<CheckResult> secondHalf = checks.subList(firstHalf.size(), checks.size());
        Set<String> expected = transitions(expectedAlerts(checks));
        assertTrue(expected.size() > 50, "enough transitions to be killed among: " + expected.size());
        assertTrue(expected.stream().anyMatch(t -> t.contains("|RESOLVED|")), "alerts resolve too");

        produce(firstHalf, new AtomicInteger());
        int port = ChildJvm.freePort();
        first = ChildJvm.start(StreamProcessorProcess.class, ChildJvm.withOpsPort(settings(), port), "stream-processor-crash-child.log");
        await(() -> ChildJvm.readyz(port) == 200, "the child processor to be ready");
        await(() -> committedAlerts().size() >= 5, "alerts to fire in the child");

        // Kill it while the second half flows in: some of its work is in an open transaction, some not yet read.
        AtomicInteger sent = new AtomicInteger();
        CompletableFuture<Void> producing = CompletableFuture.runAsync(() -> produce(secondHalf, sent));
        await(() -> sent.get() >= secondHalf.size() / 4, "the second half to be under way");
        first.destroyForcibly();
        assertTrue(first.waitFor(10, TimeUnit.SECONDS), "killed");
        int publishedBeforeKill = committedAlerts().size();
        long committedInputBeforeKill = committedInput();
        assertTrue(publishedBeforeKill > 0 && publishedBeforeKill < expected.size(),
                "killed mid-stream: " + publishedBeforeKill + " of " + expected.size() + " transitions published");
        assertTrue(committedInputBeforeKill < checks.size(), "killed before all input was processed: "
                + committedInputBeforeKill + " of " + checks.size());

        second = new StreamProcessorService(Settings.of(settings(), StreamProcessorService.KEYS));
        second.start();
        producing.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        await(() -> committedInput() == checks.size(), "the restarted processor to commit all input");

        List<ConsumerRecord<String, AlertEvent>> published = committedAlerts();
        List<String> all = published.stream().map(r -> transition(r.value())).toList();
        Map<String, Long> repeated = all.stream().collect(Collectors.groupingBy(t -> t, Collectors.counting()))
                .entrySet().stream().filter(e -> e.getValue() > 1)
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
        assertEquals(Map.of(), repeated, "no transition published twice");
        Set<String> lost = new TreeSet<>(expected);
        lost.removeAll(all);
        assertEquals(Set.of(), lost, "no transition lost");
        Set<String> unexpected = new TreeSet<>(all);
        unexpected.removeAll(expected);
        assertEquals(Set.of(), unexpected, "nothing the uncrashed run did not publish");
        assertTrue(published.stream().allMatch(r -> r.key().equals(r.value().getFingerprint())));
    }

    /**
     * Twelve targets, one poll every 2 s for 10 min: an {@code http} check failing 45 s of every 150 s (target-down
     * fires and resolves, high-error-rate on the worst minutes), and for every other target a {@code db} check failing
     * 70 s of every 200 s next to it; each target at its own phase.
     */
    private static List<CheckResult> input(Instant t0) {
        List<CheckResult> checks = new ArrayList<>();
        for (int s = 0; s < SPAN; s += POLL) {
            for (int i = 0; i < TARGETS; i++) {
                String target = "crash-" + i;
                Instant at = t0.plusSeconds(s);
                checks.add(check(target, "http", (s + 17 * i) % 150 < 45, at, 10 + s % 7));
                if (i % 2 == 0) {
                    checks.add(check(target, "db", (s + 31 * i) % 200 < 70, at, 3 + s % 5));
                }
            }
        }
        return checks;
    }

    private static CheckResult check(String target, String name, boolean failing, Instant at, double latencyMs) {
        return CheckResult.newBuilder().setTargetId(target).setCheckName(name)
                .setStatus(failing ? CheckStatus.CRITICAL : CheckStatus.OK).setLatencyMs(latencyMs).setObservedAt(at)
                .build();
    }

    /** What the topology publishes for {@code checks} with the same settings and no crash. */
    private List<AlertEvent> expectedAlerts(List<CheckResult> checks) {
        TopologySettings topology = TopologySettings.from(Settings.of(settings(), StreamProcessorService.KEYS));
        try (TopologyHarness driver = new TopologyHarness(topology, driverStateDir)) {
            for (CheckResult check : checks) {
                driver.checks.pipeInput(check.getTargetId(), check, check.getObservedAt());
            }
            return driver.readAlerts();
        }
    }

    /** The identity of one transition: which alert, which state, when. */
    private static String transition(AlertEvent alert) {
        return alert.getFingerprint() + "|" + alert.getState() + "|" + alert.getOccurredAt() + "|" + alert.getRuleId()
                + "|" + alert.getTargetId();
    }

    private static Set<String> transitions(List<AlertEvent> alerts) {
        Set<String> out = new TreeSet<>();
        alerts.forEach(a -> out.add(transition(a)));
        assertEquals(alerts.size(), out.size(), "the uncrashed run publishes each transition once");
        assertTrue(alerts.stream().anyMatch(a -> a.getState() == AlertState.FIRING));
        return out;
    }

    /**
     * Records stamped now by the producer (observedAt in the past), so the window changelogs' writes, which carry the
     * input's timestamps, are recent and survive their short retention until the restore.
     */
    private void produce(List<CheckResult> checks, AtomicInteger sent) {
        try (KafkaProducer<String, CheckResult> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
                Topics.CHECKS.keySerde().serializer(), Topics.CHECKS.valueSerde().serializer())) {
            for (CheckResult check : checks) {
                producer.send(new ProducerRecord<>(Topics.CHECKS.name(), check.getTargetId(), check));
                if (sent.incrementAndGet() % 200 == 0) {
                    producer.flush(); // paced by the broker's acknowledgements, so the kill finds the stream flowing
                }
            }
        }
    }

    private Map<String, String> settings() {
        Map<String, String> values = new HashMap<>(StreamProcessorIT.values(kafka, APPLICATION_ID, stateDir, Map.of(
                // Nothing closes or goes absent on the wall clock: the alerts depend on the records alone.
                "streams.window.idle.timeout", "30m",
                "streams.absence.timeout", "30m",
                "streams.commit.interval", "1s")));
        values.putAll(ChildJvm.quickGroupLeave());
        return values;
    }


    /** fleet.alerts as a read_committed consumer sees it now, read to its end. */
    private List<ConsumerRecord<String, AlertEvent>> committedAlerts() {
        List<ConsumerRecord<String, AlertEvent>> out = new ArrayList<>();
        try (KafkaConsumer<String, AlertEvent> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                Topics.ALERTS.keySerde().deserializer(), Topics.ALERTS.valueSerde().deserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.ALERTS.name()).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions); // the last stable offsets
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
                assertTrue(System.nanoTime() < deadline, "reading " + Topics.ALERTS.name() + " to its end");
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    /** Input records of fleet.checks whose offsets the application has committed (with their output, under EOS). */
    private long committedInput() {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(APPLICATION_ID)
                    .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
            Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
            committed.keySet().stream().filter(tp -> tp.topic().equals(Topics.CHECKS.name()))
                    .forEach(tp -> earliest.put(tp, OffsetSpec.earliest()));
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> starts =
                    admin.listOffsets(earliest).all().get(10, TimeUnit.SECONDS);
            return starts.entrySet().stream()
                    .mapToLong(e -> committed.get(e.getKey()) == null ? 0 : committed.get(e.getKey()).offset() - e.getValue().offset())
                    .sum();
        } catch (Exception e) {
            throw new AssertionError("cannot read the committed offsets of " + APPLICATION_ID, e);
        }
    }

    /** Polls {@code condition} until it holds; fails naming {@code what} after {@link #WAIT}. */
    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        Await.until(condition, WAIT, what);
    }
}
