package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.events.Target;
import io.fleetpulse.runtime.ServiceState;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topic;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.simulator.FleetSpec;
import io.fleetpulse.simulator.Hostility;
import io.fleetpulse.simulator.IncidentScript;
import io.fleetpulse.simulator.SimulatedFleet;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.Promtool;
import io.fleetpulse.testkit.TopicProbe;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The collector against a real broker and a simulated fleet over real HTTP: srv-001 healthy, srv-002 forced down,
 * srv-003 closing connections, srv-004 answering after 3 s (timeout 1 s), srv-005 with its database component down
 * while HTTP answers 200, srv-006 trickling its body one byte a second, "ghost" on a port nobody listens on, and
 * "babbler" answering every request with bytes that are not HTTP.
 */
class CollectorIT {

    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final int PARTITIONS = 3;
    /** The main collector's targets; other tests run collectors of their own on the same topics. */
    private static final Set<String> MAIN_TARGETS = Set.of("srv-001", "srv-002", "srv-003", "srv-004", "srv-005",
            "srv-006", "ghost", "babbler");

    @TempDir
    static Path dir;

    private static KafkaFixture kafka;
    private static SimulatedFleet fleet;
    private static CollectorService collector;
    private static ServerSocket babbler;

    @BeforeAll
    static void startCollectorOnASmallTroubledFleet() throws Exception {
        kafka = KafkaFixture.start();
        kafka.createContractTopics(PARTITIONS);
        fleet = SimulatedFleet.start(FleetSpec.of(6).withScript(IncidentScript.parse("slow:srv-004@0s+1h,component:srv-005@0s+1h")));
        fleet.setHostile("srv-006", Hostility.SLOW_BODY);
        fleet.setDown("srv-002", true);
        fleet.setUnreachable("srv-003", true);
        Path inventory = dir.resolve("inventory.yaml");
        Files.writeString(inventory, fleet.inventoryYaml(Duration.ofSeconds(1), Duration.ofSeconds(1))
                + "  - id: ghost\n    health: http://127.0.0.1:" + closedPort() + "/health\n"
                + "  - id: babbler\n    health: http://127.0.0.1:" + startBabbler() + "/health\n");
        collector = new CollectorService(settings(inventory, "it-collector"));
        collector.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (collector != null) {
            collector.close();
        }
        if (fleet != null) {
            fleet.close();
        }
        if (babbler != null) {
            babbler.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void shouldPublishEveryTargetToTheInventoryTopicAndBeReady() {
        List<ConsumerRecord<String, Target>> targets = read(Topics.TARGETS, seen -> keys(seen).containsAll(MAIN_TARGETS));

        Target srv001 = targets.stream().filter(r -> r.key().equals("srv-001")).findFirst().orElseThrow().value();
        assertEquals(fleet.healthUrl("srv-001"), srv001.getHealthUrl());
        assertEquals(fleet.metricsUrl("srv-001"), srv001.getMetricsUrl());
        assertEquals(1000, srv001.getCheckIntervalMs());
        assertEquals(1000, srv001.getTimeoutMs());
        assertEquals(List.of("http", "db"), srv001.getCriticalChecks());
        assertEquals("web", srv001.getGroup());
        targets.stream().filter(r -> MAIN_TARGETS.contains(r.key())).forEach(r -> assertEquals("it-collector", new String(
                r.headers().lastHeader(InventorySync.OWNER_HEADER).value(), StandardCharsets.UTF_8)));
        assertTrue(collector.isReady());
        assertTrue(collector.isLive());
    }

    @Test
    void shouldProduceChecksAndMetricsOfAHealthyTargetKeyedByTargetWithEventTimeStamps() {
        List<ConsumerRecord<String, CheckResult>> checks = read(Topics.CHECKS, seen ->
                has(seen, "srv-001", "http", CheckStatus.OK) && has(seen, "srv-001", "disk", CheckStatus.OK)
                        && has(seen, "srv-001", "services", CheckStatus.OK));
        List<ConsumerRecord<String, MetricSample>> metrics = read(Topics.METRICS,
                seen -> seen.stream().anyMatch(r -> r.key().equals("srv-001")));

        checks.forEach(r -> {
            assertEquals(r.key(), r.value().getTargetId());
            assertEquals(r.value().getObservedAt().toEpochMilli(), r.timestamp(), "record time is event time");
        });
        checks.stream().filter(r -> MAIN_TARGETS.contains(r.key()))
                .forEach(r -> assertEquals("it-collector", r.value().getCollectorId()));
        CheckResult http = checks.stream().map(ConsumerRecord::value)
                .filter(c -> c.getTargetId().equals("srv-001") && c.getCheckName().equals("http")).findFirst().orElseThrow();
        assertNotNull(http.getLatencyMs());
        assertTrue(http.getLatencyMs() < 1000, "latency " + http.getLatencyMs());

        ConsumerRecord<String, MetricSample> sample = metrics.stream().filter(r -> r.key().equals("srv-001"))
                .findFirst().orElseThrow();
        assertEquals("srv-001", sample.value().getTargetId());
        assertEquals(sample.value().getObservedAt().toEpochMilli(), sample.timestamp());
        assertNotNull(sample.value().getCpuPercent());
        assertNotNull(sample.value().getDiskFreeBytes());
        assertNotNull(sample.value().getLlmCostUsd());
        assertTrue(sample.value().getExtra().containsKey("queue_depth"), sample.value().getExtra().toString());
        assertTrue(metrics.stream().noneMatch(r -> r.key().equals("srv-002")), "a server that is down yields no sample");
    }

    @Test
    void shouldReportAForcedOutageAsCritical() {
        List<ConsumerRecord<String, CheckResult>> checks = read(Topics.CHECKS,
                seen -> has(seen, "srv-002", "http", CheckStatus.CRITICAL) && has(seen, "srv-002", "disk", CheckStatus.CRITICAL));

        CheckResult http = first(checks, "srv-002", "http");
        assertTrue(http.getMessage().startsWith("HTTP 503"), http.getMessage());
    }

    @Test
    void shouldReportClosedConnectionsAndRefusedPortsAsUnreachable() {
        List<ConsumerRecord<String, CheckResult>> checks = read(Topics.CHECKS,
                seen -> has(seen, "srv-003", "http", CheckStatus.UNREACHABLE) && has(seen, "ghost", "http", CheckStatus.UNREACHABLE));

        assertNull(first(checks, "srv-003", "http").getLatencyMs());
        assertTrue(first(checks, "ghost", "http").getMessage().startsWith("cannot connect"), first(checks, "ghost", "http").getMessage());
    }

    @Test
    void shouldReportATargetThatSpeaksNoHttpAsAFailedCheckAndKeepRunning() {
        List<ConsumerRecord<String, CheckResult>> checks = read(Topics.CHECKS, seen -> seen.stream()
                .map(ConsumerRecord::value).anyMatch(c -> c.getTargetId().equals("babbler")));

        CheckStatus status = first(checks, "babbler", "http").getStatus();
        assertTrue(status == CheckStatus.ERROR || status == CheckStatus.UNREACHABLE, status.toString());
        assertEquals(ServiceState.RUNNING, collector.state(), "a target's garbage is data, not a dead poll loop");
    }

    @Test
    void shouldReportASlowTargetAsTimeout() {
        List<ConsumerRecord<String, CheckResult>> checks = read(Topics.CHECKS,
                seen -> has(seen, "srv-004", "http", CheckStatus.TIMEOUT));

        CheckResult timeout = first(checks, "srv-004", "http");
        assertEquals("no complete response within 1000 ms (waiting for the status line)", timeout.getMessage());
        assertTrue(checks.stream().map(ConsumerRecord::value).noneMatch(c -> c.getTargetId().equals("srv-004")
                && c.getStatus() == CheckStatus.OK), "a 3 s answer never counts with a 1 s timeout");
    }

    @Test
    void shouldReportAFailingComponentAsItsOwnCriticalCheckWhileHttpIsOk() {
        List<ConsumerRecord<String, CheckResult>> checks = read(Topics.CHECKS,
                seen -> has(seen, "srv-005", "http", CheckStatus.OK) && has(seen, "srv-005", "db", CheckStatus.CRITICAL));

        assertEquals("database: connection refused", first(checks, "srv-005", "db").getMessage());
        assertTrue(checks.stream().map(ConsumerRecord::value).noneMatch(c -> c.getTargetId().equals("srv-005")
                && c.getCheckName().equals("disk") && c.getStatus() != CheckStatus.OK), "the other components stay OK");
    }

    @Test
    void shouldEndAPollOfATargetThatTricklesItsBodyAtTheDeadline() {
        List<ConsumerRecord<String, CheckResult>> checks = read(Topics.CHECKS,
                seen -> has(seen, "srv-006", "http", CheckStatus.TIMEOUT));

        assertTrue(first(checks, "srv-006", "http").getMessage().startsWith(
                "no complete response within 1000 ms (reading the body, "), first(checks, "srv-006", "http").getMessage());
    }

    @Test
    @SuppressWarnings("unchecked")
    void shouldCountPollsByOutcomeAndWhatItProduced() throws Exception {
        eventually(() -> {
            Map<String, Map<String, Long>> polls = (Map<String, Map<String, Long>>) collector.status().get("polls");
            return polls.get("health").keySet().containsAll(Set.of("OK", "CRITICAL", "UNREACHABLE", "TIMEOUT"))
                    && polls.get("metrics").keySet().containsAll(Set.of("OK", "CRITICAL", "UNREACHABLE", "TIMEOUT"));
        });
        Map<String, Object> status = collector.status();
        assertTrue((long) status.get("checksProduced") > 0, status.toString());
        assertTrue((long) status.get("metricsProduced") > 0, status.toString());
        assertTrue((long) status.get("metricsPollFailures") > 0, status.toString());
        assertEquals(8L, status.get("targetsPublished"));
        assertEquals(0L, status.get("produceErrors"));
        assertTrue((long) status.get("pollsSkipped") > 0, "the slow target's ticks are skipped while it is in flight");
        String scrape = ((PrometheusMeterRegistry) collector.meterRegistry()).scrape();
        assertTrue(scrape.contains("fleetpulse_collector_polls_total{kind=\"health\",outcome=\"TIMEOUT\"}"), scrape);
        assertTrue(scrape.contains("fleetpulse_collector_poll_latency_seconds_bucket{kind=\"health\",le="), scrape);
        assertTrue(scrape.contains("fleetpulse_collector_poll_scheduling_lag_seconds_bucket{le="), scrape);
        assertTrue(scrape.contains("# HELP fleetpulse_collector_targets targets polled now"), scrape);
        assertTrue(scrape.contains("kafka_producer_record_send_total"), "the producer's client metrics are bound");
        assertTrue(scrape.contains("jvm_memory_used_bytes"), scrape);
        Promtool.assertNoFindings("collector /metrics", scrape);
    }

    @Test
    void shouldFailWhenItsPollEventLoopRaisesSoThatTheProcessIsRestarted() throws Exception {
        Path one = dir.resolve("fault.yaml");
        Files.writeString(one, "targets:\n  - { id: fault-1, health: \"" + fleet.healthUrl("srv-001") + "\" }\n");
        ClockFault clock = new ClockFault();
        CollectorService faulty = new CollectorService(settings(one, "it-fault"), clock);
        try {
            faulty.start();
            assertEquals(ServiceState.RUNNING, faulty.state());

            clock.failNextReadOnTheEventLoop();
            Throwable cause = faulty.failure().toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);

            assertTrue(cause.getMessage().startsWith("collector: the poll event loop raised"), cause.getMessage());
            assertEquals(ClockFault.FAULT, cause.getCause().getMessage());
            assertEquals(ServiceState.FAILED, faulty.state());
            assertFalse(faulty.isLive(), "an orchestrator restarts what is not live");
            assertFalse(faulty.isReady());
            assertEquals("FAILED", faulty.status().get("state"));
        } finally {
            faulty.close();
        }
        assertEquals(ServiceState.FAILED, faulty.state(), "closing a failed service leaves it failed");
    }

    @Test
    void shouldTombstoneOnlyItsOwnTargetsThatLeftItsInventoryAndCloseWithinTheTimeout() throws Exception {
        String srv = fleet.healthUrl("srv-001");
        Path both = dir.resolve("both.yaml");
        Path one = dir.resolve("one.yaml");
        Files.writeString(both, "targets:\n  - { id: dc-keep, health: \"" + srv + "\" }\n  - { id: dc-drop, health: \"" + srv + "\" }\n");
        Files.writeString(one, "targets:\n  - { id: dc-keep, health: \"" + srv + "\" }\n");

        try (CollectorService first = new CollectorService(settings(both, "it-decommission"))) {
            first.start();
        }
        CollectorService second = new CollectorService(settings(one, "it-decommission"));
        long closeMs;
        try {
            second.start();
            assertEquals(Set.of("dc-drop"), second.status().get("targetsDecommissioned"));
        } finally {
            long started = System.nanoTime();
            second.close();
            closeMs = (System.nanoTime() - started) / 1_000_000;
        }

        List<ConsumerRecord<String, Target>> records = read(Topics.TARGETS,
                seen -> seen.stream().anyMatch(r -> r.key().equals("dc-drop") && r.value() == null));
        Set<String> tombstoned = records.stream().filter(r -> r.value() == null).map(ConsumerRecord::key).collect(Collectors.toSet());
        assertEquals(Set.of("dc-drop"), tombstoned, "other collectors' targets are left alone");
        assertTrue(closeMs < 3_000, "closed in " + closeMs + " ms");
    }

    @Test
    void shouldFinishAPollInFlightAndFlushItsCheckWhenClosed() throws Exception {
        Path slowOnly = dir.resolve("slow.yaml");
        Files.writeString(slowOnly, "targets:\n  - { id: drain-slow, health: \"" + fleet.healthUrl("srv-004") + "\" }\n");
        CollectorService draining = new CollectorService(settings(slowOnly, "it-drain"));
        long closeMs;
        try {
            draining.start();
            AwaitCollector.until(() -> (int) draining.status().get("pollsInFlight") > 0, draining, WAIT);
            assertEquals(1, draining.status().get("pollsInFlight"));
        } finally {
            long started = System.nanoTime();
            draining.close();
            closeMs = (System.nanoTime() - started) / 1_000_000;
        }

        assertEquals(1L, draining.status().get("checksProduced"), "the poll in flight finished and was flushed");
        assertTrue(closeMs < 2_500, "closed in " + closeMs + " ms");
        read(Topics.CHECKS, seen -> has(seen, "drain-slow", "http", CheckStatus.TIMEOUT));
    }

    /**
     * The system clock, but the next read on a Vert.x event loop throws once armed: the scheduler reads the clock
     * on every poll it sends, so a tick of the poll loop raises, as any bug in it would. Once only, so that the rest
     * (the failure's own time stamp) still works.
     */
    private static final class ClockFault extends Clock {
        static final String FAULT = "injected: the clock cannot be read";
        private final AtomicBoolean armed = new AtomicBoolean();

        void failNextReadOnTheEventLoop() {
            armed.set(true);
        }

        @Override
        public Instant instant() {
            if (Thread.currentThread().getName().startsWith("vert.x-eventloop") && armed.compareAndSet(true, false)) {
                throw new IllegalStateException(FAULT);
            }
            return Instant.now();
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    private static Settings settings(Path inventory, String collectorId) {
        return Settings.of(Map.of(
                "collector.inventory", inventory.toString(),
                "collector.id", collectorId,
                "collector.poll.interval", "1s",
                "collector.poll.timeout", "1s",
                "kafka.bootstrap.servers", kafka.bootstrapServers(),
                "kafka.topic.partitions", String.valueOf(PARTITIONS)), CollectorService.KEYS);
    }

    private static <V> List<ConsumerRecord<String, V>> read(Topic<String, V> topic,
                                                            Predicate<List<ConsumerRecord<String, V>>> until) {
        return TopicProbe.readUntil(kafka.bootstrapServers(), topic, until, WAIT);
    }

    private static Set<String> keys(List<? extends ConsumerRecord<String, ?>> records) {
        return records.stream().map(ConsumerRecord::key).collect(Collectors.toSet());
    }

    private static boolean has(List<ConsumerRecord<String, CheckResult>> seen, String target, String check, CheckStatus status) {
        return seen.stream().map(ConsumerRecord::value).anyMatch(c -> c.getTargetId().equals(target)
                && c.getCheckName().equals(check) && c.getStatus() == status);
    }

    private static CheckResult first(List<ConsumerRecord<String, CheckResult>> checks, String target, String check) {
        return checks.stream().map(ConsumerRecord::value).filter(Objects::nonNull)
                .filter(c -> c.getTargetId().equals(target) && c.getCheckName().equals(check)).findFirst().orElseThrow();
    }

    private static void eventually(BooleanSupplier condition) throws InterruptedException {
        AwaitCollector.until(condition, collector, WAIT);
    }

    /** A port whose listener answers every connection with a line that is not HTTP, then hangs up. */
    private static int startBabbler() throws Exception {
        babbler = new ServerSocket(0);
        Thread thread = new Thread(() -> {
            while (!babbler.isClosed()) {
                try (Socket socket = babbler.accept()) {
                    socket.getOutputStream().write("SSH-2.0-OpenSSH_9.6 not http at all\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                } catch (Exception e) {
                    // closed at the end of the test, or a client gone first
                }
            }
        }, "babbler");
        thread.setDaemon(true);
        thread.start();
        return babbler.getLocalPort();
    }

    private static int closedPort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
