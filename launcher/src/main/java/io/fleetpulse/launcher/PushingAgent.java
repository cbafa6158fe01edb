package io.fleetpulse.launcher;

import io.fleetpulse.runtime.DaemonThreads;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's stand-in for an agent behind NAT: it cannot be polled, so it posts its own heartbeat to the collector's
 * push API ({@code POST /v1/heartbeat} with its bearer token), as a real agent would, and it goes silent for a while:
 * nothing reports it down, so only the stream processor's absence detection can notice.
 *
 * <p>Each beat is posted until the collector answers 202 (the broker acknowledged it): after 429 or 503 it waits the
 * answer's {@code Retry-After}, after a connection failure or another 5xx it backs off (1 s doubling to 8 s). A
 * beat is given up only when the silent phase begins or the agent stops, and is then counted as abandoned, so
 * nothing is lost unseen. Other 4xx answers (a bad token, a target not the token's) are not retried: counted as
 * refused and logged with the collector's reason. Beats that fall due while one is being retried are not queued:
 * a heartbeat says "alive now", and the one being retried says it when it gets through.
 */
final class PushingAgent implements AutoCloseable {

    static final String TARGET_ID = "agent-001";
    static final String HEARTBEAT_PATH = "/v1/heartbeat";

    private static final Logger LOG = LoggerFactory.getLogger(PushingAgent.class);
    private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(8);
    private static final Duration MIN_WAIT = Duration.ofMillis(200);
    /** Longer than the collector's push ack timeout (5 s), after which it answers 503 itself. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    /** How long {@link #close} lets a request in flight finish before interrupting it. */
    private static final Duration CLOSE_GRACE = Duration.ofSeconds(3);

    /**
     * What the agent did. {@code sent}: requests posted, retries included; {@code accepted}: answered 202;
     * {@code retried}: answered 429/503/another 5xx or failed, then posted again; {@code refused}: answered another
     * 4xx, not retried; {@code abandoned}: beats not yet accepted when the silent phase began or the agent stopped.
     */
    record Counts(long sent, long accepted, long retried, long refused, long abandoned) {

        static final Counts NONE = new Counts(0, 0, 0, 0, 0);

        Map<String, Long> asJson() {
            return Map.of("sent", sent, "accepted", accepted, "retried", retried, "refused", refused, "abandoned", abandoned);
        }
    }

    /** A bearer token made for one run and the tokens file that lets it write {@link #TARGET_ID} only. */
    record Credentials(String token, String tokensYaml) {

        /** A fresh random token; the YAML holds only its SHA-256, the way the collector's push tokens file expects. */
        static Credentials generate() {
            byte[] secret = new byte[32];
            new SecureRandom().nextBytes(secret);
            String token = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
            String yaml = """
                    # Written by fleetpulse demo for this run: the pushing agent's token hash (the token is never stored).
                    agents:
                      - name: demo-agent
                        token-sha256: %s
                        targets: [%s]
                    """.formatted(sha256Hex(token), TARGET_ID);
            return new Credentials(token, yaml);
        }

        /** Writes the tokens file for {@code collector.push.tokens}. */
        void writeTokensFile(Path file) throws IOException {
            Files.writeString(file, tokensYaml);
        }

        /** Never the token: this record may end up in a log line or an exception message. */
        @Override
        public String toString() {
            return "Credentials[token=(hidden)]";
        }

        private static String sha256Hex(String text) {
            try {
                return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every JVM has SHA-256", e);
            }
        }
    }

    private final URI heartbeatUri;
    private final String token;
    private final Duration every;
    private final Duration silentFrom;
    private final Duration silentUntil;
    private final ExecutorService httpThreads = Executors.newCachedThreadPool(DaemonThreads.named("demo-agent-http"));
    private final HttpClient http;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final Thread loop;
    private final long startedNanos = System.nanoTime();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong retried = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong abandoned = new AtomicLong();

    private PushingAgent(URI pushApi, String token, Duration every, Duration silentFrom, Duration silentUntil) {
        this.heartbeatUri = pushApi.resolve(HEARTBEAT_PATH);
        this.token = token;
        this.every = every;
        this.silentFrom = silentFrom;
        this.silentUntil = silentUntil;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).executor(httpThreads).build();
        this.loop = DaemonThreads.named("demo-agent").newThread(this::run);
        loop.start();
    }

    /**
     * Starts beating to the push API at {@code pushApi} (e.g. {@code http://127.0.0.1:8090}) every {@code every},
     * silent between {@code silentFrom} and {@code silentUntil} after start.
     */
    static PushingAgent start(URI pushApi, String token, Duration every, Duration silentFrom, Duration silentUntil) {
        return new PushingAgent(pushApi, token, every, silentFrom, silentUntil);
    }

    /** How the incident reads in the demo's start-up line. */
    String describe() {
        return "silent:" + TARGET_ID + "@" + silentFrom.toSeconds() + "s+" + silentUntil.minus(silentFrom).toSeconds()
                + "s (pushing agent, POST " + heartbeatUri + " every " + every.toSeconds() + " s)";
    }

    /** The counts so far; final once {@link #close} returned. */
    Counts counts() {
        return new Counts(sent.get(), accepted.get(), retried.get(), refused.get(), abandoned.get());
    }

    private void run() {
        long nextBeat = startedNanos;
        while (waitUntil(nextBeat)) {
            long now = System.nanoTime();
            while (nextBeat <= now) {
                nextBeat += every.toNanos();
            }
            if (!silent(now)) {
                deliverOneBeat();
            }
        }
    }

    private void deliverOneBeat() {
        Duration backoff = FIRST_BACKOFF;
        while (!stopping() && !silent(System.nanoTime())) {
            sent.incrementAndGet();
            Duration wait;
            try {
                HttpResponse<String> answer = http.send(heartbeat(), HttpResponse.BodyHandlers.ofString());
                int status = answer.statusCode();
                if (status == 202) {
                    accepted.incrementAndGet();
                    return;
                }
                if (status >= 400 && status < 500 && status != 429) {
                    refused.incrementAndGet();
                    LOG.warn("the push API refused the heartbeat for {} with {}: {}", TARGET_ID, status, answer.body());
                    return;
                }
                // "Retry-After: 0" would make a busy loop of a collector that keeps refusing.
                wait = retryAfter(answer).map(after -> after.compareTo(MIN_WAIT) < 0 ? MIN_WAIT : after).orElse(backoff);
                LOG.debug("the push API answered {}; retrying the heartbeat in {}", status, wait);
            } catch (IOException e) {
                wait = backoff;
                LOG.debug("the push API is not reachable ({}); retrying the heartbeat in {}", e.toString(), wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            retried.incrementAndGet();
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
            if (!waitUntil(System.nanoTime() + wait.toNanos())) {
                break;
            }
        }
        abandoned.incrementAndGet();
    }

    private HttpRequest heartbeat() {
        return HttpRequest.newBuilder(heartbeatUri)
                .timeout(REQUEST_TIMEOUT)
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"targets\": [\"" + TARGET_ID + "\"]}"))
                .build();
    }

    /** {@code Retry-After} in whole seconds (the form the collector sends); an HTTP date or garbage counts as absent. */
    static Optional<Duration> retryAfter(HttpResponse<?> answer) {
        try {
            return answer.headers().firstValue("Retry-After").map(value -> Long.parseLong(value.strip()))
                    .filter(seconds -> seconds >= 0).map(Duration::ofSeconds);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private boolean silent(long nanos) {
        Duration since = Duration.ofNanos(nanos - startedNanos);
        return since.compareTo(silentFrom) >= 0 && since.compareTo(silentUntil) < 0;
    }

    private boolean stopping() {
        return stop.getCount() == 0;
    }

    /** Waits until {@code deadlineNanos}; false when the agent is stopping (or was interrupted) instead. */
    private boolean waitUntil(long deadlineNanos) {
        try {
            return !stop.await(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Stops beating; a request in flight gets a moment to be answered, so it is counted as accepted or abandoned. */
    @Override
    public void close() throws InterruptedException {
        stop.countDown();
        loop.join(CLOSE_GRACE.toMillis());
        if (loop.isAlive()) {
            loop.interrupt();
            loop.join();
        }
        httpThreads.shutdownNow();
    }
}
