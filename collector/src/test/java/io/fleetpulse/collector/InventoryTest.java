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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InventoryTest {

    private static final Instant NOW = Instant.parse("2025-03-01T12:00:00Z");
    private static final String PREFIX = "The inventory (collector.inventory) cannot be used: ";

    private static final Inventory.Fallbacks FALLBACKS = new Inventory.Fallbacks(Duration.ofSeconds(10),
            Duration.ofSeconds(60), Duration.ofSeconds(2));

    private static Inventory parse(String yaml) {
        return Inventory.parse(yaml, "inventory.yaml", FALLBACKS, NOW);
    }

    private static String problems(String yaml) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(yaml));
        assertEquals("collector.inventory", e.key());
        assertTrue(e.getMessage().startsWith(PREFIX), e.getMessage());
        return e.getMessage();
    }

    /** Each problem as {@code file:line:column: path: message}, in file order. */
    private static List<String> problemLines(String yaml) {
        String message = problems(yaml).substring(PREFIX.length());
        if (!message.contains("\n")) {
            return List.of(message);
        }
        return Arrays.stream(message.split("\n")).skip(1).map(String::strip).toList();
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
        assertEquals("inventory.yaml", inventory.source());
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
        assertEquals(60_000, b.getAbsenceTimeoutMs(), "at least a minute");
        assertEquals(List.of(), b.getCriticalChecks());
    }

    @Test
    void shouldApplyAGroupsOverridesBetweenDefaultsAndTheTarget() {
        Inventory inventory = parse("""
                defaults: { interval: 30s, timeout: 3s, labels: { env: prod }, critical-checks: [http] }
                groups:
                  db: { interval: 5s, timeout: 1s, labels: { tier: data }, critical-checks: [http, db] }
                  web: { labels: { tier: front } }
                targets:
                  - { id: a, health: "http://a/health", group: db }
                  - { id: b, health: "http://b/health", group: db, interval: 10s, critical-checks: [db], labels: { tier: x } }
                  - { id: c, health: "http://c/health", group: web }
                  - { id: d, health: "http://d/health", group: batch }
                """);

        Target a = inventory.targets().get(0);
        assertEquals(5_000, a.getCheckIntervalMs());
        assertEquals(1_000, a.getTimeoutMs());
        assertEquals(List.of("http", "db"), a.getCriticalChecks(), "the group's criticality of its components");
        assertEquals(Map.of("env", "prod", "tier", "data"), a.getLabels());
        Target b = inventory.targets().get(1);
        assertEquals(10_000, b.getCheckIntervalMs(), "the target's own value wins over its group's");
        assertEquals(1_000, b.getTimeoutMs());
        assertEquals(List.of("db"), b.getCriticalChecks());
        assertEquals(Map.of("env", "prod", "tier", "x"), b.getLabels());
        Target c = inventory.targets().get(2);
        assertEquals(30_000, c.getCheckIntervalMs(), "a group that sets no interval keeps the defaults'");
        assertEquals(List.of("http"), c.getCriticalChecks());
        assertEquals("web", c.getGroup());
        Target d = inventory.targets().get(3);
        assertEquals(30_000, d.getCheckIntervalMs(), "a group without overrides is just a name");
        assertEquals("batch", d.getGroup());
    }

    @Test
    void shouldReportAGroupsMistakeOnceWhereTheGroupMakesIt() {
        List<String> problems = problemLines("""
                defaults: { timeout: 3s }
                groups:
                  db: { interval: 1s, colour: blue }
                targets:
                  - { id: a, health: "http://a/health", group: db }
                  - { id: b, health: "http://b/health", group: db }
                """);

        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("inventory.yaml:3:19: groups.db.interval: the timeout 3s is "
                + "longer than the interval 1s")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("inventory.yaml:3:23: groups.db.colour: unknown key")),
                problems.toString());
    }

    @Test
    void shouldReadAMetricsIntervalOfItsOwnFromTheTargetItsGroupOrDefaults() {
        Inventory inventory = parse("""
                defaults: { interval: 10s, metrics-interval: 60s }
                groups:
                  fast: { metrics-interval: 20s }
                targets:
                  - { id: a, health: "http://a/health", metrics: "http://a/metrics" }
                  - { id: b, health: "http://b/health", group: fast }
                  - { id: c, health: "http://c/health", group: fast, metrics-interval: 5s }
                """);
        Inventory bare = parse("targets:\n  - { id: d, health: \"http://d/health\" }\n");

        assertEquals(List.of(60_000L, 20_000L, 5_000L), inventory.targets().stream().map(Target::getMetricsIntervalMs).toList());
        assertEquals(10_000, inventory.targets().get(0).getCheckIntervalMs(), "the health interval is its own");
        assertEquals(60_000L, bare.targets().get(0).getMetricsIntervalMs(), "unset: collector.metrics.interval");
    }

    @Test
    void shouldRefuseAMetricsIntervalTooShortOrShorterThanTheTimeout() {
        List<String> problems = problemLines("""
                defaults: { timeout: 3s }
                targets:
                  - { id: a, health: "http://a/health", metrics: "http://a/metrics", metrics-interval: 50ms }
                  - { id: b, health: "http://b/health", metrics: "http://b/metrics", metrics-interval: 1s }
                  - { id: c, health: "http://c/health", metrics-interval: 1s }
                """);

        // c polls no metrics endpoint, so its timeout need not fit its metrics interval.
        assertEquals(3, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("targets[0].metrics-interval: 50ms is shorter than the minimum 100ms"),
                problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("targets[1].metrics-interval: the timeout 3s is longer than "
                + "the metrics-interval 1s")), problems.toString());
    }

    @Test
    void shouldAcceptEveryDurationOfTheOneSyntax() {
        Inventory inventory = parse("""
                defaults: { absence-timeout: 7d }
                targets:
                  - { id: a, health: "http://a/health", interval: PT30S, absence-timeout: 2w }
                  - { id: b, health: "http://b/health", interval: 1h30m, timeout: 500ms }
                  - { id: c, health: "http://c/health" }
                """);

        List<Target> targets = inventory.targets();
        assertEquals(30_000, targets.get(0).getCheckIntervalMs());
        assertEquals(Duration.ofDays(14).toMillis(), targets.get(0).getAbsenceTimeoutMs());
        assertEquals(Duration.ofMinutes(90).toMillis(), targets.get(1).getCheckIntervalMs());
        assertEquals(500, targets.get(1).getTimeoutMs());
        assertEquals(Duration.ofDays(7).toMillis(), targets.get(2).getAbsenceTimeoutMs(), "from defaults");
    }

    @Test
    void shouldReportEveryProblemAtOnceWithItsLineAndColumn() {
        List<String> lines = problemLines("""
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

        assertEquals(List.of(
                "inventory.yaml:3:13: targets[0].health: 'ftp://files/health' is not an absolute http:// or https:// URL (or tcp://host:port)",
                "inventory.yaml:6:5: targets[1].critical_checks: unknown key 'critical_checks' (did you mean "
                        + "'critical-checks'?); allowed here: absence-timeout, critical-checks, critical-free-disk, "
                        + "critical-latency, group, health, id, interval, labels, max-latency, metrics, metrics-interval, "
                        + "min-free-disk, timeout",
                "inventory.yaml:7:5: targets[2]: missing required key 'id'",
                "inventory.yaml:11:14: targets[3].timeout: the timeout 5s is longer than the interval 1s; polls of one "
                        + "target would pile up",
                "inventory.yaml:14:15: targets[4].interval: '10' is not a positive duration such as 30s, 5m, 1h, 7d",
                "inventory.yaml:15:9: targets[5].id: 'srv-001' is the id of an earlier target too (line 2)"), lines);
        assertTrue(problems("targets:\n  - id: a\n    health: http://a/\n    health: http://b/\n")
                .contains("inventory.yaml:4:5: targets[0].health: duplicate key 'health' (first at line 3)"));
    }

    @Test
    void shouldRejectBadIdsLabelsAndChecksAndAMissingHealthUrl() {
        List<String> lines = problemLines("""
                targets:
                  - id: "bad id!"
                    health: http://h/health
                  - id: ok
                    labels: [a, b]
                    critical-checks: [http, ""]
                  - id: ""
                    health: http://h/health
                    group: ""
                """);

        assertEquals(6, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("inventory.yaml:2:9: targets[0].id: 'bad id!' must be 1 to 200 letters"), lines.get(0));
        assertEquals("inventory.yaml:4:5: targets[1]: missing required key 'health'", lines.get(1));
        assertEquals("inventory.yaml:5:13: targets[1].labels: expected a map of keys to values, found a list", lines.get(2));
        assertEquals("inventory.yaml:6:29: targets[1].critical-checks[1]: must not be empty", lines.get(3));
        assertEquals("inventory.yaml:7:9: targets[2].id: must not be empty", lines.get(4));
        assertEquals("inventory.yaml:9:12: targets[2].group: must not be empty", lines.get(5));
    }

    @Test
    void shouldTakeASingleCheckNameAsAListOfOne() {
        Target t = parse("targets:\n  - { id: a, health: \"http://a/health\", critical-checks: http }\n").targets().get(0);

        assertEquals(List.of("http"), t.getCriticalChecks());
    }

    @Test
    void shouldRejectFilesWithoutTargets() {
        assertTrue(problems("").contains("inventory.yaml:1:1: the file is empty"));
        assertTrue(problems("defaults: { interval: 5s }").contains("inventory.yaml:1:1: missing required key 'targets'"));
        assertTrue(problems("targets: []").contains("inventory.yaml:1:10: targets: is empty"));
        assertTrue(problems("targets: srv-001").contains("inventory.yaml:1:10: targets: expected a list, found 'srv-001'"));
        assertTrue(problems("targets: [srv-001]").contains("inventory.yaml:1:11: targets[0]: expected a target"));
        assertTrue(problems("target:\n  - id: a\n").contains("inventory.yaml:1:1: target: unknown key 'target' "
                + "(did you mean 'targets'?)"));
    }

    @Test
    void shouldReportAMistakeInTheDefaultsOnceNotOncePerTarget() {
        List<String> lines = problemLines("""
                defaults: { interval: 50ms, timeout: 10ms, colour: blue, absence-timeout: soon }
                targets:
                  - { id: a, health: "http://a/health" }
                  - { id: b, health: "http://b/health" }
                  - { id: c, health: "http://c/health", interval: 1s, absence-timeout: 1s }
                """);

        assertEquals(List.of(
                "inventory.yaml:1:23: defaults.interval: 50ms is shorter than the minimum 100ms",
                "inventory.yaml:1:44: defaults.colour: unknown key 'colour'; allowed here: absence-timeout, "
                        + "critical-checks, critical-free-disk, critical-latency, group, interval, labels, max-latency, "
                        + "metrics-interval, min-free-disk, timeout",
                "inventory.yaml:1:75: defaults.absence-timeout: 'soon' is not a positive duration such as 30s, 5m, 1h, 7d",
                "inventory.yaml:5:72: targets[2].absence-timeout: the absence-timeout 1s must be longer than the "
                        + "interval 1s"), lines);
    }

    @Test
    void shouldReportYamlSyntaxErrorsWithTheLineAndColumn() {
        String message = problems("targets:\n  - id: a\n    health: [unclosed\n");
        assertTrue(message.startsWith(PREFIX + "inventory.yaml:4:1: not valid YAML"), message);
    }

    @Test
    void shouldNameTheKeyAndTheFileWhenTheFileCannotBeRead() {
        ConfigException e = assertThrows(ConfigException.class, () -> Inventory.load(Path.of("/nonexistent/inventory.yaml"),
                FALLBACKS, NOW));
        assertEquals("collector.inventory", e.key());
        assertTrue(e.getMessage().contains("/nonexistent/inventory.yaml:1:1: cannot read the file"), e.getMessage());
    }

    @Test
    void shouldTakeATcpAddressAsAHealthCheckButNotAsAMetricsEndpoint() {
        Inventory inventory = parse("targets:\n  - { id: db, health: \"tcp://db-1.internal:5432\" }\n");
        assertEquals("tcp://db-1.internal:5432", inventory.targets().get(0).getHealthUrl());

        List<String> lines = problemLines("""
                targets:
                  - { id: a, health: "tcp://db-1" }
                  - { id: b, health: "tcp://db-1:5432/path" }
                  - { id: c, health: "http://c/health", metrics: "tcp://c:9100" }
                """);
        assertEquals(List.of(
                "inventory.yaml:2:22: targets[0].health: 'tcp://db-1' is not a TCP address: expected tcp://host:port and nothing more",
                "inventory.yaml:3:22: targets[1].health: 'tcp://db-1:5432/path' is not a TCP address: expected "
                        + "tcp://host:port and nothing more",
                "inventory.yaml:4:50: targets[2].metrics: 'tcp://c:9100' is not an absolute http:// or https:// URL"), lines);
    }

    @Test
    void shouldReadTheLimitsFromTheTargetItsGroupOrDefaults() {
        Inventory inventory = parse("""
                defaults: { max-latency: 500ms, min-free-disk: 10GiB }
                groups:
                  db: { critical-latency: 2s, critical-free-disk: 1GB }
                targets:
                  - { id: a, health: "http://a/health" }
                  - { id: b, health: "http://b/health", group: db, max-latency: 1s, min-free-disk: "5000000000" }
                """);
        Inventory bare = parse("targets:\n  - { id: c, health: \"http://c/health\" }\n");

        Target a = inventory.targets().get(0);
        Target b = inventory.targets().get(1);
        assertEquals(List.of(500L, 10L << 30), java.util.Arrays.asList(a.getMaxLatencyMs(), a.getMinFreeDiskBytes()));
        assertNull(a.getCriticalLatencyMs());
        assertNull(a.getCriticalFreeDiskBytes());
        assertEquals(List.of(1_000L, 2_000L, 5_000_000_000L, 1_000_000_000L), List.of(b.getMaxLatencyMs(),
                b.getCriticalLatencyMs(), b.getMinFreeDiskBytes(), b.getCriticalFreeDiskBytes()));
        Target c = bare.targets().get(0);
        assertNull(c.getMaxLatencyMs(), "no limit unless set");
        assertNull(c.getMinFreeDiskBytes(), "no disk check unless set");
    }

    @Test
    void shouldRefuseLimitsWhoseCriticalLineIsNotPastTheWarnLine() {
        List<String> lines = problemLines("""
                targets:
                  - { id: a, health: "http://a/health", max-latency: 2s, critical-latency: 1s }
                  - { id: b, health: "http://b/health", min-free-disk: 1GiB, critical-free-disk: 2GiB }
                  - { id: c, health: "http://c/health", min-free-disk: lots, max-latency: 0s }
                """);

        assertEquals(4, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains("targets[0].critical-latency: the critical-latency 1s is shorter than the "
                + "max-latency 2s"), lines.get(0));
        assertTrue(lines.get(1).contains("targets[1].critical-free-disk: the critical-free-disk 2147483648 bytes is more "
                + "than the min-free-disk 1073741824 bytes"), lines.get(1));
        assertTrue(lines.stream().anyMatch(l -> l.contains("targets[2].min-free-disk: 'lots' is not a size in bytes")),
                lines.toString());
        assertTrue(lines.stream().anyMatch(l -> l.contains("targets[2].max-latency: '0s' is not a positive duration")),
                lines.toString());
    }
}
