package io.fleetpulse.runtime.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One typed configuration parameter: its properties-file name, its {@code FLEETPULSE_*} environment name,
 * how its text is parsed and checked, and its default. Services declare their keys as constants and read
 * them all at start, so a bad value stops the service before it touches Kafka or the database.
 */
public final class ConfigKey<T> {

    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    private final String name;
    private final String allowed;
    private final Function<String, T> parser;
    private final T defaultValue;
    private final boolean required;
    private final boolean secret;
    private final String doc;

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
        return new ConfigKey<>(name, "a number from " + min + " to " + max, s -> {
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

    /** A positive duration written as {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h}, {@code 7d} or ISO-8601 {@code PT10S}. */
    public static ConfigKey<Duration> duration(String name, Duration defaultValue, String doc) {
        return new ConfigKey<>(name, "a duration such as 500ms, 10s, 5m, 1h, 7d", ConfigKey::parseDuration,
                defaultValue, false, false, doc);
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
        return new ConfigKey<>(name, allowed, parser, null, true, secret, doc);
    }

    /** The same key, masked wherever configuration is logged or shown on /status. */
    public ConfigKey<T> secret() {
        return new ConfigKey<>(name, allowed, parser, defaultValue, required, true, doc);
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
            String shown = secret ? "****" : raw;
            throw new ConfigException(name, "Invalid value '" + shown + "' for '" + name + "' (from " + source
                    + "): expected " + allowed + ". " + doc);
        }
    }

    /** Parses a positive duration: {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h}, {@code 7d} or ISO-8601. */
    public static Duration parseDuration(String text) {
        Duration d = parseDurationOrZero(text);
        if (d.isZero()) {
            throw new IllegalArgumentException("not positive");
        }
        return d;
    }

    /**
     * The one duration syntax of FleetPulse (config, rule files, CLI): {@code 0s}, {@code 500ms}, {@code 10s},
     * {@code 5m}, {@code 1h}, {@code 7d} or ISO-8601 {@code PT10S}; never negative.
     *
     * @throws IllegalArgumentException when the text is not such a duration
     */
    public static Duration parseDurationOrZero(String text) {
        String trimmed = text.strip();
        if (trimmed.startsWith("P") || trimmed.startsWith("p")) {
            Duration d = Duration.parse(trimmed.toUpperCase(Locale.ROOT));
            if (d.isNegative()) {
                throw new IllegalArgumentException("negative");
            }
            return d;
        }
        Matcher m = DURATION.matcher(trimmed.toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("not a duration");
        }
        long amount = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            default -> Duration.ofDays(amount);
        };
    }

    @Override
    public String toString() {
        return name;
    }
}
