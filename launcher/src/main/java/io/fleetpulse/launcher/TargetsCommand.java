package io.fleetpulse.launcher;

import io.fleetpulse.collector.CollectorSettings;
import io.fleetpulse.collector.Inventory;
import io.fleetpulse.collector.TargetsTopic;
import io.fleetpulse.events.Target;
import io.fleetpulse.runtime.KafkaSettings;
import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.runtime.text.Durations;
import io.fleetpulse.schemas.Topics;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code fleetpulse targets}: the live inventory on {@code fleet.targets}, which collectors with
 * {@code collector.inventory.live} follow. Targets written here carry no collector as owner, so no collector's
 * inventory sync tombstones them; a collector whose YAML lists the same id publishes its own version at its start.
 */
@Command(name = "targets", mixinStandardHelpOptions = true,
        description = "The live inventory on fleet.targets: add, remove, list, or import an inventory YAML.",
        subcommands = {TargetsCommand.Add.class, TargetsCommand.Remove.class, TargetsCommand.ListTargets.class,
                TargetsCommand.Import.class})
final class TargetsCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        return FleetPulseCli.usageError(spec);
    }

    /** Where the topic is, shared by every subcommand. */
    static final class Cluster {

        @Option(names = "--config", paramLabel = "FILE", description = "a properties file (kafka.*, collector.poll.*, collector.metrics.interval)")
        Path configFile;

        @Option(names = "--bootstrap-servers", description = "overrides kafka.bootstrap.servers")
        String bootstrapServers;

        @Option(names = "--timeout", defaultValue = "30s",
                description = "how long to wait for the cluster before giving up (default ${DEFAULT-VALUE})")
        Duration timeout;

        private Settings settings() {
            Config config = Config.load(configFile, System.getenv());
            if (bootstrapServers != null) {
                config = config.with(KafkaSettings.BOOTSTRAP_SERVERS.name(), bootstrapServers);
            }
            List<io.fleetpulse.runtime.config.ConfigKey<?>> keys = new ArrayList<>(KafkaSettings.KEYS);
            keys.add(CollectorSettings.POLL_INTERVAL);
            keys.add(CollectorSettings.METRICS_INTERVAL);
            keys.add(CollectorSettings.POLL_TIMEOUT);
            return Settings.resolve(config, keys);
        }

        private KafkaSettings kafka() {
            // The client would warn about every failed connection attempt; the one error line says it once.
            ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("org.apache.kafka"))
                    .setLevel(ch.qos.logback.classic.Level.ERROR);
            return KafkaSettings.from(settings());
        }

        Map<String, TargetsTopic.Listed> list() {
            Map<String, Object> props = kafka().common("fleetpulse-targets");
            props.put("default.api.timeout.ms", (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            return TargetsTopic.read(props, timeout);
        }

        void write(List<Target> targets, List<String> removedIds) {
            Map<String, Object> props = kafka().producer("fleetpulse-targets");
            props.put("max.block.ms", (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            props.put("delivery.timeout.ms", (int) Math.min(Integer.MAX_VALUE, Math.max(timeout.toMillis(), 1000)));
            props.put("request.timeout.ms", (int) Math.min(Math.max(timeout.toMillis(), 1000), 30_000));
            props.put("linger.ms", 0);
            TargetsTopic.write(props, targets, removedIds, timeout);
        }

        /**
         * Reads an inventory the way the collector does, its fallbacks from collector.poll.interval/.timeout and
         * collector.metrics.interval.
         */
        Inventory inventory(String yaml, String source) {
            return Inventory.parse(yaml, source, fallbacks(), Instant.now());
        }

        Inventory inventory(Path file) {
            return Inventory.load(file, fallbacks(), Instant.now());
        }

        private Inventory.Fallbacks fallbacks() {
            Settings settings = settings();
            return new Inventory.Fallbacks(settings.get(CollectorSettings.POLL_INTERVAL),
                    settings.get(CollectorSettings.METRICS_INTERVAL), settings.get(CollectorSettings.POLL_TIMEOUT));
        }
    }

    /** Runs {@code body}; a bad inventory is a usage error (2), an unusable cluster a failure (1), each one line. */
    private static int run(CommandLine.Model.CommandSpec spec, Callable<Integer> body) throws Exception {
        String name = "fleetpulse targets " + spec.name();
        try {
            return body.call();
        } catch (ConfigException e) {
            // Said of the collector's own inventory file; here the file (or the options) is named right after it.
            spec.commandLine().getErr().println(name + ": " + e.getMessage().replace(
                    "The inventory (" + Inventory.CONFIG_KEY + ") cannot be used: ", ""));
            return 2;
        } catch (IllegalStateException | org.apache.kafka.common.KafkaException e) {
            spec.commandLine().getErr().println(name + ": " + e.getMessage());
            return 1;
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Adds a target (or replaces the one of its id), checked as an inventory entry is.")
    static final class Add implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Cluster cluster;

        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Option(names = "--health", required = true, paramLabel = "URL",
                description = "the health endpoint (http:// or https://), or tcp://host:port for a TCP connect check")
        String health;

        @Option(names = "--metrics", paramLabel = "URL")
        String metrics;

        @Option(names = "--group")
        String group;

        @Option(names = "--interval", description = "default collector.poll.interval")
        String interval;

        @Option(names = "--metrics-interval")
        String metricsInterval;

        @Option(names = "--timeout-per-poll", description = "the poll's hard deadline; default collector.poll.timeout")
        String pollTimeout;

        @Option(names = "--critical-checks", split = ",", paramLabel = "NAME")
        List<String> criticalChecks;

        @Option(names = "--max-latency", description = "a slower health check is WARN")
        String maxLatency;

        @Option(names = "--critical-latency", description = "a slower health check is CRITICAL")
        String criticalLatency;

        @Option(names = "--min-free-disk", paramLabel = "BYTES", description = "less disk free in a metrics sample: 'disk' WARN (10GiB, 5000000000)")
        String minFreeDisk;

        @Option(names = "--critical-free-disk", paramLabel = "BYTES", description = "less disk free: 'disk' CRITICAL")
        String criticalFreeDisk;

        @Option(names = "--label", paramLabel = "KEY=VALUE")
        Map<String, String> labels;

        @Override
        public Integer call() throws Exception {
            return run(spec, () -> {
                StringBuilder yaml = new StringBuilder("targets:\n  - id: ").append(quoted(id))
                        .append("\n    health: ").append(quoted(health)).append('\n');
                entry(yaml, "metrics", metrics);
                entry(yaml, "group", group);
                entry(yaml, "interval", interval);
                entry(yaml, "metrics-interval", metricsInterval);
                entry(yaml, "timeout", pollTimeout);
                entry(yaml, "max-latency", maxLatency);
                entry(yaml, "critical-latency", criticalLatency);
                entry(yaml, "min-free-disk", minFreeDisk);
                entry(yaml, "critical-free-disk", criticalFreeDisk);
                if (criticalChecks != null) {
                    yaml.append("    critical-checks: [").append(String.join(", ",
                            criticalChecks.stream().map(TargetsCommand::quoted).toList())).append("]\n");
                }
                if (labels != null) {
                    yaml.append("    labels: {").append(String.join(", ", labels.entrySet().stream()
                            .map(e -> quoted(e.getKey()) + ": " + quoted(e.getValue())).toList())).append("}\n");
                }
                Target target = cluster.inventory(yaml.toString(), "the command line").targets().get(0);
                cluster.write(List.of(target), List.of());
                PrintWriter out = spec.commandLine().getOut();
                out.printf("added %s (%s every %s)%n", target.getTargetId(), target.getHealthUrl(),
                        Durations.format(Duration.ofMillis(target.getCheckIntervalMs())));
                out.flush();
                return 0;
            });
        }

        private static void entry(StringBuilder yaml, String key, String value) {
            if (value != null) {
                yaml.append("    ").append(key).append(": ").append(quoted(value)).append('\n');
            }
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Tombstones targets: collectors following fleet.targets stop polling them. Status 1 when one is not listed.")
    static final class Remove implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Cluster cluster;

        @Parameters(arity = "1..*", paramLabel = "ID")
        List<String> ids;

        @Override
        public Integer call() throws Exception {
            return run(spec, () -> {
                Map<String, TargetsTopic.Listed> listed = cluster.list();
                List<String> known = ids.stream().filter(listed::containsKey).distinct().toList();
                if (!known.isEmpty()) {
                    cluster.write(List.of(), known);
                }
                PrintWriter out = spec.commandLine().getOut();
                known.forEach(id -> out.println("removed " + id));
                out.flush();
                List<String> unknown = ids.stream().filter(id -> !listed.containsKey(id)).distinct().toList();
                unknown.forEach(id -> spec.commandLine().getErr().println("fleetpulse targets remove: no target '" + id
                        + "' on " + Topics.TARGETS.name()));
                return unknown.isEmpty() ? 0 : 1;
            });
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Lists the live targets on fleet.targets: id, interval, owner (the collector whose YAML published it, '-' added by hand), health URL.")
    static final class ListTargets implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Cluster cluster;

        @Override
        public Integer call() throws Exception {
            return run(spec, () -> {
                PrintWriter out = spec.commandLine().getOut();
                cluster.list().forEach((id, listed) -> {
                    Target t = listed.target();
                    String owner = listed.owner() == null ? "-" : listed.owner();
                    if (t == null) {
                        out.printf("%-30s %-8s %-16s %s%n", id, "?", owner, "(unreadable record)");
                    } else {
                        out.printf("%-30s %-8s %-16s %s%n", id, Durations.format(Duration.ofMillis(t.getCheckIntervalMs())),
                                owner, t.getHealthUrl());
                    }
                });
                out.flush();
                return 0;
            });
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true,
            description = "Adds (or replaces) every target of an inventory YAML, checked as the collector checks it; nothing is written when any entry is wrong.")
    static final class Import implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Cluster cluster;

        @Parameters(index = "0", paramLabel = "FILE.yaml")
        Path file;

        @Override
        public Integer call() throws Exception {
            return run(spec, () -> {
                List<Target> targets = cluster.inventory(file).targets();
                cluster.write(targets, List.of());
                PrintWriter out = spec.commandLine().getOut();
                out.printf("imported %d targets from %s%n", targets.size(), file);
                out.flush();
                return 0;
            });
        }
    }

    /** A YAML double-quoted scalar, so no option value can change the document's structure. */
    private static String quoted(String value) {
        StringBuilder q = new StringBuilder("\"");
        for (char c : value.toCharArray()) {
            switch (c) {
                case '"' -> q.append("\\\"");
                case '\\' -> q.append("\\\\");
                case '\n' -> q.append("\\n");
                default -> q.append(c < 0x20 ? String.format("\\x%02x", (int) c) : String.valueOf(c));
            }
        }
        return q.append('"').toString();
    }
}
