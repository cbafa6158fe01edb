package io.fleetpulse.runtime;

import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.runtime.config.ConfigKey;
import java.time.Duration;
import java.util.List;

/** Where a service serves its ops endpoints, and how long it may take to start. */
public record OpsSettings(String host, int port, Duration startTimeout) {

    public static final ConfigKey<String> HOST = ConfigKey.string("ops.host", "0.0.0.0", "address the ops endpoints listen on");
    public static final ConfigKey<Integer> PORT = ConfigKey.integer("ops.port", 8080, 0, 65_535,
            "port of /healthz /readyz /metrics /status; 0 picks a free one");
    public static final ConfigKey<Duration> START_TIMEOUT = ConfigKey.duration("ops.start.timeout", Duration.ofSeconds(60),
            "how long a service may take to start before it gives up");

    public static final List<ConfigKey<?>> KEYS = List.of(HOST, PORT, START_TIMEOUT);

    public static OpsSettings from(Config config) {
        return new OpsSettings(config.get(HOST), config.get(PORT), config.get(START_TIMEOUT));
    }
}
