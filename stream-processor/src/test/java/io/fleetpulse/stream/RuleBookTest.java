package io.fleetpulse.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.Severity;
import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.runtime.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rules file: what it means, and how it tells the operator what is wrong with it. */
class RuleBookTest {

    @Test
    void shouldLoadTheBundledDefaults() {
        RuleBook book = RuleBook.defaults();

        assertEquals(List.of("target-down", "high-error-rate", "cpu-high", "disk-almost-full"),
                book.rules().stream().map(ThresholdRule::id).toList());
        ThresholdRule cpu = book.rulesFor(Signal.CPU_PERCENT).get(0);
        assertEquals(new Condition(Comparison.GT, 90), cpu.fire());
        assertEquals(Duration.ofSeconds(20), cpu.fireFor());
        assertEquals(new Condition(Comparison.LT, 75), cpu.recovery());
        assertEquals(Duration.ofSeconds(20), cpu.recoveryFor());
        ThresholdRule errors = book.rulesFor(Signal.ERROR_RATE_1M).get(0);
        assertEquals(new Condition(Comparison.LE, 0.1), errors.recovery());
        assertEquals(Duration.ZERO, errors.fireFor());
        assertEquals(Severity.CRITICAL, book.rulesFor(Signal.DISK_PERCENT).get(0).severity());
        assertTrue(book.rulesFor(Signal.GPU_PERCENT).isEmpty());
    }

    @Test
    void shouldDefaultRecoveryToTheNegationOfTheFiringCondition() {
        RuleBook book = RuleBook.parse("""
                rules:
                  - id: slow
                    kind: threshold
                    signal: latency_p95_ms_1m
                    op: ">="
                    value: 500
                    severity: info
                    labels: { team: web, tier: "1" }
                """, "test");

        ThresholdRule slow = book.rules().get(0);
        assertEquals(new Condition(Comparison.LT, 500), slow.recovery());
        assertEquals(Duration.ZERO, slow.fireFor());
        assertEquals(Duration.ZERO, slow.recoveryFor());
        assertEquals(Map.of("team", "web", "tier", "1"), slow.labels());
        assertEquals("web-1: latency_p95_ms_1m is 612.5 (threshold 500)", slow.summary("web-1", 612.5));
        assertTrue(slow.resolvedSummary("web-1", 120).startsWith("web-1 recovered (" + slow.id() + "): latency_p95_ms_1m 120 "),
                slow.resolvedSummary("web-1", 120));
    }

    @Test
    void shouldReportEveryProblemNamingRuleAndField() {
        RuleFileException e = assertThrows(RuleFileException.class, () -> RuleBook.parse("""
                rules:
                  - id: cpu-high
                    kind: threshold
                    signal: cpu_percent
                    op: "=>"
                    value: 90
                    severity: warning
                  - id: disk
                    kind: threshold
                    signal: disk_pct
                    op: ">"
                    value: ninety
                    for: 15
                    severity: urgent
                    summary: "{target} at {level}"
                    treshold: 3
                  - kind: absence
                    signal: cpu_percent
                    op: ">"
                    value: 1
                    severity: info
                """, "rules.yaml"));

        List<String> problems = e.problems();
        assertEquals(List.of(
                "rule 'cpu-high' field 'op': '=>' is not one of >, >=, <, <= (quote it in YAML: op: \">=\")",
                "rule 'disk' field 'treshold': unknown field; allowed: for, id, kind, labels, op, recovery, severity, signal, summary, value",
                "rule 'disk' field 'signal': 'disk_pct' is not a known signal; known: check_failed, check_latency_ms, "
                        + "cpu_percent, memory_percent, disk_percent, gpu_percent, task_latency_ms, error_rate_1m, latency_p95_ms_1m",
                "rule 'disk' field 'value': 'ninety' is not a number",
                "rule 'disk' field 'for': '15' is not a duration; write e.g. 0s, 500ms, 15s, 2m, 1h",
                "rule 'disk' field 'severity': 'urgent' is not one of info, warning, critical",
                "rule 'disk' field 'summary': unknown placeholder '{level}'; use {target}, {value} or {threshold}",
                "rule #3 field 'id': is required",
                "rule #3 field 'kind': 'absence' is not supported; the only kind is 'threshold'"), problems);
        assertTrue(e.getMessage().startsWith("Invalid rules in rules.yaml:"), e.getMessage());
    }

    @Test
    void shouldRejectARecoveryThatOverlapsTheFiringCondition() {
        RuleFileException e = assertThrows(RuleFileException.class, () -> RuleBook.parse("""
                rules:
                  - id: cpu-high
                    kind: threshold
                    signal: cpu_percent
                    op: ">"
                    value: 90
                    recovery: { op: "<", value: 95, for: 1m }
                    severity: warning
                  - id: mem-high
                    kind: threshold
                    signal: memory_percent
                    op: ">"
                    value: 90
                    recovery: { op: ">", value: 10 }
                    severity: warning
                """, "test"));

        assertEquals(List.of(
                "rule 'cpu-high' field 'recovery': '< 95' overlaps the firing condition '> 90'; a value cannot mean both firing and recovered",
                "rule 'mem-high' field 'recovery': '> 10' overlaps the firing condition '> 90'; a value cannot mean both firing and recovered"),
                e.problems());
    }

    @Test
    void shouldRejectDuplicateIdsAndBadYaml() {
        String rule = """
                  - id: same
                    kind: threshold
                    signal: cpu_percent
                    op: ">"
                    value: 1
                    severity: info
                """;
        assertEquals(List.of("rule 'same' field 'id': duplicate id; every rule needs its own"),
                assertThrows(RuleFileException.class, () -> RuleBook.parse("rules:\n" + rule + rule, "t")).problems());
        assertTrue(assertThrows(RuleFileException.class, () -> RuleBook.parse("rules: [ {", "t"))
                .problems().get(0).startsWith("not valid YAML"));
        assertEquals(List.of("the file must be a map with a 'rules' list"),
                assertThrows(RuleFileException.class, () -> RuleBook.parse("alerts: []", "t")).problems());
    }

    @Test
    void shouldTurnABadRulesFileIntoAConfigErrorOnItsKey(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("rules.yaml");
        Files.writeString(file, "rules:\n  - id: x\n    kind: threshold\n    signal: cpu_percent\n    op: \">\"\n    value: 1\n");

        ConfigException e = assertThrows(ConfigException.class,
                () -> TopologySettings.from(Config.of(Map.of("rules.file", file.toString()))));

        assertEquals("rules.file", e.key());
        assertTrue(e.getMessage().contains("rule 'x' field 'severity': is required"), e.getMessage());
        ConfigException missing = assertThrows(ConfigException.class,
                () -> TopologySettings.from(Config.of(Map.of("rules.file", dir.resolve("nope.yaml").toString()))));
        assertEquals("rules.file", missing.key());
    }

    @Test
    void shouldGiveAStableFingerprintThatDependsOnRuleTargetAndLabels() {
        ThresholdRule rule = RuleBook.defaults().rules().get(0);
        ThresholdRule labelled = new ThresholdRule(rule.id(), rule.signal(), rule.fire(), rule.fireFor(), rule.recovery(),
                rule.recoveryFor(), rule.severity(), rule.summaryTemplate(), new java.util.TreeMap<>(Map.of("b", "2", "a", "1")));

        // First 16 bytes of SHA-256("target-down\0web-1"), as `printf 'target-down\0web-1' | sha256sum` shows:
        // pinned, because alerting and PagerDuty dedupe on it across releases.
        assertEquals("aa3221462df6869c273345aa44f3fc51", rule.fingerprint("web-1"));
        assertNotEquals(rule.fingerprint("web-1"), rule.fingerprint("web-2"));
        assertNotEquals(rule.fingerprint("web-1"), labelled.fingerprint("web-1"));
        ThresholdRule reordered = new ThresholdRule(rule.id(), rule.signal(), rule.fire(), rule.fireFor(), rule.recovery(),
                rule.recoveryFor(), rule.severity(), rule.summaryTemplate(), new java.util.LinkedHashMap<>(Map.of("a", "1", "b", "2")));
        assertEquals(labelled.fingerprint("web-1"), reordered.fingerprint("web-1"), "label order does not matter");
    }
}
