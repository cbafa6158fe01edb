package io.fleetpulse.runtime;

import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * A long-running FleetPulse service (collector, stream processor, sink, alerting) as the ops server, the runner
 * and the launcher see it. Services extend {@link ManagedService}, which gives every one the same lifecycle.
 */
public interface Service extends AutoCloseable {

    String name();

    /** Waits for its dependencies, opens clients and threads; returns when they are running. */
    void start() throws Exception;

    ServiceState state();

    /** Alive: should not be restarted. False once a core loop has died or the service has stopped. */
    default boolean isLive() {
        return state().isLive();
    }

    /** Ready: really able to do its work (Streams RUNNING, database reachable, partitions assigned). */
    boolean isReady();

    /** What /status shows: state, counters, the effective settings (secrets masked). */
    Map<String, Object> status();

    /** The registry its meters are in, served on /metrics. */
    MeterRegistry meterRegistry();

    /** Completes, with the cause, when a core loop of the service dies; the runner then exits the process non-zero. */
    CompletionStage<Throwable> failure();

    /** Finishes in-flight work, commits, and releases everything it opened, in reverse order; safe to call twice. */
    @Override
    void close();
}
