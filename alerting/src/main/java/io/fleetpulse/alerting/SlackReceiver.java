package io.fleetpulse.alerting;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A Slack incoming webhook, told once per group notification. The message has a plain {@code text} (what
 * notifications and screen readers show) and a coloured attachment holding Block Kit sections with the details. The
 * webhook URL is itself the credential.
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
    /** Slack rejects a message with more blocks than this (invalid_blocks). */
    static final int MAX_BLOCKS = 50;
    /** Each alert shown is a section with its details and a context line. */
    static final int BLOCKS_PER_ALERT = 2;

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
    public boolean perAlert() {
        return false;
    }

    @Override
    public HttpRequest request(Notification notification, Duration timeout, Instant now) {
        return Receiver.jsonPost(webhookUrl, AlertFormat.write(payload(notification)), timeout).build();
    }

    @Override
    public String redact(String text) {
        return Redaction.redact(text, webhookUrl.toString(), webhookUrl.getRawPath(), webhookUrl.getRawQuery());
    }

    @Override
    public String toString() {
        return describe();
    }

    /**
     * One message for the whole group notification: a plain {@code text} (what notifications and screen readers
     * show: the counts, then a line per alert) and one attachment coloured by the most severe firing alert (green when
     * all resolved) whose blocks hold a header, then a "Firing" and a "Resolved" section with each alert's details
     * (summary, description, target, rule, severity, group, evidence, start and end, runbook link, labels and
     * fingerprint). Slack rejects a message of more than {@link #MAX_BLOCKS} blocks, so a long group shows what fits
     * and says "and N more" per section; it is never rejected.
     */
    static ObjectNode payload(Notification notification) {
        List<AlertEvent> firing = notification.firing();
        List<AlertEvent> resolved = notification.resolved();
        ObjectNode message = AlertFormat.JSON.createObjectNode();
        message.put("text", clip(fallbackText(notification, firing, resolved), MAX_TEXT));

        ObjectNode attachment = message.putArray("attachments").addObject();
        attachment.put("color", firing.isEmpty() ? COLOR_RESOLVED : colorOf(mostSevere(firing)));
        ArrayNode blocks = attachment.putArray("blocks");
        StringBuilder header = new StringBuilder();
        if (!firing.isEmpty()) {
            header.append(":red_circle: *FIRING: ").append(firing.size()).append('*');
        }
        if (!resolved.isEmpty()) {
            header.append(header.isEmpty() ? "" : " · ").append(":large_green_circle: *RESOLVED: ")
                    .append(resolved.size()).append('*');
        }
        if (!notification.groupLabels().isEmpty() && notification.alerts().size() > 1) {
            header.append(" · ").append(escape(labelsText(notification.groupLabels())));
        }
        mrkdwnSection(blocks.addObject(), header.toString());

        int sections = (firing.isEmpty() ? 0 : 1) + (resolved.isEmpty() ? 0 : 1);
        int slots = (MAX_BLOCKS - 1 - sections) / BLOCKS_PER_ALERT;
        if (firing.size() + resolved.size() > slots) {
            slots = (MAX_BLOCKS - 1 - 2 * sections) / BLOCKS_PER_ALERT; // room for an "and N more" per section
        }
        int shownFiring = Math.min(firing.size(), slots);
        section(blocks, "firing", "Firing", firing, shownFiring);
        section(blocks, "resolved", "Resolved", resolved, Math.min(resolved.size(), slots - shownFiring));
        return message;
    }

    private static String fallbackText(Notification notification, List<AlertEvent> firing,
                                       List<AlertEvent> resolved) {
        if (notification.alerts().size() == 1) {
            AlertEvent event = notification.alerts().get(0);
            return "[" + event.getState() + "] " + line(event);
        }
        StringBuilder text = new StringBuilder("[");
        if (!firing.isEmpty()) {
            text.append("FIRING:").append(firing.size());
        }
        if (!resolved.isEmpty()) {
            text.append(firing.isEmpty() ? "" : ", ").append("RESOLVED:").append(resolved.size());
        }
        text.append(']');
        if (!notification.groupLabels().isEmpty()) {
            text.append(' ').append(labelsText(notification.groupLabels()));
        }
        firing.forEach(a -> text.append("\n• FIRING ").append(line(a)));
        resolved.forEach(a -> text.append("\n• RESOLVED ").append(line(a)));
        return text.toString();
    }

    private static String line(AlertEvent event) {
        return event.getSeverity() + " " + event.getTargetId() + ": " + event.getSummary() + " (rule "
                + event.getRuleId() + ")";
    }

    /** A heading (its block_id says which state follows), the alerts that fit, and how many did not. */
    private static void section(ArrayNode blocks, String id, String title, List<AlertEvent> alerts, int shown) {
        if (alerts.isEmpty()) {
            return;
        }
        ObjectNode heading = blocks.addObject();
        mrkdwnSection(heading, "*" + title + " (" + alerts.size() + ")*");
        heading.put("block_id", id);
        for (AlertEvent alert : alerts.subList(0, shown)) {
            alertBlocks(blocks, alert);
        }
        if (shown < alerts.size()) {
            blocks.addObject().put("type", "context").putArray("elements").addObject().put("type", "mrkdwn")
                    .put("text", "… and " + (alerts.size() - shown) + " more " + title.toLowerCase(Locale.ROOT)
                            + " (not shown: a Slack message holds " + MAX_BLOCKS + " blocks)");
        }
    }

    /** {@link #BLOCKS_PER_ALERT} blocks: the details, then a context line with fingerprint and labels. */
    private static void alertBlocks(ArrayNode blocks, AlertEvent event) {
        boolean firing = event.getState() == AlertState.FIRING;
        StringBuilder text = new StringBuilder(firing ? ":red_circle: " : ":large_green_circle: ")
                .append('*').append(escape(event.getSeverity().name())).append("* · `")
                .append(escape(event.getTargetId())).append("`\n").append(escape(event.getSummary()));
        if (event.getDescription() != null && !event.getDescription().isBlank()) {
            text.append('\n').append(escape(event.getDescription()));
        }
        if (event.getRunbookUrl() != null && !event.getRunbookUrl().isBlank()) {
            // <url|text> is Slack's link syntax; '|' and '>' would end it early, so they are escaped in the URL.
            text.append("\n<").append(escape(event.getRunbookUrl()).replace("|", "%7C")).append("|Runbook>");
        }
        ObjectNode details = blocks.addObject().put("type", "section");
        details.putObject("text").put("type", "mrkdwn").put("text", clip(text.toString(), MAX_SECTION));
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
                        + (event.getLabels().isEmpty() ? "" : " · labels " + escape(labelsText(event.getLabels()))),
                        MAX_SECTION));
    }

    private static String labelsText(Map<String, String> labels) {
        StringBuilder text = new StringBuilder();
        new TreeMap<>(labels).forEach((k, v) -> text.append(text.isEmpty() ? "" : ", ").append(k)
                .append('=').append(v));
        return text.toString();
    }

    private static AlertEvent mostSevere(List<AlertEvent> alerts) {
        // INFO, WARNING, CRITICAL in declaration order: the highest ordinal is the most severe.
        return alerts.stream().max(Comparator.comparing(a -> a.getSeverity().ordinal())).orElseThrow();
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
