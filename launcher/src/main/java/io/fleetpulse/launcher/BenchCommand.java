package io.fleetpulse.launcher;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code fleetpulse bench ...}: measurements of one component against a simulated fleet and an in-process broker. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks of one component.",
        subcommands = {BenchCommand.Collector.class})
final class BenchCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return 2;
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

        @Option(names = "--data-dir", defaultValue = ".fleetpulse/bench-collector", description = "the broker's data (default ${DEFAULT-VALUE})")
        Path dataDir;

        @Override
        public Integer call() throws Exception {
            if (targets < 1) {
                throw invalid("--targets", "at least 1 target, not " + targets);
            }
            if (hostilePercent < 0 || hostilePercent > 100) {
                throw invalid("--hostile-percent", hostilePercent + " is not a percentage (0 to 100)");
            }
            if (interval.compareTo(Duration.ofMillis(100)) < 0) {
                throw invalid("--interval", "at least 100ms");
            }
            Map<String, Object> result = CollectorBenchmark.run(new CollectorBenchmark.Options(targets, interval, duration,
                    hostilePercent, dataDir.resolve(String.valueOf(System.currentTimeMillis()))), System.out);
            result.forEach((k, v) -> System.out.println("  " + k + ": " + v));
            if (json != null) {
                CollectorBenchmark.write(result, json);
                System.out.println("written to " + json);
            }
            return 0;
        }

        private CommandLine.ParameterException invalid(String option, String problem) {
            return new CommandLine.ParameterException(spec.commandLine(), "Invalid value for option '" + option + "': " + problem);
        }
    }
}
