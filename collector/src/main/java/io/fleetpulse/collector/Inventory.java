package io.fleetpulse.collector;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fleetpulse.events.Target;
import io.fleetpulse.runtime.config.ConfigException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The targets one collector polls, read from its inventory YAML and validated as a whole: every mistake is reported
 * at once, each naming the target and the field, and any mistake stops the service before it polls anything.
 *
 * <pre>
 * defaults: { interval: 10s, timeout: 2s, group: default }
 * targets:
 *   - id: srv-001
 *     health: http://127.0.0.1:8500/srv-001/health
 *     metrics: http://127.0.0.1:8500/srv-001/metrics   # optional
 *     group: web                                       # optional
 *     labels: { role: api, region: eu }                # optional
 *     interval: 5s                                     # optional
 *     timeout: 2s                                      # optional, at most the interval
 *     critical-checks: [http]                          # optional
 *     absence-timeout: 60s                             # optional, default max(60s, 3 x interval)
 * </pre>
 *
 * {@code defaults} may set interval, timeout, group, labels (merged under each target's), critical-checks and
 * absence-timeout; what it leaves out falls back to {@code collector.poll.interval} / {@code collector.poll.timeout}.
 */
public record Inventory(String source, List<Target> targets) {

    /** The setting whose value (the file) is wrong when the inventory is. */
    public static final String CONFIG_KEY = "collector.inventory";

    static final Duration MIN_INTERVAL = Duration.ofMillis(100);
    static final Duration MIN_ABSENCE_TIMEOUT = Duration.ofSeconds(60);

    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,199}");
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)");
    private static final Set<String> TOP_FIELDS = Set.of("defaults", "targets");
    private static final Set<String> DEFAULT_FIELDS = Set.of("interval", "timeout", "group", "labels", "critical-checks",
            "absence-timeout");
    private static final Set<String> TARGET_FIELDS = Set.of("id", "health", "metrics", "group", "labels", "interval",
            "timeout", "critical-checks", "absence-timeout");
    private static final YAMLMapper YAML = YAMLMapper.builder().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

    public Inventory {
        targets = List.copyOf(targets);
    }

    /**
     * Reads and validates the inventory in {@code file}.
     *
     * @param defaultInterval used where neither the target nor {@code defaults} sets an interval
     * @param defaultTimeout  likewise for the timeout
     * @param updatedAt       stamped on every target, as when this inventory took effect
     * @throws ConfigException for {@value #CONFIG_KEY}, listing every problem found
     */
    public static Inventory load(Path file, Duration defaultInterval, Duration defaultTimeout, Instant updatedAt) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException(CONFIG_KEY, "Cannot read the inventory " + file.toAbsolutePath() + " (" + CONFIG_KEY
                    + "): " + e);
        }
        return parse(text, file.toString(), defaultInterval, defaultTimeout, updatedAt);
    }

    /** As {@link #load}, from text; {@code source} names it in error messages. */
    public static Inventory parse(String yaml, String source, Duration defaultInterval, Duration defaultTimeout,
                                  Instant updatedAt) {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (JsonProcessingException e) {
            throw new ConfigException(CONFIG_KEY, "Inventory " + source + " is not valid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
        }
        Problems problems = new Problems(source);
        List<Target> targets = new Reader(problems, defaultInterval, defaultTimeout, updatedAt).read(root);
        problems.throwIfAny();
        return new Inventory(source, targets);
    }

    /** Every problem found, so one run of the service shows them all. */
    private static final class Problems {
        private final String source;
        private final List<String> found = new ArrayList<>();

        Problems(String source) {
            this.source = source;
        }

        void add(String where, String what) {
            found.add(where + ": " + what);
        }

        void throwIfAny() {
            if (!found.isEmpty()) {
                throw new ConfigException(CONFIG_KEY, "Inventory " + source + " (" + CONFIG_KEY + ") has "
                        + found.size() + (found.size() == 1 ? " problem" : " problems") + ":\n  - "
                        + String.join("\n  - ", found));
            }
        }
    }

    /** What {@code defaults} sets, with the service's settings beneath. */
    private record Defaults(Duration interval, Duration timeout, String group, Map<String, String> labels,
                            List<String> criticalChecks, Duration absenceTimeout) {
    }

    private static final class Reader {
        private final Problems problems;
        private final Duration serviceInterval;
        private final Duration serviceTimeout;
        private final Instant updatedAt;

        Reader(Problems problems, Duration serviceInterval, Duration serviceTimeout, Instant updatedAt) {
            this.problems = problems;
            this.serviceInterval = serviceInterval;
            this.serviceTimeout = serviceTimeout;
            this.updatedAt = updatedAt;
        }

        List<Target> read(JsonNode root) {
            if (root == null || root.isMissingNode() || root.isNull()) {
                problems.add("the file", "is empty; it needs a 'targets' list");
                return List.of();
            }
            if (!root.isObject()) {
                problems.add("the file", "must be a mapping with 'defaults' and 'targets'");
                return List.of();
            }
            unknownFields(root, TOP_FIELDS, "the top level");
            Defaults defaults = readDefaults(root.get("defaults"));
            JsonNode list = root.get("targets");
            if (list == null || list.isNull()) {
                problems.add("the file", "has no 'targets' list");
                return List.of();
            }
            if (!list.isArray()) {
                problems.add("'targets'", "must be a list of targets (each starting with '- id: ...')");
                return List.of();
            }
            if (list.isEmpty()) {
                problems.add("'targets'", "is empty; a collector needs at least one target");
            }
            List<Target> targets = new ArrayList<>();
            Set<String> ids = new HashSet<>();
            for (int i = 0; i < list.size(); i++) {
                JsonNode node = list.get(i);
                // Duplicates are checked on the raw id, so one also shows when the earlier target had other problems.
                String id = node.path("id").isValueNode() ? node.path("id").asText().strip() : "";
                boolean duplicate = !id.isEmpty() && !ids.add(id);
                if (duplicate) {
                    problems.add(where(id, i), "the id is used by an earlier target too");
                }
                Target target = readTarget(node, i, defaults);
                if (target != null && !duplicate) {
                    targets.add(target);
                }
            }
            return targets;
        }

        private Defaults readDefaults(JsonNode node) {
            Defaults base = new Defaults(serviceInterval, serviceTimeout, "default", Map.of(), List.of(), null);
            if (node == null || node.isNull()) {
                return base;
            }
            String where = "'defaults'";
            if (!node.isObject()) {
                problems.add(where, "must be a mapping such as { interval: 10s, timeout: 2s, group: default }");
                return base;
            }
            unknownFields(node, DEFAULT_FIELDS, where);
            Duration interval = duration(node, "interval", where, base.interval());
            Duration timeout = duration(node, "timeout", where, base.timeout());
            String group = text(node, "group", where, base.group());
            Map<String, String> labels = labels(node, where, base.labels());
            List<String> critical = names(node, "critical-checks", where, base.criticalChecks());
            Duration absence = duration(node, "absence-timeout", where, null);
            return new Defaults(interval, timeout, group, labels, critical, absence);
        }

        private Target readTarget(JsonNode node, int index, Defaults defaults) {
            if (node == null || !node.isObject()) {
                problems.add("targets[" + index + "]", "must be a mapping with at least 'id' and 'health'");
                return null;
            }
            String id = node.path("id").isValueNode() ? node.path("id").asText().strip() : null;
            String where = where(id, index);
            int before = problems.found.size();
            if (id == null || id.isEmpty()) {
                problems.add(where, "field 'id' is missing");
            } else if (!ID.matcher(id).matches()) {
                problems.add(where, "field 'id': '" + id + "' must be 1 to 200 letters, digits, '.', '_', ':' or '-', "
                        + "starting with a letter or digit");
            }
            unknownFields(node, TARGET_FIELDS, where);
            String health = url(node, "health", where, true);
            String metrics = url(node, "metrics", where, false);
            String group = text(node, "group", where, defaults.group());
            Map<String, String> labels = new LinkedHashMap<>(defaults.labels());
            labels.putAll(labels(node, where, Map.of()));
            Duration interval = duration(node, "interval", where, defaults.interval());
            Duration timeout = duration(node, "timeout", where, defaults.timeout());
            List<String> critical = names(node, "critical-checks", where, defaults.criticalChecks());
            Duration absence = duration(node, "absence-timeout", where, defaults.absenceTimeout());
            if (interval != null && interval.compareTo(MIN_INTERVAL) < 0) {
                problems.add(where, "field 'interval': " + show(interval) + " is shorter than the minimum " + show(MIN_INTERVAL));
            }
            if (interval != null && timeout != null && timeout.compareTo(interval) > 0) {
                problems.add(where, "field 'timeout': " + show(timeout) + " is longer than the interval " + show(interval)
                        + "; polls of one target would pile up");
            }
            if (absence == null && interval != null) {
                absence = max(MIN_ABSENCE_TIMEOUT, interval.multipliedBy(3));
            } else if (absence != null && interval != null && absence.compareTo(interval) <= 0) {
                problems.add(where, "field 'absence-timeout': " + show(absence) + " must be longer than the interval "
                        + show(interval));
            }
            if (problems.found.size() > before) {
                return null;
            }
            return Target.newBuilder()
                    .setTargetId(id)
                    .setHealthUrl(health)
                    .setMetricsUrl(metrics)
                    .setGroup(group)
                    .setLabels(labels)
                    .setCheckIntervalMs(interval.toMillis())
                    .setTimeoutMs(timeout.toMillis())
                    .setCriticalChecks(critical)
                    .setAbsenceTimeoutMs(absence.toMillis())
                    .setUpdatedAt(updatedAt)
                    .build();
        }

        private static String where(String id, int index) {
            return id == null || id.isBlank() ? "targets[" + index + "]" : "target '" + id + "' (targets[" + index + "])";
        }

        private void unknownFields(JsonNode node, Set<String> allowed, String where) {
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String field = it.next();
                if (!allowed.contains(field)) {
                    problems.add(where, "unknown field '" + field + "'; allowed are " + allowed.stream().sorted().toList());
                }
            }
        }

        private String url(JsonNode node, String field, String where, boolean required) {
            JsonNode value = node.get(field);
            if (value == null || value.isNull()) {
                if (required) {
                    problems.add(where, "field '" + field + "' is missing (an http:// or https:// URL)");
                }
                return null;
            }
            String text = value.asText().strip();
            try {
                URI uri = new URI(text);
                if (uri.getScheme() == null || !uri.getScheme().toLowerCase(Locale.ROOT).matches("https?")
                        || uri.getHost() == null) {
                    throw new IllegalArgumentException();
                }
                return text;
            } catch (Exception e) {
                problems.add(where, "field '" + field + "': '" + text + "' is not an absolute http:// or https:// URL");
                return null;
            }
        }

        private String text(JsonNode node, String field, String where, String fallback) {
            JsonNode value = node.get(field);
            if (value == null || value.isNull()) {
                return fallback;
            }
            if (!value.isValueNode() || value.asText().isBlank()) {
                problems.add(where, "field '" + field + "' must be a non-empty name");
                return fallback;
            }
            return value.asText().strip();
        }

        private Map<String, String> labels(JsonNode node, String where, Map<String, String> fallback) {
            JsonNode value = node.get("labels");
            if (value == null || value.isNull()) {
                return fallback;
            }
            if (!value.isObject()) {
                problems.add(where, "field 'labels' must be a mapping such as { role: api, region: eu }");
                return fallback;
            }
            Map<String, String> labels = new LinkedHashMap<>();
            value.fields().forEachRemaining(e -> {
                if (!e.getValue().isValueNode() || e.getValue().isNull()) {
                    problems.add(where, "field 'labels': label '" + e.getKey() + "' must have a plain value");
                } else {
                    labels.put(e.getKey(), e.getValue().asText());
                }
            });
            return labels;
        }

        private List<String> names(JsonNode node, String field, String where, List<String> fallback) {
            JsonNode value = node.get(field);
            if (value == null || value.isNull()) {
                return fallback;
            }
            if (!value.isArray()) {
                problems.add(where, "field '" + field + "' must be a list such as [http, disk]");
                return fallback;
            }
            List<String> names = new ArrayList<>();
            value.forEach(v -> {
                if (!v.isValueNode() || v.asText().isBlank()) {
                    problems.add(where, "field '" + field + "' must list check names, found " + v);
                } else {
                    names.add(v.asText().strip());
                }
            });
            return names;
        }

        private Duration duration(JsonNode node, String field, String where, Duration fallback) {
            JsonNode value = node.get(field);
            if (value == null || value.isNull()) {
                return fallback;
            }
            Duration parsed = value.isTextual() ? parseDuration(value.asText().strip()) : null;
            if (parsed == null) {
                problems.add(where, "field '" + field + "': '" + value.asText() + "' is not a positive duration such as "
                        + "500ms, 10s, 5m or 1h" + (value.isNumber() ? " (write the unit)" : ""));
                return fallback;
            }
            return parsed;
        }
    }

    /** {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h} or ISO-8601 {@code PT10S}; null unless positive. */
    static Duration parseDuration(String text) {
        try {
            Duration d;
            if (text.toUpperCase(Locale.ROOT).startsWith("PT")) {
                d = Duration.parse(text.toUpperCase(Locale.ROOT));
            } else {
                Matcher m = DURATION.matcher(text.toLowerCase(Locale.ROOT));
                if (!m.matches()) {
                    return null;
                }
                long amount = Long.parseLong(m.group(1));
                d = switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(amount);
                    case "s" -> Duration.ofSeconds(amount);
                    case "m" -> Duration.ofMinutes(amount);
                    default -> Duration.ofHours(amount);
                };
            }
            return d.isZero() || d.isNegative() ? null : d;
        } catch (RuntimeException e) {
            return null;
        }
    }

    static String show(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }
}
