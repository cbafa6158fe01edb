package io.fleetpulse.launcher;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.stream.StreamsProps;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code fleetpulse bench <component>}: throughput and latency measurements on a real in-process broker. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measures one FleetPulse component on a real in-process broker.",
        subcommands = {BenchCommand.Processor.class, BenchCommand.Collector.class, BenchCommand.Alerting.class,
                BenchCommand.Sink.class, BenchCommand.Detectors.class})
final class BenchCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        return FleetPulseCli.usageError(spec);
    }

    @Command(name = "processor", mixinStandardHelpOptions = true,
            description = {"The stream processor's rate against the raw read rate of the same records, and its alert latency.",
                    "%nStarts an in-process KRaft broker, produces --events synthetic CheckResult and MetricSample events"
                            + " for --targets targets, reads them back with a plain read_committed consumer (bytes only, then"
                            + " with Avro decoding), then runs the stream processor (exactly-once, bundled rules) over the same"
                            + " records: its rate is events over the time from its committed offsets passing the"
                            + " --warmup-events produced first to their reaching the end of the input (the raw reads are timed"
                            + " the same way). Then bursts of failing checks for new targets measure send -> FIRING"
                            + " AlertEvent readable on fleet.alerts. Everything lives under a temporary folder, removed at the end.%n"})
    static final class Processor implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--events", defaultValue = "1000000", description = "events to produce, at least 2 (default ${DEFAULT-VALUE})")
        long events;

        @Option(names = "--targets", defaultValue = "10000", description = "distinct targets, at least 1 (default ${DEFAULT-VALUE})")
        int targets;

        @Option(names = "--warmup-events", defaultValue = "3000000", paramLabel = "W",
                description = "events produced before the measured ones, read and processed first and not counted (JIT,"
                        + " first transactions); 0 = measure from a cold start (default ${DEFAULT-VALUE})")
        long warmupEvents;

        @Option(names = "--json", paramLabel = "FILE", description = "write the results as JSON")
        Path json;

        @Option(names = "--alert-rounds", defaultValue = "10", description = "rounds of failing-check bursts (default ${DEFAULT-VALUE})")
        int alertRounds;

        @Option(names = "--alert-targets", defaultValue = "10", description = "new targets that fail in each round (default ${DEFAULT-VALUE})")
        int alertTargets;

        @Option(names = "--threads", description = "stream threads of the processor (streams.num.threads, 1 to 64;"
                + " default as the processor's: the host's cores, ${DEFAULT-VALUE} here)")
        int threads = StreamsProps.NUM_THREADS.defaultValue();

        @Option(names = "--set", paramLabel = "KEY=VALUE", description = "a stream processor setting for this run, e.g."
                + " streams.commit.interval=500ms (repeatable; the settings a run used are in its results)")
        Map<String, String> overrides = new LinkedHashMap<>();

        @Option(names = "--detectors", defaultValue = "every-metric", paramLabel = "every-metric|bundled",
                description = "every-metric: the bundled rules plus an anomaly detector on every measured series of"
                        + " every target and a disk and a memory forecast; bundled: the bundled rules alone"
                        + " (default ${DEFAULT-VALUE}; a --set rules.file=... replaces both)")
        String detectors;

        @Override
        public Integer call() throws Exception {
            if (!detectors.equals("every-metric") && !detectors.equals("bundled")) {
                throw FleetPulseCli.invalid(spec, "--detectors", "every-metric or bundled, not " + detectors);
            }
            if (threads < 1 || threads > 64) {
                throw FleetPulseCli.invalid(spec, "--threads", "from 1 to 64, not " + threads);
            }
            if (events < 2) {
                throw FleetPulseCli.invalid(spec, "--events", "a benchmark needs at least 2 events, not " + events);
            }
            if (targets < 1) {
                throw FleetPulseCli.invalid(spec, "--targets", "at least 1 target, not " + targets);
            }
            if (warmupEvents < 0) {
                throw FleetPulseCli.invalid(spec, "--warmup-events", "0 or more, not " + warmupEvents);
            }
            if (alertRounds < 1 || alertTargets < 1) {
                throw FleetPulseCli.invalid(spec, alertRounds < 1 ? "--alert-rounds" : "--alert-targets", "must be at least 1");
            }
            checkJsonFolder(spec, json);
            for (String own : BenchProcessor.OWN_SETTINGS) {
                if (overrides.containsKey(own)) {
                    throw FleetPulseCli.invalid(spec, "--set", own + " is set by the benchmark itself (its own broker, "
                            + "a new application id and state folder for each run)");
                }
            }
            try {
                ServiceKind.STREAM_PROCESSOR.settings(Config.of(overrides)); // before minutes of producing, not after
            } catch (ConfigException e) {
                throw FleetPulseCli.invalid(spec, "--set", e.getMessage().lines().findFirst().orElse(""));
            }
            Path work = Files.createTempDirectory("fleetpulse-bench-");
            Map<String, Object> result;
            try {
                result = new BenchProcessor(new BenchProcessor.Options(events, warmupEvents, targets, alertRounds, alertTargets, threads,
                        overrides, work, detectors.equals("every-metric")),
                        System.out).run();
            } finally {
                Demo.deleteRecursively(work);
            }
            report(result, json);
            return 0;
        }
    }

    @Command(name = "collector", mixinStandardHelpOptions = true,
            description = "One collector polling N simulated servers (health and metrics) through an in-process broker.")
    static final class Collector implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--targets", defaultValue = "1000", description = "simulated servers polled (default ${DEFAULT-VALUE})")
        int targets;

        @Option(names = "--interval", defaultValue = "10s", description = "poll interval of every target (default ${DEFAULT-VALUE})")
        Duration interval;

        @Option(names = "--duration", defaultValue = "60s", description = "how long to measure, after one interval of warm-up (default ${DEFAULT-VALUE})")
        Duration duration;

        @Option(names = "--hostile-percent", defaultValue = "0",
                description = "percent of servers that trickle their body or send 50 MiB, alternately (default ${DEFAULT-VALUE})")
        int hostilePercent;

        @Option(names = "--json", paramLabel = "FILE", description = "write the figures as JSON to FILE")
        Path json;

        @Option(names = "--data-dir", description = "where the broker keeps its data (default: a temporary folder, removed at the end, as for the other benchmarks)")
        Path dataDir;

        @Override
        public Integer call() throws Exception {
            if (targets < 1) {
                throw FleetPulseCli.invalid(spec, "--targets", "at least 1 target, not " + targets);
            }
            if (hostilePercent < 0 || hostilePercent > 100) {
                throw FleetPulseCli.invalid(spec, "--hostile-percent", hostilePercent + " is not a percentage (0 to 100)");
            }
            if (interval.compareTo(Duration.ofMillis(100)) < 0) {
                throw FleetPulseCli.invalid(spec, "--interval", "at least 100ms");
            }
            Path work = dataDir != null ? dataDir.resolve(String.valueOf(System.currentTimeMillis()))
                    : Files.createTempDirectory("fleetpulse-bench-");
            Map<String, Object> result;
            try {
                result = CollectorBenchmark.run(new CollectorBenchmark.Options(targets, interval, duration,
                        hostilePercent, work), System.out);
            } finally {
                if (dataDir == null) {
                    Demo.deleteRecursively(work);
                }
            }
            report(result, json);
            return 0;
        }
    }

    @Command(name = "alerting", mixinStandardHelpOptions = true,
            description = {"Delivery latency and exactly-once of the alerting service, with or without a faulty receiver.",
                    "%nIn one JVM: an in-process KRaft broker, the alerting service (rate limits lifted to 10000/s, retries"
                            + " at their defaults) and local HTTP receivers for Slack, PagerDuty and a webhook. Produces"
                            + " --alerts events to fleet.alerts (alternately the FIRING and the RESOLVED of --alerts/2"
                            + " alerts) at --rate per second and measures, per receiver, from an event handed to the"
                            + " producer to the receiver getting the request it accepts.",
                    "%n--fault RECEIVER:MODE makes one receiver misbehave: errors = HTTP 500 and down = connection"
                            + " refused for the first half of the run (until half of the events are produced and the"
                            + " other receivers have accepted that many), slow = every answer 5 s late. The run waits (up to --timeout after the last event) until every"
                            + " receiver has every transition and nothing is in flight.",
                    "%nWrites --json with alerts, delivered, lost, duplicates, delivery_p50_ms, delivery_p99_ms and"
                            + " <receiver>_delivery_p99_ms. Exit 0 when nothing was lost or duplicated, 1 otherwise.%n"})
    static final class Alerting implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--alerts", paramLabel = "N", required = true, description = "alert events to produce, at least 1")
        int alerts;

        @Option(names = "--fault", paramLabel = "RECEIVER:MODE",
                description = "slack|pagerduty|webhook : errors|slow|down (default: no fault)")
        String fault;

        @Option(names = "--json", paramLabel = "FILE", required = true, description = "where to write the figures")
        Path json;

        @Option(names = "--rate", defaultValue = "100", description = "alert events produced per second (default ${DEFAULT-VALUE})")
        double rate;

        @Option(names = "--timeout", defaultValue = "3m",
                description = "how long to wait after the last event for every delivery (default ${DEFAULT-VALUE})")
        Duration timeout;

        @Option(names = "--warmup", defaultValue = "200", paramLabel = "N",
                description = "alert events delivered before the measured ones and not counted (JIT, first "
                        + "transactions); 0 = measure from a cold start (default ${DEFAULT-VALUE})")
        int warmup;

        @Override
        public Integer call() throws Exception {
            AlertingBench.Options options = options();
            AlertingBenchReport report = new AlertingBench(options, System.out).run();
            System.out.print(report.describe());
            report.writeJson(json);
            System.out.println("Figures written to " + json.toAbsolutePath());
            return report.lost() == 0 && report.duplicates() == 0 ? 0 : 1;
        }

        /** Every option checked before the broker starts. */
        private AlertingBench.Options options() {
            if (alerts < 1) {
                throw FleetPulseCli.invalid(spec, "--alerts", "at least 1 alert event, not " + alerts);
            }
            if (!(rate > 0)) {
                throw FleetPulseCli.invalid(spec, "--rate", "must be positive, not " + rate);
            }
            BenchReceiver.Fault parsed = null;
            if (fault != null) {
                try {
                    parsed = BenchReceiver.Fault.parse(fault);
                } catch (IllegalArgumentException e) {
                    throw FleetPulseCli.invalid(spec, "--fault", e.getMessage());
                }
            }
            Path folder = json.toAbsolutePath().getParent();
            if (folder == null || !Files.isDirectory(folder)) {
                throw FleetPulseCli.invalid(spec, "--json", "folder " + folder + " does not exist");
            }
            if (warmup < 0) {
                throw FleetPulseCli.invalid(spec, "--warmup", "must not be negative, not " + warmup);
            }
            return new AlertingBench.Options(alerts, parsed, rate, timeout, warmup);
        }
    }

    @Command(name = "sink", mixinStandardHelpOptions = true,
            description = {"The sink's rate from topic to committed rows against a raw COPY of the same rows.",
                    "%nIn one JVM, under a temporary folder removed at the end: an in-process KRaft broker and an embedded"
                            + " PostgreSQL 17. --rows one-minute windows of --targets targets are COPYed raw into"
                            + " target_window_1m (one COPY, one transaction), the table is emptied, the same windows are"
                            + " produced to fleet.aggregates.1m and the sink (default settings) writes them: its rate is rows"
                            + " over the time from its partitions' assignment to its stored offsets covering every record.",
                    "%nWrites rows, copy_rows_per_sec, sink_rows_per_sec, ratio (sink / copy), the load average and more.%n"})
    static final class Sink implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--rows", defaultValue = "1000000", description = "windows to write, at least 1 (default ${DEFAULT-VALUE})")
        long rows;

        @Option(names = "--targets", defaultValue = "1000", description = "distinct targets (default ${DEFAULT-VALUE})")
        int targets;

        @Option(names = "--json", paramLabel = "FILE", description = "write the figures as JSON to FILE")
        Path json;

        @Override
        public Integer call() throws Exception {
            checkJsonFolder(spec, json);
            Path work = Files.createTempDirectory("fleetpulse-bench-");
            Map<String, Object> result;
            try {
                SinkBench.Options options;
                try {
                    options = new SinkBench.Options(rows, targets, work);
                } catch (IllegalArgumentException e) {
                    throw FleetPulseCli.invalid(spec, rows < 1 ? "--rows" : "--targets", e.getMessage());
                }
                result = new SinkBench(options, System.out).run();
            } finally {
                Demo.deleteRecursively(work);
            }
            report(result, json);
            return 0;
        }
    }

    @Command(name = "detectors", mixinStandardHelpOptions = true,
            description = {"How well the anomaly detectors find labelled anomalies, and their cost per sample.",
                    "%nNo broker: --series synthetic 5-minute series (CPU, requests, latency, counter rates, daily"
                            + " patterns, integer gauges; some jittered or with gaps), deterministic from --seed, with level"
                            + " shifts, spikes, dips, variance changes, drifts and off-hour bumps, each labelled from its onset"
                            + " to 2.5 % of the series later. Each detector's threshold (one for all series) is swept for the"
                            + " best F1 and also reported at 0.99. A run of consecutive flagged samples outside every window"
                            + " is one false alarm event; a window with a flagged sample is one detection; the delay is"
                            + " from the onset to its first flagged sample. Then ns per sample (warm JIT, 1000 series fed in"
                            + " turn) and state bytes per series.%n"})
    static final class Detectors implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--series", defaultValue = "240", description = "labelled series, at least 1 (default ${DEFAULT-VALUE})")
        int series;

        @Option(names = "--samples", defaultValue = "4000", description = "samples a series, at least 200 (default ${DEFAULT-VALUE})")
        int samples;

        @Option(names = "--seed", defaultValue = "1", description = "the corpus' seed (default ${DEFAULT-VALUE})")
        long seed;

        @Option(names = "--json", paramLabel = "FILE", description = "write the figures as JSON to FILE")
        Path json;

        @Override
        public Integer call() throws Exception {
            checkJsonFolder(spec, json);
            DetectorBench.Options options;
            try {
                options = new DetectorBench.Options(seed, series, samples);
            } catch (IllegalArgumentException e) {
                throw FleetPulseCli.invalid(spec, series < 1 ? "--series" : "--samples", e.getMessage());
            }
            report(new DetectorBench(options, System.out).run(), json);
            return 0;
        }
    }

    /** Prints the figures and, with {@code --json}, writes them as one JSON object of top-level keys. */
    /** Before minutes of measuring, not after: the folder {@code --json} writes into must exist. */
    static void checkJsonFolder(CommandLine.Model.CommandSpec spec, Path json) {
        if (json != null && !Files.isDirectory(json.toAbsolutePath().getParent())) {
            throw FleetPulseCli.invalid(spec, "--json", "folder " + json.toAbsolutePath().getParent() + " does not exist");
        }
    }

    static void report(Map<String, Object> result, Path json) throws Exception {
        String text = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(result);
        System.out.println(text);
        if (json != null) {
            Files.writeString(json, text + System.lineSeparator());
            System.out.println("Results written to " + json.toAbsolutePath());
        }
    }
}
