package io.fleetpulse.collector;

import io.fleetpulse.events.CheckStatus;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import java.net.URI;
import java.util.Locale;

/**
 * Opens one TCP connection to a {@code tcp://host:port} target within a hard deadline, closes it at once, and always
 * answers with an {@link HttpOutcome}: {@link HttpOutcome.Connected} with the connect latency, TIMEOUT when the
 * deadline passed first, else UNREACHABLE (refused, unknown host, no route) or ERROR naming the cause, as for HTTP.
 * No byte is sent: the check says the port accepts connections, not what listens there.
 *
 * <p>Must be called on the scheduler's context; the deadline timer and the connect callback then both run there.
 */
final class TargetTcpClient {

    static final String SCHEME = "tcp://";

    /** Netty's own connect timeout stays behind the deadline, so the deadline is what names a slow connect. */
    private static final int CONNECT_TIMEOUT_MARGIN_MS = 1_000;

    private final Vertx vertx;
    private final NetClient client;

    TargetTcpClient(Vertx vertx) {
        this.vertx = vertx;
        this.client = vertx.createNetClient(new NetClientOptions().setReconnectAttempts(0));
    }

    /** Whether {@code url} names a TCP connect check rather than an HTTP endpoint. */
    static boolean isTcp(String url) {
        return url.regionMatches(true, 0, SCHEME, 0, SCHEME.length());
    }

    /** The outcome of connecting to {@code url} ({@code tcp://host:port}), complete no later than {@code deadlineMs}. */
    Future<HttpOutcome> connect(String url, long deadlineMs) {
        Promise<HttpOutcome> outcome = Promise.promise();
        URI address;
        try {
            address = URI.create(url.strip());
        } catch (IllegalArgumentException e) {
            // The inventory checked the address; only a record written around it can get here.
            outcome.complete(new HttpOutcome.Failure(CheckStatus.ERROR, "not a tcp://host:port address: " + url));
            return outcome.future();
        }
        long startNanos = System.nanoTime();
        long timer = vertx.setTimer(deadlineMs, id -> outcome.tryComplete(new HttpOutcome.Failure(CheckStatus.TIMEOUT,
                "no connection to " + hostPort(address) + " within " + deadlineMs + " ms")));
        client.connect(new ConnectOptions().setHost(address.getHost()).setPort(address.getPort())
                        .setTimeout((int) Math.min(Integer.MAX_VALUE, deadlineMs + CONNECT_TIMEOUT_MARGIN_MS)))
                .onComplete(connected -> {
                    vertx.cancelTimer(timer);
                    if (connected.succeeded()) {
                        connected.result().close(); // also when the deadline passed first: nothing stays open
                        outcome.tryComplete(new HttpOutcome.Connected((System.nanoTime() - startNanos) / 1e6));
                    } else {
                        outcome.tryComplete(HttpOutcome.classify(connected.cause(), deadlineMs));
                    }
                });
        return outcome.future();
    }

    private static String hostPort(URI address) {
        return address.getHost().toLowerCase(Locale.ROOT) + ":" + address.getPort();
    }
}
