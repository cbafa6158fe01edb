package io.fleetpulse.stream;

import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.config.ConfigKey;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.runtime.text.Numbers;
import io.fleetpulse.runtime.yaml.YamlFileException;
import io.fleetpulse.schemas.Topic;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Everything {@link HealthTopology} needs, decided before it is built: the window grace and timing, the rules,
 * where to count and how many original bytes a dead letter keeps. The topology reads nothing else, so tests build it with
 * exactly the settings they state.
 *
 * @param deadLetterMaxOriginalBytes original key and value bytes a dead letter keeps at most (see
 *                                   {@link DeadLetterLimit}); not a configuration key yet, the default fits the
 *                                   broker's default {@code max.message.bytes}
 * @param timing                     the window engine's idle, absence and clock-skew bounds
 * @param health                     the health score's weights and lines ({@link HealthScorer})
 * @param outputPrefix               put before the name of every topic the topology writes (a replay writes to
 *                                   {@code replay-fleet.alerts}, which nothing pages from); empty for the live run
 * @param sourcePartitions           the partition count of each source topic, for the intake's
 *                                   {@code wrong-partition} check: the service looks them up at start; one each (what
 *                                   a TopologyTestDriver has) unless given
 */
public record TopologySettings(Duration windowGrace, RuleBook rules, PipelineCounters counters,
                               int deadLetterMaxOriginalBytes, WindowTiming timing, HealthScorer.Weights health,
                               String outputPrefix, SourcePartitions sourcePartitions) {

    public static final ConfigKey<Duration> WINDOW_GRACE = ConfigKey.duration("streams.window.grace", Duration.ofSeconds(10),
            "how long after a 1-minute window ends records for it are still accepted (event time); later ones go to "
                    + "fleet.dlq as late, and the window's one final result is emitted then");
    public static final ConfigKey<Path> RULES_FILE = ConfigKey.path("rules.file", null,
            "YAML file of alert rules (see stream-processor/README.md); unset means the bundled default-rules.yaml")
            .defaultShownAs("the bundled default-rules.yaml");

    public static final ConfigKey<Duration> IDLE_TIMEOUT = ConfigKey.duration("streams.window.idle.timeout",
            Duration.ofSeconds(30),
            "wall-clock time a target (or its whole partition) may send nothing before its windows close anyway: a "
                    + "window then closes once the target's event time, carried on at wall-clock pace since its last "
                    + "record, passes window end + grace + this");
    public static final ConfigKey<Duration> ABSENCE_TIMEOUT = ConfigKey.duration("streams.absence.timeout",
            Duration.ofMinutes(2),
            "how far the event time of a target's partition may move on after the target's last record (wall-clock "
                    + "time, once the whole partition is silent for streams.window.idle.timeout) before its silence is "
                    + "reported to the rules as signal silence_seconds");
    public static final ConfigKey<Duration> MAX_AHEAD = ConfigKey.duration("streams.observed.max.ahead",
            Duration.ofMinutes(1),
            "how far a record's observedAt may be ahead of its Kafka record timestamp; further ahead goes to fleet.dlq "
                    + "as invalid, so a broken clock cannot close its target's windows early");

    public static final ConfigKey<String> OUTPUT_PREFIX = ConfigKey.string("streams.output.topic.prefix", "",
            "put before the name of every topic the processor writes (fleet.aggregates.1m, fleet.aggregates.1h, fleet.health, "
                    + "fleet.alerts, fleet.dlq); empty in production, replay- for fleetpulse replay, so that a replay "
                    + "never reaches fleet.alerts; letters, digits, . _ -")
            .defaultShownAs("empty");
    private static final Pattern TOPIC_PREFIX = Pattern.compile("[A-Za-z0-9._-]*");


    public static final ConfigKey<Double> HEALTH_WARN_WEIGHT = ConfigKey.decimal("streams.health.warn.weight", 0.5, 0, 1,
            "what a WARN check counts for in a window's health pass rate (an OK check counts 1, any other status 0)");
    public static final ConfigKey<Double> HEALTH_ERROR_RATE_POINTS = ConfigKey.decimal("streams.health.error.rate.points",
            20, 0, 100, "health score points taken off at a window error rate of 1 (every check failed), in "
                    + "proportion below it");
    public static final ConfigKey<Double> HEALTH_SATURATION_LINE = ConfigKey.decimal("streams.health.saturation.line",
            90, 0, 99, "percent of cpu, memory or disk (the window's maximum) above which a target counts as saturated");
    public static final ConfigKey<Double> HEALTH_SATURATION_POINTS = ConfigKey.decimal("streams.health.saturation.points",
            40, 0, 100, "health score points taken off when the most saturated resource is at 100%, in proportion "
                    + "from streams.health.saturation.line (0 points at the line)");
    public static final ConfigKey<Double> HEALTH_HEALTHY_LINE = ConfigKey.decimal("streams.health.healthy.line", 80, 0, 100,
            "a health score below this is DEGRADED; at or above it (and no failing critical check) HEALTHY");
    public static final ConfigKey<Double> HEALTH_CRITICAL_LINE = ConfigKey.decimal("streams.health.critical.line", 50, 0,
            100, "a health score below this is CRITICAL; must not be above streams.health.healthy.line");

    public static final List<ConfigKey<?>> KEYS = List.of(WINDOW_GRACE, IDLE_TIMEOUT, ABSENCE_TIMEOUT, MAX_AHEAD, RULES_FILE,
            HEALTH_WARN_WEIGHT, HEALTH_ERROR_RATE_POINTS, HEALTH_SATURATION_LINE, HEALTH_SATURATION_POINTS,
            HEALTH_HEALTHY_LINE, HEALTH_CRITICAL_LINE, OUTPUT_PREFIX);

    /** The health weights and lines the keys default to. */
    public static HealthScorer.Weights defaultHealth() {
        return new HealthScorer.Weights(HEALTH_WARN_WEIGHT.defaultValue(), HEALTH_ERROR_RATE_POINTS.defaultValue(),
                HEALTH_SATURATION_LINE.defaultValue(), HEALTH_SATURATION_POINTS.defaultValue(),
                HEALTH_HEALTHY_LINE.defaultValue(), HEALTH_CRITICAL_LINE.defaultValue());
    }

    /** The health weights and lines of {@code settings}; each key is range-checked by its type, the pair of lines here. */
    static HealthScorer.Weights healthFrom(Settings settings) {
        double healthy = settings.get(HEALTH_HEALTHY_LINE);
        double critical = settings.get(HEALTH_CRITICAL_LINE);
        if (critical > healthy) {
            throw new ConfigException(HEALTH_CRITICAL_LINE.name(), "Invalid value for " + HEALTH_CRITICAL_LINE.name()
                    + ": " + Numbers.format(critical) + " is above " + HEALTH_HEALTHY_LINE.name() + " ("
                    + Numbers.format(healthy) + "); a score cannot turn CRITICAL before it turns DEGRADED");
        }
        return new HealthScorer.Weights(settings.get(HEALTH_WARN_WEIGHT), settings.get(HEALTH_ERROR_RATE_POINTS),
                settings.get(HEALTH_SATURATION_LINE), settings.get(HEALTH_SATURATION_POINTS), healthy, critical);
    }

    /**
     * @param idleTimeout    see {@link #IDLE_TIMEOUT}
     * @param absenceTimeout see {@link #ABSENCE_TIMEOUT}
     * @param maxAhead       see {@link #MAX_AHEAD}
     */
    public record WindowTiming(Duration idleTimeout, Duration absenceTimeout, Duration maxAhead) {
        public WindowTiming {
            requirePositive(idleTimeout, "idle timeout");
            requirePositive(absenceTimeout, "absence timeout");
            requirePositive(maxAhead, "max ahead");
        }

        public static WindowTiming defaults() {
            return new WindowTiming(IDLE_TIMEOUT.defaultValue(), ABSENCE_TIMEOUT.defaultValue(), MAX_AHEAD.defaultValue());
        }

        private static void requirePositive(Duration d, String what) {
            Objects.requireNonNull(d, what);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive: " + d);
            }
        }
    }

    public TopologySettings {
        Objects.requireNonNull(windowGrace, "windowGrace");
        Objects.requireNonNull(rules, "rules");
        Objects.requireNonNull(counters, "counters");
        Objects.requireNonNull(timing, "timing");
        Objects.requireNonNull(health, "health");
        Objects.requireNonNull(outputPrefix, "outputPrefix");
        Objects.requireNonNull(sourcePartitions, "sourcePartitions");
        if (!TOPIC_PREFIX.matcher(outputPrefix).matches()) {
            throw new IllegalArgumentException("a topic name prefix has only letters, digits, . _ -: '" + outputPrefix + "'");
        }
        if (windowGrace.isNegative()) {
            throw new IllegalArgumentException("window grace must not be negative: " + windowGrace);
        }
        new DeadLetterLimit(deadLetterMaxOriginalBytes); // checks the bound
    }

    /** The live run's settings (output to the contract's own topic names) with the default health weights. */
    public TopologySettings(Duration windowGrace, RuleBook rules, PipelineCounters counters,
                            int deadLetterMaxOriginalBytes, WindowTiming timing) {
        this(windowGrace, rules, counters, deadLetterMaxOriginalBytes, timing, defaultHealth(), "", SourcePartitions.of(1));
    }

    public TopologySettings(Duration windowGrace, RuleBook rules, PipelineCounters counters) {
        this(windowGrace, rules, counters, DeadLetterLimit.DEFAULT_MAX_ORIGINAL_BYTES, WindowTiming.defaults(),
                defaultHealth(), "", SourcePartitions.of(1));
    }

    /** Default grace, the bundled rules and fresh counters. */
    public static TopologySettings defaults() {
        return new TopologySettings(WINDOW_GRACE.defaultValue(), RuleBook.defaults(), new PipelineCounters());
    }

    public TopologySettings withGrace(Duration grace) {
        return new TopologySettings(grace, rules, counters, deadLetterMaxOriginalBytes, timing, health, outputPrefix, sourcePartitions);
    }

    public TopologySettings withRules(RuleBook newRules) {
        return new TopologySettings(windowGrace, newRules, counters, deadLetterMaxOriginalBytes, timing, health, outputPrefix, sourcePartitions);
    }

    public TopologySettings withDeadLetterMaxOriginalBytes(int maxBytes) {
        return new TopologySettings(windowGrace, rules, counters, maxBytes, timing, health, outputPrefix, sourcePartitions);
    }

    public TopologySettings withTiming(WindowTiming newTiming) {
        return new TopologySettings(windowGrace, rules, counters, deadLetterMaxOriginalBytes, newTiming, health, outputPrefix, sourcePartitions);
    }

    public TopologySettings withHealth(HealthScorer.Weights newHealth) {
        return new TopologySettings(windowGrace, rules, counters, deadLetterMaxOriginalBytes, timing, newHealth, outputPrefix, sourcePartitions);
    }

    public TopologySettings withOutputPrefix(String prefix) {
        return new TopologySettings(windowGrace, rules, counters, deadLetterMaxOriginalBytes, timing, health, prefix, sourcePartitions);
    }

    public TopologySettings withSourcePartitions(SourcePartitions partitions) {
        return new TopologySettings(windowGrace, rules, counters, deadLetterMaxOriginalBytes, timing, health, outputPrefix,
                partitions);
    }

    /** The name the topology writes {@code topic} under: the contract's name behind {@link #outputPrefix}. */
    public String outputTopic(Topic<?, ?> topic) {
        return outputPrefix + topic.name();
    }

    /** Reads the rules file; a bad one is a {@link ConfigException} on {@code rules.file} listing every problem. */
    public static TopologySettings from(Settings settings) {
        Path rulesFile = settings.get(RULES_FILE);
        RuleBook rules;
        try {
            rules = rulesFile == null ? RuleBook.defaults() : RuleBook.load(rulesFile);
        } catch (YamlFileException e) {
            throw new ConfigException(RULES_FILE.name(), "Invalid rules file (" + RULES_FILE.name() + "): " + e.getMessage());
        }
        List<String> absence = rules.absenceProblems(settings.get(ABSENCE_TIMEOUT));
        if (!absence.isEmpty()) {
            throw new ConfigException(RULES_FILE.name(), "Invalid rules file (" + RULES_FILE.name() + "): "
                    + String.join("; ", absence));
        }
        return new TopologySettings(settings.get(WINDOW_GRACE), rules, new PipelineCounters(),
                DeadLetterLimit.DEFAULT_MAX_ORIGINAL_BYTES,
                new WindowTiming(settings.get(IDLE_TIMEOUT), settings.get(ABSENCE_TIMEOUT), settings.get(MAX_AHEAD)),
                healthFrom(settings), outputPrefix(settings), SourcePartitions.of(1));
    }

    private static String outputPrefix(Settings settings) {
        String prefix = settings.get(OUTPUT_PREFIX);
        if (!TOPIC_PREFIX.matcher(prefix).matches()) {
            throw new ConfigException(OUTPUT_PREFIX.name(), "Invalid value '" + prefix + "' for " + OUTPUT_PREFIX.name()
                    + ": a topic name prefix has only letters, digits, . _ -");
        }
        return prefix;
    }
}
