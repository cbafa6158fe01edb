package io.fleetpulse.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code fleetpulse bench}: measurements on an in-process broker; one subcommand per part measured. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks on an in-process broker, with local stand-ins for what is outside FleetPulse.",
        subcommands = {BenchCommand.Alerting.class})
final class BenchCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return spec.exitCodeOnInvalidInput();
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
            return new AlertingBench.Options(alerts, parsed, rate, timeout);
        }
    }
}
