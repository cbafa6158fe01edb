package io.fleetpulse.launcher;

import io.fleetpulse.alerting.AlertingService;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.Evidence;
import io.fleetpulse.events.Severity;
import io.fleetpulse.launcher.BenchReceiver.Fault;
import io.fleetpulse.launcher.BenchReceiver.Kind;
import io.fleetpulse.runtime.ServiceRunner;
import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.schemas.TopicProvisioner;
import io.fleetpulse.schemas.Topics;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * {@code fleetpulse bench alerting}: how long an alert transition takes from being produced on fleet.alerts to
 * each receiver getting it, and whether every one arrives exactly once, with or without one misbehaving receiver.
 *
 * <p>In one JVM: an in-process KRaft broker on a temporary folder, the real {@link AlertingService} (rate limits
 * lifted to 10 000/s per receiver; retries, budgets and in-flight bounds at their defaults) and three
 * {@link BenchReceiver}s on loopback for Slack, PagerDuty and a webhook. It produces {@code alerts} events at
 * {@code rate} per second, alternately the FIRING and the RESOLVED of {@code alerts / 2} alerts, notes when each was
 * handed to the producer, and recovers the faulty receiver after the first half ({@link #recoverAfterHalf}). It then waits, up to
 * {@code timeout}, until every receiver has accepted every transition and alerting has nothing in flight.
 */
final class AlertingBench {

    static final String FINGERPRINT_PREFIX = "bench-alert-";
    /** Warm-up alerts: delivered before the measured run, never counted in its figures (see {@link #warmUp}). */
    static final String WARMUP_PREFIX = "bench-warmup-";
    private static final Duration WARMUP_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final long PROGRESS_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);

    /**
     * One run's parameters, checked before anything starts. {@code fault} null = every receiver healthy;
     * {@code warmup} events are delivered (and awaited) before the measured ones.
     */
    record Options(int alerts, Fault fault, double ratePerSecond, Duration timeout, int warmup) {
        Options {
            if (alerts < 1) {
                throw new IllegalArgumentException("--alerts must be at least 1, not " + alerts);
            }
            if (warmup < 0) {
                throw new IllegalArgumentException("--warmup must not be negative, not " + warmup);
            }
            if (!(ratePerSecond > 0)) {
                throw new IllegalArgumentException("--rate must be positive, not " + ratePerSecond);
            }
            Objects.requireNonNull(timeout, "timeout");
        }
    }

    private final Options options;
    private final PrintStream out;

    AlertingBench(Options options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    AlertingBenchReport run() throws Exception {
        Path dataDir = Files.createTempDirectory("fleetpulse-bench-alerting");
        Map<Kind, BenchReceiver> receivers = new EnumMap<>(Kind.class);
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dataDir.resolve("kafka"));
             ServiceRunner runner = new ServiceRunner(Duration.ofSeconds(30))) {
            for (Kind kind : Kind.values()) {
                Fault.Mode mode = options.fault() != null && options.fault().receiver() == kind ? options.fault().mode() : null;
                receivers.put(kind, BenchReceiver.start(kind, mode));
            }
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
                new TopicProvisioner(admin).ensureTopics(Topics.ALL, 6, (short) 1);
            }
            AlertingService alerting = new AlertingService(ServiceKind.ALERTING.settings(Config.of(
                    settings(kafka, receivers))));
            int opsPort = runner.start(alerting, START_TIMEOUT, "127.0.0.1", 0).port();
            awaitReady(alerting);
            long[] warmupLatencies = warmUp(kafka, receivers);
            out.printf("Alerting ready (ops on :%d); producing %d alert events at %.0f/s, fault: %s%n", opsPort,
                    options.alerts(), options.ratePerSecond(), options.fault() == null ? "none" : options.fault());

            Map<String, Long> producedAt = new ConcurrentHashMap<>();
            long started = System.nanoTime();
            // The clock starts after the warm-up: a fault's "first half" is the measured run's.
            ScheduledExecutorService watcher = recoverAfterHalf(receivers, producedAt, started);
            boolean settled;
            long produced;
            try {
                produce(kafka, producedAt, receivers, started);
                produced = System.nanoTime();
                settled = awaitDeliveries(alerting, receivers, producedAt, started);
            } finally {
                watcher.shutdownNow();
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            if (!settled) {
                out.printf("Timed out after %d s waiting for the rest; what is missing counts as lost%n",
                        options.timeout().toSeconds());
            }
            return AlertingBenchReport.of(options, receivers, producedAt, (produced - started) / 1e9, seconds,
                    ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(), warmupLatencies);
        } finally {
            receivers.values().forEach(BenchReceiver::close);
            Demo.deleteRecursively(dataDir);
        }
    }

    private Map<String, String> settings(EmbeddedKafka kafka, Map<Kind, BenchReceiver> receivers) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("kafka.bootstrap.servers", kafka.bootstrapServers());
        settings.put("kafka.topic.partitions", "6");
        settings.put("alerting.group.id", "fleetpulse-bench");
        settings.put("alerting.slack.webhook.url", receivers.get(Kind.SLACK).url());
        settings.put("alerting.pagerduty.url", receivers.get(Kind.PAGERDUTY).url());
        settings.put("alerting.pagerduty.routing.key", "bench-routing-key");
        settings.put("alerting.webhook.urls", receivers.get(Kind.WEBHOOK).url());
        // Lifted for the run: the bench measures alerting, not the per-receiver pacing real Slack needs.
        settings.put("alerting.slack.rate.per.second", "10000");
        settings.put("alerting.pagerduty.rate.per.second", "10000");
        settings.put("alerting.webhook.rate.per.second", "10000");
        return settings;
    }

    private void awaitReady(AlertingService alerting) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!alerting.isReady()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("alerting did not join its consumer groups within "
                        + START_TIMEOUT.toSeconds() + " s: " + alerting.status());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    /**
     * Sends {@code --warmup} events (prefix {@link #WARMUP_PREFIX}) at the run's rate and waits until every healthy
     * receiver has them, so the measured run starts with a warm JVM (JIT-compiled Streams, Avro, HTTP paths) and with
     * decide's first transactions behind it: a freshly started service pays about a second once for those, which
     * is start-up, not delivery, and would otherwise be most of a short run's p99. Returns the warm-up's own
     * latencies (sorted, ms; reported as {@code warmup_delivery_p99_ms}, so the start-up cost stays visible).
     */
    private long[] warmUp(EmbeddedKafka kafka, Map<Kind, BenchReceiver> receivers) {
        if (options.warmup() == 0) {
            return new long[0];
        }
        out.printf("Warming up with %d alert events (not counted)%n", options.warmup());
        Map<String, Long> producedAt = new ConcurrentHashMap<>();
        produce(kafka, WARMUP_PREFIX, options.warmup(), producedAt, receivers, System.nanoTime());
        List<BenchReceiver> healthy = receivers.values().stream()
                .filter(r -> options.fault() == null || r.kind() != options.fault().receiver()).toList();
        long deadline = System.nanoTime() + WARMUP_TIMEOUT.toNanos();
        while (!healthy.stream().allMatch(r -> producedAt.keySet().stream().allMatch(t -> r.acceptedAt(t) != null))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the warm-up was not delivered within " + WARMUP_TIMEOUT.toSeconds()
                        + " s: " + received(receivers, producedAt));
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        List<Long> latencies = new ArrayList<>();
        for (BenchReceiver receiver : healthy) {
            producedAt.forEach((t, at) -> latencies.add(Math.max(0, (receiver.acceptedAt(t) - at) / 1_000_000)));
        }
        return latencies.stream().mapToLong(Long::longValue).sorted().toArray();
    }

    /**
     * Paced sends; the produce time noted per transition is when the event was handed to the producer, so broker
     * append and consumer fetch are in the figures.
     */
    private void produce(EmbeddedKafka kafka, Map<String, Long> producedAt, Map<Kind, BenchReceiver> receivers,
                         long started) {
        produce(kafka, FINGERPRINT_PREFIX, options.alerts(), producedAt, receivers, started);
    }

    private void produce(EmbeddedKafka kafka, String prefix, int count, Map<String, Long> producedAt,
                         Map<Kind, BenchReceiver> receivers, long started) {
        Map<String, Object> props = new LinkedHashMap<>();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        long interval = (long) (1e9 / options.ratePerSecond());
        long nextProgress = started + PROGRESS_EVERY_NANOS;
        Instant base = Instant.now();
        try (KafkaProducer<String, AlertEvent> producer = new KafkaProducer<>(props,
                Topics.ALERTS.keySerde().serializer(), Topics.ALERTS.valueSerde().serializer())) {
            for (int i = 0; i < count; i++) {
                long due = started + i * interval;
                long now;
                while ((now = System.nanoTime()) < due) {
                    LockSupport.parkNanos(due - now);
                }
                AlertEvent event = event(prefix, i, base);
                producedAt.put(transition(event), System.nanoTime());
                producer.send(new ProducerRecord<>(Topics.ALERTS.name(), event.getFingerprint(), event), (meta, e) -> {
                    if (e != null) {
                        out.println("  produce failed (" + transition(event) + " will count as lost): " + e);
                    }
                });
                if (now >= nextProgress) {
                    out.printf("  t=%5.1fs  produced %d/%d  %s%n", (now - started) / 1e9, i, count,
                            received(receivers, producedAt));
                    nextProgress += PROGRESS_EVERY_NANOS;
                }
            }
            producer.flush();
        }
    }

    /**
     * Ends an {@code errors} or {@code down} fault after the first half of the run: once half of the events are
     * produced and every other receiver has accepted half of them. Going by the healthy receivers, not by the clock,
     * the faulty one is faulty while that half reaches it, however far behind production the pipeline runs on a
     * loaded machine (by the clock alone, a lagging pipeline would reach it only after it recovered).
     */
    private ScheduledExecutorService recoverAfterHalf(Map<Kind, BenchReceiver> receivers, Map<String, Long> producedAt,
                                                      long started) {
        ScheduledExecutorService watcher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bench-fault-watcher");
            t.setDaemon(true);
            return t;
        });
        Fault fault = options.fault();
        if (fault == null || fault.mode() == Fault.Mode.SLOW) {
            return watcher;
        }
        int half = (options.alerts() + 1) / 2;
        AtomicBoolean recovered = new AtomicBoolean();
        watcher.scheduleWithFixedDelay(() -> {
            boolean othersHaveHalf = receivers.values().stream().filter(r -> r.kind() != fault.receiver())
                    .allMatch(r -> r.acceptedWithPrefix(FINGERPRINT_PREFIX) >= half);
            if (!recovered.get() && producedAt.size() >= half && othersHaveHalf) {
                try {
                    receivers.get(fault.receiver()).recover();
                    recovered.set(true);
                    out.printf("  t=%5.1fs  first half delivered to the others: %s recovers%n",
                            (System.nanoTime() - started) / 1e9, fault.receiver().id);
                } catch (IOException | RuntimeException e) {
                    out.println("  could not end the fault (tried again): " + e);
                }
            }
        }, 10, 10, TimeUnit.MILLISECONDS);
        return watcher;
    }

    /** Waits until every receiver has every transition and nothing is in flight, or the timeout. */
    private boolean awaitDeliveries(AlertingService alerting, Map<Kind, BenchReceiver> receivers,
                                    Map<String, Long> producedAt, long started) {
        long deadline = System.nanoTime() + options.timeout().toNanos();
        long nextProgress = System.nanoTime() + PROGRESS_EVERY_NANOS;
        while (true) {
            long now = System.nanoTime();
            boolean all = receivers.values().stream().allMatch(r -> producedAt.keySet().stream()
                    .allMatch(t -> r.acceptedAt(t) != null));
            Object inFlight = alerting.status().get("inFlight");
            if (all && Long.valueOf(0).equals(inFlight == null ? null : ((Number) inFlight).longValue())) {
                out.printf("  t=%5.1fs  all delivered  %s%n", (now - started) / 1e9, received(receivers, producedAt));
                return true;
            }
            if (now > deadline) {
                return false;
            }
            if (alerting.failure().toCompletableFuture().isDone()) {
                out.println("  alerting failed (see the log); what is missing counts as lost");
                return false;
            }
            if (now >= nextProgress) {
                out.printf("  t=%5.1fs  waiting  %s  in flight %s%n", (now - started) / 1e9,
                        received(receivers, producedAt), inFlight);
                nextProgress += PROGRESS_EVERY_NANOS;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    private static String received(Map<Kind, BenchReceiver> receivers, Map<String, Long> producedAt) {
        List<String> parts = new ArrayList<>();
        receivers.values().forEach(r -> parts.add(r.kind().id + " " + producedAt.keySet().stream()
                .filter(t -> r.acceptedAt(t) != null).count()));
        return "received " + String.join(", ", parts);
    }

    /** Event {@code i}: the FIRING (even i) or the RESOLVED (odd i) of alert {@code i / 2}. */
    static AlertEvent event(int i, Instant base) {
        return event(FINGERPRINT_PREFIX, i, base);
    }

    private static AlertEvent event(String prefix, int i, Instant base) {
        String fingerprint = prefix + (i / 2);
        boolean firing = i % 2 == 0;
        Instant startsAt = base.plusMillis(i / 2);
        Instant occurredAt = firing ? startsAt : startsAt.plusSeconds(60);
        return AlertEvent.newBuilder()
                .setFingerprint(fingerprint)
                .setRuleId("bench-cpu-high")
                .setTargetId("bench-" + (i / 2 % 100))
                .setGroup("bench")
                .setLabels(Map.of("env", "bench"))
                .setState(firing ? AlertState.FIRING : AlertState.RESOLVED)
                .setSeverity(Severity.CRITICAL)
                .setSummary("CPU above 90% for 5m")
                .setEvidence(Evidence.newBuilder().setSignal("cpu_percent").setValue(firing ? 97.5 : 41.0)
                        .setOperator(">").setThreshold(90.0).setWindowStart(startsAt.minusSeconds(60))
                        .setWindowEnd(startsAt).setSamples(6).build())
                .setStartsAt(startsAt)
                .setEndsAt(firing ? null : occurredAt)
                .setOccurredAt(occurredAt)
                .build();
    }

    static String transition(AlertEvent event) {
        return event.getFingerprint() + "|" + event.getState();
    }

}
