package io.fleetpulse.runtime;

/**
 * Where a service is in its life. Every service moves through these the same way, and liveness and readiness are
 * read off them the same way: live unless FAILED or STOPPED; ready only when RUNNING and the service's own check
 * (Streams RUNNING, database reachable, partitions assigned) passes.
 */
public enum ServiceState {
    /** Built: settings read and validated, nothing opened. Live, not ready. */
    CREATED,
    /** Waiting for its dependencies and opening clients. Live, not ready. */
    STARTING,
    /** Doing its work. Live; ready when its own check passes. */
    RUNNING,
    /** Finishing in-flight work and closing. Live, not ready. */
    STOPPING,
    /** Closed after a stop. Not live. */
    STOPPED,
    /** A core loop died or start failed; the process should exit non-zero and be restarted. Not live. */
    FAILED;

    public boolean isLive() {
        return this != FAILED && this != STOPPED;
    }
}
