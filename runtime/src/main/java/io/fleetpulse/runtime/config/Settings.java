package io.fleetpulse.runtime.config;

import io.fleetpulse.runtime.text.Suggestions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The settings of one service, parsed and validated once at start into typed values, immutable after that. Every
 * service builds its typed settings record from one of these, and {@code /status} and the start-up log show
 * {@link #describe()}, which was rendered here once, secrets masked.
 *
 * <p>Resolving fails, with every mistake listed, when a value does not parse or a key in the properties file is not
 * one the service reads (a misspelled key is otherwise silently ignored); the closest known key is suggested.
 */
public final class Settings {

    private final Map<ConfigKey<?>, Object> values;
    private final Map<String, Object> kafkaPassthrough;
    private final Map<String, String> described;

    private Settings(Map<ConfigKey<?>, Object> values, Map<String, Object> kafkaPassthrough, Map<String, String> described) {
        this.values = values;
        this.kafkaPassthrough = kafkaPassthrough;
        this.described = described;
    }

    /**
     * Parses every key in {@code keys} from {@code config}.
     *
     * @throws ConfigException naming each bad value or unknown key (its {@link ConfigException#key()} is the first)
     */
    public static Settings resolve(Config config, Collection<ConfigKey<?>> keys) {
        Map<ConfigKey<?>, Object> values = new LinkedHashMap<>();
        List<ConfigException> errors = new ArrayList<>();
        Set<String> known = keys.stream().map(ConfigKey::name).collect(Collectors.toCollection(java.util.LinkedHashSet::new));
        for (String key : config.fileKeys()) {
            if (!known.contains(key) && !key.startsWith(Config.KAFKA_PASSTHROUGH_PREFIX)) {
                errors.add(new ConfigException(key, "Unknown setting '" + key + "' in " + config.source()
                        + Suggestions.didYouMean(key, known)));
            }
        }
        for (ConfigKey<?> key : keys) {
            try {
                values.put(key, config.get(key));
            } catch (ConfigException e) {
                errors.add(e);
            }
        }
        if (!errors.isEmpty()) {
            throw combined(errors);
        }
        Map<String, Object> passthrough = Collections.unmodifiableMap(config.kafkaPassthrough());
        Map<String, String> described = new LinkedHashMap<>();
        values.forEach((key, value) -> described.put(key.name(), key.shownMasked(value)));
        passthrough.forEach((k, v) -> described.put(Config.KAFKA_PASSTHROUGH_PREFIX + k,
                looksSecret(k) ? "****" : String.valueOf(v)));
        return new Settings(Collections.unmodifiableMap(values), passthrough, Collections.unmodifiableMap(described));
    }

    /** Settings given directly with defaults for the rest, as tests do; unknown keys are rejected as from a file. */
    public static Settings of(Map<String, String> values, Collection<ConfigKey<?>> keys) {
        return resolve(Config.of(values), keys);
    }

    /** The typed value of {@code key}, which must be one of the keys this was resolved with. */
    @SuppressWarnings("unchecked")
    public <T> T get(ConfigKey<T> key) {
        if (!values.containsKey(key)) {
            throw new IllegalArgumentException("setting '" + key.name() + "' was not declared by this service");
        }
        return (T) values.get(key);
    }

    /** Kafka client settings passed through verbatim ({@code kafka.client.security.protocol} → {@code security.protocol}). */
    public Map<String, Object> kafkaPassthrough() {
        return kafkaPassthrough;
    }

    /** Every effective value as text, secrets masked: what the start-up log and {@code /status} show. */
    public Map<String, String> describe() {
        return described;
    }

    private static ConfigException combined(List<ConfigException> errors) {
        if (errors.size() == 1) {
            return errors.get(0);
        }
        String message = errors.size() + " configuration problems:\n  - "
                + errors.stream().map(Throwable::getMessage).collect(Collectors.joining("\n  - "));
        return new ConfigException(errors.get(0).key(), message);
    }

    static boolean looksSecret(String key) {
        String k = key.toLowerCase(Locale.ROOT);
        return k.contains("password") || k.contains("secret") || k.contains("jaas") || k.contains("token") || k.contains("key");
    }
}
