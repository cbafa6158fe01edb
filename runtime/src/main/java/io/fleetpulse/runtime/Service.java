package io.fleetpulse.runtime;

import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;

/**
 * A long-running FleetPulse service (collector, stream processor, sink, alerting) as the ops server and the
 * launcher see it. {@link #start()} returns once the service is running; {@link #close()} finishes in-flight
 * work, commits, and releases everything it opened, in reverse order.
 */
public interface Service extends AutoCloseable {

    String name();

    /** Opens clients and threads; returns when they are running. */
    void start() throws Exception;

    /** Alive: its threads run. A dead service should be restarted. */
    boolean isLive();

    /** Ready: really able to do its work (Streams RUNNING, database reachable, partitions assigned). */
    boolean isReady();

    /** What /status shows: counters, state, effective configuration (secrets masked). */
    Map<String, Object> status();

    /** The registry its meters are in, served on /metrics. */
    MeterRegistry meterRegistry();

    @Override
    void close();
}
