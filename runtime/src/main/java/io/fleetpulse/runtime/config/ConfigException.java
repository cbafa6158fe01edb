package io.fleetpulse.runtime.config;

/** A configuration value that stops a service from starting. The message names the key, the value and what is allowed. */
public final class ConfigException extends RuntimeException {

    private final String key;

    public ConfigException(String key, String message) {
        super(message);
        this.key = key;
    }

    public String key() {
        return key;
    }
}
