package io.fleetpulse.collector;

import io.fleetpulse.events.CheckStatus;
import io.vertx.core.http.HttpClosedException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.time.Instant;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;

/**
 * What one poll of a target came back with: an HTTP response, a TCP connection ({@link TargetTcpClient}), or the
 * reason there was none.
 */
sealed interface HttpOutcome {

    /**
     * A complete response; {@code latencyMs} from sending the request to having the whole body; {@code location}
     * the Location header (where a redirect points), or null; {@code certificateNotAfter} when the server's TLS
     * certificate expires, or null over plain HTTP.
     */
    record Response(int statusCode, String body, double latencyMs, String location, Instant certificateNotAfter)
            implements HttpOutcome {
        Response(int statusCode, String body, double latencyMs) {
            this(statusCode, body, latencyMs, null, null);
        }
    }

    /** A TCP connect check's connection, opened in {@code latencyMs} (and closed at once). */
    record Connected(double latencyMs) implements HttpOutcome {
    }

    /** No usable response: TIMEOUT, UNREACHABLE or ERROR, and why. */
    record Failure(CheckStatus status, String message) implements HttpOutcome {
    }

    /**
     * Names a failed request: no answer within {@code timeoutMs} is TIMEOUT; a refused, reset or closed connection
     * or an unknown host is UNREACHABLE (the target cannot be contacted); anything else (TLS, protocol) is ERROR.
     */
    static Failure classify(Throwable error, long timeoutMs) {
        Throwable e = error;
        // Netty wraps some causes; the first recognisable one decides.
        for (int depth = 0; e != null && depth < 5; depth++, e = e.getCause()) {
            if (e instanceof TimeoutException) {
                return new Failure(CheckStatus.TIMEOUT, "no response within " + timeoutMs + " ms");
            }
            if (e instanceof SSLException) {
                return new Failure(CheckStatus.ERROR, "TLS failure: " + describe(e));
            }
            if (e instanceof ConnectException || e instanceof NoRouteToHostException) {
                // Includes Netty's connect timeout: the target could not even be contacted.
                return new Failure(CheckStatus.UNREACHABLE, "cannot connect: " + describe(e));
            }
            if (e instanceof UnknownHostException) {
                return new Failure(CheckStatus.UNREACHABLE, "unknown host: " + e.getMessage());
            }
            if (e instanceof HttpClosedException || e instanceof ClosedChannelException) {
                return new Failure(CheckStatus.UNREACHABLE, "connection closed before a response");
            }
            if (e instanceof IOException) {
                return new Failure(CheckStatus.UNREACHABLE, "connection failed: " + describe(e));
            }
        }
        return new Failure(CheckStatus.ERROR, "request failed: " + describe(error));
    }

    private static String describe(Throwable e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
