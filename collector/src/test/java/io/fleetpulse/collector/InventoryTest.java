package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.Target;
import io.fleetpulse.runtime.config.ConfigException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InventoryTest {

    private static final Instant NOW = Instant.parse("2025-03-01T12:00:00Z");

    private static Inventory parse(String yaml) {
        return Inventory.parse(yaml, "inventory.yaml", Duration.ofSeconds(10), Duration.ofSeconds(2), NOW);
    }

    private static String problems(String yaml) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(yaml));
        assertEquals("collector.inventory", e.key());
        return e.getMessage();
    }

    @Test
    void shouldReadEveryFieldOfATarget() {
        Inventory inventory = parse("""
                defaults: { interval: 10s, timeout: 2s, group: default }
                targets:
                  - id: srv-001
                    health: http://127.0.0.1:8500/srv-001/health
                    metrics: http://127.0.0.1:8500/srv-001/metrics   # optional
                    group: web
                    labels: { role: api, region: eu }
                    interval: 5s
                    timeout: 1500ms
                    critical-checks: [http, disk]
                    absence-timeout: 2m
                """);

        Target t = inventory.targets().get(0);
        assertEquals("srv-001", t.getTargetId());
        assertEquals("http://127.0.0.1:8500/srv-001/health", t.getHealthUrl());
        assertEquals("http://127.0.0.1:8500/srv-001/metrics", t.getMetricsUrl());
        assertEquals("web", t.getGroup());
        assertEquals(Map.of("role", "api", "region", "eu"), t.getLabels());
        assertEquals(5000, t.getCheckIntervalMs());
        assertEquals(1500, t.getTimeoutMs());
        assertEquals(List.of("http", "disk"), t.getCriticalChecks());
        assertEquals(120_000, t.getAbsenceTimeoutMs());
        assertEquals(NOW, t.getUpdatedAt());
    }

    @Test
    void shouldFallBackToDefaultsThenToTheServiceSettings() {
        Inventory withDefaults = parse("""
                defaults: { interval: 30s, timeout: 3s, group: db, labels: { env: prod, role: x }, critical-checks: [http] }
                targets:
                  - { id: a, health: "https://a.example/health", labels: { role: primary } }
                """);
        Inventory bare = parse("""
                targets:
                  - { id: b, health: "http://b:8080/health" }
                """);

        Target a = withDefaults.targets().get(0);
        assertEquals(30_000, a.getCheckIntervalMs());
        assertEquals(3_000, a.getTimeoutMs());
        assertEquals("db", a.getGroup());
        assertEquals(Map.of("env", "prod", "role", "primary"), a.getLabels(), "target labels win over defaults");
        assertEquals(List.of("http"), a.getCriticalChecks());
        assertEquals(90_000, a.getAbsenceTimeoutMs(), "three intervals when that is more than a minute");
        assertNull(a.getMetricsUrl());

        Target b = bare.targets().get(0);
        assertEquals(10_000, b.getCheckIntervalMs(), "collector.poll.interval");
        assertEquals(2_000, b.getTimeoutMs(), "collector.poll.timeout");
        assertEquals("default", b.getGroup());
        assertEquals(60_000, b.getAbsenceTimeoutMs());
        assertEquals(List.of(), b.getCriticalChecks());
    }

    @Test
    void shouldNameTheTargetAndFieldOfEveryProblemAtOnce() {
        String message = problems("""
                targets:
                  - id: srv-001
                    health: ftp://files/health
                  - id: srv-002
                    health: http://h/health
                    critical_checks: [http]
                  - health: http://h/health
                  - id: srv-004
                    health: http://h/health
                    interval: 1s
                    timeout: 5s
                  - id: srv-005
                    health: http://h/health
                    interval: 10
                  - id: srv-001
                    health: http://h/health
                """);

        assertTrue(message.startsWith("Inventory inventory.yaml (collector.inventory) has 6 problems:"), message);
        assertTrue(message.contains("target 'srv-001' (targets[0]): field 'health': 'ftp://files/health' is not an absolute "
                + "http:// or https:// URL"), message);
        assertTrue(message.contains("target 'srv-002' (targets[1]): unknown field 'critical_checks'"), message);
        assertTrue(message.contains("targets[2]: field 'id' is missing"), message);
        assertTrue(message.contains("target 'srv-004' (targets[3]): field 'timeout': 5s is longer than the interval 1s"), message);
        assertTrue(message.contains("target 'srv-005' (targets[4]): field 'interval': '10' is not a positive duration such as "
                + "500ms, 10s, 5m or 1h (write the unit)"), message);
        assertTrue(message.contains("target 'srv-001' (targets[5]): the id is used by an earlier target too"), message);
    }

    @Test
    void shouldRejectAMissingHealthUrlAndBadIdsLabelsAndLists() {
        String message = problems("""
                targets:
                  - id: "bad id!"
                    health: http://h/health
                  - id: ok
                    labels: [a, b]
                    critical-checks: http
                """);

        assertTrue(message.contains("target 'bad id!' (targets[0]): field 'id': 'bad id!' must be"), message);
        assertTrue(message.contains("target 'ok' (targets[1]): field 'health' is missing"), message);
        assertTrue(message.contains("target 'ok' (targets[1]): field 'labels' must be a mapping"), message);
        assertTrue(message.contains("target 'ok' (targets[1]): field 'critical-checks' must be a list"), message);
    }

    @Test
    void shouldRejectFilesWithoutTargets() {
        assertTrue(problems("").contains("is empty"));
        assertTrue(problems("defaults: { interval: 5s }").contains("has no 'targets' list"));
        assertTrue(problems("targets: []").contains("'targets': is empty"));
        assertTrue(problems("targets: srv-001").contains("must be a list"));
        assertTrue(problems("target:\n  - id: a\n").contains("unknown field 'target'"));
    }

    @Test
    void shouldRejectBadDefaults() {
        String message = problems("""
                defaults: { interval: soon, colour: blue }
                targets:
                  - { id: a, health: "http://a/health" }
                """);

        assertTrue(message.contains("'defaults': unknown field 'colour'"), message);
        assertTrue(message.contains("'defaults': field 'interval': 'soon' is not a positive duration"), message);
    }

    @Test
    void shouldReportYamlSyntaxErrorsWithTheLine() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse("targets:\n  - id: a\n    health: [unclosed\n"));
        assertTrue(e.getMessage().startsWith("Inventory inventory.yaml is not valid YAML"), e.getMessage());
        assertTrue(e.getMessage().contains("line"), e.getMessage());
    }

    @Test
    void shouldNameTheKeyWhenTheFileCannotBeRead() {
        ConfigException e = assertThrows(ConfigException.class, () -> Inventory.load(Path.of("/nonexistent/inventory.yaml"),
                Duration.ofSeconds(10), Duration.ofSeconds(2), NOW));
        assertEquals("collector.inventory", e.key());
        assertTrue(e.getMessage().contains("/nonexistent/inventory.yaml"), e.getMessage());
    }

    @Test
    void shouldParseDurationsInEveryWrittenForm() {
        assertEquals(Duration.ofMillis(500), Inventory.parseDuration("500ms"));
        assertEquals(Duration.ofSeconds(10), Inventory.parseDuration("10s"));
        assertEquals(Duration.ofMinutes(5), Inventory.parseDuration("5m"));
        assertEquals(Duration.ofHours(1), Inventory.parseDuration("1h"));
        assertEquals(Duration.ofSeconds(10), Inventory.parseDuration("PT10S"));
        assertNull(Inventory.parseDuration("0s"));
        assertNull(Inventory.parseDuration("ten"));
        assertNull(Inventory.parseDuration("PT-5S"));
    }
}
