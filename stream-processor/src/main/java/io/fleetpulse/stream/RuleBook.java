package io.fleetpulse.stream;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fleetpulse.events.Severity;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import io.fleetpulse.runtime.config.ConfigKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The alert rules, read from a YAML file and validated as a whole before the service starts: every problem is
 * reported at once, naming the rule and the field, so an operator fixes the file in one go.
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
 */
public final class RuleBook {

    /** The rules bundled with the service, used when {@code rules.file} is not set. */
    public static final String DEFAULT_RESOURCE = "/io/fleetpulse/stream/default-rules.yaml";

    private static final Set<String> RULE_FIELDS =
            Set.of("id", "kind", "signal", "op", "value", "for", "recovery", "severity", "summary", "labels");
    private static final Set<String> RECOVERY_FIELDS = Set.of("op", "value", "for");
    private static final Set<String> PLACEHOLDERS = Set.of("target", "value", "threshold");
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([^}]*)}");
    private static final YAMLMapper YAML = YAMLMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final List<ThresholdRule> rules;
    private final Map<Signal, List<ThresholdRule>> bySignal;

    private RuleBook(List<ThresholdRule> rules) {
        this.rules = List.copyOf(rules);
        Map<Signal, List<ThresholdRule>> index = new EnumMap<>(Signal.class);
        for (ThresholdRule rule : rules) {
            index.computeIfAbsent(rule.signal(), s -> new ArrayList<>()).add(rule);
        }
        index.replaceAll((s, list) -> List.copyOf(list));
        this.bySignal = index;
    }

    public static RuleBook of(List<ThresholdRule> rules) {
        return new RuleBook(rules);
    }

    /** The bundled defaults: target-down, high-error-rate, cpu-high, disk-almost-full. */
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

    public static RuleBook load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new RuleFileException(file.toString(), List.of("cannot read the file: " + e));
        }
        return parse(text, file.toString());
    }

    /** Parses and validates {@code yaml}; {@code source} names it in error messages. */
    public static RuleBook parse(String yaml, String source) {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (JsonProcessingException e) {
            throw new RuleFileException(source, List.of("not valid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")")));
        }
        List<String> problems = new ArrayList<>();
        if (root == null || !root.isObject() || !root.has("rules")) {
            throw new RuleFileException(source, List.of("the file must be a map with a 'rules' list"));
        }
        root.fieldNames().forEachRemaining(name -> {
            if (!name.equals("rules")) {
                problems.add("unknown top-level field '" + name + "'; only 'rules' is allowed");
            }
        });
        JsonNode list = root.get("rules");
        if (!list.isArray()) {
            throw new RuleFileException(source, List.of("'rules' must be a list of rules"));
        }
        List<ThresholdRule> rules = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            RuleReader reader = new RuleReader(list.get(i), i + 1, problems);
            ThresholdRule rule = reader.read();
            if (rule != null) {
                if (!ids.add(rule.id())) {
                    problems.add("rule '" + rule.id() + "' field 'id': duplicate id; every rule needs its own");
                } else {
                    rules.add(rule);
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new RuleFileException(source, problems);
        }
        return new RuleBook(rules);
    }

    public List<ThresholdRule> rules() {
        return rules;
    }

    /** The rules that watch {@code signal}; empty when none does. */
    public List<ThresholdRule> rulesFor(Signal signal) {
        return bySignal.getOrDefault(signal, List.of());
    }

    @Override
    public String toString() {
        return rules.stream().map(ThresholdRule::id).collect(Collectors.joining(", ", "RuleBook[", "]"));
    }

    /** Reads one rule, adding a problem per bad field instead of stopping at the first. */
    private static final class RuleReader {

        private final JsonNode node;
        private final List<String> problems;
        private String label;
        private boolean ok = true;

        RuleReader(JsonNode node, int position, List<String> problems) {
            this.node = node;
            this.problems = problems;
            this.label = "rule #" + position;
        }

        ThresholdRule read() {
            if (node == null || !node.isObject()) {
                problem(null, "must be a map of fields (id, kind, signal, op, value, ...)");
                return null;
            }
            String id = text(node, "id", true);
            if (id != null) {
                if (ID.matcher(id).matches()) {
                    label = "rule '" + id + "'";
                } else {
                    problem("id", "'" + id + "' must start with a letter or digit and use only letters, digits, '-', '_', '.'");
                }
            }
            unknownFields(node, RULE_FIELDS, null);
            String kind = text(node, "kind", true);
            if (kind != null && !kind.equals("threshold")) {
                problem("kind", "'" + kind + "' is not supported; the only kind is 'threshold'");
            }
            Signal signal = null;
            String signalName = text(node, "signal", true);
            if (signalName != null) {
                signal = Signal.fromRuleName(signalName).orElse(null);
                if (signal == null) {
                    problem("signal", "'" + signalName + "' is not a known signal; known: "
                            + Arrays.stream(Signal.values()).map(Signal::ruleName).collect(Collectors.joining(", ")));
                }
            }
            Comparison op = comparison(node, "op", true);
            Double value = number(node, "value", true);
            Duration fireFor = duration(node, "for");
            Condition fire = op == null || value == null ? null : new Condition(op, value);

            Condition recovery = fire == null ? null : fire.negation();
            Duration recoveryFor = Duration.ZERO;
            JsonNode recoveryNode = node.get("recovery");
            if (recoveryNode != null && !recoveryNode.isNull()) {
                if (!recoveryNode.isObject()) {
                    problem("recovery", "must be a map like { op: \"<\", value: 75, for: 20s }");
                } else {
                    unknownFields(recoveryNode, RECOVERY_FIELDS, "recovery");
                    Comparison recoveryOp = comparison(recoveryNode, "recovery.op", false);
                    Double recoveryValue = number(recoveryNode, "recovery.value", false);
                    recoveryFor = duration(recoveryNode, "recovery.for");
                    if (fire != null) {
                        recovery = new Condition(recoveryOp == null ? fire.op().negation() : recoveryOp,
                                recoveryValue == null ? fire.threshold() : recoveryValue);
                        if (recovery.overlaps(fire)) {
                            problem("recovery", "'" + recovery + "' overlaps the firing condition '" + fire
                                    + "'; a value cannot mean both firing and recovered");
                        }
                    }
                }
            }
            Severity severity = severity();
            String summary = node.has("summary") ? text(node, "summary", false)
                    : "{target}: " + (signalName == null ? "" : signalName) + " is {value} (threshold {threshold})";
            if (summary != null) {
                Matcher m = PLACEHOLDER.matcher(summary);
                while (m.find()) {
                    if (!PLACEHOLDERS.contains(m.group(1))) {
                        problem("summary", "unknown placeholder '{" + m.group(1) + "}'; use {target}, {value} or {threshold}");
                    }
                }
            }
            TreeMap<String, String> labels = labels();
            if (!ok || fire == null || signal == null || id == null || severity == null || summary == null) {
                return null;
            }
            return new ThresholdRule(id, signal, fire, fireFor, recovery, recoveryFor, severity, summary, labels);
        }

        private void problem(String field, String message) {
            ok = false;
            problems.add(label + (field == null ? "" : " field '" + field + "'") + ": " + message);
        }

        private void unknownFields(JsonNode map, Set<String> known, String parent) {
            Iterator<String> names = map.fieldNames();
            while (names.hasNext()) {
                String name = names.next();
                if (!known.contains(name)) {
                    problem(parent == null ? name : parent + "." + name, "unknown field; allowed: "
                            + known.stream().sorted().collect(Collectors.joining(", ")));
                }
            }
        }

        private String text(JsonNode map, String field, boolean required) {
            String key = field.contains(".") ? field.substring(field.indexOf('.') + 1) : field;
            JsonNode v = map.get(key);
            if (v == null || v.isNull()) {
                if (required) {
                    problem(field, "is required");
                }
                return null;
            }
            if (!v.isValueNode() || v.asText().isBlank()) {
                problem(field, "must be a non-empty text");
                return null;
            }
            return v.asText();
        }

        private Comparison comparison(JsonNode map, String field, boolean required) {
            String symbol = text(map, field, required);
            if (symbol == null) {
                return null;
            }
            Comparison op = Comparison.fromSymbol(symbol.strip()).orElse(null);
            if (op == null) {
                problem(field, "'" + symbol + "' is not one of >, >=, <, <= (quote it in YAML: op: \">=\")");
            }
            return op;
        }

        private Double number(JsonNode map, String field, boolean required) {
            String key = field.contains(".") ? field.substring(field.indexOf('.') + 1) : field;
            JsonNode v = map.get(key);
            if (v == null || v.isNull()) {
                if (required) {
                    problem(field, "is required");
                }
                return null;
            }
            if (!v.isNumber() || !Double.isFinite(v.asDouble())) {
                problem(field, "'" + v.asText() + "' is not a number");
                return null;
            }
            return v.asDouble();
        }

        private Duration duration(JsonNode map, String field) {
            String key = field.contains(".") ? field.substring(field.indexOf('.') + 1) : field;
            JsonNode v = map.get(key);
            if (v == null || v.isNull()) {
                return Duration.ZERO;
            }
            try {
                if (!v.isTextual()) {
                    throw new IllegalArgumentException("not text");
                }
                return ConfigKey.parseDurationOrZero(v.asText());
            } catch (RuntimeException e) {
                problem(field, "'" + v.asText() + "' is not a duration; write e.g. 0s, 500ms, 15s, 2m, 1h");
                return Duration.ZERO;
            }
        }

        private Severity severity() {
            String text = text(node, "severity", true);
            if (text == null) {
                return null;
            }
            try {
                return Severity.valueOf(text.strip().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                problem("severity", "'" + text + "' is not one of info, warning, critical");
                return null;
            }
        }

        private TreeMap<String, String> labels() {
            JsonNode v = node.get("labels");
            TreeMap<String, String> labels = new TreeMap<>();
            if (v == null || v.isNull()) {
                return labels;
            }
            if (!v.isObject()) {
                problem("labels", "must be a map of name: value");
                return labels;
            }
            v.fields().forEachRemaining(e -> {
                if (e.getKey().isBlank() || !e.getValue().isValueNode() || e.getValue().isNull()) {
                    problem("labels", "label '" + e.getKey() + "' must have a non-empty name and a plain value");
                } else {
                    labels.put(e.getKey(), e.getValue().asText());
                }
            });
            return labels;
        }
    }
}
