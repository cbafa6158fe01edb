package io.fleetpulse.alerting;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Locale;

/**
 * PagerDuty Events API v2. The alert fingerprint is the {@code dedup_key}, so PagerDuty itself folds repeated
 * triggers into one incident and a resolve closes exactly that incident. Success is {@code 202 Accepted}.
 */
record PagerDutyReceiver(String name, URI url, String routingKey) implements Receiver {

    /** The Events API rejects longer summaries. */
    static final int MAX_SUMMARY = 1024;
    /** PagerDuty rejects a longer dedup_key; a fingerprint is 32 characters, anything else is hashed to fit. */
    static final int MAX_DEDUP_KEY = 255;

    @Override
    public ReceiverType type() {
        return ReceiverType.PAGERDUTY;
    }

    /** The routing key picks the service (and so who is paged); the URL only picks the region. */
    @Override
    public String identity() {
        return Receiver.identityOf(type(), routingKey);
    }

    @Override
    public String describe() {
        return name + " (pagerduty " + url + ", routing key " + Redaction.MASK + ")";
    }

    @Override
    public boolean perAlert() {
        return true;
    }

    /** One event per alert transition: {@link Router} splits a group notification into its alerts for PagerDuty. */
    @Override
    public HttpRequest request(Notification notification, Duration timeout, Instant now) {
        return Receiver.jsonPost(url, AlertFormat.write(payload(notification.alerts().get(0), routingKey)), timeout)
                .build();
    }

    @Override
    public String redact(String text) {
        return Redaction.redact(text, routingKey);
    }

    @Override
    public String toString() {
        return describe();
    }

    /** The fingerprint, or when longer than PagerDuty allows, a stable hash of it (so trigger and resolve agree). */
    static String dedupKey(String fingerprint) {
        if (fingerprint.length() <= MAX_DEDUP_KEY) {
            return fingerprint;
        }
        try {
            byte[] sha = MessageDigest.getInstance("SHA-256").digest(fingerprint.getBytes(StandardCharsets.UTF_8));
            return "sha256:" + HexFormat.of().formatHex(sha);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }

    /** A trigger for FIRING, a resolve (which needs only the key and dedup_key) for RESOLVED. */
    static ObjectNode payload(AlertEvent event, String routingKey) {
        ObjectNode body = AlertFormat.JSON.createObjectNode()
                .put("routing_key", routingKey)
                .put("event_action", event.getState() == AlertState.RESOLVED ? "resolve" : "trigger")
                .put("dedup_key", dedupKey(event.getFingerprint()));
        if (event.getState() == AlertState.RESOLVED) {
            return body;
        }
        body.put("client", "FleetPulse");
        ObjectNode payload = body.putObject("payload");
        String summary = "[" + event.getSeverity() + "] " + event.getTargetId() + ": " + event.getSummary();
        payload.put("summary", summary.length() > MAX_SUMMARY ? summary.substring(0, MAX_SUMMARY - 1) + "…" : summary)
                .put("source", event.getTargetId())
                .put("severity", event.getSeverity().name().toLowerCase(Locale.ROOT))
                .put("timestamp", event.getStartsAt().toString())
                .put("component", event.getEvidence().getSignal())
                .put("group", event.getGroup())
                .put("class", event.getRuleId());
        ObjectNode details = payload.putObject("custom_details");
        details.put("rule", event.getRuleId());
        details.put("fingerprint", event.getFingerprint());
        details.put("evidence_text", AlertFormat.evidence(event.getEvidence()));
        details.set("evidence", AlertFormat.evidenceJson(event.getEvidence()));
        details.set("labels", AlertFormat.labelsJson(event.getLabels()));
        if (event.getRunbookUrl() != null) {
            body.putArray("links").addObject().put("href", event.getRunbookUrl()).put("text", "Runbook");
        }
        return body;
    }
}
