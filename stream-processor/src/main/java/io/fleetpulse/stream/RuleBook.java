package io.fleetpulse.stream;

import io.fleetpulse.events.HealthStatus;
import io.fleetpulse.events.Severity;
import io.fleetpulse.runtime.text.Durations;
import io.fleetpulse.runtime.text.Numbers;
import io.fleetpulse.runtime.yaml.YamlFileException;
import io.fleetpulse.runtime.yaml.YamlNode;
import io.fleetpulse.runtime.yaml.YamlReader;
import io.fleetpulse.stream.detect.Detectors;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The alert rules, read from a YAML file with the shared {@link YamlReader} and checked as a whole before the service
 * starts: every problem is reported at once as {@code file:line:column: rules[i].field: ...}, so an operator fixes
 * the file in one go.
 *
 * <pre>
 * rules:
 *   - id: cpu-high
 *     kind: threshold
 *     signal: cpu_percent
 *     op: "&gt;"
 *     value: 90
 *     for: 20s
 *     recovery: { op: "&lt;", value: 75, for: 20s }
 *     severity: warning
 *     summary: "{target} CPU at {value}% (over {threshold}%)"
 *     labels: { team: infra }
 * </pre>
 *
 * {@code check: db} (check signals only) watches one check name; without it every check of a target is watched, each
 * with its own state and alert.
 *
 * <p>Kinds: {@code threshold} (as above), {@code error_rate} ({@code window: 1m | 1h}, {@code value}),
 * {@code absence} (optional {@code after}) and {@code health} ({@code at_least: degraded | critical | unreachable}, onto
 * {@link Signal#HEALTH_STATUS}), {@code anomaly} and {@code predictive} (a {@link Detection}: the conditions apply to
 * what a model of the series derives, an anomaly score or seconds until a limit; see {@link #anomaly} and
 * {@link #predictive}). Each compiles to the one rule model, {@link ThresholdRule}. A new kind is a
 * value of {@link #KINDS} with its own fields in {@link #FIELDS_BY_KIND} and a compiler like {@link #errorRate} that
 * returns its signal, check and firing condition; the options every rule has are read once for all kinds, and the
 * engine that runs the rules stays as it is.
 */
public final class RuleBook {

    /** The rules bundled with the service, used when {@code rules.file} is not set. */
    public static final String DEFAULT_RESOURCE = "/io/fleetpulse/stream/default-rules.yaml";

    /** Fields every kind has; each kind adds its own ({@link #FIELDS_BY_KIND}). */
    private static final List<String> RULE_FIELDS =
            List.of("id", "kind", "for", "recovery", "severity", "summary", "description", "runbook", "labels",
                    "overrides", "warm_up", "stale_after", "on_stale");
    private static final List<String> VALUE_FIELDS = List.of("m_of_n", "min_samples", "escalate");
    private static final Map<String, List<String>> FIELDS_BY_KIND = Map.of(
            ThresholdRule.THRESHOLD, fields(VALUE_FIELDS, List.of("signal", "check", "op", "value")),
            ThresholdRule.ERROR_RATE, fields(VALUE_FIELDS, List.of("window", "op", "value")),
            // One silence report per absence: M of N, several samples or higher tiers could never apply.
            ThresholdRule.ABSENCE, fields(List.of("after")),
            ThresholdRule.HEALTH, fields(List.of("at_least", "m_of_n")),
            ThresholdRule.ANOMALY, fields(VALUE_FIELDS, List.of("signal", "check", "detector", "value", "direction")),
            // No tiers: a forecast's number is a time, and a nearer one is already what "for" and the horizon say.
            ThresholdRule.PREDICTIVE, fields(List.of("m_of_n", "min_samples"), List.of("signal", "check", "limit",
                    "direction", "horizon", "min_confidence", "trend_window")));
    private static final List<String> ALL_FIELDS =
            FIELDS_BY_KIND.values().stream().flatMap(List::stream).distinct().sorted().toList();
    private static final String STALE_RESOLVE = "resolve";
    private static final String STALE_ABSENT = "absent";
    private static final List<String> STALE_ACTIONS = List.of(STALE_RESOLVE, STALE_ABSENT);
    private static final List<String> OVERRIDE_FIELDS = List.of("target", "group", "value", "for", "severity", "recovery");
    /** A health rule's override names a status, as the rule does, instead of a value. */
    private static final List<String> HEALTH_OVERRIDE_FIELDS =
            List.of("target", "group", "at_least", "for", "severity", "recovery");
    /** A predictive rule's override names a horizon instead of a value; its recovery a horizon too. */
    private static final List<String> PREDICTIVE_OVERRIDE_FIELDS =
            List.of("target", "group", "horizon", "for", "severity", "recovery");
    private static final List<String> PREDICTIVE_RECOVERY_FIELDS = List.of("horizon", "for");
    private static final List<String> M_OF_N_FIELDS = List.of("m", "n");
    private static final List<String> RECOVERY_FIELDS = List.of("op", "value", "for");
    private static final List<String> KINDS = List.of(ThresholdRule.THRESHOLD, ThresholdRule.ERROR_RATE,
            ThresholdRule.ABSENCE, ThresholdRule.HEALTH, ThresholdRule.ANOMALY, ThresholdRule.PREDICTIVE);
    private static final List<String> ANOMALY_PLACEHOLDERS =
            List.of("target", "check", "value", "threshold", "score", "expected", "spread");
    private static final List<String> PREDICTIVE_PLACEHOLDERS =
            List.of("target", "check", "value", "threshold", "limit", "eta", "slope", "expected", "spread");
    /** The signals a model of the series makes sense for: measured quantities, not 0/1 flags, ranks or silences. */
    private static final List<Signal> MODELLED_SIGNALS = List.of(Signal.CHECK_LATENCY_MS, Signal.CPU_PERCENT,
            Signal.MEMORY_PERCENT, Signal.DISK_PERCENT, Signal.DISK_FREE_BYTES, Signal.GPU_PERCENT,
            Signal.TASK_LATENCY_MS, Signal.ERROR_RATE_1M, Signal.LATENCY_P95_MS_1M, Signal.ERROR_RATE_1H);
    private static final List<String> MODELLED_SIGNAL_NAMES = MODELLED_SIGNALS.stream().map(Signal::ruleName).toList();
    /** The score an anomaly rule fires at unless it says otherwise: about one value in a thousand of a normal series. */
    static final double DEFAULT_ANOMALY_SCORE = 0.999;
    static final double DEFAULT_MIN_CONFIDENCE = 0.9;
    static final Duration DEFAULT_TREND_WINDOW = Duration.ofHours(1);
    /** A trend needs a few values before its slope means anything. */
    static final int DEFAULT_TREND_MIN_SAMPLES = 10;
    private static final List<String> HEALTH_PLACEHOLDERS = List.of("target", "status", "value");
    private static final List<String> SIGNALS = Arrays.stream(Signal.values()).map(Signal::ruleName).toList();
    private static final List<String> PLACEHOLDERS = List.of("target", "check", "value", "threshold");
    private static final List<String> RUNBOOK_PLACEHOLDERS = List.of("target", "check");
    private static final String CHECK_SIGNAL_NAMES =
            ThresholdRule.PER_CHECK_SIGNALS.stream().map(Signal::ruleName).sorted().collect(Collectors.joining(", "));
    private static final String WINDOW_SIGNAL_NAMES =
            ThresholdRule.WINDOW_SIGNALS.stream().map(Signal::ruleName).sorted().collect(Collectors.joining(", "));
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([^}]*)}");

    private final List<ThresholdRule> rules;
    private final Map<Signal, List<ThresholdRule>> bySignal;
    private final Map<String, ThresholdRule> byId = new HashMap<>();
    /** Rule id to the rule as a target's or a group's override has it. */
    private final Map<String, Overrides> overrides;
    private final boolean hasWarmUp;

    /** A rule's variants for named targets and groups: same id, other values. */
    private record Overrides(Map<String, ThresholdRule> byTarget, Map<String, ThresholdRule> byGroup) {
    }

    private RuleBook(List<ThresholdRule> rules) {
        this(rules, Map.of());
    }

    private RuleBook(List<ThresholdRule> rules, Map<String, Overrides> overrides) {
        this.rules = List.copyOf(rules);
        this.overrides = Map.copyOf(overrides);
        rules.forEach(rule -> byId.put(rule.id(), rule));
        Map<Signal, List<ThresholdRule>> index = new EnumMap<>(Signal.class);
        for (ThresholdRule rule : rules) {
            index.computeIfAbsent(rule.signal(), s -> new ArrayList<>()).add(rule);
        }
        index.replaceAll((s, list) -> List.copyOf(list));
        this.bySignal = index;
        this.hasWarmUp = rules.stream().anyMatch(rule -> !rule.warmUp().isZero());
    }

    @SafeVarargs
    private static List<String> fields(List<String>... kindFields) {
        List<String> all = new ArrayList<>(RULE_FIELDS);
        Arrays.stream(kindFields).forEach(all::addAll);
        return List.copyOf(all);
    }

    public static RuleBook of(List<ThresholdRule> rules) {
        return new RuleBook(rules);
    }

    /** The bundled defaults: target-down, high-error-rate, cpu-high, disk-almost-full, target-absent, target-unhealthy. */
    public static RuleBook defaults() {
        try (InputStream in = RuleBook.class.getResourceAsStream(DEFAULT_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the bundled rules " + DEFAULT_RESOURCE + " are missing from the classpath");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "classpath:" + DEFAULT_RESOURCE);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the bundled rules " + DEFAULT_RESOURCE, e);
        }
    }

    /** @throws YamlFileException listing every problem of the file (an unreadable file is one) */
    public static RuleBook load(Path file) {
        return YamlReader.read(file, RuleBook::bind);
    }

    /** Parses and checks {@code yaml}; {@code source} names it in every problem. */
    public static RuleBook parse(String yaml, String source) {
        return YamlReader.parse(yaml, source, RuleBook::bind);
    }

    public List<ThresholdRule> rules() {
        return rules;
    }

    /** The rules that watch {@code signal}; empty when none does. */
    public List<ThresholdRule> rulesFor(Signal signal) {
        return bySignal.getOrDefault(signal, List.of());
    }

    /**
     * The rule as it applies to {@code targetId}: its override for the target, else for the target's group ({@code
     * groupOf} is asked only for rules with group overrides, since it costs an inventory read), else the rule itself.
     */
    public ThresholdRule effective(ThresholdRule rule, String targetId, Function<String, String> groupOf) {
        Overrides o = overrides.get(rule.id());
        if (o == null) {
            return rule;
        }
        ThresholdRule forTarget = o.byTarget().get(targetId);
        if (forTarget != null) {
            return forTarget;
        }
        return o.byGroup().isEmpty() ? rule : o.byGroup().getOrDefault(groupOf.apply(targetId), rule);
    }

    /**
     * How the rule with this id was written ({@code threshold}, {@code error_rate}, {@code absence}, ...), e.g. to
     * count alerts by kind: an {@code AlertEvent}'s {@code ruleId} looked up here.
     */
    public Optional<String> kind(String ruleId) {
        return rule(ruleId).map(ThresholdRule::kind);
    }

    /** Whether some rule has a warm-up, so the engine must know when each target first appeared. */
    public boolean hasWarmUp() {
        return hasWarmUp;
    }

    /**
     * Problems of absence rules against the window engine's {@code absenceTimeout}: the silence is reported once,
     * when it reaches the timeout, so an {@code after} longer than that could never be met. Empty when none.
     */
    public List<String> absenceProblems(Duration absenceTimeout) {
        double timeoutSeconds = absenceTimeout.toMillis() / 1000.0;
        return rules.stream()
                .filter(r -> r.kind().equals(ThresholdRule.ABSENCE) && r.fire().threshold() > timeoutSeconds)
                .map(r -> "rule " + r.id() + ": after " + Numbers.format(r.fire().threshold())
                        + " s is longer than streams.absence.timeout (" + Durations.format(absenceTimeout)
                        + "); the window engine reports a silence once, when it reaches that timeout, so the rule "
                        + "could never fire: raise streams.absence.timeout or shorten after")
                .toList();
    }

    /** The rule with this id, if the book has it. */
    public Optional<ThresholdRule> rule(String id) {
        return Optional.ofNullable(byId.get(id));
    }

    @Override
    public String toString() {
        return rules.stream().map(ThresholdRule::id).collect(Collectors.joining(", ", "RuleBook[", "]"));
    }

    // ---------------------------------------------------------------- binding the file

    private static RuleBook bind(YamlNode root) {
        root.allowOnly("rules");
        List<ThresholdRule> rules = new ArrayList<>();
        Map<String, Overrides> overrides = new HashMap<>();
        Map<String, Integer> firstLineOfId = new HashMap<>();
        for (YamlNode node : root.require("rules").items()) {
            Optional<ThresholdRule> parsed = rule(node);
            Overrides variants = overrides(node, parsed.orElse(null));
            parsed.ifPresent(rule -> {
                Integer first = firstLineOfId.putIfAbsent(rule.id(), node.get("id").line());
                if (first != null) {
                    node.get("id").problem("duplicate id '" + rule.id() + "' (first at line " + first
                            + "); every rule needs its own");
                } else {
                    rules.add(rule);
                    if (!variants.byTarget().isEmpty() || !variants.byGroup().isEmpty()) {
                        overrides.put(rule.id(), variants);
                    }
                }
            });
        }
        return new RuleBook(rules, overrides);
    }

    /**
     * {@code overrides: [{ target: web-1, value: 95 }, { group: batch, for: 5m, severity: info }]}: per target or
     * group, other {@code value}, {@code for}, {@code severity} or {@code recovery}; what an override leaves out it
     * takes from the rule, with the rule's defaults (a recovery value not given anywhere is the override's value).
     * A health rule's override names {@code at_least} instead of a value and recovers below it, as the rule does (its
     * recovery has only {@code for}). Each variant is checked like a rule, its problems reported at the override.
     */
    private static Overrides overrides(YamlNode node, ThresholdRule base) {
        Map<String, ThresholdRule> byTarget = new HashMap<>();
        Map<String, ThresholdRule> byGroup = new HashMap<>();
        if (node.isAbsent() || !node.isMap()) {
            return new Overrides(byTarget, byGroup);
        }
        YamlNode baseRecovery = node.get("recovery");
        String kind = node.get("kind").text(null);
        boolean health = ThresholdRule.HEALTH.equals(kind);
        boolean predictive = ThresholdRule.PREDICTIVE.equals(kind);
        for (YamlNode item : node.get("overrides").items()) {
            item.allowOnly(health ? HEALTH_OVERRIDE_FIELDS : predictive ? PREDICTIVE_OVERRIDE_FIELDS : OVERRIDE_FIELDS);
            String target = item.get("target").text(null);
            String group = item.get("group").text(null);
            if ((target == null) == (group == null)) {
                item.problem("an override names exactly one 'target' or one 'group'");
                continue;
            }
            YamlNode atLeastNode = item.get("at_least");
            Double value = health ? (atLeastNode.exists() ? healthRank(atLeastNode) : null)
                    : predictive ? seconds(item.get("horizon"))
                    : ThresholdRule.ANOMALY.equals(kind) ? score(item.get("value"), null) : number(item.get("value"));
            Duration fireFor = item.get("for").duration(base == null ? Duration.ZERO : base.fireFor());
            Severity severity = item.get("severity").oneOf(Severity.class, base == null ? null : base.severity());
            // Like the rule itself, a health override recovers below its status: only how long that takes is its own.
            YamlNode recoveryNode = item.get("recovery").allowOnly(health ? List.of("for")
                    : predictive ? PREDICTIVE_RECOVERY_FIELDS : RECOVERY_FIELDS);
            Comparison recoveryOp = comparison(recoveryNode.get("op"));
            Double recoveryValue = predictive ? seconds(recoveryNode.get("horizon")) : number(recoveryNode.get("value"));
            Duration recoveryFor = recoveryNode.get("for").duration(base == null ? Duration.ZERO : base.recoveryFor());
            if (base == null) {
                continue; // the rule's own problems are reported; its variants cannot be built
            }
            Condition fire = new Condition(base.fire().op(), value == null ? base.fire().threshold() : value);
            boolean baseRecoveryValue = baseRecovery.get(predictive ? "horizon" : "value").exists();
            Condition recovery = new Condition(
                    recoveryOp != null ? recoveryOp : base.recovery().op(),
                    recoveryValue != null ? recoveryValue
                            : baseRecoveryValue ? base.recovery().threshold() : fire.threshold());
            if (recovery.overlaps(fire)) {
                item.problem("'" + recovery + "' (recovery) overlaps the firing condition '" + fire
                        + "'; give the override its own recovery");
                continue;
            }
            ThresholdRule variant;
            try {
                variant = base.withDecision(fire, fireFor, severity, recovery, recoveryFor);
            } catch (IllegalArgumentException e) {
                item.problem(e.getMessage());
                continue;
            }
            Map<String, ThresholdRule> into = target != null ? byTarget : byGroup;
            if (into.putIfAbsent(target != null ? target : group, variant) != null) {
                item.problem("a second override for " + (target != null ? "target '" + target : "group '" + group)
                        + "'; one per target or group");
            }
        }
        return new Overrides(byTarget, byGroup);
    }

    /**
     * What a kind compiles to before the options every rule has: the signal, the check it selects and the firing
     * condition (op or value null when absent or wrong, a problem then), and the summary used when none is written.
     */
    private record Compiled(Signal signal, String check, Comparison op, Double value, String defaultSummary,
                            Detection detection) {
        Compiled(Signal signal, String check, Comparison op, Double value, String defaultSummary) {
            this(signal, check, op, value, defaultSummary, null);
        }
    }

    /** One rule of any kind, compiled to the one rule model; empty when it has a problem (recorded on its node). */
    private static Optional<ThresholdRule> rule(YamlNode node) {
        if (node.isAbsent()) {
            node.problem("expected a rule (a map of id, kind, signal, op, value, ...), found nothing");
            return Optional.empty();
        }
        if (!node.isMap()) {
            node.allowOnly(RULE_FIELDS);
            return Optional.empty();
        }
        String kind = node.require("kind").oneOf(KINDS, null);
        node.allowOnly(kind == null ? ALL_FIELDS : FIELDS_BY_KIND.get(kind));
        YamlNode idNode = node.require("id");
        String id = idNode.requiredText();
        if (!id.isEmpty() && !ID.matcher(id).matches()) {
            idNode.problem("'" + id + "' must start with a letter or digit and use only letters, digits, '-', '_', '.'");
        }
        Compiled compiled = kind == null ? null : switch (kind) {
            case ThresholdRule.ERROR_RATE -> errorRate(node);
            case ThresholdRule.ABSENCE -> absence(node);
            case ThresholdRule.HEALTH -> health(node);
            case ThresholdRule.ANOMALY -> anomaly(node);
            case ThresholdRule.PREDICTIVE -> predictive(node);
            default -> threshold(node);
        };
        boolean modelled = compiled != null && compiled.detection() != null;
        Signal signal = compiled == null ? null : compiled.signal();
        boolean perCheck = signal != null && ThresholdRule.PER_CHECK_SIGNALS.contains(signal);
        Comparison op = compiled == null ? null : compiled.op();
        Double value = compiled == null ? null : compiled.value();
        Duration fireFor = node.get("for").duration(Duration.ZERO);
        ThresholdRule.MOfN mOfN = mOfN(node.get("m_of_n"), fireFor);
        // A modelled rule's min_samples is the history its model needs (in its Detection), not a window's observations.
        int minSamples = kind != null && isModelled(kind) ? 1 : minSamples(node.get("min_samples"), signal);
        Condition fire = op == null || value == null ? null : new Condition(op, value);

        // A health rule recovers below its status; only how long that takes is its own.
        boolean predictive = ThresholdRule.PREDICTIVE.equals(kind);
        YamlNode recoveryNode = node.get("recovery").allowOnly(ThresholdRule.HEALTH.equals(kind) ? List.of("for")
                : predictive ? PREDICTIVE_RECOVERY_FIELDS : RECOVERY_FIELDS);
        Comparison recoveryOp = comparison(recoveryNode.get("op"));
        Double recoveryValue = predictive ? seconds(recoveryNode.get("horizon"))
                : ThresholdRule.ANOMALY.equals(kind) ? score(recoveryNode.get("value"), null)
                : number(recoveryNode.get("value"));
        Duration recoveryFor = recoveryNode.get("for").duration(Duration.ZERO);
        Condition recovery = null;
        if (fire != null) {
            recovery = new Condition(recoveryOp == null ? op.negation() : recoveryOp,
                    recoveryValue == null ? value : recoveryValue);
            if (recovery.overlaps(fire)) {
                recoveryNode.problem("'" + recovery + "' overlaps the firing condition '"
                        + fire + "'; a value cannot mean both firing and recovered");
            }
        }
        Severity severity = node.require("severity").oneOf(Severity.class, null);
        List<ThresholdRule.Tier> escalations = escalations(node.get("escalate"), fire, severity);
        YamlNode summaryNode = node.get("summary");
        String summary = summaryNode.exists() ? summaryNode.requiredText()
                : compiled == null ? "" : compiled.defaultSummary();
        List<String> placeholders = signal == Signal.HEALTH_STATUS ? HEALTH_PLACEHOLDERS
                : ThresholdRule.ANOMALY.equals(kind) ? ANOMALY_PLACEHOLDERS
                : predictive ? PREDICTIVE_PLACEHOLDERS : PLACEHOLDERS;
        checkPlaceholders(summaryNode, summary, placeholders, signal, perCheck);
        YamlNode descriptionNode = node.get("description");
        String description = descriptionNode.exists() ? descriptionNode.requiredText() : null;
        checkPlaceholders(descriptionNode, description, placeholders, signal, perCheck);
        YamlNode runbookNode = node.get("runbook");
        String runbook = runbookNode.exists() ? runbookNode.requiredText() : null;
        if (runbook != null && !runbook.startsWith("https://") && !runbook.startsWith("http://")) {
            runbookNode.problem("'" + runbook + "' is not an http:// or https:// link");
        }
        checkPlaceholders(runbookNode, runbook, RUNBOOK_PLACEHOLDERS, signal, perCheck);
        TreeMap<String, String> labels = labels(node.get("labels"));
        Duration warmUp = node.get("warm_up").duration(Duration.ZERO);
        ThresholdRule.Staleness stale = staleness(node);
        if (id.isEmpty() || kind == null || signal == null || fire == null || severity == null) {
            return Optional.empty();
        }
        return Optional.of(new ThresholdRule(id, signal, compiled.check(), fire, fireFor, mOfN, minSamples, recovery,
                recoveryFor, severity, escalations, summary, labels, description, runbook, kind, warmUp, stale,
                modelled ? compiled.detection() : null));
    }

    /** {@code kind: threshold}: any signal, its own {@code op} and {@code value}. */
    private static Compiled threshold(YamlNode node) {
        String signalName = node.require("signal").oneOf(SIGNALS, null);
        Signal signal = signalName == null ? null : Signal.fromRuleName(signalName).orElseThrow();
        boolean perCheck = signal != null && ThresholdRule.PER_CHECK_SIGNALS.contains(signal);
        return new Compiled(signal, check(node.get("check"), signal, perCheck), comparison(node.require("op")),
                number(node.require("value")),
                "{target}: " + (signalName == null ? "" : signalName) + " is {value} (threshold {threshold})");
    }

    /**
     * {@code kind: error_rate}: the failed share of a closed window's checks, {@code window: 1m} (default) or
     * {@code 1h}, against {@code op} (default {@code >}) and {@code value}, a fraction from 0 to 1.
     */
    private static Compiled errorRate(YamlNode node) {
        YamlNode windowNode = node.get("window");
        String window = windowNode.oneOf(List.of("1m", "1h"), "1m");
        YamlNode opNode = node.get("op");
        Comparison op = opNode.exists() ? comparison(opNode) : Comparison.GT;
        double value = node.require("value").number(Double.NaN, 0, 1);
        return new Compiled(window.equals("1h") ? Signal.ERROR_RATE_1H : Signal.ERROR_RATE_1M, null, op,
                Double.isNaN(value) ? null : value,
                "{target} failed {value} of its checks over " + window + " (threshold {threshold})");
    }

    /**
     * {@code kind: absence}: the target sent nothing. Compiled onto {@link Signal#SILENCE_SECONDS}, which the window
     * engine reports once a target has been silent for {@code streams.absence.timeout}: without {@code after} any
     * reported silence fires ({@code > 0}); with it, a silence of at least {@code after} ({@code >= after} in
     * seconds). The silence is reported once, so an {@code after} longer than the timeout could never fire
     * ({@link #absenceProblems} refuses it at start).
     */
    private static Compiled absence(YamlNode node) {
        YamlNode afterNode = node.get("after");
        Duration after = afterNode.exists() ? afterNode.positiveDuration(null) : null;
        return new Compiled(Signal.SILENCE_SECONDS, null, after == null ? Comparison.GT : Comparison.GE,
                after == null ? 0.0 : after.toMillis() / 1000.0, "{target} sent nothing for {value} s");
    }

    private static boolean isModelled(String kind) {
        return kind.equals(ThresholdRule.ANOMALY) || kind.equals(ThresholdRule.PREDICTIVE);
    }

    /**
     * {@code kind: anomaly}: fires when the series' own detector ({@code detector}, default
     * {@value Detectors#DEFAULT}) scores a value at least {@code value} (a score between
     * 0 and 1, default {@value #DEFAULT_ANOMALY_SCORE}); {@code direction: up | down | both} (default both) ignores
     * values on the other side of what the detector expected; {@code min_samples} is the history the detector needs
     * before the rule may act. Compiled onto the watched signal with a {@link Detection.Anomaly}: the conditions test
     * the score.
     */
    private static Compiled anomaly(YamlNode node) {
        Signal signal = modelledSignal(node);
        boolean perCheck = signal != null && ThresholdRule.PER_CHECK_SIGNALS.contains(signal);
        String detector = node.get("detector").oneOf(Detectors.names(),
                Detectors.DEFAULT);
        Detection.Direction direction = node.get("direction").oneOf(Detection.Direction.class, Detection.Direction.BOTH);
        long minHistory = node.get("min_samples").integer(0, 0, Integer.MAX_VALUE);
        Double value = score(node.get("value"), DEFAULT_ANOMALY_SCORE);
        Detection detection = detector == null || direction == null ? null
                : new Detection.Anomaly(detector, direction, minHistory);
        return new Compiled(signal, check(node.get("check"), signal, perCheck), Comparison.GE, value,
                "{target}: " + (signal == null ? "" : signal.ruleName())
                        + " at {value} is unusual for it (expected about {expected}, anomaly score {score})",
                detection);
    }

    /**
     * {@code kind: predictive}: fires when the series' robust trend (over about {@code trend_window}, default 1h)
     * reaches {@code limit} within {@code horizon}, going {@code direction: rising} (the default, falling for
     * {@code disk_free_bytes}) or {@code falling}, with at least {@code min_confidence} (default
     * {@value #DEFAULT_MIN_CONFIDENCE}) that it gets there within that time; resolves when the crossing is further than the horizon
     * (or {@code recovery.horizon}) or the trend turns. {@code min_samples} (default
     * {@value #DEFAULT_TREND_MIN_SAMPLES}) is the history the trend needs. Compiled onto the watched signal with a
     * {@link Detection.Forecast}: the conditions test the seconds until the limit.
     */
    private static Compiled predictive(YamlNode node) {
        Signal signal = modelledSignal(node);
        boolean perCheck = signal != null && ThresholdRule.PER_CHECK_SIGNALS.contains(signal);
        Double limit = number(node.require("limit"));
        String defaultDirection = signal == Signal.DISK_FREE_BYTES ? "falling" : "rising";
        String direction = node.get("direction").oneOf(List.of("rising", "falling"), defaultDirection);
        Double horizon = seconds(node.require("horizon"));
        double minConfidence = node.get("min_confidence").number(DEFAULT_MIN_CONFIDENCE, 0.5, 1);
        Duration trendWindow = node.get("trend_window").positiveDuration(DEFAULT_TREND_WINDOW);
        long minHistory = node.get("min_samples").integer(DEFAULT_TREND_MIN_SAMPLES, 1, Integer.MAX_VALUE);
        Detection detection = limit == null || direction == null || trendWindow == null || Double.isNaN(minConfidence)
                ? null : new Detection.Forecast(limit, direction.equals("rising"), trendWindow, minConfidence, minHistory);
        return new Compiled(signal, check(node.get("check"), signal, perCheck), Comparison.LE, horizon,
                "{target}: " + (signal == null ? "" : signal.ruleName()) + " at {value} reaches {limit} in {eta}",
                detection);
    }

    /** The signal of an anomaly or predictive rule: one a model of the series makes sense for. */
    private static Signal modelledSignal(YamlNode node) {
        YamlNode signalNode = node.require("signal");
        String name = signalNode.text(null);
        if (name != null && Signal.fromRuleName(name).isPresent() && !MODELLED_SIGNAL_NAMES.contains(name)) {
            signalNode.problem("'" + name + "' is a flag, rank or silence, not a measured series; a model applies to "
                    + String.join(", ", MODELLED_SIGNAL_NAMES));
            return null;
        }
        String checked = signalNode.oneOf(MODELLED_SIGNAL_NAMES, null);
        return checked == null ? null : Signal.fromRuleName(checked).orElseThrow();
    }

    /** An anomaly score threshold, strictly between 0 and 1; {@code otherwise} when absent, null when wrong. */
    private static Double score(YamlNode node, Double otherwise) {
        if (!node.exists()) {
            return otherwise;
        }
        double value = node.number(Double.NaN, 0, 1);
        if (value == 0 || value == 1) {
            node.problem("an anomaly score threshold is strictly between 0 and 1 (e.g. 0.999)");
            return null;
        }
        return Double.isNaN(value) ? null : value;
    }

    /** A positive duration in seconds (a horizon); null when absent or wrong (a problem then). */
    private static Double seconds(YamlNode node) {
        if (!node.exists()) {
            return null;
        }
        Duration d = node.positiveDuration(null);
        return d == null ? null : d.toMillis() / 1000.0;
    }

    /** {@code stale_after: 5m} and {@code on_stale: resolve | absent}; null without {@code stale_after}. */
    private static ThresholdRule.Staleness staleness(YamlNode node) {
        YamlNode onStale = node.get("on_stale");
        String action = onStale.oneOf(STALE_ACTIONS, STALE_RESOLVE);
        YamlNode after = node.get("stale_after");
        if (!after.exists()) {
            if (onStale.exists()) {
                onStale.problem("on_stale says what happens once an alert is stale; set stale_after too");
            }
            return null;
        }
        Duration d = after.positiveDuration(null);
        return d == null ? null : new ThresholdRule.Staleness(d, action.equals(STALE_ABSENT));
    }

    /**
     * {@code kind: health}: {@code at_least: critical} fires when the target's health status ranks at least CRITICAL
     * (HEALTHY < DEGRADED < CRITICAL < UNREACHABLE) on every health score for {@code for} (or M of N), and recovers
     * below it for {@code recovery.for}. Compiled onto {@link Signal#HEALTH_STATUS}, the status's rank.
     */
    private static Compiled health(YamlNode node) {
        return new Compiled(Signal.HEALTH_STATUS, null, Comparison.GE, healthRank(node.require("at_least")),
                "{target} health is {status}");
    }

    /** The rank of the status an {@code at_least} names, for a rule or an override; null when wrong (a problem then). */
    private static Double healthRank(YamlNode atLeastNode) {
        HealthStatus atLeast = atLeastNode.oneOf(HealthStatus.class, null);
        if (atLeast == HealthStatus.HEALTHY) {
            atLeastNode.problem("every status is at least healthy, so the rule would always fire; "
                    + "use degraded, critical or unreachable");
            return null;
        }
        return atLeast == null ? null : (double) HealthScorer.rank(atLeast);
    }

    /** Every {@code {name}} of {@code text} must be one of {@code allowed}; {@code {check}} only on check signals. */
    private static void checkPlaceholders(YamlNode node, String text, List<String> allowed, Signal signal,
                                          boolean perCheck) {
        if (text == null) {
            return;
        }
        Matcher m = PLACEHOLDER.matcher(text);
        while (m.find()) {
            if (!allowed.contains(m.group(1))) {
                node.problem("unknown placeholder '{" + m.group(1) + "}'; use "
                        + allowed.stream().map(p -> "{" + p + "}").collect(Collectors.joining(", ")));
            } else if (m.group(1).equals("check") && signal != null && !perCheck) {
                node.problem("{check} names the check of a check signal (" + CHECK_SIGNAL_NAMES + "); "
                        + signal.ruleName() + " has none");
            }
        }
    }

    /**
     * {@code escalate: { critical: 95 }}: higher tiers above the rule's own {@code severity} at {@code value}, with the
     * rule's {@code op}; each tier's severity and value must be beyond the one below.
     */
    private static List<ThresholdRule.Tier> escalations(YamlNode node, Condition fire, Severity severity) {
        List<ThresholdRule.Tier> tiers = new ArrayList<>();
        ThresholdRule.Tier below = fire == null || severity == null ? null : new ThresholdRule.Tier(severity, fire);
        for (Map.Entry<String, YamlNode> entry : node.entries().entrySet()) {
            YamlNode valueNode = entry.getValue();
            Optional<Severity> tierSeverity = Arrays.stream(Severity.values())
                    .filter(v -> v.name().equalsIgnoreCase(entry.getKey())).findFirst();
            Double value = number(valueNode);
            if (tierSeverity.isEmpty()) {
                valueNode.problem("'" + entry.getKey() + "' is not one of info, warning, critical");
            } else if (value != null && below != null) {
                ThresholdRule.Tier tier = new ThresholdRule.Tier(tierSeverity.get(), new Condition(fire.op(), value));
                if (tier.severity().compareTo(below.severity()) <= 0) {
                    valueNode.problem("a tier must be more severe than the one below it (" + below + ")");
                } else if (!fire.op().test(value, below.condition().threshold())) {
                    valueNode.problem("'" + tier + "' must be stricter than the tier below it (" + below + ")");
                } else {
                    tiers.add(tier);
                    below = tier;
                }
            }
        }
        return tiers;
    }

    /** {@code m_of_n: { m: 3, n: 5 }}; null when absent or wrong (a problem then). Excludes {@code for}. */
    private static ThresholdRule.MOfN mOfN(YamlNode node, Duration fireFor) {
        if (!node.exists()) {
            return null;
        }
        node.allowOnly(M_OF_N_FIELDS);
        int max = ThresholdRule.MOfN.MAX_N;
        int m = (int) node.require("m").integer(-1, 1, max);
        int n = (int) node.require("n").integer(-1, 1, max);
        if (m < 1 || n < 1) {
            return null;
        }
        if (m > n) {
            node.get("m").problem(m + " of " + n + ": m must not be more than n");
            return null;
        }
        if (!fireFor.isZero()) {
            node.problem("use either 'for' (the condition holds on every value for a duration) or 'm_of_n', not both");
            return null;
        }
        return new ThresholdRule.MOfN(m, n);
    }

    /** {@code min_samples: 10}: window signals only, since a point value stands on one observation. */
    private static int minSamples(YamlNode node, Signal signal) {
        if (!node.exists()) {
            return 1;
        }
        int min = (int) node.integer(1, 1, Integer.MAX_VALUE);
        if (min > 1 && signal != null && !ThresholdRule.WINDOW_SIGNALS.contains(signal)) {
            node.problem("only a window signal (" + WINDOW_SIGNAL_NAMES + ") stands on several observations; "
                    + signal.ruleName() + " has one per value, so the rule could never fire");
            return 1;
        }
        return min;
    }

    /** {@code check: db}: only for per-check signals; absent means every check, each with its own alert. */
    private static String check(YamlNode node, Signal signal, boolean perCheck) {
        if (!node.exists()) {
            return null;
        }
        String check = node.requiredText();
        if (signal != null && !perCheck) {
            node.problem("only a check signal (" + CHECK_SIGNAL_NAMES
                    + ") can select a check; " + signal.ruleName() + " does not come from a check");
        }
        return check.isEmpty() || !perCheck ? null : check;
    }

    /** {@code >}, {@code >=}, {@code <} or {@code <=}; null when absent or wrong (a problem then). */
    private static Comparison comparison(YamlNode node) {
        String symbol = node.text(null);
        if (symbol == null) {
            return null;
        }
        Optional<Comparison> op = Comparison.fromSymbol(symbol.strip());
        if (op.isEmpty()) {
            node.problem("'" + symbol + "' is not one of >, >=, <, <= (quote it in YAML: op: \">=\")");
        }
        return op.orElse(null);
    }

    /** Any finite number; null when absent or not a number (a problem then). */
    private static Double number(YamlNode node) {
        double value = node.number(Double.NaN);
        return Double.isNaN(value) ? null : value;
    }

    private static TreeMap<String, String> labels(YamlNode node) {
        TreeMap<String, String> labels = new TreeMap<>();
        node.entries().forEach((name, value) -> {
            if (name.isBlank() || !value.isScalar()) {
                value.problem("label '" + name + "' must have a non-empty name and a plain value");
            } else if (name.equals(AlertEngine.CHECK_LABEL)) {
                value.problem("label '" + name + "' is reserved: a check signal's alert carries its check's name "
                        + "there; select a check with the rule's own 'check' field");
            } else {
                labels.put(name, value.text(""));
            }
        });
        return labels;
    }
}
