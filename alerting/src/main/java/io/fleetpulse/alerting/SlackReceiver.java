package io.fleetpulse.alerting;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;

/**
 * A Slack incoming webhook. The message has a plain {@code text} (what notifications and screen readers show) and a
 * coloured attachment holding Block Kit sections with the details. The webhook URL is itself the credential.
 */
record SlackReceiver(String name, URI webhookUrl) implements Receiver {

    static final String COLOR_CRITICAL = "#D0021B";
    static final String COLOR_WARNING = "#F5A623";
    static final String COLOR_INFO = "#4A90E2";
    static final String COLOR_RESOLVED = "#2EB67D";

    @Override
    public ReceiverType type() {
        return ReceiverType.SLACK;
    }

    @Override
    public String identity() {
        return Receiver.identityOf(type(), webhookUrl.toString());
    }

    @Override
    public String describe() {
        return name + " (slack " + Redaction.maskUrl(webhookUrl.toString()) + ")";
    }

    @Override
    public HttpRequest request(Notification notification, Duration timeout) {
        return Receiver.jsonPost(webhookUrl, AlertFormat.write(payload(notification.event())), timeout).build();
    }

    @Override
    public String redact(String text) {
        return Redaction.redact(text, webhookUrl.toString(), webhookUrl.getRawPath(), webhookUrl.getRawQuery());
    }

    @Override
    public String toString() {
        return describe();
    }

    static ObjectNode payload(AlertEvent event) {
        boolean firing = event.getState() == AlertState.FIRING;
        ObjectNode message = AlertFormat.JSON.createObjectNode();
        message.put("text", "[" + event.getState() + "] " + event.getSeverity() + " " + event.getTargetId() + ": "
                + event.getSummary() + " (rule " + event.getRuleId() + ")");

        ObjectNode attachment = message.putArray("attachments").addObject();
        attachment.put("color", firing ? colorOf(event) : COLOR_RESOLVED);
        ArrayNode blocks = attachment.putArray("blocks");
        mrkdwnSection(blocks.addObject(), (firing ? ":red_circle: *FIRING*" : ":large_green_circle: *RESOLVED*")
                + " · " + escape(event.getSeverity().name()) + " · `" + escape(event.getTargetId()) + "`\n"
                + escape(event.getSummary()));

        ObjectNode details = blocks.addObject().put("type", "section");
        ArrayNode fields = details.putArray("fields");
        field(fields, "Target", event.getTargetId());
        field(fields, "Rule", event.getRuleId());
        field(fields, "Severity", event.getSeverity().name());
        field(fields, "Group", event.getGroup());
        field(fields, "Evidence", AlertFormat.evidence(event.getEvidence()));
        field(fields, "Started", AlertFormat.instant(event.getStartsAt()));
        if (event.getEndsAt() != null || !firing) {
            field(fields, "Ended", AlertFormat.instant(event.getEndsAt()));
        }

        ObjectNode context = blocks.addObject().put("type", "context");
        context.putArray("elements").addObject().put("type", "mrkdwn")
                .put("text", "fingerprint `" + escape(event.getFingerprint()) + "`"
                        + (event.getLabels().isEmpty() ? "" : " · labels " + escape(event.getLabels().toString())));
        return message;
    }

    private static String colorOf(AlertEvent event) {
        return switch (event.getSeverity()) {
            case CRITICAL -> COLOR_CRITICAL;
            case WARNING -> COLOR_WARNING;
            case INFO -> COLOR_INFO;
        };
    }

    private static void mrkdwnSection(ObjectNode block, String text) {
        block.put("type", "section").putObject("text").put("type", "mrkdwn").put("text", text);
    }

    private static void field(ArrayNode fields, String title, String value) {
        fields.addObject().put("type", "mrkdwn").put("text", "*" + title + "*\n" + escape(value));
    }

    /** Slack's mrkdwn treats these three as control characters; everything else passes as is. */
    static String escape(String text) {
        return text == null ? "" : text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
