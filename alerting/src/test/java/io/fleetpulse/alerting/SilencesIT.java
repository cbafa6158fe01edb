package io.fleetpulse.alerting;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.events.Severity;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.testkit.Await;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.TopicProbe;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Silences end to end on a real broker with a local Slack: a silence created through the HTTP API keeps its target's
 * alert from Slack and leaves a SILENCED audit record naming it; expired through the API, the still-firing alert is
 * delivered.
 */
class SilencesIT {

    private static final String SLACK_PATH = "/services/T7/B7/silenceToken";
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    private static KafkaFixture kafka;
    private static WireMockServer slack;
    private static AlertingService service;
    private static String api;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void startEverything() throws Exception {
        kafka = KafkaFixture.start();
        kafka.createContractTopics(2);
        slack = new WireMockServer(options().dynamicPort());
        slack.start();
        slack.stubFor(post(urlEqualTo(SLACK_PATH)).willReturn(aResponse().withStatus(200).withBody("ok")));
        Files.writeString(dir.resolve("slack-url"), slack.baseUrl() + SLACK_PATH);
        Path routing = Files.writeString(dir.resolve("routing.yaml"), """
                receivers:
                  - {name: team-slack, kind: slack, url_file: %s}
                route: {receiver: team-slack, group_by: [target], group_wait: 1s, group_interval: 1s}
                """.formatted(dir.resolve("slack-url")));
        service = new AlertingService(Settings.of(Map.of(
                "kafka.bootstrap.servers", kafka.bootstrapServers(),
                "kafka.topic.partitions", "2",
                "alerting.group.id", "it-silences",
                "alerting.routing.file", routing.toString(),
                "alerting.decide.tick", "100ms",
                "alerting.api.host", "127.0.0.1",
                "alerting.api.port", "0",
                "alerting.slack.rate.per.second", "100",
                "ops.stop.timeout", "8s"), AlertingService.KEYS));
        service.start();
        Await.until(service::isReady, WAIT, "the service to be ready", service::status);
        api = "http://127.0.0.1:" + service.silencesApiPort() + "/v1/silences";
    }

    @AfterAll
    static void stopEverything() throws Exception {
        if (service != null) {
            service.close();
        }
        if (slack != null) {
            slack.stop();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void shouldHoldASilencedAlertBackWithAnAuditRecordAndDeliverItOnceTheSilenceIsExpired() throws Exception {
        HttpResponse<String> created = call("POST", api, """
                {"matchers": ["target=\\"web-quiet\\""], "endsAt": "%s", "createdBy": "alice", "comment": "reboot"}
                """.formatted(Instant.now().plus(Duration.ofHours(1))));
        assertEquals(201, created.statusCode(), created.body());
        String id = JSON.readTree(created.body()).get("id").asText();
        assertEquals(200, call("GET", api + "/" + id, null).statusCode(), "created = readable here at once");
        assertEquals("active", JSON.readTree(call("GET", api + "?state=active", null).body())
                .get("silences").get(0).get("state").asText());

        send(TestAlerts.firing("fp-sil-quiet", "web-quiet", Severity.CRITICAL));
        send(TestAlerts.firing("fp-sil-loud", "web-loud", Severity.CRITICAL));
        List<NotificationRecord> silenced = audit(r -> r.getFingerprint().equals("fp-sil-quiet")
                && r.getOutcome() == NotificationOutcome.SILENCED);
        assertTrue(silenced.get(0).getError().contains(id), silenced.get(0).getError());
        Await.until(() -> slackGot("fp-sil-loud") == 1, WAIT, "the unsilenced alert on Slack", service::status);
        assertEquals(0, slackGot("fp-sil-quiet"), "both groups were due; only the silenced one stayed quiet");

        HttpResponse<String> expired = call("DELETE", api + "/" + id, null);
        assertEquals(200, expired.statusCode(), expired.body());
        assertEquals("expired", JSON.readTree(expired.body()).get("state").asText());

        Await.until(() -> slackGot("fp-sil-quiet") == 1, WAIT, "the alert on Slack once its silence is expired",
                service::status);
        assertEquals("expired", stateOf(id), "expired silences stay, as history");
    }

    @Test
    void shouldRefuseABadSilenceNamingEachField() throws Exception {
        HttpResponse<String> refused = call("POST", api, """
                {"matchers": ["target=~\\"(\\""], "createdBy": "", "comment": "c"}""");

        assertEquals(400, refused.statusCode());
        JsonNode errors = JSON.readTree(refused.body()).get("errors");
        assertTrue(errors.has("matchers") && errors.has("createdBy") && errors.has("endsAt"), refused.body());
        assertEquals(404, call("GET", api + "/no-such-id", null).statusCode());
    }

    private String stateOf(String id) {
        try {
            return JSON.readTree(call("GET", api + "/" + id, null).body()).get("state").asText();
        } catch (Exception e) {
            return null;
        }
    }

    private HttpResponse<String> call(String method, String url, String body) {
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(15))
                    .header("Content-Type", "application/json");
            request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError(method + " " + url + ": " + e, e);
        }
    }

    private static void send(AlertEvent event) {
        TopicProbe.send(kafka.bootstrapServers(), Topics.ALERTS, event.getFingerprint(), event);
    }

    private static int slackGot(String fingerprint) {
        return slack.findAll(postRequestedFor(urlEqualTo(SLACK_PATH)).withRequestBody(containing(fingerprint))).size();
    }

    private static List<NotificationRecord> audit(java.util.function.Predicate<NotificationRecord> which) {
        return TopicProbe.readUntil(kafka.bootstrapServers(), Topics.NOTIFICATIONS,
                        r -> r.stream().anyMatch(n -> which.test(n.value())), WAIT)
                .stream().map(ConsumerRecord::value).filter(which).toList();
    }
}
