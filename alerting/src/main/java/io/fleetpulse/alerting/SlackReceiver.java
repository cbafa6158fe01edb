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
    /** Slack's limits: a message's text (it truncates past 40 000), a section's text, a field's text. */
    static final int MAX_TEXT = 4_000;
    static final int MAX_SECTION = 3_000;
    static final int MAX_FIELD = 2_000;

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
        message.put("text", clip("[" + event.getState() + "] " + event.getSeverity() + " " + event.getTargetId()
                + ": " + event.getSummary() + " (rule " + event.getRuleId() + ")", MAX_TEXT));

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
                .put("text", clip("fingerprint `" + escape(event.getFingerprint()) + "`"
                        + (event.getLabels().isEmpty() ? "" : " · labels " + escape(event.getLabels().toString())),
                        MAX_SECTION));
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
        block.put("type", "section").putObject("text").put("type", "mrkdwn").put("text", clip(text, MAX_SECTION));
    }

    private static void field(ArrayNode fields, String title, String value) {
        fields.addObject().put("type", "mrkdwn").put("text", clip("*" + title + "*\n" + escape(value), MAX_FIELD));
    }

    /**
     * {@code text} cut to {@code max} characters with a note of how much was left out: Slack rejects a block whose
     * text is over its limit (invalid_blocks), and a page must never be rejected for being long.
     */
    static String clip(String text, int max) {
        if (text.length() <= max) {
            return text;
        }
        String note = "… (" + "%d more characters)";
        int keep = max - String.format(note, text.length()).length();
        return text.substring(0, keep) + String.format(note, text.length() - keep);
    }

    /** Slack's mrkdwn treats these three as control characters; everything else passes as is. */
    static String escape(String text) {
        return text == null ? "" : text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
