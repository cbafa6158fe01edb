package io.fleetpulse.alerting;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fleetpulse.alerting.route.AlertLabels;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A generic webhook, told once per group notification in Alertmanager's webhook format (version 4), so receivers
 * written for Alertmanager work unchanged. The notification id goes in the {@code Idempotency-Key} header, so the
 * receiver can drop the rare duplicate that at-least-once delivery allows.
 *
 * <p>With a signing secret each attempt is signed: {@code X-FleetPulse-Timestamp} (Unix seconds of the attempt) and
 * {@code X-FleetPulse-Signature: v1=<hex HMAC-SHA256 over "<timestamp>.<body>">}. The timestamp is inside the signed
 * text, so a receiver that rejects old timestamps also rejects replayed requests.
 *
 * @param signingSecret the HMAC key, or null to send unsigned
 */
record WebhookReceiver(String name, URI url, String signingSecret) implements Receiver {

    static final String VERSION = "4";
    static final String TIMESTAMP_HEADER = "X-FleetPulse-Timestamp";
    static final String SIGNATURE_HEADER = "X-FleetPulse-Signature";
    /** What Alertmanager sends as the endsAt of an alert that has not ended: Go's zero time. */
    static final String NOT_ENDED = "0001-01-01T00:00:00Z";

    WebhookReceiver(String name, URI url) {
        this(name, url, null);
    }

    @Override
    public ReceiverType type() {
        return ReceiverType.WEBHOOK;
    }

    /** The URL only: rotating the signing secret must not make every delivery look new. */
    @Override
    public String identity() {
        return Receiver.identityOf(type(), url.toString());
    }

    @Override
    public String describe() {
        return name + " (webhook " + Redaction.maskUrl(url.toString())
                + (signingSecret == null ? "" : ", signed " + Redaction.MASK) + ")";
    }

    @Override
    public boolean perAlert() {
        return false;
    }

    @Override
    public HttpRequest request(Notification notification, Duration timeout, Instant now) {
        String body = AlertFormat.write(payload(notification));
        HttpRequest.Builder request = Receiver.jsonPost(url, body, timeout)
                .header("Idempotency-Key", notification.id());
        if (signingSecret != null) {
            String timestamp = Long.toString(now.getEpochSecond());
            request.header(TIMESTAMP_HEADER, timestamp)
                    .header(SIGNATURE_HEADER, "v1=" + signature(signingSecret, timestamp, body));
        }
        return request.build();
    }

    @Override
    public String redact(String text) {
        return Redaction.redact(text, url.toString(), url.getRawUserInfo(), url.getRawPath(), url.getRawQuery(),
                signingSecret);
    }

    @Override
    public String toString() {
        return describe();
    }

    /** Hex HMAC-SHA256 of {@code "<timestamp>.<body>"} under {@code secret}: what a receiver recomputes to verify. */
    static String signature(String secret, String timestamp, String body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal((timestamp + "." + body).getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is required of every JVM", e);
        }
    }

    /** Alertmanager's webhook body (version 4) for one group notification. */
    static ObjectNode payload(Notification notification) {
        List<AlertEvent> alerts = notification.alerts();
        ObjectNode body = AlertFormat.JSON.createObjectNode()
                .put("version", VERSION)
                .put("groupKey", notification.groupKey())
                .put("truncatedAlerts", 0)
                .put("status", notification.firing().isEmpty() ? "resolved" : "firing")
                .put("receiver", notification.receiver().name());
        body.set("groupLabels", AlertFormat.labelsJson(notification.groupLabels()));
        body.set("commonLabels", AlertFormat.labelsJson(common(alerts.stream().map(WebhookReceiver::labels).toList())));
        body.set("commonAnnotations", AlertFormat.labelsJson(common(alerts.stream()
                .map(WebhookReceiver::annotations).toList())));
        body.put("externalURL", "");
        ArrayNode list = body.putArray("alerts");
        for (AlertEvent alert : alerts) {
            ObjectNode item = list.addObject()
                    .put("status", alert.getState() == AlertState.FIRING ? "firing" : "resolved");
            item.set("labels", AlertFormat.labelsJson(labels(alert)));
            item.set("annotations", AlertFormat.labelsJson(annotations(alert)));
            item.put("startsAt", alert.getStartsAt().toString())
                    .put("endsAt", alert.getEndsAt() == null ? NOT_ENDED : alert.getEndsAt().toString())
                    .put("generatorURL", "")
                    .put("fingerprint", alert.getFingerprint());
        }
        return body;
    }

    /** An alert's label set as routing sees it, plus Alertmanager's {@code alertname} (the rule). */
    static Map<String, String> labels(AlertEvent alert) {
        Map<String, String> labels = AlertLabels.of(alert);
        labels.put("alertname", alert.getRuleId());
        return labels;
    }

    /** summary, description, the evidence as text and the runbook link, as Alertmanager annotations. */
    static Map<String, String> annotations(AlertEvent alert) {
        Map<String, String> annotations = new LinkedHashMap<>();
        annotations.put("summary", alert.getSummary());
        if (alert.getDescription() != null) {
            annotations.put("description", alert.getDescription());
        }
        annotations.put("evidence", AlertFormat.evidence(alert.getEvidence()));
        if (alert.getRunbookUrl() != null) {
            annotations.put("runbook_url", alert.getRunbookUrl());
        }
        return annotations;
    }

    /** The pairs every map has (Alertmanager's commonLabels / commonAnnotations). */
    static Map<String, String> common(List<Map<String, String>> maps) {
        Map<String, String> common = new LinkedHashMap<>(maps.get(0));
        for (Map<String, String> other : maps.subList(1, maps.size())) {
            common.entrySet().removeIf(e -> !e.getValue().equals(other.get(e.getKey())));
        }
        return common;
    }
}
