package io.fleetpulse.stream;

import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.config.ConfigKey;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.runtime.yaml.YamlFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Everything {@link HealthTopology} needs, decided before it is built: the window grace, the rules, where to
 * count and how many original bytes a dead letter keeps. The topology reads nothing else, so tests build it with
 * exactly the settings they state.
 *
 * @param deadLetterMaxOriginalBytes original key and value bytes a dead letter keeps at most (see
 *                                   {@link DeadLetterLimit}); not a configuration key yet, the default fits the
 *                                   broker's default {@code max.message.bytes}
 */
public record TopologySettings(Duration windowGrace, RuleBook rules, PipelineCounters counters,
                               int deadLetterMaxOriginalBytes) {

    public static final ConfigKey<Duration> WINDOW_GRACE = ConfigKey.duration("streams.window.grace", Duration.ofSeconds(10),
            "how long after a 1-minute window ends records for it are still accepted (event time); later ones go to "
                    + "fleet.dlq as late, and the window's one final result is emitted then");
    public static final ConfigKey<Path> RULES_FILE = ConfigKey.path("rules.file", null,
            "YAML file of alert rules (see stream-processor/README.md); unset means the bundled default-rules.yaml")
            .defaultShownAs("the bundled default-rules.yaml");

    public static final List<ConfigKey<?>> KEYS = List.of(WINDOW_GRACE, RULES_FILE);

    public TopologySettings {
        Objects.requireNonNull(windowGrace, "windowGrace");
        Objects.requireNonNull(rules, "rules");
        Objects.requireNonNull(counters, "counters");
        if (windowGrace.isNegative()) {
            throw new IllegalArgumentException("window grace must not be negative: " + windowGrace);
        }
        new DeadLetterLimit(deadLetterMaxOriginalBytes); // checks the bound
    }

    public TopologySettings(Duration windowGrace, RuleBook rules, PipelineCounters counters) {
        this(windowGrace, rules, counters, DeadLetterLimit.DEFAULT_MAX_ORIGINAL_BYTES);
    }

    /** Default grace, the bundled rules and fresh counters. */
    public static TopologySettings defaults() {
        return new TopologySettings(WINDOW_GRACE.defaultValue(), RuleBook.defaults(), new PipelineCounters());
    }

    public TopologySettings withGrace(Duration grace) {
        return new TopologySettings(grace, rules, counters, deadLetterMaxOriginalBytes);
    }

    public TopologySettings withRules(RuleBook newRules) {
        return new TopologySettings(windowGrace, newRules, counters, deadLetterMaxOriginalBytes);
    }

    public TopologySettings withDeadLetterMaxOriginalBytes(int maxBytes) {
        return new TopologySettings(windowGrace, rules, counters, maxBytes);
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
        return new TopologySettings(settings.get(WINDOW_GRACE), rules, new PipelineCounters());
    }
}
