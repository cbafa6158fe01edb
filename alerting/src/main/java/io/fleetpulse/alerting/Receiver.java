package io.fleetpulse.alerting;

import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;

/**
 * One configured destination of notifications: what it is called, how a notification becomes its HTTP request,
 * and how its secrets are hidden. Delivery mechanics (rate, retries, audit) live in {@link DeliveryWorker}.
 */
sealed interface Receiver permits SlackReceiver, PagerDutyReceiver, WebhookReceiver {

    /** The configured name, unique among receivers (slack, pagerduty, webhook-2). */
    String name();

    ReceiverType type();

    /**
     * Which destination this is, stable across restarts and deployments and safe to show: the kind and a hash of
     * what addresses it (the URL, the routing key), e.g. {@code slack:3f2a9c0d1e7b4a65}. Two services with different
     * Slack URLs get different identities even though both receivers are called {@code slack}.
     */
    String identity();

    /** Where it delivers, secrets masked: what the start-up log and /status show. */
    String describe();

    /**
     * Whether it is told alert by alert (PagerDuty: one incident per fingerprint) rather than one request per group
     * notification (Slack, webhooks).
     */
    boolean perAlert();

    /** The POST that delivers {@code notification}, built for the attempt made at {@code now} (signatures). */
    HttpRequest request(Notification notification, Duration timeout, Instant now);

    /** {@code text} (an exception message, a response body) with this receiver's secrets masked. */
    String redact(String text);

    /**
     * {@code kind:} and {@link #hashOf the hash} of the parts. The parts are secrets with enough entropy (webhook
     * tokens, routing keys) that the hash does not give them away; it is never the secret itself.
     */
    static String identityOf(ReceiverType kind, String... parts) {
        return kind.id() + ":" + hashOf(parts);
    }

    /** The first 64 bits of SHA-256 over the parts (each ended by a zero byte), in hex. */
    static String hashOf(String... parts) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String part : parts) {
                sha.update(part.getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
            }
            return HexFormat.of().formatHex(sha.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }

    static HttpRequest.Builder jsonPost(URI uri, String body, Duration timeout) {
        return HttpRequest.newBuilder(uri)
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .header("User-Agent", "FleetPulse-alerting")
                .POST(HttpRequest.BodyPublishers.ofString(body));
    }
}
