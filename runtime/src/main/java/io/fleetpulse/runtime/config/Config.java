package io.fleetpulse.runtime.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * The raw settings of one service: a properties file, overridden key by key by {@code FLEETPULSE_*}
 * environment variables. Typed reading and validation happen once, in {@link Settings#resolve}.
 *
 * <p>Keys under {@code kafka.client.} are passed through to every Kafka client unchanged (security settings and
 * the like); their values are masked when shown if the key looks like a secret.
 */
public final class Config {

    public static final String KAFKA_PASSTHROUGH_PREFIX = "kafka.client.";

    private final Map<String, String> fileValues;
    private final Map<String, String> env;
    private final String fileName;

    private Config(Map<String, String> fileValues, Map<String, String> env, String fileName) {
        this.fileValues = Map.copyOf(fileValues);
        this.env = Map.copyOf(env);
        this.fileName = fileName;
    }

    /** Settings from {@code file} (may be null) with the process environment on top. */
    public static Config load(Path file, Map<String, String> env) {
        Map<String, String> values = new HashMap<>();
        if (file != null) {
            if (!Files.isReadable(file)) {
                throw new ConfigException("config", "Cannot read the configuration file " + file.toAbsolutePath());
            }
            Properties properties = new Properties();
            try (Reader reader = Files.newBufferedReader(file)) {
                properties.load(reader);
            } catch (IOException e) {
                throw new ConfigException("config", "Cannot read the configuration file " + file + ": " + e.getMessage());
            }
            properties.stringPropertyNames().forEach(k -> values.put(k, properties.getProperty(k)));
        }
        return new Config(values, env, file == null ? "defaults" : file.toString());
    }

    /** Settings given directly, as tests and the in-process demo do; the process environment is not read. */
    public static Config of(Map<String, String> values) {
        return new Config(values, Map.of(), "given settings");
    }

    /** A copy with {@code key} set, ahead of the file but still under an environment override. */
    public Config with(String key, String value) {
        Map<String, String> values = new HashMap<>(fileValues);
        values.put(key, value);
        return new Config(values, env, fileName);
    }

    /**
     * A copy holding only the values of {@code keys} (and Kafka pass-through settings): how one set of settings for a
     * whole pipeline in one process (the demo, the end-to-end test) is handed to each service, which would otherwise
     * reject the other services' keys as unknown.
     */
    public Config restrictedTo(java.util.Collection<ConfigKey<?>> keys) {
        java.util.Set<String> names = new java.util.HashSet<>();
        keys.forEach(k -> names.add(k.name()));
        Map<String, String> values = new HashMap<>();
        fileValues.forEach((k, v) -> {
            if (names.contains(k) || k.startsWith(KAFKA_PASSTHROUGH_PREFIX)) {
                values.put(k, v);
            }
        });
        return new Config(values, env, fileName);
    }

    /** The keys set in the properties file (or given directly), for the unknown-key check. */
    public java.util.Set<String> fileKeys() {
        return fileValues.keySet();
    }

    /** Where the values come from, for messages: the file name, or "given settings". */
    public String source() {
        return fileName;
    }

    /** Parses one key; services read {@link Settings}, which calls this once per key at start. */
    <T> T get(ConfigKey<T> key) {
        String fromEnv = env.get(key.envName());
        if (fromEnv != null) {
            return key.parse(fromEnv, "environment variable " + key.envName());
        }
        return key.parse(fileValues.get(key.name()), fileName);
    }

    /** Kafka client settings passed through verbatim: {@code kafka.client.security.protocol=SSL} becomes {@code security.protocol}. */
    public Map<String, Object> kafkaPassthrough() {
        Map<String, Object> out = new LinkedHashMap<>();
        fileValues.forEach((k, v) -> {
            if (k.startsWith(KAFKA_PASSTHROUGH_PREFIX)) {
                out.put(k.substring(KAFKA_PASSTHROUGH_PREFIX.length()), v);
            }
        });
        String envPrefix = ConfigKey.envNameOf(KAFKA_PASSTHROUGH_PREFIX);
        env.forEach((k, v) -> {
            if (k.startsWith(envPrefix)) {
                out.put(k.substring(envPrefix.length()).toLowerCase(Locale.ROOT).replace('_', '.'), v);
            }
        });
        return out;
    }

}
