package io.fleetpulse.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.schemas.Topics;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.PostgresFixture;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.MemberToRemove;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every service as its own process, the way an orchestrator runs it: a dependency it cannot reach at start, or a core
 * loop that dies while it runs, ends the process with exit status 1 and one line naming what went wrong, so
 * {@code restart: on-failure} (compose) or systemd restarts it.
 */
class SupervisionIT {

    @TempDir
    static Path dir;

    @Test
    void shouldExitOneNamingTheBrokerWhenKafkaCannotBeReachedAtStart() throws Exception {
        String broker = "127.0.0.1:" + freePort();
        List<ServiceProcess> processes = new ArrayList<>();
        for (ServiceKind kind : ServiceKind.values()) {
            Path inventory = dir.resolve("inventory-" + kind.commandName() + ".yaml");
            Files.writeString(inventory, "targets:\n  - id: srv-1\n    health: http://127.0.0.1:1/health\n");
            Map<String, String> settings = new java.util.HashMap<>(Map.of(
                    "kafka.bootstrap.servers", broker, "ops.start.timeout", "2s", "ops.port", "0"));
            switch (kind) {
                case COLLECTOR -> settings.put("collector.inventory", inventory.toString());
                case SINK -> settings.put("sink.jdbc.url", "jdbc:postgresql://127.0.0.1:" + freePort() + "/fleetpulse");
                case STREAM_PROCESSOR -> settings.put("streams.state.dir", dir.resolve("streams").toString());
                default -> { }
            }
            processes.add(ServiceProcess.start(kind, settings, dir));
        }
        for (ServiceProcess process : processes) {
            int exit = process.awaitExit(Duration.ofSeconds(45));
            assertEquals(1, exit, process.name() + " exit status; output:\n" + process.output());
            assertTrue(process.output().contains("cannot reach the Kafka broker at " + broker),
                    process.name() + " names the broker and its address:\n" + process.output());
            assertFalse(process.output().contains("\tat "), process.name() + " prints no stack trace:\n" + process.output());
        }
    }

    @Test
    void shouldExitOneNamingTheDatabaseWhenPostgresCannotBeReachedAtStart() throws Exception {
        try (KafkaFixture kafka = KafkaFixture.start()) {
            String url = "jdbc:postgresql://127.0.0.1:" + freePort() + "/fleetpulse";
            ServiceProcess sink = ServiceProcess.start(ServiceKind.SINK, Map.of(
                    "kafka.bootstrap.servers", kafka.bootstrapServers(), "ops.start.timeout", "3s", "ops.port", "0",
                    "sink.jdbc.url", url + "?password=hunter2", "sink.jdbc.password", "s3cret"), dir);

            int exit = sink.awaitExit(Duration.ofSeconds(45));

            assertEquals(1, exit, sink.output());
            assertTrue(sink.output().contains("cannot reach the PostgreSQL at " + url), sink.output());
            assertFalse(sink.output().contains("hunter2") || sink.output().contains("s3cret"), "secrets stay out of the log");
            assertFalse(sink.output().contains("\tat "), "no stack trace:\n" + sink.output());
        }
    }

    // ---------------------------------------------------------------- a core loop that dies while running

    @Test
    void shouldExitOneWhenTheStreamsClientReachesErrorAndZeroOnSigterm() throws Exception {
        try (KafkaFixture kafka = KafkaFixture.start()) {
            Map<String, String> settings = Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(),
                    "kafka.topic.partitions", "2", "streams.state.dir", dir.resolve("streams-fault").toString());

            ServiceProcess calm = ServiceProcess.startReady(ServiceKind.STREAM_PROCESSOR, settings, dir);
            calm.process().destroy(); // SIGTERM
            assertEquals(0, calm.awaitExit(Duration.ofSeconds(45)), "SIGTERM finishes, commits and exits 0:\n" + calm.output());

            ServiceProcess streams = ServiceProcess.startReady(ServiceKind.STREAM_PROCESSOR, settings, dir);
            deleteTopic(kafka, Topics.CHECKS.name()); // Streams finds its source missing at the next rebalance: ERROR

            assertEquals(1, streams.awaitExit(Duration.ofSeconds(60)), streams.output());
            assertTrue(streams.output().contains("stream-processor failed:"), streams.output());
        }
    }

    @Test
    void shouldExitOneWhenTheAlertingConsumerLoopDies() throws Exception {
        try (KafkaFixture kafka = KafkaFixture.start()) {
            ServiceProcess alerting = ServiceProcess.startReady(ServiceKind.ALERTING, Map.of(
                    "kafka.bootstrap.servers", kafka.bootstrapServers(), "kafka.topic.partitions", "2",
                    // one receiver, so one delivery loop; nothing is sent to it
                    "alerting.webhook.urls", "http://127.0.0.1:9/never-called",
                    // a static member can be removed from its group by an admin, as the coordinator removes one
                    // that stopped polling; its loop then dies (audit and dead-letter failures are retried instead)
                    "kafka.client.group.instance.id", "alerting-1"), dir);
            try (Admin admin = kafka.admin()) {
                String group = admin.listConsumerGroups().all().get().stream().map(ConsumerGroupListing::groupId)
                        .filter(g -> g.startsWith("fleetpulse-alerting.webhook-")).findFirst().orElseThrow();
                admin.removeMembersFromConsumerGroup(group, new RemoveMembersFromConsumerGroupOptions(
                        List.of(new MemberToRemove("alerting-1")))).all().get();
            }

            assertEquals(1, alerting.awaitExit(Duration.ofSeconds(60)), alerting.output());
            assertTrue(alerting.output().contains("alerting failed: deliver-webhook died"), alerting.output());
            assertTrue(alerting.output().contains("expelled from consumer group"), alerting.output());
        }
    }

    @Test
    void shouldExitOneWhenTheSinkWriterDies() throws Exception {
        try (KafkaFixture kafka = KafkaFixture.start(); PostgresFixture postgres = PostgresFixture.start()) {
            String jdbcUrl = postgres.createDatabase();
            Map<String, String> settings = Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(),
                    "kafka.topic.partitions", "2", "sink.jdbc.url", jdbcUrl, "sink.jdbc.user", postgres.user(),
                    "sink.jdbc.password", postgres.password(), "sink.group.id", "supervision");
            ServiceProcess first = ServiceProcess.startReady(ServiceKind.SINK, settings, dir); // migrates the schema
            first.process().destroy();
            assertEquals(0, first.awaitExit(Duration.ofSeconds(45)), first.output());

            // An offset no consumer can seek to: the writer dies on its first assignment.
            try (var connection = postgres.dataSource(jdbcUrl.substring(jdbcUrl.lastIndexOf('/') + 1)).getConnection();
                 var statement = connection.createStatement()) {
                statement.execute("INSERT INTO sink_offset (consumer_group, topic, partition, next_offset) "
                        + "VALUES ('supervision', 'fleet.aggregates.1m', 0, -1)");
            }
            ServiceProcess sink = ServiceProcess.start(ServiceKind.SINK, settings, dir);

            assertEquals(1, sink.awaitExit(Duration.ofSeconds(60)), sink.output());
            assertTrue(sink.output().contains("sink_offset holds next_offset -1 for fleet.aggregates.1m-0"), sink.output());
        }
    }

    private static void deleteTopic(KafkaFixture kafka, String topic) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
            admin.deleteTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (admin.listTopics().names().get(10, TimeUnit.SECONDS).contains(topic)) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(topic + " was not deleted within 30 s");
                }
                Thread.sleep(100);
            }
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** One service in a child JVM started through the real CLI, its output captured. */
    static final class ServiceProcess {
        private final ServiceKind kind;
        private final Process process;
        private final Path log;

        private ServiceProcess(ServiceKind kind, Process process, Path log) {
            this.kind = kind;
            this.process = process;
            this.log = log;
        }

        static ServiceProcess start(ServiceKind kind, Map<String, String> settings, Path dir) throws IOException {
            Path config = Files.createTempFile(dir, kind.commandName(), ".properties");
            StringBuilder text = new StringBuilder();
            settings.forEach((k, v) -> text.append(k).append('=').append(v.replace("\\", "\\\\")).append('\n'));
            Files.writeString(config, text);
            Path log = Files.createTempFile(dir, kind.commandName(), ".log");
            ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                    FleetPulseCli.class.getName(), kind.commandName(), "--config", config.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            builder.environment().keySet().removeIf(k -> k.startsWith("FLEETPULSE_"));
            return new ServiceProcess(kind, builder.start(), log);
        }

        /** Starts the service on a known ops port and waits until /readyz answers 200. */
        static ServiceProcess startReady(ServiceKind kind, Map<String, String> settings, Path dir) throws Exception {
            int port = freePort();
            Map<String, String> withPort = new java.util.HashMap<>(settings);
            withPort.put("ops.port", String.valueOf(port));
            withPort.put("ops.host", "127.0.0.1");
            ServiceProcess started = start(kind, withPort, dir);
            HttpClient http = HttpClient.newHttpClient();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (System.nanoTime() < deadline) {
                if (!started.process.isAlive()) {
                    throw new AssertionError(kind.commandName() + " exited " + started.process.exitValue()
                            + " before it was ready:\n" + started.output());
                }
                try {
                    if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz")).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                        return started;
                    }
                } catch (IOException notListeningYet) {
                    // the JVM is still starting
                }
                Thread.sleep(200);
            }
            started.process.destroyForcibly();
            throw new AssertionError(kind.commandName() + " not ready within 90 s:\n" + started.output());
        }

        String name() {
            return kind.commandName();
        }

        Process process() {
            return process;
        }

        int awaitExit(Duration timeout) throws InterruptedException {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError(name() + " did not exit within " + timeout + "; output:\n" + output());
            }
            return process.exitValue();
        }

        String output() {
            try {
                return Files.readString(log);
            } catch (IOException e) {
                return "(no output: " + e + ")";
            }
        }
    }
}
