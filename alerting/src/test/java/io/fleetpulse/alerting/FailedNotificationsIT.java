package io.fleetpulse.alerting;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.testkit.Await;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.TopicProbe;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * FAILED notifications found on the audit and re-sent, once, to a receiver that works again, audited RESENT: pages
 * (per alert, found on fleet.alerts) and Slack messages (per group notification, found on fleet.outbox).
 */
class FailedNotificationsIT {

    private static final String SLACK_PATH = "/services/T5/B5/retrySlackToken";
    private static final String PD_PATH = "/v2/enqueue";
    private static final String ROUTING_KEY = "retry-routing-key-0123456789";
    private static final int ALERTS = 3;

    private KafkaFixture kafka;
    private WireMockServer receivers;

    @BeforeEach
    void start() throws Exception {
        kafka = KafkaFixture.start();
        kafka.createContractTopics(2);
        receivers = new WireMockServer(options().dynamicPort());
        receivers.start();
        receivers.stubFor(post(urlEqualTo(SLACK_PATH)).willReturn(aResponse().withStatus(200).withBody("ok")));
    }

    @AfterEach
    void stop() throws Exception {
        receivers.stop();
        kafka.close();
    }

    @Test
    void shouldResendFailedPagesOnceThePagerDutyKeyWorksAgainAndNothingTwice() throws Exception {
        Instant since = Instant.now().minusSeconds(60);
        // A routing key PagerDuty does not know yet: every page is rejected (400) and recorded FAILED at once.
        receivers.stubFor(post(urlEqualTo(PD_PATH)).willReturn(aResponse().withStatus(400)
                .withBody("{\"status\":\"invalid routing key\"}")));
        // Slack rejects the message of the first alert only.
        receivers.stubFor(post(urlEqualTo(SLACK_PATH)).atPriority(1).withRequestBody(containing("fp-retry-0"))
                .willReturn(aResponse().withStatus(404).withBody("no_service")));
        try (AlertingService service = new AlertingService(settings())) {
            service.start();
            for (int i = 0; i < ALERTS; i++) {
                AlertEvent firing = TestAlerts.firing("fp-retry-" + i);
                TopicProbe.send(kafka.bootstrapServers(), Topics.ALERTS, firing.getFingerprint(), firing);
            }
            await(() -> service.notificationCount("pagerduty", NotificationOutcome.FAILED) == ALERTS
                    && service.sentCount("slack") == ALERTS - 1
                    && service.notificationCount("slack", NotificationOutcome.FAILED) == 1,
                    "every page and one Slack message to fail, the other messages to go");
        }

        receivers.stubFor(post(urlEqualTo(PD_PATH)).atPriority(1).willReturn(aResponse().withStatus(202).withBody("{}")));
        StringWriter out = new StringWriter();
        FailedNotifications.Report report = FailedNotifications.resend(settings(), "pagerduty", since,
                Duration.ofSeconds(10), new PrintWriter(out));

        assertEquals(new FailedNotifications.Report(ALERTS, ALERTS, 0, 0, report.lines()), report, out.toString());
        assertTrue(out.toString().contains("fp-retry-0|FIRING|") && out.toString().contains("pagerduty re-sent"),
                out.toString());
        assertTrue(!out.toString().contains(ROUTING_KEY), out.toString());
        for (int i = 0; i < ALERTS; i++) {
            assertEquals(2, receivers.countRequestsMatching(postRequestedFor(urlEqualTo(PD_PATH))
                    .withRequestBody(containing("fp-retry-" + i)).build()).getCount(), "rejected once, re-sent once");
        }

        receivers.stubFor(post(urlEqualTo(SLACK_PATH)).atPriority(1).withRequestBody(containing("fp-retry-0"))
                .willReturn(aResponse().withStatus(200).withBody("ok")));
        FailedNotifications.Report slack = FailedNotifications.resend(settings(), "slack", since,
                Duration.ofSeconds(10), new PrintWriter(new StringWriter()));
        assertEquals(new FailedNotifications.Report(1, 1, 0, 0, slack.lines()), slack, "the group notification, "
                + "found on fleet.outbox: " + slack.lines());
        assertEquals(2, receivers.countRequestsMatching(postRequestedFor(urlEqualTo(SLACK_PATH))
                .withRequestBody(containing("fp-retry-0")).build()).getCount(), "rejected once, re-sent once");
        List<NotificationRecord> audit = TopicProbe.readUntil(kafka.bootstrapServers(), Topics.NOTIFICATIONS,
                r -> r.stream().filter(n -> n.value().getOutcome() == NotificationOutcome.RESENT).count() == ALERTS + 1,
                Duration.ofSeconds(30)).stream().map(ConsumerRecord::value).toList();
        assertEquals(ALERTS + 1, audit.stream().filter(n -> n.getOutcome() == NotificationOutcome.RESENT).count(),
                "every re-send audited RESENT, never SENT: " + audit);
        assertEquals(0, audit.stream().filter(n -> n.getOutcome() == NotificationOutcome.SENT
                && n.getReceiverType().equals("pagerduty")).count());

        FailedNotifications.Report again = FailedNotifications.resend(settings(), null, since, Duration.ofSeconds(10),
                new PrintWriter(new StringWriter()));
        assertEquals(0, again.failed(), "the re-sent ones are RESENT now: " + again.lines());
        assertEquals(ALERTS + 1, receivers.countRequestsMatching(postRequestedFor(urlEqualTo(SLACK_PATH)).build())
                .getCount(), "Slack got nothing again");
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> FailedNotifications
                .resend(settings(), "opsgenie", since, Duration.ofSeconds(1), new PrintWriter(new StringWriter())));
        assertTrue(unknown.getMessage().contains("no receiver named opsgenie"), unknown.getMessage());
    }

    private Settings settings() {
        return Settings.of(Map.ofEntries(
                Map.entry("kafka.bootstrap.servers", kafka.bootstrapServers()),
                Map.entry("kafka.topic.partitions", "2"),
                Map.entry("alerting.group.id", "it-alerting-retry"),
                Map.entry("alerting.slack.webhook.url", receivers.baseUrl() + SLACK_PATH),
                Map.entry("alerting.pagerduty.url", receivers.baseUrl() + PD_PATH),
                Map.entry("alerting.pagerduty.routing.key", ROUTING_KEY),
                Map.entry("alerting.slack.rate.per.second", "50"),
                Map.entry("alerting.pagerduty.rate.per.second", "50"),
                Map.entry("alerting.http.timeout", "2s"),
                Map.entry("ops.stop.timeout", "6s")), AlertingService.KEYS);
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        Await.until(condition, Duration.ofSeconds(30), what, () -> null);
    }
}
