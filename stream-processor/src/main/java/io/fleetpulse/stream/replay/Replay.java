package io.fleetpulse.stream.replay;

import io.fleetpulse.runtime.KafkaSettings;
import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topic;
import io.fleetpulse.schemas.TopicProvisioner;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.stream.HealthTopology;
import io.fleetpulse.stream.PipelineCounters;
import io.fleetpulse.stream.SourcePartitions;
import io.fleetpulse.stream.StreamProcessorService;
import io.fleetpulse.stream.StreamsProps;
import io.fleetpulse.stream.TopologySettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * {@code fleetpulse replay}: re-runs the live topology over the raw topics' records between two times, under its own
 * application id and into prefixed output topics ({@code replay-fleet.alerts}, which alerting never reads), so a
 * replay never pages anyone.
 *
 * <p>The range is one of offsets, per partition, as the broker's time index gives them: of {@code fleet.checks} and
 * {@code fleet.metrics} from the first record stamped at or after {@code from} to the last one before the first record
 * stamped at or after {@code to}; of {@code fleet.targets} (the inventory: state, not events) from the beginning to
 * the same end. The start offsets are committed for the new group before Streams starts, so it begins there; the
 * {@link ReplayBound} extractor skips what lies past the end. Once every input partition's committed offset has
 * passed its end, the replay keeps running for the drain (by default window size + grace + idle timeout, what it takes
 * the wall clock to close the last open windows, as it would live), then stops and deletes its internal topics,
 * consumer group and local state; its output topics stay.
 */
public final class Replay {

    /** The inputs in the order they are reported. */
    static final List<Topic<?, ?>> INPUTS = SourcePartitions.SOURCES;
    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(1);
    private static final int ADMIN_TIMEOUT_MS = 30_000;
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    /**
     * @param drain how long to run on once the input is through; {@code null} for window size + grace + idle timeout
     */
    public record Request(Instant from, Instant to, String prefix, Duration drain) {
        public Request {
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(to, "to");
            Objects.requireNonNull(prefix, "prefix");
            if (!from.isBefore(to)) {
                throw new IllegalArgumentException("--from " + from + " must be before --to " + to);
            }
            if (prefix.isEmpty()) {
                throw new IllegalArgumentException("the prefix must not be empty: a replay would write to the live topics");
            }
        }
    }

    /** What the replay read and wrote, from the topology's own counters. */
    public record Summary(String applicationId, long recordsInRange, Map<String, Long> recordsIn, long windowsOut,
                          long alertsFired, long alertsResolved, Map<String, Long> deadLetters, List<String> outputTopics,
                          Duration took) {
        public String describe() {
            return "replay " + applicationId + " done in " + took.toSeconds() + " s: " + recordsInRange
                    + " records in range, read " + recordsIn + "; wrote " + windowsOut + " 1-minute windows, "
                    + alertsFired + " firing and " + alertsResolved + " resolved alerts, dead letters " + deadLetters
                    + " to " + String.join(", ", outputTopics);
        }
    }

    /** One partition's range: [start, end) in offsets. */
    record Span(TopicPartition partition, long start, long end) {
        long size() {
            return Math.max(0, end - start);
        }

        long done(Long committed) {
            return committed == null ? 0 : Math.min(size(), Math.max(0, committed - start));
        }
    }

    private final Config config;
    private final Request request;
    private final PrintWriter out;

    private Replay(Config config, Request request, PrintWriter out) {
        this.config = config;
        this.request = request;
        this.out = out;
    }

    /**
     * Runs a replay of the stream processor configured by {@code config} and returns once it is done; progress goes
     * to {@code out}. Throws if the processor fails on the way.
     */
    public static Summary run(Config config, Request request, PrintWriter out) throws Exception {
        return new Replay(config, request, out).run();
    }

    private Summary run() throws Exception {
        long started = System.nanoTime();
        Settings live = Settings.resolve(config, StreamProcessorService.KEYS);
        String applicationId = live.get(StreamsProps.APPLICATION_ID) + "-replay-" + STAMP.format(Instant.now());
        Settings settings = Settings.resolve(config
                .with(StreamsProps.APPLICATION_ID.name(), applicationId)
                .with(TopologySettings.OUTPUT_PREFIX.name(), request.prefix()), StreamProcessorService.KEYS);
        requireOwn(settings, StreamsProps.APPLICATION_ID.name(), settings.get(StreamsProps.APPLICATION_ID), applicationId);
        requireOwn(settings, TopologySettings.OUTPUT_PREFIX.name(), settings.get(TopologySettings.OUTPUT_PREFIX), request.prefix());
        Duration drain = request.drain() != null ? request.drain() : HealthTopology.WINDOW_SIZE
                .plus(settings.get(TopologySettings.WINDOW_GRACE)).plus(settings.get(TopologySettings.IDLE_TIMEOUT));

        KafkaSettings kafka = KafkaSettings.from(settings);
        try (Admin admin = Admin.create(kafka.admin("fleetpulse-replay", ADMIN_TIMEOUT_MS))) {
            List<Span> spans = plan(admin);
            long total = spans.stream().mapToLong(Span::size).sum();
            Map<TopicPartition, Long> ends = new HashMap<>();
            spans.forEach(s -> ends.put(s.partition(), s.end()));
            StreamProcessorService service = new StreamProcessorService(settings, ReplayBound.properties(ends));
            List<String> outputs = List.copyOf(service.outputTopics());
            createOutputs(admin, outputs, kafka);
            Map<TopicPartition, OffsetAndMetadata> starts = new HashMap<>();
            spans.forEach(s -> starts.put(s.partition(), new OffsetAndMetadata(s.start())));
            admin.alterConsumerGroupOffsets(applicationId, starts).all().get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            out.printf("replay %s: %d records from %s to %s (%s), writing to %s%n", applicationId, total,
                    request.from(), request.to(), describe(spans), String.join(", ", outputs));
            try {
                service.start();
                awaitThrough(admin, applicationId, spans, total, service);
                out.printf("replay: every input partition passed --to; draining %d s so the last windows close%n",
                        drain.toSeconds());
                awaitFailureFor(service, drain);
            } finally {
                service.close();
            }
            PipelineCounters c = service.counters();
            try {
                cleanUp(admin, applicationId, settings.get(StreamsProps.STATE_DIR).toAbsolutePath().resolve(applicationId));
            } catch (Exception e) {
                // The output is complete; what is left behind costs disk, not correctness.
                out.printf("replay: could not clean up everything (%s); delete the topics and group %s by hand%n", e,
                        applicationId);
            }
            return new Summary(applicationId, total, c.recordsInByTopic(), c.windowsOut(), c.alertsFired(),
                    c.alertsResolved(), c.deadLettersByReason(), outputs,
                    Duration.ofNanos(System.nanoTime() - started));
        }
    }

    /** An environment override would silently make the replay the live processor: refuse it instead. */
    private static void requireOwn(Settings settings, String key, String actual, String wanted) {
        if (!actual.equals(wanted)) {
            throw new ConfigException(key, "A replay sets " + key + " itself (" + wanted + "), but the environment "
                    + "overrides it with '" + actual + "': unset that variable for the replay");
        }
    }

    /** Each input partition's offsets for the time range. */
    private List<Span> plan(Admin admin) throws Exception {
        SourcePartitions partitionCounts = SourcePartitions.lookUp(admin, Duration.ofMillis(ADMIN_TIMEOUT_MS));
        List<TopicPartition> partitions = new ArrayList<>();
        for (Topic<?, ?> topic : INPUTS) {
            for (int p = 0; p < partitionCounts.count(topic.name()); p++) {
                partitions.add(new TopicPartition(topic.name(), p));
            }
        }
        Map<TopicPartition, Long> latest = offsets(admin, partitions, p -> OffsetSpec.latest());
        Map<TopicPartition, Long> earliest = offsets(admin, partitions, p -> OffsetSpec.earliest());
        Map<TopicPartition, Long> atFrom = offsets(admin, partitions, p -> OffsetSpec.forTimestamp(request.from().toEpochMilli()));
        Map<TopicPartition, Long> atTo = offsets(admin, partitions, p -> OffsetSpec.forTimestamp(request.to().toEpochMilli()));
        List<Span> spans = new ArrayList<>();
        for (TopicPartition p : partitions) {
            // No record at or after a time: the offset is the log's end.
            long end = atTo.get(p) >= 0 ? atTo.get(p) : latest.get(p);
            long start = p.topic().equals(Topics.TARGETS.name()) ? earliest.get(p) : atFrom.get(p) >= 0 ? atFrom.get(p) : latest.get(p);
            spans.add(new Span(p, Math.min(start, end), end));
        }
        return spans;
    }

    private static Map<TopicPartition, Long> offsets(Admin admin, List<TopicPartition> partitions,
                                                     java.util.function.Function<TopicPartition, OffsetSpec> spec) throws Exception {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        partitions.forEach(p -> request.put(p, spec.apply(p)));
        Map<TopicPartition, Long> offsets = new HashMap<>();
        admin.listOffsets(request).all().get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .forEach((p, info) -> offsets.put(p, info.offset()));
        return offsets;
    }

    /** The replay's output topics, configured as the contract topics they stand in for. */
    private void createOutputs(Admin admin, List<String> outputs, KafkaSettings kafka) throws InterruptedException {
        List<Topic<?, ?>> topics = new ArrayList<>();
        for (String name : outputs) {
            Topic<?, ?> contract = Topics.byName(name.substring(request.prefix().length())).orElseThrow(
                    () -> new IllegalStateException("the topology writes " + name + ", which is no prefixed contract topic"));
            topics.add(prefixed(request.prefix(), contract));
        }
        new TopicProvisioner(admin).ensureTopics(topics, kafka.partitions(), kafka.replicationFactor());
    }

    /** {@code t} under {@code prefix + name}, with its serdes and retention: a replay's copy of a contract topic. */
    public static <K, V> Topic<K, V> prefixed(String prefix, Topic<K, V> t) {
        return new Topic<>(prefix + t.name(), t.keySerde(), t.valueSerde(), t.valueType(), t.compacted(),
                t.retention(), t.perTarget());
    }

    /** Reports progress until every input partition's committed offset has reached its end. */
    private void awaitThrough(Admin admin, String group, List<Span> spans, long total, StreamProcessorService service)
            throws Exception {
        long reported = -1;
        while (true) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            long done = 0;
            boolean through = true;
            for (Span span : spans) {
                OffsetAndMetadata at = committed.get(span.partition());
                Long offset = at == null ? null : at.offset();
                done += span.done(offset);
                through &= offset != null && offset >= span.end();
            }
            if (done != reported) {
                out.printf("replay: %d of %d records (%d%%)%n", done, total, total == 0 ? 100 : done * 100 / total);
                reported = done;
            }
            if (through) {
                return;
            }
            awaitFailureFor(service, PROGRESS_EVERY);
        }
    }

    /** Waits {@code time}, or throws as soon as the processor fails. */
    private static void awaitFailureFor(StreamProcessorService service, Duration time) throws Exception {
        CompletableFuture<Throwable> failure = service.failure().toCompletableFuture();
        try {
            Throwable cause = failure.get(time.toMillis(), TimeUnit.MILLISECONDS);
            throw new IllegalStateException("the replay's stream processor failed: " + cause.getMessage(), cause);
        } catch (TimeoutException stillRunning) {
            // the normal case
        } catch (ExecutionException e) {
            throw new IllegalStateException("the replay's stream processor failed: " + e.getCause(), e.getCause());
        }
    }

    /** A replay leaves its output and nothing else: no changelogs, no consumer group, no local state. */
    private void cleanUp(Admin admin, String applicationId, Path stateDir) throws Exception {
        List<String> internal = admin.listTopics().names().get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS).stream()
                .filter(name -> name.startsWith(applicationId + "-")).sorted().toList();
        admin.deleteTopics(internal).all().get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        admin.deleteConsumerGroups(List.of(applicationId)).all().get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        if (Files.exists(stateDir)) {
            try (Stream<Path> paths = Files.walk(stateDir)) {
                for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("could not delete the replay's state under " + stateDir, e);
            }
        }
        out.printf("replay: deleted %d internal topics, consumer group %s and local state %s%n", internal.size(),
                applicationId, stateDir);
    }

    private static String describe(List<Span> spans) {
        Map<String, Long> perTopic = new LinkedHashMap<>();
        spans.forEach(s -> perTopic.merge(s.partition().topic(), s.size(), Long::sum));
        List<String> parts = new ArrayList<>();
        perTopic.forEach((topic, n) -> parts.add(topic + " " + n));
        return String.join(", ", parts);
    }
}
