package io.fleetpulse.launcher;

import io.fleetpulse.alerting.FailedNotifications;
import io.fleetpulse.runtime.KafkaSettings;
import io.fleetpulse.runtime.OpsSettings;
import io.fleetpulse.runtime.Service;
import io.fleetpulse.runtime.ServiceRunner;
import io.fleetpulse.runtime.StartupWait;
import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.runtime.text.Durations;
import io.fleetpulse.schemas.Topic;
import io.fleetpulse.schemas.TopicProvisioner;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.simulator.FleetSpec;
import io.fleetpulse.simulator.IncidentScript;
import io.fleetpulse.simulator.SimulatedFleet;
import io.fleetpulse.stream.replay.Replay;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import java.util.Map;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.TimeoutException;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code fleetpulse}: one subcommand per service, plus simulate, demo, topics, notifications and bench. */
@Command(name = "fleetpulse", mixinStandardHelpOptions = true, version = "FleetPulse 0.1.0",
        description = "Fleet health pipeline on Apache Kafka.",
        subcommands = {FleetPulseCli.DemoCommand.class, FleetPulseCli.Simulate.class, FleetPulseCli.TopicsCommand.class,
                FleetPulseCli.ReplayCommand.class, FleetPulseCli.NotificationsCommand.class,
                FleetPulseCli.ConfigReferenceCommand.class, BenchCommand.class, TargetsCommand.class,
                SilencesCommand.class, SqlCommand.class, DetectCommand.class,
                CommandLine.HelpCommand.class})
public final class FleetPulseCli implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new FleetPulseCli());
        for (ServiceKind kind : ServiceKind.values()) {
            CommandLine sub = new CommandLine(new ServiceCommand(kind));
            sub.getCommandSpec().usageMessage().description(kind.description(),
                    "Settings come from --config (a properties file) with FLEETPULSE_* environment overrides.");
            cli.addSubcommand(kind.commandName(), sub);
        }
        cli.registerConverter(Duration.class, FleetPulseCli::positiveDuration);
        cli.registerConverter(Instant.class, FleetPulseCli::instant);
        cli.setParameterExceptionHandler(FleetPulseCli::oneLineUsageError);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof ConfigException) {
                commandLine.getErr().println("fleetpulse: configuration error: " + e.getMessage());
                return 2;
            }
            throw e;
        });
        return cli;
    }

    /** No subcommand is a usage error: the usage goes to stderr and the exit status says so. */
    @Override
    public Integer call() {
        return usageError(spec);
    }

    /** Runs one service until SIGTERM or Ctrl-C (exit 0), or until it fails (exit 1, so it is restarted). */
    @Command(mixinStandardHelpOptions = true)
    static final class ServiceCommand implements Callable<Integer> {

        private final ServiceKind kind;

        @Option(names = "--config", paramLabel = "FILE", description = "properties file; FLEETPULSE_* environment variables override it")
        Path configFile;

        @Option(names = "--print-config", description = "print the effective settings (secrets masked) and exit")
        boolean printConfig;

        ServiceCommand(ServiceKind kind) {
            this.kind = kind;
        }

        @Override
        public Integer call() throws Exception {
            Settings settings = kind.settings(Config.load(configFile, System.getenv()));
            if (printConfig) {
                settings.describe().forEach((k, v) -> System.out.println(k + "=" + v));
                return 0;
            }
            Service service = kind.create(settings);
            return ServiceRunner.runProcess(service, OpsSettings.from(settings));
        }
    }

    @Command(name = "demo", mixinStandardHelpOptions = true,
            description = {"Runs the whole pipeline in this process on a simulated fleet, until --duration or Ctrl-C.",
                    "%nIn one JVM: an in-process KRaft broker, embedded PostgreSQL 17, a simulated fleet, all four services,"
                            + " and local stand-ins for Slack and PagerDuty that print what they would be sent"
                            + " (the real ones when SLACK_WEBHOOK_URL / PAGERDUTY_ROUTING_KEY are set).",
                    "%nKept between runs, under --data-dir: kafka/ (the broker's topics, offsets and transactions),"
                            + " streams/ (the stream processor's state stores) and postgres/ (the sink's tables)."
                            + " A later run resumes on that history; --fresh wipes it first. PostgreSQL keeps its port"
                            + " (demo.properties there), and the end of a run prints how to query the tables with psql.",
                    "%nThe summary counts what this run produced (events, windows, alerts, notifications, dead letters);"
                            + " its postgres rows and events_in_topics are what the tables and topics hold, earlier runs included.",
                    "%nCtrl-C or SIGTERM stops in order (collector first, the services drain and commit, then the database"
                            + " and the broker), prints the summary, writes --summary-json and exits 0; a second one forces exit."
                            + " During start-up it stops once the step under way is done, with no summary (status 130 / 143).%n"})
    static final class DemoCommand implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--servers", defaultValue = "50", description = "simulated servers, at least 1 (default ${DEFAULT-VALUE})")
        int servers;

        @Option(names = "--duration", description = "how long to run, e.g. 120s or 10m (default: until Ctrl-C)")
        Duration duration;

        @Option(names = "--summary-json", paramLabel = "FILE", description = "also write the summary as JSON")
        Path summaryJson;

        @Option(names = "--interval", defaultValue = "5s", description = "poll interval of every target (default ${DEFAULT-VALUE})")
        Duration interval;

        @Option(names = "--incidents", defaultValue = "demo",
                description = "incident script: demo, none, or e.g. outage:srv-002@20s+40s,cpu:srv-005@15s+50s (default ${DEFAULT-VALUE})")
        String incidents;

        @Option(names = "--data-dir", defaultValue = ".fleetpulse/demo",
                description = "where the broker, the Streams state and the database keep their data between runs (default ${DEFAULT-VALUE})")
        Path dataDir;

        @Option(names = "--fresh", description = "wipe the kept data (kafka/, streams/, postgres/ under --data-dir) before starting")
        boolean fresh;

        @Option(names = "--seed", defaultValue = "42", description = "seed of the simulated fleet (default ${DEFAULT-VALUE})")
        long seed;

        @Override
        public Integer call() throws Exception {
            Demo demo = new Demo(options(), System.out);
            demo.stopOnSignals();
            DemoSummary summary;
            try {
                summary = demo.run();
            } catch (Demo.StoppedDuringStartup e) {
                spec.commandLine().getErr().println("fleetpulse demo: " + e.getMessage());
                return demo.stoppedDuringStartupStatus();
            }
            System.out.println(summary.describe());
            if (summaryJson != null) {
                summary.writeJson(summaryJson);
                System.out.println("Summary written to " + summaryJson.toAbsolutePath());
            }
            System.out.println(demo.keptDataNote());
            return demo.failed() ? ServiceRunner.EXIT_FAILED : 0;
        }

        /** Every option checked before anything starts: a bad one costs no broker or database start-up. */
        private Demo.Options options() {
            if (servers < 1) {
                throw invalid(spec, "--servers", "a demo needs at least 1 server, not " + servers);
            }
            IncidentScript script;
            try {
                script = IncidentScript.named(incidents, servers);
            } catch (IllegalArgumentException e) {
                throw invalid(spec, "--incidents", e.getMessage());
            }
            if (summaryJson != null) {
                Path folder = summaryJson.toAbsolutePath().getParent();
                if (!Files.isDirectory(folder)) {
                    throw invalid(spec, "--summary-json", "folder " + folder + " does not exist");
                }
            }
            if (Files.exists(dataDir) && !Files.isDirectory(dataDir)) {
                throw invalid(spec, "--data-dir", dataDir + " is a file, not a folder");
            }
            try {
                return new Demo.Options(servers, duration, interval, dataDir, fresh, seed, script, System.getenv());
            } catch (IllegalArgumentException e) {
                throw invalid(spec, "--incidents", e.getMessage());
            }
        }
    }

    @Command(name = "replay", mixinStandardHelpOptions = true,
            description = {"Re-runs the stream processor over the raw topics' records between --from and --to, under its own"
                    + " application id (<streams.application.id>-replay-<now>) and into prefixed output topics"
                    + " (replay-fleet.aggregates.1m, replay-fleet.alerts, ...), which alerting never reads: a replay pages no one.",
                    "%nfleet.checks and fleet.metrics are read from the first record stamped at or after --from, fleet.targets"
                            + " (the inventory) from its beginning, all up to the first record stamped at or after --to."
                            + " Once every input partition is past --to it runs on for --drain (so the wall clock closes the"
                            + " last windows), prints a summary, deletes its changelogs, consumer group and local state, and"
                            + " exits 0 (1 if the processor fails). Settings as for stream-processor (--config).%n"})
    static final class ReplayCommand implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--from", required = true, paramLabel = "TIME", description = "start of the range, e.g. 2024-05-01T10:00:00Z")
        Instant from;

        @Option(names = "--to", required = true, paramLabel = "TIME", description = "end of the range (exclusive)")
        Instant to;

        @Option(names = "--prefix", defaultValue = "replay-",
                description = "put before every output topic's name; not empty (default ${DEFAULT-VALUE})")
        String prefix;

        @Option(names = "--drain", description = "how long to run on once the input is through"
                + " (default: 1 minute + streams.window.grace + streams.window.idle.timeout)")
        Duration drain;

        @Option(names = "--config", paramLabel = "FILE", description = "the stream processor's properties file; FLEETPULSE_* environment variables override it")
        Path configFile;

        @Override
        public Integer call() throws Exception {
            Replay.Request request;
            try {
                request = new Replay.Request(from, to, prefix, drain);
            } catch (IllegalArgumentException e) {
                throw invalid(spec, prefix.isEmpty() ? "--prefix" : "--to", e.getMessage());
            }
            // Streams warns once per record it skips past --to; the progress lines say what happened.
            ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("org.apache.kafka.streams.processor.internals.RecordQueue"))
                    .setLevel(ch.qos.logback.classic.Level.ERROR);
            PrintWriter out = spec.commandLine().getOut();
            try {
                Replay.Summary summary = Replay.run(Config.load(configFile, System.getenv()), request, out);
                out.println(summary.describe());
                return 0;
            } catch (ConfigException e) {
                throw e; // exit 2, like a service's bad setting
            } catch (Exception e) {
                // One line, not a stack: the processor failed, or the broker did not answer in time.
                spec.commandLine().getErr().println("fleetpulse replay: " + StartupWait.describe(e));
                return ServiceRunner.EXIT_FAILED;
            }
        }
    }

    @Command(name = "simulate", mixinStandardHelpOptions = true,
            description = "Serves N virtual servers' health and metrics endpoints on loopback, with scripted incidents.")
    static final class Simulate implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--servers", defaultValue = "50", description = "virtual servers, at least 1 (default ${DEFAULT-VALUE})")
        int servers;

        @Option(names = "--host", defaultValue = "127.0.0.1", description = "listen address (default ${DEFAULT-VALUE})")
        String host;

        @Option(names = "--port", defaultValue = "8500", description = "listen port, 0 for any (default ${DEFAULT-VALUE})")
        int port;

        @Option(names = "--incidents", defaultValue = "demo", description = "demo, none, or a script such as outage:srv-002@20s+40s")
        String incidents;

        @Option(names = "--inventory", paramLabel = "FILE", description = "write the collector inventory for this fleet to FILE")
        Path inventory;

        @Option(names = "--interval", defaultValue = "10s", description = "poll interval written into the inventory")
        Duration interval;

        @Option(names = "--seed", defaultValue = "42")
        long seed;

        @Override
        public Integer call() throws Exception {
            if (servers < 1) {
                throw invalid(spec, "--servers", "a fleet needs at least 1 server, not " + servers);
            }
            if (port < 0 || port > 65_535) {
                throw invalid(spec, "--port", port + " is not a port (0 to 65535)");
            }
            IncidentScript script;
            try {
                script = IncidentScript.named(incidents, servers);
                script.requireServersIn(IntStream.rangeClosed(1, servers).mapToObj(i -> SimulatedFleet.serverId(i, servers)).toList());
            } catch (IllegalArgumentException e) {
                throw invalid(spec, "--incidents", e.getMessage());
            }
            try (SimulatedFleet fleet = SimulatedFleet.start(FleetSpec.of(servers).withHost(host).withPort(port)
                    .withSeed(seed).withScript(script))) {
                if (inventory != null) {
                    fleet.writeInventory(inventory, interval, Duration.ofSeconds(2));
                    System.out.println("Inventory written to " + inventory);
                }
                System.out.println("Serving " + servers + " servers at " + fleet.baseUrl() + " (e.g. " + fleet.healthUrl(fleet.serverIds().get(0))
                        + "); incidents: " + script + ". Ctrl-C to stop.");
                CountDownLatch stop = new CountDownLatch(1);
                Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown, "simulate-shutdown"));
                stop.await();
            }
            return 0;
        }
    }

    @Command(name = "topics", mixinStandardHelpOptions = true, description = "The topic contract: list it, or create it on a cluster.",
            subcommands = {TopicsCommand.Create.class, TopicsCommand.ListTopics.class})
    static final class TopicsCommand implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            return usageError(spec);
        }

        @Command(name = "create", mixinStandardHelpOptions = true,
                description = {"Creates every FleetPulse topic that is missing and checks the others (idempotent).",
                        "Fails (status 1, one line) when the cluster cannot be reached within --timeout, or when an existing"
                                + " per-target topic has another partition count than asked."})
        static final class Create implements Callable<Integer> {

            @CommandLine.Spec
            CommandLine.Model.CommandSpec spec;

            @Option(names = "--config", paramLabel = "FILE")
            Path configFile;

            @Option(names = "--bootstrap-servers", description = "overrides kafka.bootstrap.servers")
            String bootstrapServers;

            @Option(names = "--partitions", description = "overrides kafka.topic.partitions")
            Integer partitions;

            @Option(names = "--replication-factor", description = "overrides kafka.topic.replication.factor")
            Integer replicationFactor;

            @Option(names = "--timeout", defaultValue = "30s",
                    description = "how long to wait for the cluster before giving up (default ${DEFAULT-VALUE})")
            Duration timeout;

            @Override
            public Integer call() throws Exception {
                Config config = Config.load(configFile, System.getenv());
                if (bootstrapServers != null) {
                    config = config.with(KafkaSettings.BOOTSTRAP_SERVERS.name(), bootstrapServers);
                }
                if (partitions != null) {
                    config = config.with(KafkaSettings.PARTITIONS.name(), partitions.toString());
                }
                if (replicationFactor != null) {
                    config = config.with(KafkaSettings.REPLICATION_FACTOR.name(), replicationFactor.toString());
                }
                KafkaSettings kafka = KafkaSettings.from(Settings.resolve(config, KafkaSettings.KEYS));
                // Bounded: without a timeout an unreachable cluster makes every call retry for minutes.
                int timeoutMs = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
                Map<String, Object> props = kafka.admin("fleetpulse-topics", timeoutMs);
                PrintWriter err = spec.commandLine().getErr();
                // The client would warn about every failed connection attempt; the one line below says it once.
                ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("org.apache.kafka")).setLevel(ch.qos.logback.classic.Level.ERROR);
                Map<String, TopicProvisioner.Outcome> outcomes;
                Admin admin;
                try {
                    admin = Admin.create(props);
                } catch (KafkaException e) {
                    err.println("fleetpulse topics create: cannot use Kafka at " + kafka.bootstrapServers() + ": "
                            + StartupWait.describe(e));
                    return 1;
                }
                try {
                    outcomes = new TopicProvisioner(admin).ensureTopics(Topics.ALL, kafka.partitions(), kafka.replicationFactor());
                } catch (IllegalStateException e) {
                    if (e.getCause() instanceof TimeoutException) {
                        err.println("fleetpulse topics create: cannot reach Kafka at " + kafka.bootstrapServers() + " within "
                                + timeout.toSeconds() + " s (" + e.getCause().getMessage() + ")");
                    } else {
                        err.println("fleetpulse topics create: " + e.getMessage());
                    }
                    return 1;
                } finally {
                    admin.close(Duration.ofSeconds(5));
                }
                PrintWriter out = spec.commandLine().getOut();
                for (Topic<?, ?> topic : Topics.ALL) {
                    out.printf("%-22s %s%n", topic.name(), outcomes.get(topic.name()).name().toLowerCase());
                }
                out.flush();
                return 0;
            }

        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "Prints the topic contract.")
        static final class ListTopics implements Callable<Integer> {
            @Override
            public Integer call() {
                System.out.printf("%-22s %-12s %-20s %s%n", "topic", "key", "value", "kept");
                for (Topic<?, ?> t : Topics.ALL) {
                    String kept = t.compacted() ? "compacted" : "deleted after " + t.retention().toDays() + " d";
                    String key = t.perTarget() ? "targetId" : t == Topics.DLQ ? "original key"
                            : t == Topics.SILENCES ? "silence id" : t == Topics.OUTBOX ? "receiver|group" : "fingerprint";
                    System.out.printf("%-22s %-12s %-20s %s%n", t.name(), key, t.valueType().getSimpleName(), kept);
                }
                return 0;
            }
        }
    }

    @Command(name = "notifications", mixinStandardHelpOptions = true,
            description = "The notification audit (fleet.notifications): re-send what was recorded FAILED.",
            subcommands = {NotificationsCommand.Retry.class})
    static final class NotificationsCommand implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            return usageError(spec);
        }

        @Command(name = "retry", mixinStandardHelpOptions = true,
                description = {"Re-sends the notifications this alerting deployment recorded FAILED and has not SENT"
                        + " since, to receivers still configured with the same URL or routing key.",
                        "Reads the same --config as the alerting service (alerting.group.id names the deployment)."
                                + " Each outcome is audited on fleet.notifications under the original id (RESENT"
                                + " when it goes through), so the service counts a re-sent notification as"
                                + " delivered and a second run re-sends nothing twice. Exit 0 when every one was"
                                + " re-sent, 1 when some failed again or what they told is gone (Slack and webhook"
                                + " group notifications from fleet.outbox, pages' alert events from fleet.alerts)."})
        static final class Retry implements Callable<Integer> {

            @CommandLine.Spec
            CommandLine.Model.CommandSpec spec;

            @Option(names = "--config", paramLabel = "FILE", description = "the alerting service's properties file; FLEETPULSE_* environment variables override it")
            Path configFile;

            @Option(names = "--receiver", paramLabel = "R", description = "only this receiver's (its name: slack, pagerduty, webhook-2)")
            String receiver;

            @Option(names = "--since", paramLabel = "T", defaultValue = "24h",
                    description = "FAILED since T: an instant (2024-05-01T12:00:00Z) or a duration ago (6h) (default ${DEFAULT-VALUE})")
            String since;

            @Option(names = "--within", defaultValue = "1m",
                    description = "how long each is retried now before it is recorded FAILED again (default ${DEFAULT-VALUE})")
            Duration within;

            @Override
            public Integer call() throws Exception {
                Instant from = sinceInstant();
                Settings settings = ServiceKind.ALERTING.settings(Config.load(configFile, System.getenv()));
                PrintWriter out = spec.commandLine().getOut();
                FailedNotifications.Report report;
                try {
                    report = FailedNotifications.resend(settings, receiver, from, within, out);
                } catch (IllegalArgumentException e) {
                    throw invalid(spec, "--receiver", e.getMessage());
                } catch (IllegalStateException e) {
                    spec.commandLine().getErr().println("fleetpulse notifications retry: " + e.getMessage());
                    return 1;
                }
                out.printf("%d FAILED since %s: %d re-sent, %d failed again, %d not found%n", report.failed(), from,
                        report.resent(), report.failedAgain(), report.notFound());
                out.flush();
                return report.failedAgain() + report.notFound() == 0 ? 0 : 1;
            }

            private Instant sinceInstant() {
                try {
                    return Instant.parse(since);
                } catch (DateTimeParseException notAnInstant) {
                    try {
                        return Instant.now().minus(Durations.parsePositive(since));
                    } catch (IllegalArgumentException e) {
                        throw invalid(spec, "--since", "'" + since + "' is neither an instant such as "
                                + "2024-05-01T12:00:00Z nor " + Durations.SYNTAX);
                    }
                }
            }
        }
    }

    @Command(name = "config-reference", mixinStandardHelpOptions = true,
            description = "Prints the configuration reference (docs/configuration.md) generated from the key declarations.")
    static final class ConfigReferenceCommand implements Callable<Integer> {
        @Override
        public Integer call() {
            System.out.print(ConfigReference.markdown());
            return 0;
        }
    }

    static int usageError(CommandLine.Model.CommandSpec spec) {
        spec.commandLine().usage(spec.commandLine().getErr());
        return spec.exitCodeOnInvalidInput();
    }

    private static Instant instant(String text) {
        try {
            return Instant.parse(text);
        } catch (java.time.format.DateTimeParseException e) {
            throw new CommandLine.TypeConversionException("'" + text + "' is not a UTC time such as 2024-05-01T10:00:00Z");
        }
    }

    private static Duration positiveDuration(String text) {
        try {
            return Durations.parsePositive(text);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }

    /** A bad option is one line naming it (plus a close match when there is one), not the whole usage. */
    private static int oneLineUsageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        String hint = e instanceof CommandLine.UnmatchedArgumentException unmatched && !unmatched.getSuggestions().isEmpty()
                ? " (did you mean " + String.join(" or ", unmatched.getSuggestions()) + "?)" : "";
        cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + e.getMessage() + hint
                + "; see '" + cmd.getCommandSpec().qualifiedName() + " --help'");
        return cmd.getCommandSpec().exitCodeOnInvalidInput();
    }

    static CommandLine.ParameterException invalid(CommandLine.Model.CommandSpec spec, String option, String problem) {
        return new CommandLine.ParameterException(spec.commandLine(), "Invalid value for option '" + option + "': " + problem);
    }
}
