package io.fleetpulse.collector;

import io.fleetpulse.events.Target;
import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.text.Durations;
import io.fleetpulse.runtime.yaml.YamlFileException;
import io.fleetpulse.runtime.yaml.YamlNode;
import io.fleetpulse.runtime.yaml.YamlReader;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The targets one collector polls, read from its inventory YAML with the shared {@link YamlReader}: every mistake
 * of the file is reported at once, each with its file, line and column, and any mistake stops the service before
 * it polls anything.
 *
 * <pre>
 * defaults: { interval: 10s, timeout: 2s, group: default }
 * groups:                                              # optional: per-group overrides of defaults
 *   db: { interval: 5s, critical-checks: [http, db] }
 * targets:
 *   - id: srv-001
 *     health: http://127.0.0.1:8500/srv-001/health
 *     metrics: http://127.0.0.1:8500/srv-001/metrics   # optional
 *     group: web                                       # optional
 *     labels: { role: api, region: eu }                # optional
 *     interval: 5s                                     # optional, at least 100ms
 *     metrics-interval: 60s                            # optional, default collector.metrics.interval
 *     timeout: 2s                                      # optional, at most the interval
 *     max-latency: 500ms                               # optional: a slower http/tcp check is WARN
 *     critical-latency: 1500ms                         # optional: a slower one is CRITICAL
 *     min-free-disk: 10GiB                             # optional: less disk free in a metrics sample is WARN
 *     critical-free-disk: 2GiB                         # optional: less is CRITICAL
 *     critical-checks: [http]                          # optional
 *     absence-timeout: 60s                             # optional, default max(60s, 3 x interval)
 * </pre>
 *
 * {@code health} is an http(s) URL, or {@code tcp://host:port} for a TCP connect check.
 * {@code defaults} may set interval, metrics-interval, timeout, group, labels (merged under each target's),
 * critical-checks, absence-timeout and the limits; what it leaves out falls back to the service's {@link Fallbacks}
 * ({@code collector.poll.interval}, {@code collector.metrics.interval}, {@code collector.poll.timeout}).
 * An entry of {@code groups} may set the same (but group) for the targets of that group: a target's own value wins
 * over its group's, its group's over {@code defaults}' (labels merge in that order).
 * Durations are written in the one FleetPulse syntax ({@link Durations}: {@code 500ms}, {@code 30s}, {@code 7d},
 * {@code PT30S}).
 */
public record Inventory(String source, List<Target> targets) {

    /** The setting whose value (the file) is wrong when the inventory is. */
    public static final String CONFIG_KEY = "collector.inventory";

    static final Duration MIN_INTERVAL = Duration.ofMillis(100);
    static final Duration MIN_ABSENCE_TIMEOUT = Duration.ofSeconds(60);

    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,199}");
    private static final List<String> TOP_KEYS = List.of("defaults", "groups", "targets");
    private static final List<String> LIMIT_KEYS = List.of("max-latency", "critical-latency", "min-free-disk",
            "critical-free-disk");
    private static final List<String> DEFAULT_KEYS = withLimits("interval", "metrics-interval", "timeout", "group",
            "labels", "critical-checks", "absence-timeout");
    private static final List<String> GROUP_KEYS = withLimits("interval", "metrics-interval", "timeout", "labels",
            "critical-checks", "absence-timeout");
    private static final List<String> TARGET_KEYS = withLimits("id", "health", "metrics", "group", "labels", "interval",
            "metrics-interval", "timeout", "critical-checks", "absence-timeout");

    /**
     * What a target gets where neither it, its group nor {@code defaults} sets a timing: the service's settings.
     *
     * @param interval        the health endpoint's interval ({@code collector.poll.interval})
     * @param metricsInterval the metrics endpoint's ({@code collector.metrics.interval})
     * @param timeout         a poll's hard deadline ({@code collector.poll.timeout})
     */
    public record Fallbacks(Duration interval, Duration metricsInterval, Duration timeout) {
    }

    private static List<String> withLimits(String... keys) {
        List<String> all = new ArrayList<>(List.of(keys));
        all.addAll(LIMIT_KEYS);
        return List.copyOf(all);
    }

    public Inventory {
        targets = List.copyOf(targets);
    }

    /** Whether {@code id} is a valid target id: letters, digits, {@code . _ : -}, at most 200 characters. */
    static boolean isValidId(String id) {
        return ID.matcher(id).matches();
    }

    /**
     * Reads and validates the inventory in {@code file}.
     *
     * @param fallbacks used where neither a target, its group nor {@code defaults} sets a timing
     * @param updatedAt stamped on every target, as when this inventory took effect
     * @throws ConfigException for {@value #CONFIG_KEY}, listing every problem found
     */
    public static Inventory load(Path file, Fallbacks fallbacks, Instant updatedAt) {
        return bound(() -> YamlReader.read(file, root -> new Reader(fallbacks, updatedAt).read(file.toString(), root)));
    }

    /** As {@link #load}, from text; {@code source} names it in error messages. */
    public static Inventory parse(String yaml, String source, Fallbacks fallbacks, Instant updatedAt) {
        return bound(() -> YamlReader.parse(yaml, source, root -> new Reader(fallbacks, updatedAt).read(source, root)));
    }

    /** The shortest interval of any endpoint of these targets (health, and metrics where polled), or null when none. */
    static Duration shortestInterval(List<Target> targets) {
        return targets.stream().flatMap(t -> t.getMetricsUrl() == null || t.getMetricsIntervalMs() == null
                        ? Stream.of(t.getCheckIntervalMs())
                        : Stream.of(t.getCheckIntervalMs(), t.getMetricsIntervalMs()))
                .min(Long::compare).map(Duration::ofMillis).orElse(null);
    }

    private static Inventory bound(Supplier<Inventory> read) {
        try {
            return read.get();
        } catch (YamlFileException e) {
            throw new ConfigException(CONFIG_KEY, "The inventory (" + CONFIG_KEY + ") cannot be used: " + e.getMessage());
        }
    }

    /** Where a timing was set, from the bottom up. */
    private static final int BY_SETTINGS = 0;
    private static final int BY_DEFAULTS = 1;
    private static final int BY_GROUP = 2;
    private static final int BY_TARGET = 3;

    /** A timing, the level that set it, and its node there (null when the service's settings did). */
    private record Timing(Duration value, int level, YamlNode node) {
    }

    /** What one level (defaults, a group, a target) sets, over what it inherits down to the service's settings. */
    private record Defaults(Timing interval, Timing metricsInterval, Timing timeout, Timing absence, String group,
                            Map<String, String> labels,
                            List<String> criticalChecks, Limits limits) {
    }

    /** The limits one level sets over what it inherits; each null when no level sets it. */
    private record Limits(Long maxLatencyMs, Long criticalLatencyMs, Long minFreeDiskBytes, Long criticalFreeDiskBytes) {
        static final Limits NONE = new Limits(null, null, null, null);
    }

    private static final class Reader {
        private final Fallbacks fallbacks;
        private final Instant updatedAt;

        Reader(Fallbacks fallbacks, Instant updatedAt) {
            this.fallbacks = fallbacks;
            this.updatedAt = updatedAt;
        }

        Inventory read(String source, YamlNode root) {
            if (!root.isMap()) {
                root.problem(root.isAbsent() ? "the file is empty; it needs a 'targets' list"
                        : "expected a map with 'targets' and, optionally, 'defaults'");
                return new Inventory(source, List.of());
            }
            root.allowOnly(TOP_KEYS);
            Defaults defaults = defaults(root.get("defaults"));
            Map<String, Defaults> groups = new HashMap<>();
            root.get("groups").entries().forEach((name, group) -> groups.put(name.strip(), group(group, name.strip(), defaults)));
            YamlNode list = root.require("targets");
            List<YamlNode> items = list.items();
            if (list.isList() && items.isEmpty()) {
                list.problem("is empty; a collector needs at least one target");
            }
            List<Target> targets = new ArrayList<>();
            Map<String, Integer> firstLineOfId = new HashMap<>();
            for (YamlNode item : items) {
                Target target = target(item, defaults, groups);
                YamlNode id = item.get("id");
                String idText = id.isScalar() ? id.text("").strip() : "";
                Integer earlier = idText.isEmpty() ? null : firstLineOfId.putIfAbsent(idText, id.line());
                if (earlier != null) {
                    id.problem("'" + idText + "' is the id of an earlier target too (line " + earlier + ")");
                } else if (target != null) {
                    targets.add(target);
                }
            }
            return new Inventory(source, targets);
        }

        private Defaults defaults(YamlNode node) {
            node.allowOnly(DEFAULT_KEYS);
            Timing unset = new Timing(null, BY_SETTINGS, null);
            Defaults settings = new Defaults(new Timing(fallbacks.interval(), BY_SETTINGS, null),
                    new Timing(fallbacks.metricsInterval(), BY_SETTINGS, null),
                    new Timing(fallbacks.timeout(), BY_SETTINGS, null), unset, "default", Map.of(), List.of(), Limits.NONE);
            return overlay(node, BY_DEFAULTS, settings, name(node.get("group"), "default"), true);
        }

        /** A group's overrides over {@code defaults}; a mistake is reported once, where the group sets it. */
        private Defaults group(YamlNode node, String name, Defaults defaults) {
            if (!node.isMap()) {
                node.problem("expected the group's overrides: a map of " + String.join(", ", GROUP_KEYS));
                return defaults;
            }
            node.allowOnly(GROUP_KEYS);
            return overlay(node, BY_GROUP, defaults, name, true);
        }

        /**
         * What {@code node} sets at {@code level} (defaults, a group, a target) over what it inherits from
         * {@code base}: timings checked where this level sets them (the metrics interval only where metrics may be
         * polled), labels merged over the base's.
         */
        private Defaults overlay(YamlNode node, int level, Defaults base, String group, boolean metricsPolled) {
            Timing interval = timing(node.get("interval"), level, base.interval());
            Timing metrics = timing(node.get("metrics-interval"), level, base.metricsInterval());
            Timing timeout = timing(node.get("timeout"), level, base.timeout());
            Timing absence = timing(node.get("absence-timeout"), level, base.absence());
            checkTimings(level, interval, timeout, absence);
            checkMetricsInterval(level, metrics, metricsPolled ? timeout : null);
            Map<String, String> labels = new LinkedHashMap<>(base.labels());
            labels.putAll(labels(node.get("labels"), Map.of()));
            return new Defaults(interval, metrics, timeout, absence, group, labels,
                    names(node.get("critical-checks"), base.criticalChecks()), limits(node, base.limits()));
        }

        /**
         * The limits {@code node} sets over {@code base}'s. A critical line must be past its warn line (a longer
         * latency, less free disk) when both are known; a mistake is reported where this level set either.
         */
        private static Limits limits(YamlNode node, Limits base) {
            Long maxLatency = durationMs(node.get("max-latency"), base.maxLatencyMs());
            Long criticalLatency = durationMs(node.get("critical-latency"), base.criticalLatencyMs());
            Long minFree = bytes(node.get("min-free-disk"), base.minFreeDiskBytes());
            Long criticalFree = bytes(node.get("critical-free-disk"), base.criticalFreeDiskBytes());
            if (maxLatency != null && criticalLatency != null && criticalLatency < maxLatency
                    && (node.get("max-latency").exists() || node.get("critical-latency").exists())) {
                (node.get("critical-latency").exists() ? node.get("critical-latency") : node.get("max-latency"))
                        .problem("the critical-latency " + Durations.format(Duration.ofMillis(criticalLatency))
                                + " is shorter than the max-latency " + Durations.format(Duration.ofMillis(maxLatency))
                                + "; the critical line is the slower one");
            }
            if (minFree != null && criticalFree != null && criticalFree > minFree
                    && (node.get("min-free-disk").exists() || node.get("critical-free-disk").exists())) {
                (node.get("critical-free-disk").exists() ? node.get("critical-free-disk") : node.get("min-free-disk"))
                        .problem("the critical-free-disk " + criticalFree + " bytes is more than the min-free-disk "
                                + minFree + " bytes; the critical line is the lower one");
            }
            return new Limits(maxLatency, criticalLatency, minFree, criticalFree);
        }

        private static Long durationMs(YamlNode node, Long inherited) {
            if (node.isAbsent()) {
                return inherited;
            }
            Duration value = node.positiveDuration(null);
            return value == null ? inherited : Long.valueOf(value.toMillis()); // boxed: a null inherited stays null
        }

        private static Long bytes(YamlNode node, Long inherited) {
            if (node.isAbsent()) {
                return inherited;
            }
            String text = node.text(null);
            Long value = text == null ? null : ByteSize.parse(text);
            if (value == null) {
                node.problem("'" + (text == null ? "" : text.strip()) + "' is not a size in bytes: a whole number, "
                        + "optionally with a unit (" + ByteSize.UNITS + ")");
                return inherited;
            }
            return value;
        }

        private Target target(YamlNode node, Defaults topDefaults, Map<String, Defaults> groups) {
            if (!node.isMap()) {
                node.problem("expected a target: a map with at least 'id' and 'health'");
                return null;
            }
            node.allowOnly(TARGET_KEYS);
            String group = name(node.get("group"), topDefaults.group());
            String id = id(node.require("id"));
            String health = url(node.require("health"), true);
            String metrics = url(node.get("metrics"), false);
            // A target without a metrics endpoint polls none, so its timeout need not fit a metrics interval.
            Defaults own = overlay(node, BY_TARGET, groups.getOrDefault(group, topDefaults), group, metrics != null);
            Timing interval = own.interval();
            Timing metricsInterval = own.metricsInterval();
            Timing absence = own.absence();
            if (id == null || health == null) {
                return null; // already a problem; the file is refused as a whole
            }
            Duration absenceTimeout = absence.value() != null ? absence.value()
                    : max(MIN_ABSENCE_TIMEOUT, interval.value().multipliedBy(3));
            return Target.newBuilder()
                    .setTargetId(id)
                    .setHealthUrl(health)
                    .setMetricsUrl(metrics)
                    .setGroup(group)
                    .setLabels(own.labels())
                    .setCheckIntervalMs(interval.value().toMillis())
                    .setMetricsIntervalMs(metricsInterval.value() == null ? null : metricsInterval.value().toMillis())
                    .setTimeoutMs(own.timeout().value().toMillis())
                    .setCriticalChecks(own.criticalChecks())
                    .setAbsenceTimeoutMs(absenceTimeout.toMillis())
                    .setMaxLatencyMs(own.limits().maxLatencyMs())
                    .setCriticalLatencyMs(own.limits().criticalLatencyMs())
                    .setMinFreeDiskBytes(own.limits().minFreeDiskBytes())
                    .setCriticalFreeDiskBytes(own.limits().criticalFreeDiskBytes())
                    .setUpdatedAt(updatedAt)
                    .build();
        }

        /**
         * Checks the timings a level sets, against each other and against what it inherits. A problem is reported
         * where this level set a value, so a mistake in {@code defaults} is reported once, not once per target; the
         * service's own settings were checked by {@link CollectorSettings}.
         */
        private static void checkTimings(int level, Timing interval, Timing timeout, Timing absence) {
            checkInterval(level, interval, timeout, "interval", "polls of one target would pile up");
            if (absence.value() != null && (absence.level() == level || interval.level() == level)
                    && absence.value().compareTo(interval.value()) <= 0) {
                (absence.level() == level ? absence : interval).node().problem("the absence-timeout "
                        + Durations.format(absence.value()) + " must be longer than the interval "
                        + Durations.format(interval.value()));
            }
        }

        /** As {@link #checkTimings} for the metrics interval, when one is set; against {@code timeout} unless null. */
        private static void checkMetricsInterval(int level, Timing metrics, Timing timeout) {
            if (metrics.value() != null) {
                checkInterval(level, metrics, timeout, "metrics-interval", "metrics polls of one target would pile up");
            }
        }

        /** An interval of at least the minimum and no shorter than the timeout (unless null), where this level set either. */
        private static void checkInterval(int level, Timing interval, Timing timeout, String name, String why) {
            if (interval.level() == level && interval.value().compareTo(MIN_INTERVAL) < 0) {
                interval.node().problem(Durations.format(interval.value()) + " is shorter than the minimum "
                        + Durations.format(MIN_INTERVAL));
            }
            if (timeout != null && (interval.level() == level || timeout.level() == level) && timeout.value().compareTo(interval.value()) > 0) {
                (timeout.level() == level ? timeout : interval).node().problem("the timeout "
                        + Durations.format(timeout.value()) + " is longer than the " + name + " "
                        + Durations.format(interval.value()) + "; " + why);
            }
        }

        /** The timing {@code node} sets at {@code level}, or the inherited one when it sets none (or a wrong one). */
        private static Timing timing(YamlNode node, int level, Timing inherited) {
            if (node.isAbsent()) {
                return inherited;
            }
            Duration value = node.positiveDuration(null);
            return value == null ? inherited : new Timing(value, level, node);
        }

        private static String id(YamlNode node) {
            String id = node.isAbsent() ? "" : nonEmpty(node);
            if (id.isEmpty()) {
                return null;
            }
            if (!ID.matcher(id).matches()) {
                node.problem("'" + id + "' must be 1 to 200 letters, digits, '.', '_', ':' or '-', starting with a "
                        + "letter or digit");
                return null;
            }
            return id;
        }

        /**
         * An absolute http(s) URL, or with {@code tcpAllowed} a {@code tcp://host:port} one (nothing after the port);
         * null when absent or wrong (a wrong one is a problem).
         */
        private static String url(YamlNode node, boolean tcpAllowed) {
            String text = node.text(null);
            if (text == null) {
                return null;
            }
            text = text.strip();
            try {
                URI uri = new URI(text);
                String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
                if (scheme.matches("https?") && uri.getHost() != null) {
                    return text;
                }
                if (tcpAllowed && scheme.equals("tcp")) {
                    if (uri.getHost() != null && uri.getPort() > 0 && uri.getRawPath().isEmpty() && uri.getRawQuery() == null
                            && uri.getRawFragment() == null && uri.getRawUserInfo() == null) {
                        return text;
                    }
                    node.problem("'" + text + "' is not a TCP address: expected tcp://host:port and nothing more");
                    return null;
                }
            } catch (Exception e) {
                // reported below
            }
            node.problem("'" + text + "' is not an absolute http:// or https:// URL"
                    + (tcpAllowed ? " (or tcp://host:port)" : ""));
            return null;
        }

        private static String name(YamlNode node, String fallback) {
            return node.isAbsent() ? fallback : nonEmpty(node);
        }

        /** The text of a value that is there: empty text, a map or a list is a problem (and gives ""). */
        private static String nonEmpty(YamlNode node) {
            if (node.isAbsent()) {
                node.problem("needs a value");
                return "";
            }
            String text = node.text(null);
            if (text != null && text.isBlank()) {
                node.problem("must not be empty");
            }
            return text == null ? "" : text.strip();
        }

        private static Map<String, String> labels(YamlNode node, Map<String, String> fallback) {
            if (node.isAbsent()) {
                return fallback;
            }
            Map<String, String> labels = new LinkedHashMap<>();
            node.entries().forEach((key, value) -> labels.put(key, nonEmpty(value)));
            return labels;
        }

        /** Check names: a list, or a single name taken as a list of one. */
        private static List<String> names(YamlNode node, List<String> fallback) {
            if (node.isAbsent()) {
                return fallback;
            }
            List<YamlNode> items = node.isScalar() ? List.of(node) : node.items();
            return items.stream().map(Reader::nonEmpty).toList();
        }

        private static Duration max(Duration a, Duration b) {
            return a.compareTo(b) >= 0 ? a : b;
        }
    }
}
