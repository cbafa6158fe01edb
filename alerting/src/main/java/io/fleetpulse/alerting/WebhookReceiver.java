package io.fleetpulse.alerting;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fleetpulse.events.AlertEvent;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;

/**
 * A generic webhook: the alert event as JSON, plus the notification id (body field and {@code Idempotency-Key}
 * header) so the receiver can drop the rare duplicate that at-least-once delivery allows.
 */
record WebhookReceiver(String name, URI url) implements Receiver {

    @Override
    public ReceiverType type() {
        return ReceiverType.WEBHOOK;
    }

    @Override
    public String identity() {
        return Receiver.identityOf(type(), url.toString());
    }

    @Override
    public String describe() {
        return name + " (webhook " + Redaction.maskUrl(url.toString()) + ")";
    }

    @Override
    public HttpRequest request(Notification notification, Duration timeout) {
        return Receiver.jsonPost(url, AlertFormat.write(payload(notification.event(), notification.id())), timeout)
                .header("Idempotency-Key", notification.id())
                .build();
    }

    @Override
    public String redact(String text) {
        return Redaction.redact(text, url.toString(), url.getRawUserInfo(), url.getRawPath(), url.getRawQuery());
    }

    @Override
    public String toString() {
        return describe();
    }

    static ObjectNode payload(AlertEvent event, String notificationId) {
        ObjectNode body = AlertFormat.JSON.createObjectNode().put("notificationId", notificationId);
        body.setAll(AlertFormat.eventJson(event));
        return body;
    }
}
