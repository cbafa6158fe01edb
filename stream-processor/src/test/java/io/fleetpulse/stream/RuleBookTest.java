package io.fleetpulse.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.Severity;
import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.runtime.text.Durations;
import io.fleetpulse.runtime.text.Numbers;
import io.fleetpulse.runtime.yaml.YamlFileException;
import io.fleetpulse.runtime.yaml.YamlProblem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rules file: what it means, and how it tells the operator what is wrong with it. */
class RuleBookTest {

    @Test
    void shouldLoadTheBundledDefaults() {
        RuleBook book = RuleBook.defaults();

        assertEquals(List.of("target-down", "high-error-rate", "cpu-high", "disk-almost-full", "target-absent",
                        "target-unhealthy", "task-latency-unusual", "disk-fills-soon"),
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
        assertEquals(new Detection.Forecast(100, true, Duration.ofMinutes(30), 0.99, 10),
                book.rule("disk-fills-soon").orElseThrow().detection());
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
        assertEquals("web-1: latency_p95_ms_1m is 612.5 (threshold 500)", slow.summary("web-1", null, 612.5));
        assertTrue(slow.resolvedSummary("web-1", null, 120).startsWith("web-1 recovered (" + slow.id() + "): latency_p95_ms_1m 120 "),
                slow.resolvedSummary("web-1", null, 120));
    }

    @Test
    void shouldReportEveryProblemOfTheFileAtOnceWithLineColumnAndSuggestion() {
        YamlFileException e = assertThrows(YamlFileException.class, () -> RuleBook.parse("""
                rules:
                  - id: cpu-high
                    kind: threshold
                    signal: cpu_percent
                    op: "=>"
                    value: 90
                    severity: warning
                  - id: disk
                    kind: threshold
                    signal: disk_precent
                    op: ">"
                    value: ninety
                    for: 15
                    severity: urgent
                    summary: "{target} at {level}"
                    lables: { team: infra }
                  - kind: outlier
                    signal: cpu_percent
                    op: ">"
                    value: 1
                    severity: info
                    recovery: { op: "<", valeu: 1 }
                    labels: { team: }
                """, "rules.yaml"));

        assertEquals(List.of(
                "rules.yaml:5:9: rules[0].op: '=>' is not one of >, >=, <, <= (quote it in YAML: op: \">=\")",
                "rules.yaml:10:13: rules[1].signal: 'disk_precent' is not one of check_failed, check_latency_ms, cpu_percent, "
                        + "memory_percent, disk_percent, disk_free_bytes, gpu_percent, task_latency_ms, error_rate_1m, latency_p95_ms_1m, error_rate_1h, silence_seconds, "
                        + "health_status "
                        + "(did you mean 'disk_percent'?)",
                "rules.yaml:12:12: rules[1].value: 'ninety' is not a number",
                "rules.yaml:13:10: rules[1].for: '15' is not " + Durations.SYNTAX,
                "rules.yaml:14:15: rules[1].severity: 'urgent' is not one of info, warning, critical",
                "rules.yaml:15:14: rules[1].summary: unknown placeholder '{level}'; use {target}, {check}, {value}, {threshold}",
                "rules.yaml:16:5: rules[1].lables: unknown key 'lables' (did you mean 'labels'?); allowed here: "
                        + "check, description, escalate, for, id, kind, labels, m_of_n, min_samples, on_stale, op, overrides, "
                        + "recovery, runbook, severity, signal, stale_after, summary, value, warm_up",
                "rules.yaml:17:5: rules[2]: missing required key 'id'",
                "rules.yaml:17:11: rules[2].kind: 'outlier' is not one of threshold, error_rate, absence, health, anomaly, "
                        + "predictive",
                "rules.yaml:22:26: rules[2].recovery.valeu: unknown key 'valeu' (did you mean 'value'?); allowed here: "
                        + "for, op, value",
                "rules.yaml:23:20: rules[2].labels.team: label 'team' must have a non-empty name and a plain value"),
                e.problems().stream().map(YamlProblem::toString).toList());
        assertTrue(e.getMessage().startsWith("rules.yaml has 11 problems:"), e.getMessage());
    }

    @Test
    void shouldRejectARecoveryThatOverlapsTheFiringCondition() {
        YamlFileException e = assertThrows(YamlFileException.class, () -> RuleBook.parse("""
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
                "test:7:15: rules[0].recovery: '< 95' overlaps the firing condition '> 90'; a value cannot mean both firing "
                        + "and recovered",
                "test:14:15: rules[1].recovery: '> 10' overlaps the firing condition '> 90'; a value cannot mean both firing "
                        + "and recovered"),
                e.problems().stream().map(YamlProblem::toString).toList());
    }

    @Test
    void shouldRejectDuplicateIdsBadIdsAndBadYaml() {
        String rule = """
                  - id: same
                    kind: threshold
                    signal: cpu_percent
                    op: ">"
                    value: 1
                    severity: info
                """;
        assertEquals(List.of("t:8:9: rules[1].id: duplicate id 'same' (first at line 2); every rule needs its own"),
                messages(() -> RuleBook.parse("rules:\n" + rule + rule, "t")));
        assertEquals(List.of("t:2:9: rules[0].id: 'a|b' must start with a letter or digit and use only letters, digits, "
                        + "'-', '_', '.'"),
                messages(() -> RuleBook.parse("rules:\n" + rule.replace("same", "a|b"), "t")));
        List<String> broken = messages(() -> RuleBook.parse("rules: [ {", "t"));
        assertEquals(1, broken.size());
        assertTrue(broken.get(0).startsWith("t:1:") && broken.get(0).contains("not valid YAML"), broken.get(0));
        assertEquals(List.of("t:1:1: alerts: unknown key 'alerts'; allowed here: rules",
                        "t:1:1: missing required key 'rules'"),
                messages(() -> RuleBook.parse("alerts: []", "t")));
        assertEquals(List.of("t:1:8: rules: expected a list, found 'cpu-high'"),
                messages(() -> RuleBook.parse("rules: cpu-high", "t")));
    }

    @Test
    void shouldFormatNumbersInSummariesAsEveryOtherMessageDoes() {
        ThresholdRule rule = RuleBook.parse("""
                rules:
                  - id: errors
                    kind: threshold
                    signal: error_rate_1m
                    op: ">"
                    value: 0.5
                    severity: warning
                    summary: "{target} failed {value} of its checks (threshold {threshold})"
                """, "t").rules().get(0);

        assertEquals("web-1 failed " + Numbers.format(2 / 3.0) + " of its checks (threshold 0.5)", rule.summary("web-1", null, 2 / 3.0));
        assertEquals("web-1 failed 0.6667 of its checks (threshold 0.5)", rule.summary("web-1", null, 2 / 3.0));
        assertEquals("web-1 failed 0.00075 of its checks (threshold 0.5)", rule.summary("web-1", null, 0.00075));
        assertEquals("web-1 recovered (errors): error_rate_1m 0.1 <= 0.5", rule.resolvedSummary("web-1", null, 0.1));
    }

    @Test
    void shouldTurnABadRulesFileIntoAConfigErrorOnItsKey(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("rules.yaml");
        Files.writeString(file, "rules:\n  - id: x\n    kind: threshold\n    signal: cpu_percent\n    op: \">\"\n    value: 1\n");

        ConfigException e = assertThrows(ConfigException.class,
                () -> TopologySettings.from(Settings.of(Map.of("rules.file", file.toString()), StreamProcessorService.KEYS)));

        assertEquals("rules.file", e.key());
        assertEquals("Invalid rules file (rules.file): " + file + ":2:5: rules[0]: missing required key 'severity'",
                e.getMessage());
    }

    @Test
    void shouldCompileEveryKindToTheOneRuleModel() {
        RuleBook book = RuleBook.parse("""
                rules:
                  - id: errors-minute
                    kind: error_rate
                    value: 0.5
                    severity: warning
                  - id: errors-hour
                    kind: error_rate
                    window: 1h
                    op: ">="
                    value: 0.2
                    min_samples: 30
                    severity: critical
                  - id: silent
                    kind: absence
                    severity: critical
                  - id: silent-long
                    kind: absence
                    after: 90s
                    severity: critical
                  - id: legacy-silent
                    kind: threshold
                    signal: silence_seconds
                    op: ">"
                    value: 0
                    severity: info
                """, "kinds");

        ThresholdRule minute = book.rule("errors-minute").orElseThrow();
        assertEquals(Signal.ERROR_RATE_1M, minute.signal(), "window defaults to 1m");
        assertEquals(new Condition(Comparison.GT, 0.5), minute.fire(), "op defaults to >");
        assertEquals(new Condition(Comparison.LE, 0.5), minute.recovery());
        assertEquals("web-1 failed 0.75 of its checks over 1m (threshold 0.5)", minute.summary("web-1", null, 0.75));
        ThresholdRule hour = book.rule("errors-hour").orElseThrow();
        assertEquals(Signal.ERROR_RATE_1H, hour.signal());
        assertEquals(30, hour.minSamples(), "an hour's error rate stands on its checks");
        ThresholdRule silent = book.rule("silent").orElseThrow();
        assertEquals(Signal.SILENCE_SECONDS, silent.signal());
        assertEquals(new Condition(Comparison.GT, 0), silent.fire(), "without after: any reported silence");
        assertEquals(new Condition(Comparison.LE, 0), silent.recovery(), "the 0 sent when the target returns");
        assertEquals(new Condition(Comparison.GE, 90), book.rule("silent-long").orElseThrow().fire());
        assertEquals(List.of("silent", "silent-long", "legacy-silent"),
                book.rulesFor(Signal.SILENCE_SECONDS).stream().map(ThresholdRule::id).toList(),
                "a threshold on silence_seconds still works next to the absence kind");
        assertEquals(Optional.of("error_rate"), book.kind("errors-hour"));
        assertEquals(Optional.of("absence"), book.kind("silent"));
        assertEquals(Optional.of("threshold"), book.kind("legacy-silent"));
        assertEquals(Optional.empty(), book.kind("gone"));
        assertFalse(book.hasWarmUp());
    }

    @Test
    void shouldTellTheKindOfEveryBundledRule() {
        RuleBook book = RuleBook.defaults();

        assertEquals(Map.of("target-down", "threshold", "high-error-rate", "error_rate", "cpu-high", "threshold",
                        "disk-almost-full", "threshold", "target-absent", "absence", "target-unhealthy", "health",
                        "task-latency-unusual", "anomaly", "disk-fills-soon", "predictive"),
                book.rules().stream().collect(java.util.stream.Collectors.toMap(ThresholdRule::id, ThresholdRule::kind)));
    }

    @Test
    void shouldReadWarmUpAndStalenessOnEveryKind() {
        RuleBook book = RuleBook.parse("""
                rules:
                  - id: cpu
                    kind: threshold
                    signal: cpu_percent
                    op: ">"
                    value: 90
                    severity: warning
                    warm_up: 2m
                    stale_after: 5m
                    overrides: [ { target: gpu-box, value: 98 } ]
                  - id: errors
                    kind: error_rate
                    value: 0.5
                    severity: warning
                    stale_after: 3m
                    on_stale: absent
                  - id: silent
                    kind: absence
                    severity: critical
                    warm_up: 1m
                """, "options");

        ThresholdRule cpu = book.rule("cpu").orElseThrow();
        assertEquals(Duration.ofMinutes(2), cpu.warmUp());
        assertEquals(new ThresholdRule.Staleness(Duration.ofMinutes(5), false), cpu.stale(), "on_stale defaults to resolve");
        ThresholdRule gpuBox = book.effective(cpu, "gpu-box", id -> "default");
        assertEquals(98, gpuBox.fire().threshold());
        assertEquals(cpu.stale(), gpuBox.stale(), "an override keeps the rule's options");
        assertEquals(cpu.warmUp(), gpuBox.warmUp());
        assertEquals(new ThresholdRule.Staleness(Duration.ofMinutes(3), true), book.rule("errors").orElseThrow().stale());
        assertEquals(Duration.ofMinutes(1), book.rule("silent").orElseThrow().warmUp());
        assertEquals(Duration.ZERO, book.rule("errors").orElseThrow().warmUp());
        assertTrue(book.hasWarmUp());
    }

    @Test
    void shouldReportTheProblemsOfEachKindAtTheirPlace() {
        assertEquals(List.of(
                "k:4:5: rules[0].signal: unknown key 'signal'; allowed here: description, escalate, for, id, kind, labels, "
                        + "m_of_n, min_samples, on_stale, op, overrides, recovery, runbook, severity, stale_after, summary, "
                        + "value, warm_up, window",
                "k:5:13: rules[0].window: '5m' is not one of 1m, 1h (did you mean '1m'?)",
                "k:6:12: rules[0].value: '1.5' is not a number from 0.0 to 1.0",
                "k:10:5: rules[1].op: unknown key 'op' (did you mean 'id'?); allowed here: after, description, for, id, "
                        + "kind, labels, on_stale, overrides, recovery, runbook, severity, stale_after, summary, warm_up",
                "k:11:5: rules[1].m_of_n: unknown key 'm_of_n'; allowed here: after, description, for, id, kind, labels, "
                        + "on_stale, overrides, recovery, runbook, severity, stale_after, summary, warm_up",
                "k:12:12: rules[1].after: '0s' is not a positive duration such as 30s, 5m, 1h, 7d",
                "k:14:14: rules[1].warm_up: 'soon' is not " + Durations.SYNTAX,
                "k:15:15: rules[1].on_stale: on_stale says what happens once an alert is stale; set stale_after too",
                "k:21:15: rules[2].on_stale: 'page' is not one of resolve, absent"),
                messages(() -> RuleBook.parse("""
                        rules:
                          - id: errors
                            kind: error_rate
                            signal: error_rate_1m
                            window: 5m
                            value: 1.5
                            severity: warning
                          - id: silent
                            kind: absence
                            op: ">"
                            m_of_n: { m: 1, n: 2 }
                            after: 0s
                            severity: critical
                            warm_up: soon
                            on_stale: absent
                          - id: cpu
                            kind: threshold
                            signal: cpu_percent
                            op: ">"
                            value: 90
                            on_stale: page
                            stale_after: 1m
                            severity: warning
                        """, "k")));
    }

    @Test
    void shouldRefuseAtStartAnAbsenceAfterLongerThanTheAbsenceTimeout(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("rules.yaml");
        Files.writeString(file, "rules:\n  - id: silent\n    kind: absence\n    after: 5m\n    severity: critical\n");
        Settings twoMinutes = Settings.of(Map.of("rules.file", file.toString()), StreamProcessorService.KEYS);

        ConfigException e = assertThrows(ConfigException.class, () -> TopologySettings.from(twoMinutes));

        assertEquals("rules.file", e.key());
        assertEquals("Invalid rules file (rules.file): rule silent: after 300 s is longer than streams.absence.timeout "
                + "(2m); the window engine reports a silence once, when it reaches that timeout, so the rule could "
                + "never fire: raise streams.absence.timeout or shorten after", e.getMessage());
        TopologySettings tenMinutes = TopologySettings.from(Settings.of(Map.of("rules.file", file.toString(),
                "streams.absence.timeout", "10m"), StreamProcessorService.KEYS));
        assertEquals(new Condition(Comparison.GE, 300), tenMinutes.rules().rule("silent").orElseThrow().fire());
    }

    private static List<String> messages(org.junit.jupiter.api.function.Executable parse) {
        return assertThrows(YamlFileException.class, parse).problems().stream().map(YamlProblem::toString).toList();
    }

    @Test
    void shouldGiveAStableFingerprintThatDependsOnRuleTargetAndLabels() {
        // First 16 bytes of SHA-256("target-down\0web-1"), as `printf 'target-down\0web-1' | sha256sum` shows:
        // pinned, because alerting and PagerDuty dedupe on it across releases.
        assertEquals("aa3221462df6869c273345aa44f3fc51", Fingerprint.of("target-down", "web-1", Map.of()));
        assertNotEquals(Fingerprint.of("target-down", "web-1", Map.of()), Fingerprint.of("target-down", "web-2", Map.of()));
        String labelled = Fingerprint.of("target-down", "web-1", new java.util.TreeMap<>(Map.of("b", "2", "a", "1")));
        assertNotEquals(Fingerprint.of("target-down", "web-1", Map.of()), labelled);
        assertEquals(labelled, Fingerprint.of("target-down", "web-1", new java.util.LinkedHashMap<>(Map.of("a", "1", "b", "2"))),
                "label order does not matter");
    }

    @Test
    void shouldLetACheckSignalSelectOneCheck() {
        RuleBook book = TestRules.DB_DOWN;

        ThresholdRule dbDown = book.rules().get(0);
        assertEquals("db", dbDown.check());
        assertTrue(dbDown.perCheck());
        assertTrue(dbDown.selects("db"));
        assertTrue(!dbDown.selects("http"));
        assertEquals("web-1: db is failing", dbDown.summary("web-1", "db", 1));
        assertEquals(null, RuleBook.defaults().rule("target-down").orElseThrow().check(), "no check: every check");
    }

    @Test
    void shouldRefuseACheckOnASignalWithoutChecksAndTheReservedCheckLabel() {
        List<String> problems = messages(() -> RuleBook.parse("""
                rules:
                  - id: cpu
                    kind: threshold
                    signal: cpu_percent
                    check: db
                    op: ">"
                    value: 90
                    severity: warning
                    summary: "{check} is hot"
                    labels: { check: x }
                """, "t"));

        assertEquals(List.of(
                "t:5:12: rules[0].check: only a check signal (check_failed, check_latency_ms) can select a check; "
                        + "cpu_percent does not come from a check",
                "t:9:14: rules[0].summary: {check} names the check of a check signal (check_failed, check_latency_ms); "
                        + "cpu_percent has none",
                "t:10:22: rules[0].labels.check: label 'check' is reserved: a check signal's alert carries its check's "
                        + "name there; select a check with the rule's own 'check' field"), problems);
    }

    @Test
    void shouldReadMOfNAndMinSamples() {
        RuleBook book = TestRules.FLAPPING_CHECK_AND_THIN_WINDOWS;

        assertEquals(new ThresholdRule.MOfN(3, 5), book.rules().get(0).mOfN());
        assertEquals(1, book.rules().get(0).minSamples());
        assertEquals(null, book.rules().get(1).mOfN());
        assertEquals(3, book.rules().get(1).minSamples());
    }

    @Test
    void shouldRefuseBadMOfNAndMinSamplesWithTheirPlace() {
        List<String> problems = messages(() -> RuleBook.parse("""
                rules:
                  - id: a
                    kind: threshold
                    signal: cpu_percent
                    op: ">"
                    value: 90
                    for: 10s
                    m_of_n: { m: 3, n: 5 }
                    min_samples: 3
                    severity: warning
                  - id: b
                    kind: threshold
                    signal: cpu_percent
                    op: ">"
                    value: 90
                    m_of_n: { m: 6, n: 5, k: 1 }
                    severity: warning
                  - id: c
                    kind: threshold
                    signal: cpu_percent
                    op: ">"
                    value: 90
                    m_of_n: { m: 1, n: 64 }
                    severity: warning
                """, "t"));

        assertEquals(List.of(
                "t:8:13: rules[0].m_of_n: use either 'for' (the condition holds on every value for a duration) or "
                        + "'m_of_n', not both",
                "t:9:18: rules[0].min_samples: only a window signal (error_rate_1h, error_rate_1m, latency_p95_ms_1m) stands on several "
                        + "observations; cpu_percent has one per value, so the rule could never fire",
                "t:16:18: rules[1].m_of_n.m: 6 of 5: m must not be more than n",
                "t:16:27: rules[1].m_of_n.k: unknown key 'k' (did you mean 'm'?); allowed here: m, n",
                "t:23:24: rules[2].m_of_n.n: '64' is not a whole number from 1 to 63"), problems);
    }

    @Test
    void shouldReadEscalationTiersAndRefuseTiersThatAreNotAboveTheOneBelow() {
        ThresholdRule disk = RuleBook.parse("""
                rules:
                  - id: disk-free
                    kind: threshold
                    signal: disk_percent
                    op: ">="
                    value: 80
                    severity: info
                    escalate: { warning: 90, critical: 95 }
                """, "t").rules().get(0);
        assertEquals(List.of(new ThresholdRule.Tier(Severity.WARNING, new Condition(Comparison.GE, 90)),
                new ThresholdRule.Tier(Severity.CRITICAL, new Condition(Comparison.GE, 95))), disk.escalations());
        assertEquals(Severity.INFO, disk.tierFor(85).severity());
        assertEquals(Severity.WARNING, disk.tierFor(90).severity());
        assertEquals(Severity.CRITICAL, disk.tierFor(99).severity());

        List<String> problems = messages(() -> RuleBook.parse("""
                rules:
                  - id: low
                    kind: threshold
                    signal: disk_percent
                    op: ">"
                    value: 80
                    severity: warning
                    escalate: { info: 90, critical: 70, urgent: 99 }
                """, "t"));
        assertEquals(List.of(
                "t:8:23: rules[0].escalate.info: a tier must be more severe than the one below it (warning > 80)",
                "t:8:37: rules[0].escalate.critical: 'critical > 70' must be stricter than the tier below it (warning > 80)",
                "t:8:49: rules[0].escalate.urgent: 'urgent' is not one of info, warning, critical"), problems);
    }

    @Test
    void shouldApplyTargetThenGroupOverridesWithTheRulesDefaults() {
        RuleBook book = RuleBook.parse("""
                rules:
                  - id: cpu-high
                    kind: threshold
                    signal: cpu_percent
                    op: ">"
                    value: 90
                    for: 20s
                    recovery: { op: "<", value: 75, for: 20s }
                    severity: warning
                    overrides:
                      - { target: gpu-box, value: 98 }
                      - { group: batch, for: 5m, severity: info, recovery: { value: 50 } }
                """, "t");
        ThresholdRule rule = book.rules().get(0);

        ThresholdRule gpuBox = book.effective(rule, "gpu-box", id -> "batch");
        assertEquals(new Condition(Comparison.GT, 98), gpuBox.fire(), "the target's override wins over its group's");
        assertEquals(Duration.ofSeconds(20), gpuBox.fireFor());
        assertEquals(new Condition(Comparison.LT, 75), gpuBox.recovery(), "the rule's own recovery");
        ThresholdRule batch = book.effective(rule, "worker-7", id -> "batch");
        assertEquals(Duration.ofMinutes(5), batch.fireFor());
        assertEquals(Severity.INFO, batch.severity());
        assertEquals(new Condition(Comparison.LT, 50), batch.recovery());
        assertEquals(Duration.ofSeconds(20), batch.recoveryFor());
        assertEquals(rule, book.effective(rule, "web-1", id -> "web"));
    }

    @Test
    void shouldReportBadOverridesAtTheirPlace() {
        List<String> problems = messages(() -> RuleBook.parse("""
                rules:
                  - id: cpu-high
                    kind: threshold
                    signal: cpu_percent
                    op: ">"
                    value: 90
                    recovery: { op: "<", value: 75 }
                    severity: warning
                    overrides:
                      - { target: a, group: b }
                      - { target: c, value: 70 }
                      - { group: d, severity: urgent, valeu: 1 }
                      - { target: e, value: 95 }
                      - { target: e, value: 96 }
                """, "t"));

        assertEquals(List.of(
                "t:10:9: rules[0].overrides[0]: an override names exactly one 'target' or one 'group'",
                "t:11:9: rules[0].overrides[1]: '< 75' (recovery) overlaps the firing condition '> 70'; give the "
                        + "override its own recovery",
                "t:12:31: rules[0].overrides[2].severity: 'urgent' is not one of info, warning, critical",
                "t:12:39: rules[0].overrides[2].valeu: unknown key 'valeu' (did you mean 'value'?); allowed here: for, "
                        + "group, recovery, severity, target, value",
                "t:14:9: rules[0].overrides[4]: a second override for target 'e'; one per target or group"), problems);
    }

    @Test
    void shouldFillDescriptionAndRunbookAndRefuseBadOnes() {
        ThresholdRule rule = RuleBook.parse("""
                rules:
                  - id: db-slow
                    kind: threshold
                    signal: check_latency_ms
                    op: ">"
                    value: 500
                    severity: warning
                    description: "{check} on {target} answers in {value} ms, over {threshold} ms"
                    runbook: "https://runbooks.example/{check}?target={target}"
                """, "t").rules().get(0);
        assertEquals("db on web-1 answers in 812 ms, over 500 ms", rule.description("web-1", "db", 812));
        assertEquals("https://runbooks.example/db?target=web-1", rule.runbook("web-1", "db"));
        assertEquals(null, RuleBook.defaults().rules().get(0).runbook("web-1", "http"));

        List<String> problems = messages(() -> RuleBook.parse("""
                rules:
                  - id: cpu
                    kind: threshold
                    signal: cpu_percent
                    op: ">"
                    value: 90
                    severity: warning
                    description: "{host} at {value}"
                    runbook: "wiki/cpu/{value}"
                """, "t"));
        assertEquals(List.of(
                "t:8:18: rules[0].description: unknown placeholder '{host}'; use {target}, {check}, {value}, {threshold}",
                "t:9:14: rules[0].runbook: 'wiki/cpu/{value}' is not an http:// or https:// link",
                "t:9:14: rules[0].runbook: unknown placeholder '{value}'; use {target}, {check}"), problems);
    }

    @Test
    void shouldCompileAHealthRuleOntoTheHealthSignal() {
        ThresholdRule rule = RuleBook.parse("""
                rules:
                  - id: unhealthy
                    kind: health
                    at_least: degraded
                    for: 2m
                    recovery: { for: 1m }
                    severity: warning
                    labels: { team: sre }
                """, "t").rules().get(0);

        assertEquals(Signal.HEALTH_STATUS, rule.signal());
        assertEquals(new Condition(Comparison.GE, 1), rule.fire());
        assertEquals(new Condition(Comparison.LT, 1), rule.recovery());
        assertEquals(Duration.ofMinutes(2), rule.fireFor());
        assertEquals(Duration.ofMinutes(1), rule.recoveryFor());
        assertEquals(Map.of("team", "sre"), rule.labels());
        assertEquals("web-1 health is CRITICAL", rule.summary("web-1", null, 2));
        assertEquals("web-1 recovered (unhealthy): health HEALTHY, below DEGRADED", rule.resolvedSummary("web-1", null, 0));
        ThresholdRule bundled = RuleBook.defaults().rule("target-unhealthy").orElseThrow();
        assertEquals(new Condition(Comparison.GE, HealthScorer.rank(io.fleetpulse.events.HealthStatus.CRITICAL)),
                bundled.fire());
    }

    @Test
    void shouldReportTheProblemsOfAHealthRuleAtTheirPlace() {
        List<String> problems = messages(() -> RuleBook.parse("""
                rules:
                  - id: h1
                    kind: health
                    at_least: sick
                    value: 2
                    severity: warning
                    summary: "{target} is {check}"
                  - id: h2
                    kind: health
                    at_least: healthy
                    recovery: { value: 1 }
                    severity: info
                """, "t"));

        assertEquals(List.of(
                "t:4:15: rules[0].at_least: 'sick' is not one of healthy, degraded, critical, unreachable",
                "t:5:5: rules[0].value: unknown key 'value'; allowed here: at_least, description, for, id, kind, labels, "
                        + "m_of_n, on_stale, overrides, recovery, runbook, severity, stale_after, summary, warm_up",
                "t:7:14: rules[0].summary: unknown placeholder '{check}'; use {target}, {status}, {value}",
                "t:10:15: rules[1].at_least: every status is at least healthy, so the rule would always fire; use "
                        + "degraded, critical or unreachable",
                "t:11:17: rules[1].recovery.value: unknown key 'value'; allowed here: for"), problems);
    }
    @Test
    void shouldCompileAHealthRulesOverridesFromTheStatusTheyName() {
        RuleBook book = RuleBook.parse("""
                rules:
                  - id: unhealthy
                    kind: health
                    at_least: critical
                    for: 1m
                    severity: warning
                    overrides:
                      - { target: db-1, at_least: degraded, severity: critical }
                      - { group: batch, at_least: unreachable, for: 5m, recovery: { for: 2m } }
                """, "t");
        ThresholdRule rule = book.rules().get(0);

        ThresholdRule db = book.effective(rule, "db-1", id -> "batch");
        assertEquals(new Condition(Comparison.GE, 1), db.fire(), "the target's override wins over its group's");
        assertEquals(new Condition(Comparison.LT, 1), db.recovery(), "recovers below its own status");
        assertEquals(Severity.CRITICAL, db.severity());
        assertEquals(Duration.ofMinutes(1), db.fireFor(), "what it leaves out comes from the rule");
        ThresholdRule batch = book.effective(rule, "job-7", id -> "batch");
        assertEquals(new Condition(Comparison.GE, 3), batch.fire());
        assertEquals(new Condition(Comparison.LT, 3), batch.recovery());
        assertEquals(Duration.ofMinutes(5), batch.fireFor());
        assertEquals(Duration.ofMinutes(2), batch.recoveryFor());
        assertEquals(List.of(rule.id(), rule.labels()), List.of(batch.id(), batch.labels()), "the rule's identity");
        assertTrue(rule == book.effective(rule, "web-1", id -> "edge"), "no override: the rule itself");
    }

    @Test
    void shouldRefuseAValueOrARecoveryConditionInAHealthRulesOverride() {
        List<String> problems = messages(() -> RuleBook.parse("""
                rules:
                  - id: unhealthy
                    kind: health
                    at_least: critical
                    severity: warning
                    overrides:
                      - { target: a, value: 1 }
                      - { target: b, at_least: healthy }
                      - { target: c, at_least: degraded, recovery: { value: 0 } }
                """, "t"));

        assertEquals(List.of(
                "t:7:22: rules[0].overrides[0].value: unknown key 'value'; allowed here: at_least, for, group, recovery, "
                        + "severity, target",
                "t:8:32: rules[0].overrides[1].at_least: every status is at least healthy, so the rule would always "
                        + "fire; use degraded, critical or unreachable",
                "t:9:54: rules[0].overrides[2].recovery.value: unknown key 'value'; allowed here: for"), problems);
    }

    @Test
    void shouldCompileAnomalyAndPredictiveRulesOntoTheirSignalWithTheirModel() {
        RuleBook book = RuleBook.parse("""
                rules:
                  - id: latency-unusual
                    kind: anomaly
                    signal: check_latency_ms
                    check: db
                    direction: up
                    value: 0.9995
                    min_samples: 50
                    m_of_n: { m: 2, n: 3 }
                    recovery: { value: 0.9, for: 1m }
                    escalate: { critical: 0.99999 }
                    severity: warning
                    overrides: [{ target: noisy-1, value: 0.99999 }]
                  - id: free-bytes
                    kind: predictive
                    signal: disk_free_bytes
                    limit: 0
                    horizon: 6h
                    recovery: { horizon: 12h, for: 5m }
                    severity: critical
                    overrides: [{ group: batch, horizon: 1h }]
                """, "rules.yaml");

        ThresholdRule anomaly = book.rule("latency-unusual").orElseThrow();
        assertEquals(Signal.CHECK_LATENCY_MS, anomaly.signal());
        assertEquals("db", anomaly.check());
        assertEquals(new Detection.Anomaly("ensemble", Detection.Direction.UP, 50), anomaly.detection());
        assertEquals(new Condition(Comparison.GE, 0.9995), anomaly.fire());
        assertEquals(new Condition(Comparison.LT, 0.9), anomaly.recovery());
        assertEquals(1, anomaly.minSamples(), "the history is the model's, not a window's observations");
        assertEquals(new ThresholdRule.MOfN(2, 3), anomaly.mOfN());
        assertEquals(Severity.CRITICAL, anomaly.tierFor(0.999995).severity());
        assertEquals(new Condition(Comparison.GE, 0.99999),
                book.effective(anomaly, "noisy-1", id -> "default").fire());

        ThresholdRule forecast = book.rule("free-bytes").orElseThrow();
        assertEquals(new Detection.Forecast(0, false, Duration.ofHours(1), 0.9, 10), forecast.detection(),
                "free bytes fall to their limit; the defaults");
        assertEquals(new Condition(Comparison.LE, 6 * 3600), forecast.fire());
        assertEquals(new Condition(Comparison.GT, 12 * 3600), forecast.recovery());
        assertEquals(new Condition(Comparison.LE, 3600), book.effective(forecast, "b-1", id -> "batch").fire());
        assertEquals(Optional.of("predictive"), book.kind("free-bytes"));
    }

    @Test
    void shouldRefuseWhatAModelledRuleCannotMean() {
        YamlFileException e = assertThrows(YamlFileException.class, () -> RuleBook.parse("""
                rules:
                  - id: a
                    kind: anomaly
                    signal: check_failed
                    detector: magic
                    value: 1
                    op: ">"
                    severity: info
                  - id: p
                    kind: predictive
                    signal: disk_percent
                    horizon: soon
                    min_confidence: 0.2
                    recovery: { value: 3 }
                    severity: info
                """, "rules.yaml"));

        String problems = e.problems().stream().map(YamlProblem::toString).collect(java.util.stream.Collectors.joining("\n"));
        assertTrue(problems.contains("rules[0].signal: 'check_failed' is a flag, rank or silence, not a measured series"),
                problems);
        assertTrue(problems.contains("rules[0].detector: 'magic' is not one of ensemble, rolling-zscore"), problems);
        assertTrue(problems.contains("rules[0].value: an anomaly score threshold is strictly between 0 and 1"), problems);
        assertTrue(problems.contains("rules[0].op: unknown key 'op'"), problems);
        assertTrue(problems.contains("rules[1]: missing required key 'limit'"), problems);
        assertTrue(problems.contains("rules[1].horizon: 'soon' is not"), problems);
        assertTrue(problems.contains("rules[1].min_confidence"), problems);
        assertTrue(problems.contains("rules[1].recovery.value: unknown key 'value'"), problems);
    }
}
