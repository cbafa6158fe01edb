package io.fleetpulse.launcher;

import io.fleetpulse.collector.CollectorService;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.TopicProvisioner;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.simulator.FleetSpec;
import io.fleetpulse.simulator.Hostility;
import io.fleetpulse.simulator.SimulatedFleet;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;

/**
 * {@code fleetpulse bench collector}: a simulated fleet of N servers and an in-process broker in this JVM, one
 * collector polling every server's health and metrics endpoints at the interval, measured after one interval of
 * warm-up for the duration. {@code hostilePercent} of the servers answer with a body trickling one byte a second or
 * a 50 MiB one, alternately. Measured: polls per second (health and metrics), scheduling lag p50/p99 from the
 * collector's own histogram (bucket upper bounds, so a little high), polls that were not OK and records that could
 * not be produced, and the CPU the whole JVM used (collector, simulated fleet and broker together: an upper bound of
 * the collector's own).
 */
final class CollectorBenchmark {

    record Options(int targets, Duration interval, Duration duration, int hostilePercent, Path dataDir) {
    }

    private CollectorBenchmark() {
    }

    static Map<String, Object> run(Options options, PrintStream out) throws Exception {
        Path dir = Files.createDirectories(options.dataDir());
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SimulatedFleet fleet = SimulatedFleet.start(FleetSpec.of(options.targets()))) {
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
                new TopicProvisioner(admin).ensureTopics(Topics.ALL, 6, (short) 1);
            }
            List<String> ids = fleet.serverIds();
            int hostile = (int) Math.round(ids.size() * options.hostilePercent() / 100.0);
            for (int i = 0; i < hostile; i++) {
                // Spread over the fleet, not its first servers, so hostile targets share the load evenly.
                fleet.setHostile(ids.get((int) ((long) i * ids.size() / hostile)), i % 2 == 0 ? Hostility.SLOW_BODY : Hostility.HUGE_BODY);
            }
            Duration timeout = options.interval().compareTo(Duration.ofSeconds(2)) < 0 ? options.interval() : Duration.ofSeconds(2);
            Path inventory = dir.resolve("inventory.yaml");
            fleet.writeInventory(inventory, options.interval(), timeout);
            CollectorService collector = new CollectorService(Settings.of(Map.of(
                    "collector.inventory", inventory.toString(),
                    "collector.id", "bench",
                    "collector.max.concurrent.polls", "512",
                    "kafka.bootstrap.servers", kafka.bootstrapServers(),
                    "kafka.topic.partitions", "6"), CollectorService.KEYS));
            try {
                out.println("bench collector: " + options.targets() + " targets (" + hostile + " hostile) every "
                        + options.interval().toMillis() + " ms; warming up for one interval ...");
                collector.start();
                Thread.sleep(options.interval().toMillis()); // the first starts are spread over the first interval
                MeterRegistry registry = collector.meterRegistry();
                Snapshot before = Snapshot.take(registry);
                long startNanos = System.nanoTime();
                out.println("measuring for " + options.duration().toSeconds() + " s ...");
                Thread.sleep(options.duration().toMillis());
                Snapshot after = Snapshot.take(registry);
                double seconds = (System.nanoTime() - startNanos) / 1e9;

                Map<String, Object> result = new LinkedHashMap<>();
                result.put("targets", options.targets());
                result.put("hostile_targets", hostile);
                result.put("interval_ms", options.interval().toMillis());
                result.put("duration_s", Math.round(seconds * 10) / 10.0);
                result.put("polls_per_sec", round((after.polls - before.polls) / seconds));
                result.put("planned_polls_per_sec", round(2.0 * options.targets() / (options.interval().toMillis() / 1000.0)));
                result.put("lag_p50_ms", after.lagPercentileMs(before, 0.50));
                result.put("lag_p99_ms", after.lagPercentileMs(before, 0.99));
                result.put("errors", after.notOk - before.notOk + after.produceErrors - before.produceErrors);
                result.put("timeouts", after.timeouts - before.timeouts);
                result.put("produce_errors", after.produceErrors - before.produceErrors);
                result.put("cpu_cores_used", round((after.cpuNanos - before.cpuNanos) / 1e9 / seconds));
                result.put("cpu_cores_available", Runtime.getRuntime().availableProcessors());
                result.put("cpu_scope", "whole JVM: collector, simulated fleet and broker");
                return result;
            } finally {
                collector.close();
            }
        }
    }

    private static double round(double value) {
        return Math.round(value * 100) / 100.0;
    }

    /** The collector's counters and lag histogram at one moment, and the JVM's CPU time. */
    private record Snapshot(double polls, double notOk, double timeouts, double produceErrors, CountAtBucket[] lag,
                            long lagCount, double lagMaxMs, long cpuNanos) {

        static Snapshot take(MeterRegistry registry) {
            double polls = 0;
            double notOk = 0;
            double timeouts = 0;
            for (Counter c : registry.find("fleetpulse.collector.polls").counters()) {
                polls += c.count();
                String outcome = c.getId().getTag("outcome");
                if (!"OK".equals(outcome)) {
                    notOk += c.count();
                }
                if ("TIMEOUT".equals(outcome)) {
                    timeouts += c.count();
                }
            }
            double produceErrors = registry.find("fleetpulse.collector.produce.errors").counters().stream()
                    .mapToDouble(Counter::count).sum();
            Timer lag = registry.get("fleetpulse.collector.poll.scheduling.lag").timer();
            long cpu = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
            var histogram = lag.takeSnapshot();
            return new Snapshot(polls, notOk, timeouts, produceErrors, histogram.histogramCounts(), histogram.count(),
                    histogram.max(TimeUnit.MILLISECONDS), cpu);
        }

        /** The {@code q} quantile of the lags recorded since {@code earlier}: the upper bound of its bucket, in ms. */
        double lagPercentileMs(Snapshot earlier, double q) {
            double total = lagCount - earlier.lagCount;
            if (total <= 0) {
                return 0;
            }
            for (int i = 0; i < lag.length; i++) {
                double below = lag[i].count() - earlier.lag[i].count();
                if (below >= q * total) {
                    return round(lag[i].bucket(TimeUnit.MILLISECONDS));
                }
            }
            return round(lagMaxMs); // past the last bucket: the recent maximum
        }
    }
}
