package io.fleetpulse.runtime;

import io.fleetpulse.runtime.config.ConfigKey;
import io.fleetpulse.runtime.config.Settings;
import java.time.Duration;
import java.util.List;

/**
 * Where a service serves its ops endpoints, how long it may take to start (dependencies included: an unreachable
 * broker or database is retried until then), and how long it may take to stop.
 */
public record OpsSettings(String host, int port, Duration startTimeout, Duration stopTimeout) {

    public static final ConfigKey<String> HOST = ConfigKey.string("ops.host", "0.0.0.0", "address the ops endpoints listen on");
    public static final ConfigKey<Integer> PORT = ConfigKey.integer("ops.port", 8080, 0, 65_535,
            "port of /healthz /readyz /metrics /status; 0 picks a free one");
    public static final ConfigKey<Duration> START_TIMEOUT = ConfigKey.duration("ops.start.timeout", Duration.ofSeconds(60),
            "how long a service may take to start, waiting for an unreachable broker or database included, before it "
                    + "exits non-zero");
    public static final ConfigKey<Duration> STOP_TIMEOUT = ConfigKey.duration("ops.stop.timeout", Duration.ofSeconds(30),
            "how long a service may take to finish in-flight work and close on SIGTERM or after a failure");

    public static final List<ConfigKey<?>> KEYS = List.of(HOST, PORT, START_TIMEOUT, STOP_TIMEOUT);

    public static OpsSettings from(Settings settings) {
        return new OpsSettings(settings.get(HOST), settings.get(PORT), settings.get(START_TIMEOUT), settings.get(STOP_TIMEOUT));
    }
}
