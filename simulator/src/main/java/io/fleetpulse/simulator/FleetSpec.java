package io.fleetpulse.simulator;

import java.time.Clock;
import java.util.Objects;

/**
 * What fleet to simulate.
 *
 * @param servers how many virtual servers, named srv-001 to srv-NNN
 * @param host    the address the one HTTP server listens on
 * @param port    its port; 0 picks a free one
 * @param seed    makes the metrics reproducible: the same seed and clock give the same readings
 * @param script  the incidents the fleet goes through, timed from its start on {@code clock}
 * @param clock   what "now" is; inject a {@link ManualClock} to step through incidents in tests
 */
public record FleetSpec(int servers, String host, int port, long seed, IncidentScript script, Clock clock) {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final long DEFAULT_SEED = 42;

    public FleetSpec {
        if (servers < 1 || servers > 100_000) {
            throw new IllegalArgumentException("a fleet has 1 to 100000 servers, not " + servers);
        }
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be 0 to 65535, not " + port);
        }
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("a fleet needs a host to listen on");
        }
        Objects.requireNonNull(script, "script");
        Objects.requireNonNull(clock, "clock");
    }

    /** {@code servers} servers on a free port of 127.0.0.1, seed 42, no incidents, the system clock. */
    public static FleetSpec of(int servers) {
        return new FleetSpec(servers, DEFAULT_HOST, 0, DEFAULT_SEED, IncidentScript.none(), Clock.systemUTC());
    }

    public FleetSpec withHost(String host) {
        return new FleetSpec(servers, host, port, seed, script, clock);
    }

    public FleetSpec withPort(int port) {
        return new FleetSpec(servers, host, port, seed, script, clock);
    }

    public FleetSpec withSeed(long seed) {
        return new FleetSpec(servers, host, port, seed, script, clock);
    }

    public FleetSpec withScript(IncidentScript script) {
        return new FleetSpec(servers, host, port, seed, script, clock);
    }

    public FleetSpec withClock(Clock clock) {
        return new FleetSpec(servers, host, port, seed, script, clock);
    }
}
