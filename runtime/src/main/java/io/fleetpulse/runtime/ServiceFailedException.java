package io.fleetpulse.runtime;

/** A running service's core loop died; the message says which service and which loop. */
public final class ServiceFailedException extends RuntimeException {

    public ServiceFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
