package io.fleetpulse.runtime;

/** A broker or database that could not be reached at start within {@code ops.start.timeout}; the message names it. */
public final class DependencyUnavailableException extends RuntimeException {

    public DependencyUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
