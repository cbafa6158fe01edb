package io.fleetpulse.alerting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.Severity;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReceiverPayloadTest {

    private static final String ROUTING_KEY = "R0UT1NGKEY0123456789abcdef012345";

    @Test
    void shouldBuildAPagerDutyTriggerWithTheFingerprintAsDedupKey() {
        JsonNode body = PagerDutyReceiver.payload(TestAlerts.firing("fp-1"), ROUTING_KEY);

        assertEquals(ROUTING_KEY, body.path("routing_key").asText());
        assertEquals("trigger", body.path("event_action").asText());
        assertEquals("fp-1", body.path("dedup_key").asText());
        JsonNode payload = body.path("payload");
        assertEquals("[CRITICAL] web-1: CPU above 90% for 5m", payload.path("summary").asText());
        assertEquals("web-1", payload.path("source").asText());
        assertEquals("critical", payload.path("severity").asText());
        assertEquals("2024-05-01T12:01:00Z", payload.path("timestamp").asText());
        assertEquals("cpu_percent", payload.path("component").asText());
        assertEquals("frontend", payload.path("group").asText());
        assertEquals("cpu-high", payload.path("class").asText());
        JsonNode details = payload.path("custom_details");
        assertEquals(97.5, details.path("evidence").path("value").asDouble());
        assertEquals(90.0, details.path("evidence").path("threshold").asDouble());
        assertEquals(">", details.path("evidence").path("operator").asText());
        assertEquals("2024-05-01T12:00:00Z", details.path("evidence").path("windowStart").asText());
        assertEquals(6, details.path("evidence").path("samples").asInt());
        assertEquals("prod", details.path("labels").path("env").asText());
        assertEquals("cpu_percent 97.5 > 90 over 2024-05-01T12:00:00Z → 2024-05-01T12:01:00Z (6 samples)",
                details.path("evidence_text").asText());
    }

    @Test
    void shouldResolveInPagerDutyWithTheSameDedupKey() {
        AlertEvent firing = TestAlerts.firing("fp-1");
        JsonNode trigger = PagerDutyReceiver.payload(firing, ROUTING_KEY);
        JsonNode resolve = PagerDutyReceiver.payload(TestAlerts.resolved(firing), ROUTING_KEY);

        assertEquals("resolve", resolve.path("event_action").asText());
        assertEquals(trigger.path("dedup_key"), resolve.path("dedup_key"));
        assertEquals(ROUTING_KEY, resolve.path("routing_key").asText());
        assertTrue(resolve.path("payload").isMissingNode(), "a resolve needs no payload: " + resolve);
    }

    @Test
    void shouldMapSeveritiesToPagerDutysVocabulary() {
        assertEquals("warning", PagerDutyReceiver.payload(TestAlerts.firing("f", "t", Severity.WARNING), ROUTING_KEY)
                .path("payload").path("severity").asText());
        assertEquals("info", PagerDutyReceiver.payload(TestAlerts.firing("f", "t", Severity.INFO), ROUTING_KEY)
                .path("payload").path("severity").asText());
    }

    @Test
    void shouldTruncateSummariesPagerDutyWouldReject() {
        AlertEvent longOne = AlertEvent.newBuilder(TestAlerts.firing("f")).setSummary("x".repeat(5000)).build();
        String summary = PagerDutyReceiver.payload(longOne, ROUTING_KEY).path("payload").path("summary").asText();
        assertEquals(PagerDutyReceiver.MAX_SUMMARY, summary.length());
    }

    @Test
    void shouldKeepAPagerDutyDedupKeyWithinItsLimitAndTheSameForTriggerAndResolve() {
        AlertEvent longKey = TestAlerts.firing("k".repeat(300));
        String trigger = PagerDutyReceiver.payload(longKey, ROUTING_KEY).path("dedup_key").asText();
        String resolve = PagerDutyReceiver.payload(TestAlerts.resolved(longKey), ROUTING_KEY).path("dedup_key").asText();
        assertTrue(trigger.length() <= PagerDutyReceiver.MAX_DEDUP_KEY, trigger);
        assertEquals(trigger, resolve);
        assertEquals("fp-short", PagerDutyReceiver.payload(TestAlerts.firing("fp-short"), ROUTING_KEY)
                .path("dedup_key").asText(), "a fingerprint that fits is the dedup_key as is");
    }

    @Test
    void shouldTruncateLongSlackTextWithACountInsteadOfBeingRejected() {
        AlertEvent huge = AlertEvent.newBuilder(TestAlerts.firing("fp-huge")).setSummary("y".repeat(10_000))
                .setLabels(Map.of("blob", "z".repeat(5_000))).build();
        JsonNode message = slack(huge);

        String text = message.path("text").asText();
        assertTrue(text.length() <= SlackReceiver.MAX_TEXT, "text " + text.length());
        assertTrue(text.matches("(?s).*… \\(\\d+ more characters\\)$"), text.substring(text.length() - 40));
        assertWithinSlackLimits(message);
        assertEquals("abcdefgh… (44 more characters)", SlackReceiver.clip("abcdefghijklmnopqrstuvwxyz".repeat(2), 30));
        assertEquals("short", SlackReceiver.clip("short", 10));
    }

    @Test
    void shouldBuildASlackMessageWithTextAndAColouredAttachment() {
        JsonNode firing = slack(TestAlerts.firing("fp-9"));

        assertEquals("[FIRING] CRITICAL web-1: CPU above 90% for 5m (rule cpu-high)", firing.path("text").asText());
        JsonNode attachment = firing.path("attachments").get(0);
        assertEquals(SlackReceiver.COLOR_CRITICAL, attachment.path("color").asText());
        String blocks = attachment.path("blocks").toString();
        assertTrue(blocks.contains("*FIRING: 1*"), blocks);
        assertTrue(blocks.contains("*Target*\\nweb-1"), blocks);
        assertTrue(blocks.contains("*Rule*\\ncpu-high"), blocks);
        assertTrue(blocks.contains("*Severity*\\nCRITICAL"), blocks);
        assertTrue(blocks.contains("cpu_percent 97.5 &gt; 90 over 2024-05-01T12:00:00Z"), "evidence, escaped: " + blocks);
        assertTrue(blocks.contains("*Started*\\n2024-05-01T12:01:00Z"), blocks);
        assertFalse(blocks.contains("*Ended*"), "a firing alert has not ended: " + blocks);
        assertTrue(blocks.contains("fingerprint `fp-9`"), blocks);

        JsonNode resolved = slack(TestAlerts.resolved(TestAlerts.firing("fp-9")));
        assertTrue(resolved.path("text").asText().startsWith("[RESOLVED]"));
        assertEquals(SlackReceiver.COLOR_RESOLVED, resolved.path("attachments").get(0).path("color").asText());
        assertTrue(resolved.toString().contains("*Ended*\\n2024-05-01T12:09:00Z"), resolved.toString());
    }

    @Test
    void shouldSendAWholeGroupAsOneSlackMessageWithFiringAndResolvedSections() {
        AlertEvent critical = AlertEvent.newBuilder(TestAlerts.firing("fp-a")).setRunbookUrl("https://wiki.example/cpu")
                .setDescription("web-1 is saturated").build();
        AlertEvent warning = TestAlerts.firing("fp-b", "web-2", Severity.WARNING);
        AlertEvent resolved = TestAlerts.resolved(TestAlerts.firing("fp-c", "web-3", Severity.CRITICAL));
        JsonNode message = SlackReceiver.payload(TestAlerts.group(SLACK, warning, critical, resolved));

        String text = message.path("text").asText();
        assertEquals("[FIRING:2, RESOLVED:1] group=frontend\n"
                + "• FIRING WARNING web-2: CPU above 90% for 5m (rule cpu-high)\n"
                + "• FIRING CRITICAL web-1: CPU above 90% for 5m (rule cpu-high)\n"
                + "• RESOLVED CRITICAL web-3: CPU above 90% for 5m (rule cpu-high)", text);
        JsonNode attachment = message.path("attachments").get(0);
        assertEquals(1, message.path("attachments").size(), "one message, one attachment");
        assertEquals(SlackReceiver.COLOR_CRITICAL, attachment.path("color").asText(), "the most severe firing alert");
        assertEquals(List.of("fp-b|firing", "fp-a|firing", "fp-c|resolved"), transitions(attachment.path("blocks")));
        String blocks = attachment.path("blocks").toString();
        assertTrue(blocks.contains("*FIRING: 2* · :large_green_circle: *RESOLVED: 1* · group=frontend"), blocks);
        assertTrue(blocks.contains("web-1 is saturated"), "the description: " + blocks);
        assertTrue(blocks.contains("<https://wiki.example/cpu|Runbook>"), "the runbook link: " + blocks);
        assertTrue(blocks.contains("labels dc=eu-1, env=prod"), blocks);
        assertTrue(blocks.contains("*Ended*\\n2024-05-01T12:09:00Z"), blocks);
        assertEquals(SlackReceiver.COLOR_RESOLVED, SlackReceiver.payload(TestAlerts.group(SLACK, resolved))
                .path("attachments").get(0).path("color").asText(), "all resolved: green");
    }

    @Test
    void shouldTruncateALongGroupWithAndNMorePerSectionWithinSlacksBlockLimit() {
        List<AlertEvent> alerts = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            AlertEvent firing = AlertEvent.newBuilder(TestAlerts.firing("fp-" + i, "web-" + i, Severity.CRITICAL))
                    .setSummary("s".repeat(400)).setLabels(Map.of("blob", "b".repeat(3_000))).build();
            alerts.add(i < 80 ? firing : TestAlerts.resolved(firing));
        }
        JsonNode message = SlackReceiver.payload(TestAlerts.group(SLACK, alerts.toArray(AlertEvent[]::new)));

        JsonNode blocks = message.path("attachments").get(0).path("blocks");
        assertTrue(blocks.size() <= SlackReceiver.MAX_BLOCKS, "blocks " + blocks.size());
        assertWithinSlackLimits(message);
        List<String> shown = transitions(blocks);
        long firingShown = shown.stream().filter(t -> t.endsWith("|firing")).count();
        long resolvedShown = shown.stream().filter(t -> t.endsWith("|resolved")).count();
        assertTrue(firingShown > 10, "most of the room goes to what fires: " + shown);
        String all = blocks.toString();
        assertTrue(all.contains("… and " + (80 - firingShown) + " more firing"), all);
        if (resolvedShown < 40) {
            assertTrue(all.contains("… and " + (40 - resolvedShown) + " more resolved"), all);
        }
        assertTrue(all.contains("*Firing (80)*") && all.contains("*Resolved (40)*"), "the counts are whole: " + all);
        assertTrue(message.path("text").asText().startsWith("[FIRING:80, RESOLVED:40] group=frontend"));
    }

    @Test
    void shouldColourFiringSlackMessagesBySeverity() {
        assertEquals(SlackReceiver.COLOR_WARNING, slack(TestAlerts.firing("f", "t", Severity.WARNING))
                .path("attachments").get(0).path("color").asText());
        assertEquals(SlackReceiver.COLOR_INFO, slack(TestAlerts.firing("f", "t", Severity.INFO))
                .path("attachments").get(0).path("color").asText());
    }

    @Test
    void shouldEscapeSlackControlCharactersInAlertText() {
        AlertEvent nasty = AlertEvent.newBuilder(TestAlerts.firing("f")).setSummary("<!channel> a & b").build();
        String blocks = slack(nasty).path("attachments").toString();
        assertTrue(blocks.contains("&lt;!channel&gt; a &amp; b"), blocks);
        assertFalse(blocks.contains("<!channel>"), blocks);
    }

    @Test
    void shouldSendAGroupToWebhooksInAlertmanagersWebhookFormat() throws Exception {
        AlertEvent firing = AlertEvent.newBuilder(TestAlerts.firing("fp-w1")).setRunbookUrl("https://wiki.example/cpu")
                .build();
        AlertEvent resolved = TestAlerts.resolved(TestAlerts.firing("fp-w2", "web-2", Severity.CRITICAL));
        WebhookReceiver receiver = new WebhookReceiver("db-hook", URI.create("http://hooks.example/alerts?token=s3cr3t"));
        Notification notification = TestAlerts.group(receiver, firing, resolved);

        JsonNode body = WebhookReceiver.payload(notification);
        assertEquals("4", body.path("version").asText());
        assertEquals("root.0{group=\"frontend\"}", body.path("groupKey").asText());
        assertEquals(0, body.path("truncatedAlerts").asInt());
        assertEquals("firing", body.path("status").asText(), "firing while any alert of the group fires");
        assertEquals("db-hook", body.path("receiver").asText());
        assertEquals("frontend", body.path("groupLabels").path("group").asText());
        assertEquals("prod", body.path("commonLabels").path("env").asText());
        assertEquals("cpu-high", body.path("commonLabels").path("alertname").asText());
        assertTrue(body.path("commonLabels").path("fingerprint").isMissingNode(), "not common: " + body);
        assertEquals("CPU above 90% for 5m", body.path("commonAnnotations").path("summary").asText());
        assertTrue(body.has("externalURL"), body.toString());
        JsonNode first = body.path("alerts").get(0);
        assertEquals("firing", first.path("status").asText());
        assertEquals("fp-w1", first.path("fingerprint").asText());
        assertEquals("web-1", first.path("labels").path("target").asText());
        assertEquals("critical", first.path("labels").path("severity").asText());
        assertEquals("https://wiki.example/cpu", first.path("annotations").path("runbook_url").asText());
        assertTrue(first.path("annotations").path("evidence").asText().startsWith("cpu_percent 97.5 > 90"));
        assertEquals("2024-05-01T12:01:00Z", first.path("startsAt").asText());
        assertEquals(WebhookReceiver.NOT_ENDED, first.path("endsAt").asText(), "Alertmanager's zero time");
        assertTrue(first.has("generatorURL"));
        JsonNode second = body.path("alerts").get(1);
        assertEquals("resolved", second.path("status").asText());
        assertEquals("2024-05-01T12:09:00Z", second.path("endsAt").asText());
        assertEquals("resolved", WebhookReceiver.payload(TestAlerts.group(receiver, resolved)).path("status").asText());

        HttpRequest request = receiver.request(notification, Duration.ofSeconds(1), Instant.now());
        assertEquals("POST", request.method());
        assertEquals(notification.id(), request.headers().firstValue("Idempotency-Key").orElseThrow());
        assertEquals("application/json", request.headers().firstValue("Content-Type").orElseThrow());
        assertTrue(request.headers().firstValue(WebhookReceiver.SIGNATURE_HEADER).isEmpty(), "no secret, no signature");
        assertEquals(body, AlertFormat.JSON.readTree(bodyOf(request)));
    }

    @Test
    void shouldSignWebhookRequestsSoTheReceiverCanVerifyThemWithTheSharedSecret() throws Exception {
        String secret = "whsec-0123456789abcdef";
        WebhookReceiver receiver = new WebhookReceiver("hook", URI.create("http://hooks.example/in"), secret);
        Notification notification = TestAlerts.group(receiver, TestAlerts.firing("fp-s"));
        Instant at = Instant.parse("2024-05-01T12:01:07Z");

        HttpRequest request = receiver.request(notification, Duration.ofSeconds(1), at);

        String timestamp = request.headers().firstValue(WebhookReceiver.TIMESTAMP_HEADER).orElseThrow();
        String signature = request.headers().firstValue(WebhookReceiver.SIGNATURE_HEADER).orElseThrow();
        assertEquals(Long.toString(at.getEpochSecond()), timestamp);
        String body = bodyOf(request);
        assertEquals("v1=" + hmacSha256Hex(secret, timestamp + "." + body), signature,
                "what the README tells a receiver to compute");
        assertNotEquals("v1=" + hmacSha256Hex("another-secret-0123", timestamp + "." + body), signature);
        assertNotEquals(signature, receiver.request(notification, Duration.ofSeconds(1), at.plusSeconds(30)).headers()
                .firstValue(WebhookReceiver.SIGNATURE_HEADER).orElseThrow(), "each attempt signs its own timestamp");
        assertFalse(receiver.describe().contains(secret) || receiver.toString().contains(secret), receiver.describe());
        assertEquals("bad **** here", receiver.redact("bad " + secret + " here"));
        assertEquals(new WebhookReceiver("hook", receiver.url()).identity(), receiver.identity(),
                "rotating the secret is not a new destination");
    }

    @Test
    void shouldLinkThePagerDutyTriggerToTheRunbook() {
        AlertEvent event = AlertEvent.newBuilder(TestAlerts.firing("fp-rb")).setRunbookUrl("https://wiki.example/cpu")
                .build();
        JsonNode links = PagerDutyReceiver.payload(event, ROUTING_KEY).path("links");
        assertEquals("https://wiki.example/cpu", links.get(0).path("href").asText());
        assertTrue(PagerDutyReceiver.payload(TestAlerts.firing("fp"), ROUTING_KEY).path("links").isMissingNode());
    }

    @Test
    void shouldDescribeReceiversWithoutTheirSecrets() {
        var slack = new SlackReceiver("slack", URI.create("https://hooks.slack.com/services/T000/B000/XXXXSECRET"));
        var pagerDuty = new PagerDutyReceiver("pagerduty", URI.create("https://events.pagerduty.com/v2/enqueue"), ROUTING_KEY);
        var webhook = new WebhookReceiver("webhook", URI.create("https://user:pw@hooks.example:8443/in?token=s3cr3t"));

        assertEquals("slack (slack https://hooks.slack.com/****)", slack.describe());
        assertFalse(pagerDuty.describe().contains(ROUTING_KEY), pagerDuty.describe());
        assertEquals("webhook (webhook https://hooks.example:8443/****)", webhook.describe());
        assertEquals("failed for **** here", pagerDuty.redact("failed for " + ROUTING_KEY + " here"));
        assertFalse(slack.redact("POST https://hooks.slack.com/services/T000/B000/XXXXSECRET: 404").contains("XXXXSECRET"));
        assertFalse(webhook.redact("connect to /in?token=s3cr3t refused").contains("s3cr3t"));
    }

    @Test
    void shouldIdentifyAReceiverByAStableHashOfItsAddressNeverByItsSecretOrOnlyItsKind() {
        var slack = new SlackReceiver("slack", URI.create("https://hooks.slack.com/services/T000/B000/XXXXSECRET"));
        var otherSlack = new SlackReceiver("slack", URI.create("https://hooks.slack.com/services/T000/B000/YYYYSECRET"));
        var pagerDuty = new PagerDutyReceiver("pagerduty", URI.create("https://events.pagerduty.com/v2/enqueue"), ROUTING_KEY);
        var otherPagerDuty = new PagerDutyReceiver("pagerduty", URI.create("https://events.pagerduty.com/v2/enqueue"),
                ROUTING_KEY + "2");

        assertTrue(slack.identity().matches("slack:[0-9a-f]{16}"), slack.identity());
        assertTrue(pagerDuty.identity().matches("pagerduty:[0-9a-f]{16}"), pagerDuty.identity());
        assertEquals(slack.identity(), new SlackReceiver("renamed", slack.webhookUrl()).identity(),
                "stable across restarts and names: it is what the delivered set is rebuilt by");
        assertNotEquals(slack.identity(), otherSlack.identity());
        assertNotEquals(pagerDuty.identity(), otherPagerDuty.identity());
        assertFalse(slack.identity().contains("XXXXSECRET") || pagerDuty.identity().contains(ROUTING_KEY));
    }

    private static final SlackReceiver SLACK = new SlackReceiver("slack", URI.create("https://hooks.slack.com/services/x"));

    private static JsonNode slack(AlertEvent event) {
        return SlackReceiver.payload(TestAlerts.single(SLACK, event));
    }

    /** fingerprint|firing or |resolved of each alert shown, by the section heading (block_id) it is under. */
    private static List<String> transitions(JsonNode blocks) {
        List<String> shown = new ArrayList<>();
        String state = null;
        for (JsonNode block : blocks) {
            if (block.has("block_id")) {
                state = block.path("block_id").asText();
            }
            for (JsonNode element : block.path("elements")) {
                java.util.regex.Matcher fingerprint = java.util.regex.Pattern.compile("fingerprint `([^`]+)`")
                        .matcher(element.path("text").asText());
                if (fingerprint.find()) {
                    shown.add(fingerprint.group(1) + "|" + state);
                }
            }
        }
        return shown;
    }

    private static void assertWithinSlackLimits(JsonNode message) {
        assertTrue(message.path("text").asText().length() <= SlackReceiver.MAX_TEXT);
        JsonNode blocks = message.path("attachments").get(0).path("blocks");
        assertTrue(blocks.size() <= SlackReceiver.MAX_BLOCKS, "blocks " + blocks.size());
        for (JsonNode block : blocks) {
            if (block.has("text")) {
                assertTrue(block.path("text").path("text").asText().length() <= SlackReceiver.MAX_SECTION);
            }
            assertTrue(block.path("fields").size() <= 10, "Slack allows 10 fields per section");
            for (JsonNode field : block.path("fields")) {
                assertTrue(field.path("text").asText().length() <= SlackReceiver.MAX_FIELD);
            }
            for (JsonNode element : block.path("elements")) {
                assertTrue(element.path("text").asText().length() <= SlackReceiver.MAX_SECTION);
            }
        }
    }

    /** The receiver's side of a signature, written here without the sender's code. */
    static String hmacSha256Hex(String secret, String text) throws Exception {
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new javax.crypto.spec.SecretKeySpec(secret.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                "HmacSHA256"));
        return java.util.HexFormat.of().formatHex(mac.doFinal(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    private static String bodyOf(HttpRequest request) throws Exception {
        List<java.nio.ByteBuffer> parts = new ArrayList<>();
        var done = new java.util.concurrent.CompletableFuture<Void>();
        request.bodyPublisher().orElseThrow().subscribe(new java.util.concurrent.Flow.Subscriber<>() {
            @Override
            public void onSubscribe(java.util.concurrent.Flow.Subscription s) {
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(java.nio.ByteBuffer item) {
                parts.add(item);
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onComplete() {
                done.complete(null);
            }
        });
        done.get();
        StringBuilder text = new StringBuilder();
        parts.forEach(b -> text.append(java.nio.charset.StandardCharsets.UTF_8.decode(b)));
        return text.toString();
    }
}
