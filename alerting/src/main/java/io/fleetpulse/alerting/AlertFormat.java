package io.fleetpulse.alerting;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.Evidence;
import io.fleetpulse.runtime.text.Numbers;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/** How an alert reads as text and as JSON; shared by every receiver so all say the same thing the same way. */
final class AlertFormat {

    static final ObjectMapper JSON = new ObjectMapper();

    private AlertFormat() {
    }

    /**
     * "cpu_percent 97.5 > 90 over 2024-05-01T12:00:00Z → 2024-05-01T12:01:00Z (6 samples)". Numbers go through
     * {@link Numbers#format}, as the stream processor's summaries do, so one value reads the same in both.
     */
    static String evidence(Evidence e) {
        StringBuilder text = new StringBuilder()
                .append(e.getSignal()).append(' ').append(Numbers.format(e.getValue()))
                .append(' ').append(e.getOperator()).append(' ').append(Numbers.format(e.getThreshold()));
        if (e.getWindowStart() != null || e.getWindowEnd() != null) {
            text.append(" over ").append(instant(e.getWindowStart())).append(" → ").append(instant(e.getWindowEnd()));
        }
        if (e.getSamples() > 0) {
            text.append(" (").append(e.getSamples()).append(e.getSamples() == 1 ? " sample)" : " samples)");
        }
        return text.toString();
    }

    static String instant(Instant instant) {
        return instant == null ? "?" : instant.toString();
    }

    /** The evidence as JSON, the same shape in webhook bodies and PagerDuty custom_details. */
    static ObjectNode evidenceJson(Evidence e) {
        ObjectNode node = JSON.createObjectNode()
                .put("signal", e.getSignal())
                .put("value", e.getValue())
                .put("operator", e.getOperator())
                .put("threshold", e.getThreshold());
        putInstant(node, "windowStart", e.getWindowStart());
        putInstant(node, "windowEnd", e.getWindowEnd());
        node.put("samples", e.getSamples());
        return node;
    }

    /** The alert event as JSON: the webhook body. Timestamps are ISO-8601 UTC; labels sorted for stable output. */
    static ObjectNode eventJson(AlertEvent event) {
        ObjectNode node = JSON.createObjectNode()
                .put("fingerprint", event.getFingerprint())
                .put("ruleId", event.getRuleId())
                .put("targetId", event.getTargetId())
                .put("group", event.getGroup())
                .put("state", event.getState().name())
                .put("severity", event.getSeverity().name())
                .put("summary", event.getSummary());
        node.set("labels", labelsJson(event.getLabels()));
        node.set("evidence", evidenceJson(event.getEvidence()));
        putInstant(node, "startsAt", event.getStartsAt());
        putInstant(node, "endsAt", event.getEndsAt());
        putInstant(node, "occurredAt", event.getOccurredAt());
        return node;
    }

    static ObjectNode labelsJson(Map<String, String> labels) {
        ObjectNode node = JSON.createObjectNode();
        new TreeMap<>(labels == null ? Map.of() : labels).forEach(node::put);
        return node;
    }

    static String write(ObjectNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("a tree of plain values always serialises", e);
        }
    }

    private static void putInstant(ObjectNode node, String field, Instant value) {
        if (value == null) {
            node.putNull(field);
        } else {
            node.put(field, value.toString());
        }
    }
}
