package io.fleetpulse.alerting.route;

import java.net.URI;

/**
 * A receiver as the routing file declares it, its secrets already read from the environment or a secret file.
 *
 * @param url           the Slack or webhook URL (a secret), or the PagerDuty Events API endpoint (not one)
 * @param routingKey    PagerDuty's routing key; null for the other kinds
 * @param signingSecret a webhook's HMAC-SHA256 key for signing each request; null = unsigned, and for other kinds
 */
public record ReceiverSpec(String name, Kind kind, URI url, String routingKey, String signingSecret) {

    /** A webhook's signing secret must be at least this long: a short HMAC key is guessable from signed requests. */
    public static final int MIN_SIGNING_SECRET = 16;

    public enum Kind { SLACK, PAGERDUTY, WEBHOOK }

    public ReceiverSpec(String name, Kind kind, URI url, String routingKey) {
        this(name, kind, url, routingKey, null);
    }

    /** Never the secrets: this is what logs and errors show. */
    @Override
    public String toString() {
        return name + " (" + kind.name().toLowerCase(java.util.Locale.ROOT) + ")";
    }
}
