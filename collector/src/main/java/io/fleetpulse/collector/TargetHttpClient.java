package io.fleetpulse.collector;

import io.fleetpulse.events.CheckStatus;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.PemTrustOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * GETs one endpoint of a target with a hard total deadline and a capped body, and always answers with an
 * {@link HttpOutcome}, never a failed future.
 *
 * <p>Vert.x's request timeout bounds only connecting and the gaps between bytes: a target trickling one byte a second
 * would hold its connection, and so a slot of the scheduler, for ever. Here one timer bounds the whole exchange
 * (connect, status line, headers and body); when it fires the request is reset, which closes its HTTP/1 connection,
 * and the outcome is TIMEOUT naming how far the exchange got. The body is read as it streams in and the request is
 * reset as soon as it passes {@code maxBodyBytes} (or a Content-Length announces more), so a 50 MB answer costs at
 * most the cap in memory.
 *
 * <p>Must be called on the scheduler's context; all of one request's callbacks then run there too, so its state needs
 * no locks.
 */
final class TargetHttpClient {

    private final Vertx vertx;
    private final HttpClient client;
    private final int maxBodyBytes;

    TargetHttpClient(Vertx vertx, HttpClient client, int maxBodyBytes) {
        this.vertx = vertx;
        this.client = client;
        this.maxBodyBytes = maxBodyBytes;
    }

    int maxBodyBytes() {
        return maxBodyBytes;
    }

    /** The outcome of one GET of {@code url}, complete no later than {@code deadlineMs} after the call. */
    Future<HttpOutcome> get(String url, long deadlineMs) {
        return new Exchange(url, deadlineMs).start();
    }

    /** One request's progress; touched only on the context. */
    private final class Exchange {
        private final String url;
        private final long deadlineMs;
        private final long startNanos = System.nanoTime();
        private final Promise<HttpOutcome> outcome = Promise.promise();
        private final Buffer body = Buffer.buffer();
        private HttpClientRequest request;
        private String stage = "connecting";
        private long deadlineTimer;

        Exchange(String url, long deadlineMs) {
            this.url = url;
            this.deadlineMs = deadlineMs;
        }

        Future<HttpOutcome> start() {
            deadlineTimer = vertx.setTimer(deadlineMs, id -> expire());
            RequestOptions options;
            try {
                options = new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(url)
                        .setConnectTimeout(deadlineMs)
                        .putHeader("accept", "application/json")
                        .putHeader("user-agent", "fleetpulse-collector");
            } catch (RuntimeException e) {
                fail(e); // a URL Vert.x cannot parse although the inventory accepted it
                return outcome.future();
            }
            client.request(options).onComplete(opened -> {
                if (opened.failed()) {
                    fail(opened.cause());
                    return;
                }
                request = opened.result();
                if (done()) {
                    request.reset(0, new TimeoutException("deadline passed while connecting"));
                    return;
                }
                stage = "waiting for the status line";
                request.send().onComplete(sent -> {
                    if (sent.failed()) {
                        fail(sent.cause());
                    } else {
                        read(sent.result());
                    }
                });
            });
            return outcome.future();
        }

        private void read(HttpClientResponse response) {
            if (done()) {
                return;
            }
            int code = response.statusCode();
            String announced = response.getHeader("content-length");
            if (announced != null && announcedLength(announced) > maxBodyBytes) {
                tooLarge(code, "announces " + announced.strip() + " bytes");
                return;
            }
            stage = "reading the body";
            response.exceptionHandler(this::fail);
            response.handler(chunk -> {
                if (done()) {
                    return;
                }
                if (body.length() + chunk.length() > maxBodyBytes) {
                    tooLarge(code, "passed " + maxBodyBytes + " bytes");
                    return;
                }
                body.appendBuffer(chunk);
            });
            response.endHandler(v -> complete(new HttpOutcome.Response(code, body.toString(StandardCharsets.UTF_8),
                    elapsedMs(), response.getHeader("location"), certificateNotAfter(request.connection()))));
        }

        private void tooLarge(int code, String how) {
            complete(new HttpOutcome.Failure(CheckStatus.ERROR, "HTTP " + code + " with a body that " + how
                    + ", over the cap of " + maxBodyBytes + " bytes (" + CollectorSettings.MAX_BODY_BYTES.name()
                    + "); stopped reading"));
            request.reset(0, new IllegalStateException("body over the cap"));
        }

        private void expire() {
            if (done()) {
                return;
            }
            String progress = stage.equals("reading the body") ? stage + ", " + body.length() + " bytes in" : stage;
            outcome.tryComplete(new HttpOutcome.Failure(CheckStatus.TIMEOUT,
                    "no complete response within " + deadlineMs + " ms (" + progress + ")"));
            if (request != null) {
                // On HTTP/1 a reset closes the connection: its pool slot is free again and the target's bytes stop.
                request.reset(0, new TimeoutException("total deadline of " + deadlineMs + " ms passed"));
            }
        }

        private void fail(Throwable cause) {
            if (!done()) {
                complete(HttpOutcome.classify(cause, deadlineMs));
            }
        }

        private void complete(HttpOutcome result) {
            vertx.cancelTimer(deadlineTimer);
            outcome.tryComplete(result);
        }

        private boolean done() {
            return outcome.future().isComplete();
        }

        private double elapsedMs() {
            return (System.nanoTime() - startNanos) / 1e6;
        }
    }

    /** When the server's own (first) certificate expires, or null over plain HTTP. */
    private static Instant certificateNotAfter(HttpConnection connection) {
        if (connection == null || !connection.isSsl()) {
            return null;
        }
        try {
            List<Certificate> chain = connection.peerCertificates();
            return !chain.isEmpty() && chain.get(0) instanceof X509Certificate x509 ? x509.getNotAfter().toInstant() : null;
        } catch (SSLPeerUnverifiedException e) {
            return null; // cannot happen once the handshake verified the peer; nothing to report then
        }
    }

    /**
     * The one HTTP client of the collector: keep-alive, {@code poolSize} connections per host:port (a whole fleet may
     * sit behind one: a simulator, a proxy), no redirects followed, no compression asked for (so no decompression
     * bomb), and, when {@code trustPem} is set, exactly the certificates in it trusted for HTTPS targets instead of
     * the JVM's default authorities.
     */
    static HttpClient createHttpClient(Vertx vertx, int poolSize, Path trustPem) {
        HttpClientOptions options = new HttpClientOptions().setKeepAlive(true);
        if (trustPem != null) {
            options.setTrustOptions(new PemTrustOptions().addCertPath(trustPem.toString()));
        }
        return vertx.createHttpClient(options, new PoolOptions().setHttp1MaxSize(poolSize));
    }

    private static long announcedLength(String header) {
        try {
            return Long.parseLong(header.strip());
        } catch (NumberFormatException e) {
            return -1; // a malformed length is Vert.x's to reject while reading
        }
    }
}
