package io.fleetpulse.launcher;

import com.sun.management.OperatingSystemMXBean;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.runtime.KafkaSettings;
import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.TopicProvisioner;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.stream.RuleBook;
import io.fleetpulse.stream.StreamProcessorService;
import io.fleetpulse.stream.StreamsProps;
import io.fleetpulse.stream.TopologySettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * {@code fleetpulse bench processor}: the stream processor's throughput against the raw read rate of the same
 * records, and its alert latency, in one run on one in-process broker.
 *
 * <ol>
 *   <li>Load: W warm-up and then N measured synthetic events ({@link BenchLoad}, one bulk in event-time order) for T
 *       targets onto fleet.checks and fleet.metrics.</li>
 *   <li>Raw read: a plain consumer (read_committed, assigned, no group) reads all W + N records from the start, bytes
 *       only; a second pass also decodes every value from Avro, as the processor's intake must. Each is timed from
 *       the poll that passes W records to the end.</li>
 *   <li>Processor: a {@link StreamProcessorService} (exactly-once, the bundled rules) under a new application id
 *       works off the same records. Its rate is the events committed between its first commit past the W warm-up
 *       events and the one that reaches the end of both topics (every input record processed and its outputs
 *       committed), over the time between the two. The warm-up lets the JIT compile the hot path first: measured cold
 *       on two cores, its compiler threads used 0.4 to 0.6 of a core next to the processor's stream thread.
 *       Start-up and the warm-up's own rate are reported apart.</li>
 *   <li>Alert latency: once it has caught up, rounds of new targets each get a burst of failing checks whose last
 *       one completes target-down's {@code for}. Latency is from just before that burst is sent to when a
 *       read_committed consumer of fleet.alerts receives the target's FIRING event.</li>
 * </ol>
 */
final class BenchProcessor {

    private static final Duration CATCH_UP_TIMEOUT = Duration.ofMinutes(10);
    private static final Duration ALERT_TIMEOUT = Duration.ofSeconds(60);
    /** Settings each run sets itself (its own broker, a new application id and state folder), so no --set of them. */
    static final List<String> OWN_SETTINGS = List.of(KafkaSettings.BOOTSTRAP_SERVERS.name(),
            StreamsProps.APPLICATION_ID.name(), StreamsProps.STATE_DIR.name());

    /** {@code events} are measured; {@code warmupEvents} more are produced before them, read and processed first. */
    record Options(long events, long warmupEvents, int targets, int alertRounds, int alertTargetsPerRound, int streamThreads,
                   Map<String, String> overrides, Path workDir, boolean everyMetricDetectors) {
    }

    /**
     * With {@code --detectors every-metric} (the default), added to the bundled rules: an anomaly detector on every
     * measured series the load sends (each target's check latency, CPU, memory and disk, and its minutes' p95
     * latency) and a disk and a memory forecast, so every sample of every target passes through a model.
     */
    static final String EVERY_METRIC_RULES = """
              - { id: bench-anomaly-check-latency, kind: anomaly, signal: check_latency_ms, severity: info }
              - { id: bench-anomaly-cpu, kind: anomaly, signal: cpu_percent, severity: info }
              - { id: bench-anomaly-memory, kind: anomaly, signal: memory_percent, severity: info }
              - { id: bench-anomaly-disk, kind: anomaly, signal: disk_percent, severity: info }
              - { id: bench-anomaly-p95, kind: anomaly, signal: latency_p95_ms_1m, severity: info }
              - { id: bench-disk-forecast, kind: predictive, signal: disk_percent, limit: 100, horizon: 4h, severity: info }
              - { id: bench-memory-forecast, kind: predictive, signal: memory_percent, limit: 100, horizon: 4h, severity: info }
            """;

    private final Options options;
    private final PrintStream out;

    BenchProcessor(Options options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    Map<String, Object> run() throws Exception {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("events", options.events());
        result.put("warmup_events", options.warmupEvents());
        result.put("targets", options.targets());
        result.put("cores", Runtime.getRuntime().availableProcessors());
        result.put("load_average_before", loadAverage());

        out.println("Starting Kafka (in-process KRaft broker in " + options.workDir() + ") ...");
        try (EmbeddedKafka kafka = EmbeddedKafka.start(options.workDir().resolve("kafka"))) {
            KafkaSettings clients = KafkaSettings.from(Settings.resolve(
                    Config.of(Map.of(KafkaSettings.BOOTSTRAP_SERVERS.name(), kafka.bootstrapServers())), KafkaSettings.KEYS));
            try (Admin admin = Admin.create(clients.admin("fleetpulse-bench", 30_000))) {
                new TopicProvisioner(admin).ensureTopics(Topics.ALL, clients.partitions(), (short) 1);
                awaitLeaders(admin);
                try (BenchLoad load = new BenchLoad(clients.producer("fleetpulse-bench"))) {
                    produce(load, result);
                    Map<TopicPartition, Long> ends = endOffsets(admin);
                    long total = ends.values().stream().mapToLong(Long::longValue).sum();
                    if (total != produced()) {
                        throw new IllegalStateException("the input topics hold " + total + " records, not " + produced());
                    }
                    readRaw(clients, ends, false, result);
                    readRaw(clients, ends, true, result);
                    process(clients, admin, ends, load, result);
                }
            }
            out.println("Stopping Kafka ...");
        }
        double raw = (double) result.get("raw_consume_events_per_sec");
        double processor = (double) result.get("processor_events_per_sec");
        result.put("ratio", round(processor / raw, 3));
        result.put("load_average_after", loadAverage());
        return result;
    }

    /** Warm-up and measured events: one bulk in event-time order, so the warm-up ones come first in every partition. */
    private long produced() {
        return options.warmupEvents() + options.events();
    }

    private void produce(BenchLoad load, Map<String, Object> result) {
        out.printf("Producing %,d events (%,d warm-up, then %,d measured) for %,d targets to %s and %s ...%n",
                produced(), options.warmupEvents(), options.events(), options.targets(), Topics.CHECKS.name(),
                Topics.METRICS.name());
        Instant start = BenchLoad.bulkStart(produced(), options.targets(), Instant.now(), Duration.ofMinutes(2));
        long began = System.nanoTime();
        load.sendBulk(produced(), options.targets(), start, sent -> out.printf("  produced %,d / %,d%n", sent, produced()));
        double seconds = secondsSince(began);
        result.put("produce_events_per_sec", round(produced() / seconds, 0));
        out.printf("  %,.0f events/s (acks=all, lz4, linger 20 ms)%n", produced() / seconds);
    }

    /**
     * A rate over the measured events only: from the first moment at least the warm-up's count was done ({@code
     * warmedAt}, when {@code doneThen} were) to the moment all were ({@code endedAt}); nanoTime instants.
     */
    private record Measured(long warmedAt, long doneThen, long endedAt, long total) {

        double seconds() {
            return (endedAt - warmedAt) / 1e9;
        }

        double rate() {
            return (total - doneThen) / seconds();
        }
    }

    private static String bundledRules() throws IOException {
        try (InputStream in = RuleBook.class.getResourceAsStream(RuleBook.DEFAULT_RESOURCE)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).stripTrailing() + "\n";
        }
    }

    private void readRaw(KafkaSettings clients, Map<TopicPartition, Long> ends, boolean decode, Map<String, Object> result) {
        String mode = decode ? "bytes and Avro decode of every value" : "bytes only";
        out.println("Raw read of the same records (read_committed, " + mode + ") ...");
        Map<String, Object> props = clients.consumer("fleetpulse-bench-raw", "fleetpulse-bench-raw");
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        long read = 0;
        long decodedBytes = 0;
        long began = System.nanoTime();
        long warmedAt = options.warmupEvents() == 0 ? began : -1;
        long readThen = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(ends.keySet());
            consumer.seekToBeginning(ends.keySet());
            long deadline = System.nanoTime() + CATCH_UP_TIMEOUT.toNanos();
            while (read < produced()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("raw read got " + read + " of " + produced() + " records in " + CATCH_UP_TIMEOUT);
                }
                if (warmedAt < 0 && read >= options.warmupEvents()) {
                    warmedAt = System.nanoTime();
                    readThen = read;
                }
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    read++;
                    if (decode) {
                        Object value = record.topic().equals(Topics.CHECKS.name())
                                ? Topics.CHECKS.valueSerde().deserializer().deserialize(record.topic(), record.value())
                                : Topics.METRICS.valueSerde().deserializer().deserialize(record.topic(), record.value());
                        decodedBytes += value == null ? 0 : record.value().length;
                    }
                }
            }
        }
        // A last poll that took the read past the warm-up and to the end at once leaves nothing to measure after it.
        Measured measured = warmedAt < 0 || readThen >= read ? new Measured(began, 0, System.nanoTime(), read)
                : new Measured(warmedAt, readThen, System.nanoTime(), read);
        double rate = round(measured.rate(), 0);
        result.put(decode ? "raw_decode_events_per_sec" : "raw_consume_events_per_sec", rate);
        if (!decode) {
            result.put("raw_consume_mode", "plain KafkaConsumer, read_committed, assigned partitions, bytes only (no Avro decode)");
        }
        out.printf("  %,.0f events/s%s%n", rate, decode ? " (" + decodedBytes / Math.max(1, read) + " B a value)" : "");
    }

    private void process(KafkaSettings clients, Admin admin, Map<TopicPartition, Long> ends, BenchLoad load,
                         Map<String, Object> result) throws Exception {
        String applicationId = "fleetpulse-bench-" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, String> config = new HashMap<>();
        config.put(KafkaSettings.BOOTSTRAP_SERVERS.name(), clients.bootstrapServers());
        config.put(StreamsProps.APPLICATION_ID.name(), applicationId);
        config.put(StreamsProps.STATE_DIR.name(), options.workDir().resolve("streams").toString());
        // The bulk's targets all go quiet when it ends: without this their absence would page 10,000 times mid-run.
        config.put("streams.absence.timeout", "1h");
        config.put("streams.num.threads", String.valueOf(options.streamThreads()));
        if (options.everyMetricDetectors() && !options.overrides().containsKey(TopologySettings.RULES_FILE.name())) {
            Path rules = options.workDir().resolve("rules-every-metric.yaml");
            Files.writeString(rules, bundledRules() + EVERY_METRIC_RULES);
            config.put(TopologySettings.RULES_FILE.name(), rules.toString());
            result.put("detectors", "every metric: anomaly on check_latency_ms, cpu_percent, memory_percent, "
                    + "disk_percent and latency_p95_ms_1m; predictive on disk_percent and memory_percent");
            result.put("detector_series_per_target", 7);
        } else {
            result.put("detectors", "those of the rules used (bundled, or rules.file)");
        }
        config.putAll(options.overrides());
        result.put("processor_settings", new TreeMap<>(options.overrides()));
        Settings settings = ServiceKind.STREAM_PROCESSOR.settings(Config.of(config));
        out.println("Starting the stream processor (application id " + applicationId + ", exactly-once) ...");
        try (StreamProcessorService service = (StreamProcessorService) ServiceKind.STREAM_PROCESSOR.create(settings);
             AlertWatch alerts = new AlertWatch(clients)) {
            long began = System.nanoTime();
            service.start();
            long running = System.nanoTime();
            result.put("processor_startup_seconds", round((running - began) / 1e9, 2));
            Progress progress = awaitCommitted(admin, applicationId, ends, running);
            Measured measured = progress.measured();
            CpuUse cpu = progress.cpuAtEnd().since(progress.cpuWarmed());
            double rate = round(measured.rate(), 0);
            double seconds = measured.seconds();
            long counted = measured.total() - measured.doneThen();
            result.put("processor_events_per_sec", rate);
            // Streams RUNNING when there is no warm-up, or when the commit that passed it also reached the end.
            result.put("processor_measured_from", measured.doneThen() > 0 ? "first commit past the warm-up" : "Streams RUNNING");
            if (measured.doneThen() > 0) {
                result.put("processor_warmup_events_per_sec",
                        round(measured.doneThen() / ((measured.warmedAt() - running) / 1e9), 0));
            }
            result.put("processor_stream_threads_cpu_ns_per_event", round((double) cpu.streamThreadsNs() / counted, 0));
            result.put("processor_stream_threads_busy", round(cpu.streamThreadsNs() / 1e9 / seconds, 2));
            result.put("process_cpu_cores_used", round(cpu.processNs() / 1e9 / seconds, 2));
            result.put("processor_cpu_definition", "over the measured interval: CPU time of the stream threads per input "
                    + "event; the stream threads' CPU seconds per second (1.0 = one core busy); the whole JVM's "
                    + "(broker, processor, JIT, GC) CPU seconds per second, out of " + Runtime.getRuntime().availableProcessors());
            result.put("processor_rate_definition", "events committed between the first commit of "
                    + applicationId + " past the warm-up events (Streams RUNNING if none) and the one that reaches the end"
                    + " of fleet.checks and fleet.metrics, over the time between them; exactly_once_v2, "
                    + options.streamThreads() + (options.streamThreads() == 1 ? " thread" : " threads"));
            result.put("processor_threads", options.streamThreads());
            result.put("processor_windows_out", service.counters().windowsOut());
            out.printf("  %,.0f events/s (%,d events in %.1f s after the warm-up; start-up %.1f s before it)%n", rate,
                    counted, seconds, (running - began) / 1e9);
            alertLatency(load, alerts, result);
        }
    }

    /** CPU time used so far by the stream threads of this JVM and by the whole process, in ns. */
    private record CpuUse(long streamThreadsNs, long processNs) {

        private static final Pattern STREAM_THREAD = Pattern.compile(".*-StreamThread-\\d+");

        static CpuUse now() {
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            long streamThreads = 0;
            for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
                // "<client id>-StreamThread-<n>", not its producer's "kafka-producer-network-thread | ...-producer".
                if (info != null && STREAM_THREAD.matcher(info.getThreadName()).matches()) {
                    streamThreads += Math.max(0, threads.getThreadCpuTime(info.getThreadId()));
                }
            }
            long process = ManagementFactory.getOperatingSystemMXBean() instanceof OperatingSystemMXBean os
                    ? os.getProcessCpuTime() : -1;
            return new CpuUse(streamThreads, process);
        }

        /** Used between {@code before} and this; stream threads that ended in between are not counted. */
        CpuUse since(CpuUse before) {
            return new CpuUse(streamThreadsNs - before.streamThreadsNs, processNs - before.processNs);
        }
    }

    /** The processor's measured interval, and CPU use at its two ends. */
    private record Progress(Measured measured, CpuUse cpuWarmed, CpuUse cpuAtEnd) {
    }

    private Progress awaitCommitted(Admin admin, String groupId, Map<TopicPartition, Long> ends, long since) throws Exception {
        long total = produced();
        long lastReport = System.nanoTime();
        long deadline = since + CATCH_UP_TIMEOUT.toNanos();
        long warmedAt = options.warmupEvents() == 0 ? since : -1;
        long doneThen = 0;
        CpuUse cpuAtStart = CpuUse.now();
        CpuUse cpuWarmed = cpuAtStart;
        while (true) {
            Map<TopicPartition, OffsetAndMetadata> committed =
                    admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata().get();
            long done = ends.keySet().stream().mapToLong(tp -> {
                OffsetAndMetadata offset = committed.get(tp);
                return offset == null ? 0 : offset.offset();
            }).sum();
            long now = System.nanoTime();
            if (warmedAt < 0 && done >= options.warmupEvents()) {
                warmedAt = now;
                doneThen = done;
                cpuWarmed = CpuUse.now();
            }
            if (done >= total) {
                if (doneThen >= total) {
                    // The commit that passed the warm-up also reached the end: nothing to measure after it.
                    out.println("  the warm-up and the measured events were committed together; measured from Streams RUNNING");
                    return new Progress(new Measured(since, 0, now, total), cpuAtStart, CpuUse.now());
                }
                return new Progress(new Measured(warmedAt, doneThen, now, total), cpuWarmed, CpuUse.now());
            }
            if (now > deadline) {
                throw new IllegalStateException("the stream processor committed " + done + " of " + total
                        + " input records in " + CATCH_UP_TIMEOUT);
            }
            if (now - lastReport > 2_000_000_000L) {
                out.printf("  processed and committed %,d / %,d%s%n", done, total, warmedAt < 0 ? " (warming up)" : "");
                lastReport = now;
            }
            Thread.sleep(20);
        }
    }

    private void alertLatency(BenchLoad load, AlertWatch alerts, Map<String, Object> result) throws InterruptedException {
        int rounds = options.alertRounds();
        int perRound = options.alertTargetsPerRound();
        out.printf("Alert latency: %d rounds of failing-check bursts for %d new targets each ...%n", rounds, perRound);
        Map<String, Long> sentAt = new LinkedHashMap<>();
        for (int round = 0; round < rounds; round++) {
            long sent = System.nanoTime();
            Instant end = Instant.now();
            for (int t = 0; t < perRound; t++) {
                String target = String.format("bench-alert-%03d-%03d", round, t);
                sentAt.put(target, sent);
                load.sendFailingBurst(target, end);
            }
            load.flush();
            Thread.sleep(250);
        }
        long deadline = System.nanoTime() + ALERT_TIMEOUT.toNanos();
        while (!alerts.firedAt.keySet().containsAll(sentAt.keySet()) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        List<Double> latencies = new ArrayList<>();
        sentAt.forEach((target, sent) -> {
            Long fired = alerts.firedAt.get(target);
            if (fired != null) {
                latencies.add((fired - sent) / 1e6);
            }
        });
        Collections.sort(latencies);
        result.put("alert_samples", latencies.size());
        result.put("alerts_missing", sentAt.size() - latencies.size());
        result.put("alert_latency_p50_ms", round(percentile(latencies, 0.50), 1));
        result.put("alert_latency_p99_ms", round(percentile(latencies, 0.99), 1));
        result.put("alert_latency_max_ms", round(percentile(latencies, 1.0), 1));
        result.put("alert_latency_definition", "burst of failing checks sent -> its FIRING AlertEvent received by a "
                + "read_committed consumer of fleet.alerts (includes the exactly-once commit interval)");
        out.printf("  p50 %.0f ms, p99 %.0f ms over %d alerts (%d missing)%n", percentile(latencies, 0.5),
                percentile(latencies, 0.99), latencies.size(), sentAt.size() - latencies.size());
    }

    /** Nearest-rank percentile; NaN when there is no sample. */
    static double percentile(List<Double> sorted, double q) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(q * sorted.size());
        return sorted.get(Math.min(sorted.size(), Math.max(1, rank)) - 1);
    }

    /**
     * Waits until the broker leads every input partition. Producing into freshly created topics earlier gets
     * NOT_LEADER_OR_FOLLOWER, and the idempotent producer's retries of those batches can then fail for good with
     * OUT_OF_ORDER_SEQUENCE_NUMBER.
     */
    private static void awaitLeaders(Admin admin) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try {
                endOffsets(admin);
                return;
            } catch (java.util.concurrent.ExecutionException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
    }

    private static Map<TopicPartition, Long> endOffsets(Admin admin) throws Exception {
        List<String> topics = List.of(Topics.CHECKS.name(), Topics.METRICS.name());
        Map<TopicPartition, OffsetSpec> request = admin.describeTopics(topics).allTopicNames().get().values().stream()
                .flatMap(d -> d.partitions().stream().map(p -> new TopicPartition(d.name(), p.partition())))
                .collect(Collectors.toMap(Function.identity(), tp -> OffsetSpec.latest()));
        return admin.listOffsets(request).all().get().entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
    }

    static double loadAverage() {
        return round(ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(), 2);
    }

    static double secondsSince(long began) {
        return (System.nanoTime() - began) / 1e9;
    }

    static double round(double value, int decimals) {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            return value;
        }
        double scale = Math.pow(10, decimals);
        return Math.round(value * scale) / scale;
    }

    /** Reads fleet.alerts from its current end (read_committed) and notes when each target's first FIRING arrives. */
    private static final class AlertWatch implements AutoCloseable {

        final Map<String, Long> firedAt = new ConcurrentHashMap<>();
        private final Thread thread;
        private volatile boolean stop;

        AlertWatch(KafkaSettings clients) {
            Map<String, Object> props = clients.consumer("fleetpulse-bench-alerts", "fleetpulse-bench-alerts");
            props.remove(ConsumerConfig.GROUP_ID_CONFIG);
            KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.ALERTS.name()).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            partitions.forEach(consumer::position); // fix the start now, before any burst is sent
            thread = new Thread(() -> {
                try (consumer) {
                    while (!stop) {
                        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(50))) {
                            long now = System.nanoTime();
                            AlertEvent event = Topics.ALERTS.valueSerde().deserializer().deserialize(record.topic(), record.value());
                            if (event != null && event.getState() == AlertState.FIRING) {
                                firedAt.putIfAbsent(event.getTargetId(), now);
                            }
                        }
                    }
                }
            }, "fleetpulse-bench-alerts");
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            stop = true;
            thread.join(5_000);
        }
    }
}
