package io.fleetpulse.alerting;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.runtime.OpsServer;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.testkit.Await;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.TopicProbe;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One receiver failing never delays another, on a real broker with local HTTP receivers and the ops endpoints served
 * over HTTP: PagerDuty answers 500 for a long stretch while Slack keeps its normal latency. Slack must hear every
 * alert within about a second of its production (the coupled loop made it wait ~25 minutes), /readyz turns degraded
 * with the reason on /status and the receiver_failing gauge at 1, Slack gets one notice that PagerDuty is failing;
 * then PagerDuty recovers, gets every alert exactly once, and Slack gets one notice that it is back.
 */
class IndependentReceiversIT {

    private static final String SLACK_PATH = "/services/T9/B9/indepSlackToken";
    private static final String PD_PATH = "/v2/enqueue";
    private static final String ROUTING_KEY = "indepRoutingKey0123456789abcdef";
    private static final int ALERTS = 20;
    private static final long SLACK_WITHIN_MS = 2_000;
    private static final Duration WAIT = Duration.ofSeconds(30);

    private static KafkaFixture kafka;
    private static WireMockServer slack;
    private static WireMockServer pagerDuty;
    private static AlertingService service;
    private static OpsServer ops;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void startEverything() throws Exception {
        kafka = KafkaFixture.start();
        kafka.createContractTopics(2);
        slack = new WireMockServer(options().dynamicPort());
        pagerDuty = new WireMockServer(options().dynamicPort());
        slack.start();
        pagerDuty.start();
        slack.stubFor(post(urlEqualTo(SLACK_PATH)).willReturn(aResponse().withStatus(200).withBody("ok")));
        service = new AlertingService(Settings.of(Map.ofEntries(
                Map.entry("kafka.bootstrap.servers", kafka.bootstrapServers()),
                Map.entry("kafka.topic.partitions", "2"),
                Map.entry("alerting.group.id", "it-independent"),
                Map.entry("alerting.slack.webhook.url", slack.baseUrl() + SLACK_PATH),
                Map.entry("alerting.pagerduty.url", pagerDuty.baseUrl() + PD_PATH),
                Map.entry("alerting.pagerduty.routing.key", ROUTING_KEY),
                Map.entry("alerting.retry.initial.backoff", "50ms"),
                Map.entry("alerting.retry.max.backoff", "300ms"),
                Map.entry("alerting.receiver.failing.after.failures", "10"),
                // Small, so PagerDuty's in-flight set fills and its consumer pauses: Slack's must not.
                Map.entry("alerting.receiver.max.in.flight", "5"),
                Map.entry("alerting.slack.rate.per.second", "100"),
                Map.entry("alerting.pagerduty.rate.per.second", "100"),
                Map.entry("alerting.http.timeout", "2s"),
                Map.entry("ops.stop.timeout", "8s")), AlertingService.KEYS));
        service.start();
        ops = OpsServer.start(service, "127.0.0.1", 0);
        await(service::isReady, "the service to join its groups");
        // Decide's first record pays for its first transactions (repartition topic, changelog, outbox); what is
        // timed below is the steady state.
        TopicProbe.send(kafka.bootstrapServers(), Topics.ALERTS, "fp-warmup", TestAlerts.firing("fp-warmup"));
        await(() -> !slack.findAll(postRequestedFor(urlEqualTo(SLACK_PATH)).withRequestBody(containing("fp-warmup")))
                .isEmpty(), "Slack to get the warm-up alert");
    }

    @AfterAll
    static void stopEverything() throws Exception {
        if (ops != null) {
            ops.close();
        }
        if (service != null) {
            service.close();
        }
        for (WireMockServer server : new WireMockServer[] {slack, pagerDuty}) {
            if (server != null) {
                server.stop();
            }
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void shouldKeepSlackOnTimeWhilePagerDutyFailsThenDeliverEverythingToPagerDutyOnceItRecovers() throws Exception {
        pagerDuty.stubFor(post(urlEqualTo(PD_PATH)).willReturn(aResponse().withStatus(500).withBody("overloaded")));

        Map<String, Long> producedAt = new HashMap<>();
        try (KafkaProducer<String, AlertEvent> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                Topics.ALERTS.keySerde().serializer(), Topics.ALERTS.valueSerde().serializer())) {
            for (int i = 0; i < ALERTS; i++) {
                AlertEvent firing = TestAlerts.firing("fp-indep-" + i);
                producer.send(new ProducerRecord<>(Topics.ALERTS.name(), firing.getFingerprint(), firing)).get();
                producedAt.put(firing.getFingerprint(), System.currentTimeMillis());
            }
        }

        await(() -> slackAlerts().size() == ALERTS, "Slack to get every alert");
        for (LoggedRequest request : slackAlerts()) {
            String fingerprint = TestAlerts.fingerprintIn(request.getBodyAsString(), "fp-indep-");
            long late = request.getLoggedDate().getTime() - producedAt.get(fingerprint);
            assertTrue(late <= SLACK_WITHIN_MS, fingerprint + " reached Slack " + late + " ms after it was produced");
        }
        assertEquals(0, service.sentCount("pagerduty"), "PagerDuty was failing all along: " + service.status());
        long retrying = pagerDuty.findAll(postRequestedFor(urlEqualTo(PD_PATH)).withRequestBody(containing("fp-indep-"))).stream()
                .map(r -> TestAlerts.fingerprintIn(r.getBodyAsString(), "fp-indep-")).distinct().count();
        assertTrue(retrying >= 5, "PagerDuty notifications are retried concurrently, not one at a time: " + retrying);
        JsonNode pdWhileFailing = receiver(AlertFormat.JSON.readTree(get("/status").body()), "pagerduty");
        assertTrue(pdWhileFailing.path("uncommitted").asInt() <= 10 && pdWhileFailing.path("uncommitted").asInt() > 0,
                "PagerDuty holds at most about its in-flight bound, paused, while Slack read on: " + pdWhileFailing);

        // PagerDuty keeps failing: degraded, with the reason and the gauge, and one notice on Slack.
        await(() -> get("/readyz").statusCode() == 503, "/readyz to say not ready while PagerDuty is failing");
        JsonNode status = AlertFormat.JSON.readTree(get("/status").body());
        String reason = status.path("degraded").path(0).asText();
        assertTrue(reason.startsWith("receiver pagerduty (pagerduty:") && reason.contains("failing since")
                && reason.contains("HTTP 500"), reason);
        JsonNode pdHealth = receiver(status, "pagerduty").path("health");
        assertTrue(pdHealth.path("failing").asBoolean(), pdHealth.toString());
        assertFalse(pdHealth.path("failingSince").isNull(), pdHealth.toString());
        assertFalse(receiver(status, "slack").path("health").path("failing").asBoolean());
        String statusText = status.toString();
        assertFalse(statusText.contains(ROUTING_KEY) || statusText.contains("indepSlackToken"), statusText);
        String metrics = get("/metrics").body();
        assertTrue(metrics.contains("# HELP fleetpulse_alerting_receiver_failing "), metrics);
        assertTrue(metrics.contains("fleetpulse_alerting_receiver_failing{receiver=\"pagerduty\",receiver_type=\"pagerduty\"} 1.0"),
                metrics);
        assertTrue(metrics.contains("fleetpulse_alerting_receiver_failing{receiver=\"slack\",receiver_type=\"slack\"} 0.0"),
                metrics);
        await(() -> failingNotices("FIRING").size() == 1, "one notice on Slack that PagerDuty is failing");
        String notice = failingNotices("FIRING").get(0).getBodyAsString();
        assertTrue(notice.contains("alert receiver pagerduty"), notice);
        assertFalse(notice.contains(ROUTING_KEY), notice);

        // PagerDuty is back: every alert reaches it exactly once, readiness returns, and Slack hears so, once.
        pagerDuty.stubFor(post(urlEqualTo(PD_PATH)).atPriority(1).willReturn(aResponse().withStatus(202)
                .withBody("{}")));
        await(() -> service.sentCount("pagerduty") == ALERTS, "PagerDuty to get every alert once it recovers");
        await(() -> get("/readyz").statusCode() == 200, "/readyz to be ready again");
        await(() -> failingNotices("RESOLVED").size() == 1, "one notice on Slack that PagerDuty delivers again");
        List<NotificationRecord> sent = TopicProbe.readUntil(kafka.bootstrapServers(), Topics.NOTIFICATIONS,
                        r -> r.stream().filter(n -> n.value().getReceiverType().equals("pagerduty")
                                && n.value().getOutcome() == NotificationOutcome.SENT).count() == ALERTS, WAIT)
                .stream().map(ConsumerRecord::value)
                .filter(n -> n.getReceiverType().equals("pagerduty") && n.getOutcome() == NotificationOutcome.SENT)
                .toList();
        assertEquals(ALERTS, sent.size(), "one SENT per alert: " + sent);
        assertEquals(ALERTS, sent.stream().map(NotificationRecord::getFingerprint).distinct().count(),
                "none lost, none twice: " + sent);
        assertEquals(ALERTS, service.sentCount("pagerduty"));
        assertEquals(1, failingNotices("FIRING").size(), "still one failing notice");
        assertEquals(ALERTS, slackAlerts().size(), "Slack got each alert once");
    }

    // ---------------------------------------------------------------- helpers

    private static List<LoggedRequest> slackAlerts() {
        return slack.findAll(postRequestedFor(urlEqualTo(SLACK_PATH)).withRequestBody(containing("fp-indep-")));
    }

    private static List<LoggedRequest> failingNotices(String state) {
        return slack.findAll(postRequestedFor(urlEqualTo(SLACK_PATH))
                .withRequestBody(containing(AlertingService.FAILING_RULE))
                .withRequestBody(containing("[" + state + "]")));
    }

    private static JsonNode receiver(JsonNode status, String name) {
        for (JsonNode receiver : status.path("receivers")) {
            if (receiver.path("name").asText().equals(name)) {
                return receiver;
            }
        }
        throw new AssertionError("no receiver " + name + " in " + status);
    }

    private static HttpResponse<String> get(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ops.port() + path)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException("GET " + path, e);
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        Await.until(condition, WAIT, what, () -> service == null ? null : "status " + service.status());
    }
}
