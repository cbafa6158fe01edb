package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.runtime.DependencyUnavailableException;
import io.fleetpulse.runtime.KafkaSettings;
import io.fleetpulse.runtime.OpsSettings;
import io.fleetpulse.runtime.ServiceState;
import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.config.ConfigKey;
import io.fleetpulse.runtime.config.Settings;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Settings and the inventory are read and checked in the constructor, before anything touches the network; a start
 * without a broker gives up at {@code ops.start.timeout}. The running collector is tested in {@link CollectorIT}.
 */
class CollectorServiceTest {

    @TempDir
    Path dir;

    private Path inventory(String yaml) throws Exception {
        Path file = dir.resolve("inventory.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    private static ConfigException refused(Map<String, String> settings) {
        return assertThrows(ConfigException.class, () -> new CollectorService(Settings.of(settings, CollectorService.KEYS)));
    }

    @Test
    void shouldRequireAnInventory() {
        ConfigException e = refused(Map.of());
        assertEquals("collector.inventory", e.key());
    }

    @Test
    void shouldNameTheKeyOfABadSetting() throws Exception {
        Path file = inventory("targets:\n  - { id: a, health: \"http://a/health\" }\n");
        Map<String, String> base = Map.of("collector.inventory", file.toString());

        assertEquals("collector.poll.interval", refused(with(base, "collector.poll.interval", "often")).key());
        assertEquals("collector.poll.interval", refused(with(base, "collector.poll.interval", "50ms")).key());
        assertEquals("collector.max.concurrent.polls", refused(with(base, "collector.max.concurrent.polls", "0")).key());
        assertEquals("collector.poll.max.body.bytes", refused(with(base, "collector.poll.max.body.bytes", "10")).key());
        assertEquals("collector.health.max.checks", refused(with(base, "collector.health.max.checks", "0")).key());
        assertEquals("collector.poll.jitter", refused(with(base, "collector.poll.jitter", "0.9")).key());
        assertEquals("collector.push.host", refused(with(base, "collector.push.host", "no-such-host.invalid")).key());
        assertEquals("collector.tls.critical.days", refused(with(with(base, "collector.tls.warn.days", "5"),
                "collector.tls.critical.days", "6")).key());
        assertEquals("collector.tls.trust.pem", refused(with(base, "collector.tls.trust.pem",
                dir.resolve("no-such.pem").toString())).key());
        ConfigException timeout = refused(with(with(base, "collector.poll.interval", "1s"), "collector.poll.timeout", "5s"));
        assertEquals("collector.poll.timeout", timeout.key());
        assertEquals("'collector.poll.timeout' is 5s: expected at most 'collector.poll.interval' (1s), or polls of one "
                + "target would pile up", timeout.getMessage());
        ConfigException typo = refused(with(base, "collector.poll.intervall", "5s"));
        assertTrue(typo.getMessage().contains("did you mean 'collector.poll.interval'"), typo.getMessage());
    }

    @Test
    void shouldPollHealthEvery30sAndMetricsEvery60sByDefault() throws Exception {
        Path file = inventory("targets:\n  - { id: a, health: \"http://a/health\", metrics: \"http://a/metrics\" }\n");
        CollectorSettings settings = CollectorSettings.from(Settings.of(Map.of("collector.inventory", file.toString()),
                CollectorService.KEYS));

        assertEquals(Duration.ofSeconds(30), settings.pollInterval());
        assertEquals(Duration.ofSeconds(60), settings.metricsInterval());
        var target = Inventory.load(file, settings.inventoryFallbacks(), java.time.Instant.EPOCH).targets().get(0);
        assertEquals(30_000, target.getCheckIntervalMs());
        assertEquals(60_000L, target.getMetricsIntervalMs());
        ConfigException timeout = refused(Map.of("collector.inventory", file.toString(), "collector.metrics.interval", "1s"));
        assertEquals("'collector.poll.timeout' is 2s: expected at most 'collector.metrics.interval' (1s), or polls of one "
                + "target would pile up", timeout.getMessage());
    }

    @Test
    void shouldSizeTheGroupSessionTimeoutFromTheShortestIntervalAndRefuseALongerOne() throws Exception {
        Path file = inventory("""
                defaults: { interval: 8s }
                targets:
                  - { id: a, health: "http://a/health" }
                  - { id: b, health: "http://b/health", interval: 4s, metrics: "http://b/metrics", metrics-interval: 3s }
                """);
        Map<String, String> grouped = Map.of("collector.inventory", file.toString(), "collector.inventory.live", "true",
                "collector.inventory.group", "collectors");

        TargetsFeed.Group derived = new TargetsFeed.Group("g", null, null).sizedFor(Duration.ofSeconds(3));
        assertEquals(Duration.ofMillis(1500), derived.sessionTimeout(), "half the shortest interval");
        assertEquals(Duration.ofMillis(500), derived.heartbeatInterval(), "a third of the session timeout");
        assertEquals(Duration.ofSeconds(10), new TargetsFeed.Group("g", null, null).sizedFor(Duration.ofSeconds(30))
                .sessionTimeout(), "at most 10s");
        CollectorService service = new CollectorService(Settings.of(grouped, CollectorService.KEYS));
        assertEquals(Duration.ofMillis(1500), service.inventoryGroup().sessionTimeout(),
                "the YAML's metrics-interval 3s is the shortest");
        service.close();

        ConfigException tooLong = refused(with(grouped, "collector.inventory.group.session.timeout", "3500ms"));
        assertEquals("collector.inventory.group.session.timeout", tooLong.key());
        assertTrue(tooLong.getMessage().startsWith("'collector.inventory.group.session.timeout' is 3500ms: expected at "
                + "most the shortest interval known at start (3s, "), tooLong.getMessage());
        CollectorService explicit = new CollectorService(Settings.of(with(grouped,
                "collector.inventory.group.session.timeout", "3s"), CollectorService.KEYS));
        assertEquals(Duration.ofSeconds(3), explicit.inventoryGroup().sessionTimeout(),
                "as long as the shortest interval is allowed");
        explicit.close();
    }

    @Test
    void shouldStopOnAnInventoryProblemBeforeStarting() throws Exception {
        Path file = inventory("targets:\n  - { id: a, health: \"not a url\" }\n");

        ConfigException e = refused(Map.of("collector.inventory", file.toString()));
        assertEquals("collector.inventory", e.key());
        assertTrue(e.getMessage().contains(file + ":2:22: targets[0].health: 'not a url' is not an absolute"),
                e.getMessage());
    }

    @Test
    void shouldBeLiveButNotReadyBeforeStartAndDescribeItselfFromItsSettings() throws Exception {
        Path file = inventory("targets:\n  - { id: a, health: \"http://a/health\" }\n");
        CollectorService service = new CollectorService(Settings.of(Map.of("collector.inventory", file.toString(),
                "collector.id", "c-test", "collector.poll.timeout", "1500ms"), CollectorService.KEYS));

        assertEquals(ServiceState.CREATED, service.state());
        assertTrue(service.isLive(), "live before start, as every service");
        assertFalse(service.isReady(), "not ready before start, as every service");
        Map<String, Object> status = service.status();
        assertEquals("collector", status.get("service"));
        assertEquals("CREATED", status.get("state"));
        @SuppressWarnings("unchecked")
        Map<String, String> shown = (Map<String, String>) status.get("settings");
        assertEquals("c-test", shown.get("collector.id"));
        assertEquals("1500ms", shown.get("collector.poll.timeout"));
        assertEquals(file.toString(), shown.get("collector.inventory"));

        service.close();
        service.close();
        assertEquals(ServiceState.STOPPED, service.state());
        assertFalse(service.isLive());
        assertFalse(service.isReady());
    }

    @Test
    void shouldDeclareItsOwnKeysAndTheOnesEveryServiceReads() {
        List<String> names = CollectorService.KEYS.stream().map(ConfigKey::name).toList();

        assertTrue(CollectorService.KEYS.containsAll(KafkaSettings.KEYS));
        assertTrue(CollectorService.KEYS.containsAll(OpsSettings.KEYS));
        assertTrue(names.containsAll(List.of("collector.inventory", "collector.id", "collector.poll.interval",
                "collector.poll.timeout", "collector.max.concurrent.polls")), names.toString());
    }

    @Test
    void shouldReadItsTypedSettingsOnce() throws Exception {
        Path file = inventory("targets:\n  - { id: a, health: \"http://a/health\" }\n");
        CollectorSettings settings = CollectorSettings.from(Settings.of(Map.of("collector.inventory", file.toString(),
                "collector.id", " c-1 ", "collector.poll.interval", "1m", "collector.max.concurrent.polls", "8",
                "collector.poll.max.body.bytes", "4096", "collector.health.max.checks", "5", "collector.max.name.length",
                "20", "collector.metrics.max.extra", "3"), CollectorService.KEYS));

        assertEquals(new CollectorSettings(file, "c-1", Duration.ofMinutes(1), Duration.ofSeconds(60), Duration.ofSeconds(2), 8, 0.1,
                new BodyLimits(4096, 5, 20, 3), new HealthChecks.CertificateLines(21, 7), null,
                RecordPublisher.OutageBuffer.DEFAULTS, null, new PushApi.Config("0.0.0.0", 8090, 10_000, Duration.ofSeconds(5), 10, 20), false, null), settings);
    }

    @Test
    void shouldGiveUpOnAnUnreachableBrokerAtTheStartTimeoutAndFail() throws Exception {
        Path file = inventory("targets:\n  - { id: a, health: \"http://a/health\" }\n");
        String nobody = "127.0.0.1:" + closedPort();
        CollectorService service = new CollectorService(Settings.of(Map.of("collector.inventory", file.toString(),
                "kafka.bootstrap.servers", nobody, "ops.start.timeout", "2s"), CollectorService.KEYS));

        long started = System.nanoTime();
        DependencyUnavailableException e = assertThrows(DependencyUnavailableException.class, service::start);
        long tookMs = (System.nanoTime() - started) / 1_000_000;

        assertTrue(e.getMessage().startsWith("collector: cannot reach the Kafka broker at " + nobody
                + " (gave up at ops.start.timeout)"), e.getMessage());
        assertTrue(tookMs >= 2_000 && tookMs < 15_000, "gave up after " + tookMs + " ms");
        assertEquals(ServiceState.FAILED, service.state());
        assertTrue(service.failure().toCompletableFuture().isDone(), "the runner exits non-zero on it");
        assertFalse(service.isLive());
        service.close();
    }

    private static int closedPort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static Map<String, String> with(Map<String, String> base, String key, String value) {
        Map<String, String> copy = new HashMap<>(base);
        copy.put(key, value);
        return copy;
    }
}
