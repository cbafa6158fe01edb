package io.fleetpulse.runtime.config;

import io.fleetpulse.runtime.text.Durations;
import io.fleetpulse.runtime.text.Numbers;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * One typed configuration parameter: its properties-file name, its {@code FLEETPULSE_*} environment name,
 * how its text is parsed and checked, and its default. Services declare their keys as constants and read
 * them all at start, so a bad value stops the service before it touches Kafka or the database.
 */
public final class ConfigKey<T> {

    private final String name;
    private final String allowed;
    private final Function<String, T> parser;
    private final T defaultValue;
    private final boolean required;
    private final boolean secret;
    private final String doc;
    private String defaultShownAs;
    private java.util.function.UnaryOperator<String> masker;

    private ConfigKey(String name, String allowed, Function<String, T> parser, T defaultValue, boolean required,
                      boolean secret, String doc) {
        this.name = name;
        this.allowed = allowed;
        this.parser = parser;
        this.defaultValue = defaultValue;
        this.required = required;
        this.secret = secret;
        this.doc = doc;
    }

    public static ConfigKey<String> string(String name, String defaultValue, String doc) {
        return new ConfigKey<>(name, "any text", s -> s, defaultValue, false, false, doc);
    }

    public static ConfigKey<Integer> integer(String name, int defaultValue, int min, int max, String doc) {
        return new ConfigKey<>(name, "a whole number from " + min + " to " + max, s -> {
            int value = Integer.parseInt(s);
            if (value < min || value > max) {
                throw new IllegalArgumentException("out of range");
            }
            return value;
        }, defaultValue, false, false, doc);
    }

    public static ConfigKey<Double> decimal(String name, double defaultValue, double min, double max, String doc) {
        return new ConfigKey<>(name, "a number from " + Numbers.format(min) + " to " + Numbers.format(max), s -> {
            double value = Double.parseDouble(s);
            if (!(value >= min && value <= max)) {
                throw new IllegalArgumentException("out of range");
            }
            return value;
        }, defaultValue, false, false, doc);
    }

    public static ConfigKey<Boolean> bool(String name, boolean defaultValue, String doc) {
        return new ConfigKey<>(name, "true or false", s -> switch (s.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("not a boolean");
        }, defaultValue, false, false, doc);
    }

    /** A positive duration in the one FleetPulse syntax ({@link Durations}): {@code 500ms}, {@code 30s}, {@code 7d}, {@code PT10S}. */
    public static ConfigKey<Duration> duration(String name, Duration defaultValue, String doc) {
        return new ConfigKey<>(name, "a positive duration such as 500ms, 30s, 5m, 1h, 7d, 2w or PT30S",
                Durations::parsePositive, defaultValue, false, false, doc);
    }

    public static ConfigKey<Path> path(String name, Path defaultValue, String doc) {
        return new ConfigKey<>(name, "a file path", Path::of, defaultValue, false, false, doc);
    }

    /** An absolute http or https URL. */
    public static ConfigKey<URI> url(String name, URI defaultValue, String doc) {
        return new ConfigKey<>(name, "an absolute http(s) URL", s -> {
            URI uri = URI.create(s);
            if (uri.getScheme() == null || !uri.getScheme().matches("https?") || uri.getHost() == null) {
                throw new IllegalArgumentException("not an http(s) URL");
            }
            return uri;
        }, defaultValue, false, false, doc);
    }

    public static <E extends Enum<E>> ConfigKey<E> oneOf(String name, Class<E> type, E defaultValue, String doc) {
        String names = String.join(", ", Arrays.stream(type.getEnumConstants())
                .map(e -> e.name().toLowerCase(Locale.ROOT)).toList());
        return new ConfigKey<>(name, "one of " + names, s -> Enum.valueOf(type, s.toUpperCase(Locale.ROOT).replace('-', '_')),
                defaultValue, false, false, doc);
    }

    public static ConfigKey<List<String>> list(String name, List<String> defaultValue, String doc) {
        return new ConfigKey<>(name, "a comma-separated list", s -> Arrays.stream(s.split(","))
                .map(String::strip).filter(v -> !v.isEmpty()).toList(), defaultValue, false, false, doc);
    }

    /** The same key, with no default: starting without it is an error. */
    public ConfigKey<T> required() {
        ConfigKey<T> copy = new ConfigKey<>(name, allowed, parser, null, true, secret, doc);
        copy.defaultShownAs = defaultShownAs;
        copy.masker = masker;
        return copy;
    }

    /**
     * The same key, whose default the configuration reference describes in words: for a default that depends on the
     * machine (the host name, a temporary folder), so the generated reference is the same everywhere.
     */
    public ConfigKey<T> defaultShownAs(String description) {
        ConfigKey<T> copy = new ConfigKey<>(name, allowed, parser, defaultValue, required, secret, doc);
        copy.defaultShownAs = description;
        return copy;
    }

    /** The default as the configuration reference shows it: "required", a described default, or the value. */
    public String defaultText() {
        if (required) {
            return "required";
        }
        if (defaultShownAs != null) {
            return defaultShownAs;
        }
        return defaultValue == null ? "unset" : show(defaultValue);
    }

    /**
     * The same key, shown through {@code masker} wherever it is logged, shown on /status or named in an error: for a
     * value that is worth seeing but may carry a secret inside (a JDBC URL with a password parameter).
     */
    public ConfigKey<T> maskedBy(java.util.function.UnaryOperator<String> masker) {
        ConfigKey<T> copy = new ConfigKey<>(name, allowed, parser, defaultValue, required, secret, doc);
        copy.defaultShownAs = defaultShownAs;
        copy.masker = masker;
        return copy;
    }

    /** The value as logs and /status show it: masked for secrets, through the masker where there is one. */
    public String shownMasked(Object value) {
        if (secret && value != null && !String.valueOf(value).isEmpty()) {
            return "****";
        }
        String shown = show(value);
        return masker == null || value == null ? shown : masker.apply(shown);
    }

    /** The same key, masked wherever configuration is logged or shown on /status. */
    public ConfigKey<T> secret() {
        ConfigKey<T> copy = new ConfigKey<>(name, allowed, parser, defaultValue, required, true, doc);
        copy.defaultShownAs = defaultShownAs;
        copy.masker = masker;
        return copy;
    }

    public String name() {
        return name;
    }

    /** {@code collector.poll.timeout} is overridden by {@code FLEETPULSE_COLLECTOR_POLL_TIMEOUT}. */
    public String envName() {
        return envNameOf(name);
    }

    static String envNameOf(String key) {
        return "FLEETPULSE_" + key.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
    }

    public boolean isSecret() {
        return secret;
    }

    public String doc() {
        return doc;
    }

    public T defaultValue() {
        return defaultValue;
    }

    /** What values are allowed, as the error messages and the configuration reference say it. */
    public String allowed() {
        return allowed;
    }

    public boolean isRequired() {
        return required;
    }

    /** A value of this key as a person would write it: durations as {@code 30s}, lists comma-separated. */
    public String show(Object value) {
        if (value == null) {
            return "";
        }
        if (value instanceof Duration d) {
            return Durations.format(d);
        }
        if (value instanceof Double number) {
            return Numbers.format(number);
        }
        if (value instanceof List<?> list) {
            return String.join(",", list.stream().map(String::valueOf).toList());
        }
        if (value instanceof Enum<?> e) {
            return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
        return String.valueOf(value);
    }

    T parse(String raw, String source) {
        if (raw == null || raw.isBlank()) {
            if (required) {
                throw new ConfigException(name, "Missing required setting '" + name + "' (set it in the properties file or "
                        + envName() + "): " + doc);
            }
            return defaultValue;
        }
        try {
            return parser.apply(raw.strip());
        } catch (RuntimeException e) {
            String shown = secret ? "****" : masker != null ? masker.apply(raw) : raw;
            throw new ConfigException(name, "Invalid value '" + shown + "' for '" + name + "' (from " + source
                    + "): expected " + allowed + ". " + doc);
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
