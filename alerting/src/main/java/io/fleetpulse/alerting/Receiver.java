package io.fleetpulse.alerting;

import java.net.http.HttpRequest;
import java.time.Duration;

/**
 * One configured destination of notifications: what it is called, how an alert becomes its HTTP request,
 * and how its secrets are hidden. Delivery mechanics (rate, retries, audit) live in {@link DeliveryWorker}.
 */
sealed interface Receiver permits SlackReceiver, PagerDutyReceiver, WebhookReceiver {

    /** The configured name, unique among receivers (slack, pagerduty, webhook-2). */
    String name();

    ReceiverType type();

    /** Where it delivers, secrets masked: what the start-up log and /status show. */
    String describe();

    /** The POST that delivers {@code notification}. */
    HttpRequest request(Notification notification, Duration timeout);

    /** {@code text} (an exception message, a response body) with this receiver's secrets masked. */
    String redact(String text);

    static HttpRequest.Builder jsonPost(java.net.URI uri, String body, Duration timeout) {
        return HttpRequest.newBuilder(uri)
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .header("User-Agent", "FleetPulse-alerting")
                .POST(HttpRequest.BodyPublishers.ofString(body));
    }
}
