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
import java.util.ArrayList;
import java.util.List;
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
                .setLabels(java.util.Map.of("blob", "z".repeat(5_000))).build();
        JsonNode message = SlackReceiver.payload(huge);

        String text = message.path("text").asText();
        assertTrue(text.length() <= SlackReceiver.MAX_TEXT, "text " + text.length());
        assertTrue(text.matches("(?s).*… \\(\\d+ more characters\\)$"), text.substring(text.length() - 40));
        for (JsonNode block : message.path("attachments").get(0).path("blocks")) {
            if (block.has("text")) {
                assertTrue(block.path("text").path("text").asText().length() <= SlackReceiver.MAX_SECTION);
            }
            for (JsonNode field : block.path("fields")) {
                assertTrue(field.path("text").asText().length() <= SlackReceiver.MAX_FIELD);
            }
            for (JsonNode element : block.path("elements")) {
                assertTrue(element.path("text").asText().length() <= SlackReceiver.MAX_SECTION);
            }
        }
        assertEquals("abcdefgh… (44 more characters)", SlackReceiver.clip("abcdefghijklmnopqrstuvwxyz".repeat(2), 30));
        assertEquals("short", SlackReceiver.clip("short", 10));
    }

    @Test
    void shouldBuildASlackMessageWithTextAndAColouredAttachment() {
        JsonNode firing = SlackReceiver.payload(TestAlerts.firing("fp-9"));

        assertEquals("[FIRING] CRITICAL web-1: CPU above 90% for 5m (rule cpu-high)", firing.path("text").asText());
        JsonNode attachment = firing.path("attachments").get(0);
        assertEquals(SlackReceiver.COLOR_CRITICAL, attachment.path("color").asText());
        String blocks = attachment.path("blocks").toString();
        assertTrue(blocks.contains("*FIRING*"), blocks);
        assertTrue(blocks.contains("*Target*\\nweb-1"), blocks);
        assertTrue(blocks.contains("*Rule*\\ncpu-high"), blocks);
        assertTrue(blocks.contains("*Severity*\\nCRITICAL"), blocks);
        assertTrue(blocks.contains("cpu_percent 97.5 &gt; 90 over 2024-05-01T12:00:00Z"), "evidence, escaped: " + blocks);
        assertTrue(blocks.contains("*Started*\\n2024-05-01T12:01:00Z"), blocks);
        assertFalse(blocks.contains("*Ended*"), "a firing alert has not ended: " + blocks);
        assertTrue(blocks.contains("fingerprint `fp-9`"), blocks);

        JsonNode resolved = SlackReceiver.payload(TestAlerts.resolved(TestAlerts.firing("fp-9")));
        assertTrue(resolved.path("text").asText().startsWith("[RESOLVED]"));
        assertEquals(SlackReceiver.COLOR_RESOLVED, resolved.path("attachments").get(0).path("color").asText());
        assertTrue(resolved.toString().contains("*Ended*\\n2024-05-01T12:09:00Z"), resolved.toString());
    }

    @Test
    void shouldColourFiringSlackMessagesBySeverity() {
        assertEquals(SlackReceiver.COLOR_WARNING, SlackReceiver.payload(TestAlerts.firing("f", "t", Severity.WARNING))
                .path("attachments").get(0).path("color").asText());
        assertEquals(SlackReceiver.COLOR_INFO, SlackReceiver.payload(TestAlerts.firing("f", "t", Severity.INFO))
                .path("attachments").get(0).path("color").asText());
    }

    @Test
    void shouldEscapeSlackControlCharactersInAlertText() {
        AlertEvent nasty = AlertEvent.newBuilder(TestAlerts.firing("f")).setSummary("<!channel> a & b").build();
        String blocks = SlackReceiver.payload(nasty).path("attachments").toString();
        assertTrue(blocks.contains("&lt;!channel&gt; a &amp; b"), blocks);
        assertFalse(blocks.contains("<!channel>"), blocks);
    }

    @Test
    void shouldSendTheAlertEventWithItsNotificationIdToWebhooks() throws Exception {
        AlertEvent event = TestAlerts.resolved(TestAlerts.firing("fp-w"));
        WebhookReceiver receiver = new WebhookReceiver("webhook", URI.create("http://hooks.example/alerts?token=s3cr3t"));
        Notification notification = Notification.of(event, "it-group", receiver);

        JsonNode body = WebhookReceiver.payload(event, notification.id());
        assertEquals(notification.id(), body.path("notificationId").asText());
        assertEquals("fp-w", body.path("fingerprint").asText());
        assertEquals("RESOLVED", body.path("state").asText());
        assertEquals("CRITICAL", body.path("severity").asText());
        assertEquals("2024-05-01T12:09:00Z", body.path("endsAt").asText());
        assertEquals(41.0, body.path("evidence").path("value").asDouble());
        assertEquals("eu-1", body.path("labels").path("dc").asText());

        HttpRequest request = receiver.request(notification, Duration.ofSeconds(1));
        assertEquals("POST", request.method());
        assertEquals(notification.id(), request.headers().firstValue("Idempotency-Key").orElseThrow());
        assertEquals("application/json", request.headers().firstValue("Content-Type").orElseThrow());
        assertEquals(body, AlertFormat.JSON.readTree(bodyOf(request)));
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
