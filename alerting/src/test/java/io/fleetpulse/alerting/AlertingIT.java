package io.fleetpulse.alerting;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.events.OutboxRecord;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.DeadLetters;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.testkit.Await;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.Promtool;
import io.fleetpulse.testkit.TopicProbe;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.LoggerFactory;

/**
 * The alerting service against a real broker, with WireMock standing in for Slack and PagerDuty. One service runs
 * for the class; each test uses its own fingerprints and stubs that match only them.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AlertingIT {

    private static final String ROUTING_KEY = "itR0uting0Key0Never0Logged0123";
    private static final String SLACK_TOKEN = "SLACKSECRETTOKEN42";
    private static final String SLACK_PATH = "/services/T0001/B0001/" + SLACK_TOKEN;
    private static final String PD_PATH = "/v2/enqueue";
    private static final String WEBHOOK_TOKEN = "WEBHOOKSECRET77";
    private static final String WEBHOOK_PATH = "/hooks/fleet?token=" + WEBHOOK_TOKEN;
    private static final Duration WAIT = Duration.ofSeconds(20);

    private static KafkaFixture kafka;
    private static WireMockServer slack;
    private static WireMockServer pagerDuty;
    private static AlertingService service;
    private static final ListAppender<ILoggingEvent> LOGS = new ListAppender<>();

    @BeforeAll
    static void startEverything() throws Exception {
        LOGS.start();
        root().addAppender(LOGS);
        kafka = KafkaFixture.start();
        kafka.createContractTopics(2);
        slack = new WireMockServer(options().dynamicPort());
        pagerDuty = new WireMockServer(options().dynamicPort());
        slack.start();
        pagerDuty.start();
        slack.stubFor(post(urlEqualTo(SLACK_PATH)).atPriority(10).willReturn(aResponse().withStatus(200).withBody("ok")));
        // The generic webhook lives on the same local server as Slack, on its own path.
        slack.stubFor(post(urlEqualTo(WEBHOOK_PATH)).atPriority(10).willReturn(aResponse().withStatus(204)));
        pagerDuty.stubFor(post(urlEqualTo(PD_PATH)).atPriority(10).willReturn(aResponse().withStatus(202)
                .withHeader("Content-Type", "application/json")
                .withBody("{\"status\":\"success\",\"message\":\"Event processed\"}")));
        service = startService();
    }

    @AfterAll
    static void stopEverything() throws Exception {
        if (service != null) {
            service.close();
        }
        if (slack != null) {
            slack.stop();
        }
        if (pagerDuty != null) {
            pagerDuty.stop();
        }
        if (kafka != null) {
            kafka.close();
        }
        root().detachAppender(LOGS);
    }

    @Test
    @Order(1)
    void shouldTriggerThenResolveInPagerDutyWithTheFingerprintAndPostBothToSlackAndTheWebhook() throws Exception {
        AlertEvent firing = TestAlerts.firing("fp-lifecycle");
        send(firing);
        send(TestAlerts.resolved(firing));

        List<NotificationRecord> sent = awaitNotifications("fp-lifecycle",
                r -> r.stream().filter(n -> n.getOutcome() == NotificationOutcome.SENT).count() == 6);

        assertEquals(6, sent.size(), "one SENT per receiver and transition, nothing else: " + sent);
        List<JsonNode> pdBodies = bodies(pagerDuty.findAll(postRequestedFor(urlEqualTo(PD_PATH))
                .withRequestBody(matchingJsonPath("$.dedup_key", equalTo("fp-lifecycle")))));
        assertEquals(List.of("trigger", "resolve"), pdBodies.stream().map(b -> b.path("event_action").asText()).toList());
        for (JsonNode body : pdBodies) {
            assertEquals(ROUTING_KEY, body.path("routing_key").asText());
            assertEquals("fp-lifecycle", body.path("dedup_key").asText());
        }
        assertEquals("web-1", pdBodies.get(0).path("payload").path("source").asText());

        List<JsonNode> slackBodies = bodies(slack.findAll(postRequestedFor(urlEqualTo(SLACK_PATH))
                .withRequestBody(containing("fp-lifecycle"))));
        assertEquals(2, slackBodies.size());
        assertTrue(slackBodies.get(0).path("text").asText().startsWith("[FIRING] CRITICAL web-1"));
        assertTrue(slackBodies.get(1).path("text").asText().startsWith("[RESOLVED]"));
        List<LoggedRequest> hooks = slack.findAll(postRequestedFor(urlEqualTo(WEBHOOK_PATH))
                .withRequestBody(containing("fp-lifecycle")));
        assertEquals(List.of("firing", "resolved"), bodies(hooks).stream()
                .map(b -> b.path("alerts").get(0).path("status").asText()).toList(), "Alertmanager's webhook format");
        Object webhookId = ((List<?>) service.status().get("receivers")).stream().map(r -> (Map<?, ?>) r)
                .filter(r -> r.get("name").equals("webhook")).findFirst().orElseThrow().get("id");
        assertTrue(hooks.get(1).getHeader("Idempotency-Key").endsWith("|it-alerting|" + webhookId),
                "the group notification's id: " + hooks.get(1).getHeader("Idempotency-Key"));
        assertFalse(hooks.get(0).getHeader("Idempotency-Key").equals(hooks.get(1).getHeader("Idempotency-Key")));
        assertTrue(service.sentCount("slack") >= 2 && service.sentCount("pagerduty") >= 2
                && service.sentCount("webhook") >= 2, service.status().toString());
    }

    @Test
    @Order(2)
    void shouldRecordRetriedThenSentWhenPagerDutyFailsOnce() throws Exception {
        pagerDuty.stubFor(post(urlEqualTo(PD_PATH)).atPriority(1).inScenario("flaky")
                .whenScenarioStateIs(Scenario.STARTED).withRequestBody(containing("fp-flaky"))
                .willReturn(aResponse().withStatus(500).withBody("upstream hiccup"))
                .willSetStateTo("recovered"));

        send(TestAlerts.firing("fp-flaky"));

        List<NotificationRecord> pd = pagerDutyOnly(awaitNotifications("fp-flaky", r -> pagerDutyOnly(r).stream()
                .anyMatch(n -> n.getOutcome() == NotificationOutcome.SENT)));
        assertEquals(List.of(NotificationOutcome.RETRIED, NotificationOutcome.SENT),
                pd.stream().map(NotificationRecord::getOutcome).toList());
        assertEquals(1, pd.get(0).getAttempt());
        assertEquals(500, pd.get(0).getHttpStatus());
        assertEquals("HTTP 500: upstream hiccup", pd.get(0).getError());
        assertEquals(2, pd.get(1).getAttempt());
        assertEquals(202, pd.get(1).getHttpStatus());
        assertEquals(pd.get(0).getNotificationId(), pd.get(1).getNotificationId(), "one notification, two attempts");
    }

    @Test
    @Order(3)
    void shouldWaitAsLongAsRetryAfterSaysOn429() throws Exception {
        pagerDuty.stubFor(post(urlEqualTo(PD_PATH)).atPriority(1).inScenario("throttled")
                .whenScenarioStateIs(Scenario.STARTED).withRequestBody(containing("fp-throttled"))
                .willReturn(aResponse().withStatus(429).withHeader("Retry-After", "1"))
                .willSetStateTo("open"));

        send(TestAlerts.firing("fp-throttled"));
        awaitNotifications("fp-throttled", r -> pagerDutyOnly(r).stream()
                .anyMatch(n -> n.getOutcome() == NotificationOutcome.SENT));

        List<LoggedRequest> attempts = pagerDuty.findAll(postRequestedFor(urlEqualTo(PD_PATH))
                .withRequestBody(containing("fp-throttled")));
        assertEquals(2, attempts.size());
        long gap = attempts.get(1).getLoggedDate().getTime() - attempts.get(0).getLoggedDate().getTime();
        assertTrue(gap >= 1000, "the second attempt waited for Retry-After: 1 (max backoff is 200 ms), gap " + gap + " ms");
    }

    @Test
    @Order(4)
    void shouldRecordFailedOnAPermanent400AndStillDeliverTheNextAlert() throws Exception {
        pagerDuty.stubFor(post(urlEqualTo(PD_PATH)).atPriority(1).withRequestBody(containing("fp-rejected"))
                .willReturn(aResponse().withStatus(400).withBody("{\"status\":\"invalid event\"}")));

        send(TestAlerts.firing("fp-rejected"));
        send(TestAlerts.firing("fp-after-rejected"));

        List<NotificationRecord> rejected = pagerDutyOnly(awaitNotifications("fp-rejected",
                r -> pagerDutyOnly(r).stream().anyMatch(n -> n.getOutcome() == NotificationOutcome.FAILED)));
        assertEquals(1, rejected.size(), "a permanent error is not retried: " + rejected);
        assertEquals(NotificationOutcome.FAILED, rejected.get(0).getOutcome());
        assertEquals(400, rejected.get(0).getHttpStatus());
        assertTrue(rejected.get(0).getError().contains("permanent"), rejected.get(0).getError());
        assertEquals(1, pagerDuty.countRequestsMatching(postRequestedFor(urlEqualTo(PD_PATH))
                .withRequestBody(containing("fp-rejected")).build()).getCount());

        awaitNotifications("fp-after-rejected", r -> pagerDutyOnly(r).stream()
                .anyMatch(n -> n.getOutcome() == NotificationOutcome.SENT));
        assertTrue(service.notificationCount("pagerduty", NotificationOutcome.FAILED) >= 1);
    }

    @Test
    @Order(5)
    void shouldDeadLetterAnUndecodableAlertAndGoOn() throws Exception {
        TopicProbe.sendRaw(kafka.bootstrapServers(), Topics.ALERTS.name(), "garbage".getBytes(StandardCharsets.UTF_8),
                "not an avro alert".getBytes(StandardCharsets.UTF_8));
        send(TestAlerts.firing("fp-after-garbage"));

        List<ConsumerRecord<org.apache.kafka.common.utils.Bytes, DeadLetter>> dead = TopicProbe.readUntil(
                kafka.bootstrapServers(), Topics.DLQ, r -> r.stream().anyMatch(d -> d.value().getService().equals("alerting")),
                WAIT);
        DeadLetter letter = dead.stream().map(ConsumerRecord::value).filter(d -> d.getService().equals("alerting"))
                .findFirst().orElseThrow();
        assertEquals(DeadLetters.UNDECODABLE, letter.getReason());
        assertEquals(Topics.ALERTS.name(), letter.getSourceTopic());
        awaitNotifications("fp-after-garbage", r -> r.stream().filter(n -> n.getOutcome() == NotificationOutcome.SENT)
                .count() == 3);
    }

    @Test
    @Order(6)
    void shouldNotResendADeliveredSlackMessageAfterARestart() throws Exception {
        AlertEvent firing = TestAlerts.firing("fp-restart");
        send(firing);
        awaitNotifications("fp-restart", r -> r.stream().filter(n -> n.getOutcome() == NotificationOutcome.SENT)
                .count() == 3);
        List<String> groups = receiverGroups();
        assertEquals(3, groups.stream().distinct().count(), "one group per receiver: " + groups);
        List<?> receivers = (List<?>) service.status().get("receivers");
        service.close();

        // Rewind every receiver's group to its notification of the delivered event on fleet.outbox, as a crash
        // before the commits would leave them.
        List<ConsumerRecord<String, OutboxRecord>> intents = TopicProbe.readUntil(kafka.bootstrapServers(),
                Topics.OUTBOX, r -> r.stream().filter(o -> carries(o.value(), "fp-restart")).count() == 3, WAIT);
        try (Admin admin = kafka.admin()) {
            for (Object receiver : receivers) {
                Map<?, ?> shown = (Map<?, ?>) receiver;
                ConsumerRecord<String, OutboxRecord> intent = intents.stream()
                        .filter(o -> carries(o.value(), "fp-restart") && o.value().getReceiver().equals(shown.get("name")))
                        .findFirst().orElseThrow();
                admin.alterConsumerGroupOffsets(String.valueOf(shown.get("group")), Map.of(
                        new TopicPartition(intent.topic(), intent.partition()),
                        new OffsetAndMetadata(intent.offset()))).all().get();
            }
        }
        service = startService();
        await(() -> service.skippedCount("slack") == 1 && service.skippedCount("pagerduty") == 1
                        && service.skippedCount("webhook") == 1,
                "the restarted service to read the event again and skip it");

        assertEquals(1, slack.countRequestsMatching(postRequestedFor(urlEqualTo(SLACK_PATH))
                .withRequestBody(containing("fp-restart")).build()).getCount(), "Slack got the message once");
        assertEquals(1, slack.countRequestsMatching(postRequestedFor(urlEqualTo(WEBHOOK_PATH))
                .withRequestBody(containing("fp-restart")).build()).getCount(), "the webhook got it once");
        assertEquals(0, service.sentCount("slack") + service.sentCount("webhook") + service.sentCount("pagerduty"));
        await(() -> (long) service.status().get("commits") >= 3, "each receiver to commit the redelivered event");
    }

    @Test
    @Order(7)
    void shouldKeepTheRoutingKeyAndSlackTokenOutOfLogsStatusMetricsAndAudit() throws Exception {
        String status = service.status().toString();
        assertFalse(status.contains(ROUTING_KEY), status);
        assertFalse(status.contains(SLACK_TOKEN), status);
        assertFalse(status.contains(WEBHOOK_TOKEN), status);
        assertTrue(status.contains("routing key ****"), status);
        String metrics = ((PrometheusMeterRegistry) service.meterRegistry()).scrape();
        assertFalse(metrics.contains(ROUTING_KEY) || metrics.contains(SLACK_TOKEN));

        List<ILoggingEvent> events = List.copyOf(LOGS.list);
        assertTrue(events.stream().anyMatch(e -> e.getFormattedMessage().startsWith("alerting receivers:")),
                "the start-up log was captured");
        for (ILoggingEvent event : events) {
            String text = event.getFormattedMessage() + throwableText(event.getThrowableProxy());
            assertFalse(text.contains(ROUTING_KEY), text);
            assertFalse(text.contains(SLACK_TOKEN), text);
            assertFalse(text.contains(WEBHOOK_TOKEN), text);
        }
        for (var record : TopicProbe.readUntil(kafka.bootstrapServers(), Topics.NOTIFICATIONS, r -> !r.isEmpty(), WAIT)) {
            String error = String.valueOf(record.value().getError());
            assertFalse(error.contains(ROUTING_KEY) || error.contains(SLACK_TOKEN), error);
        }
    }

    @Test
    @Order(8)
    void shouldExportItsMetersUnderTheFleetpulsePrefixWithHelpHistogramsAndKafkaClientSeries() throws Exception {
        String metrics = ((PrometheusMeterRegistry) service.meterRegistry()).scrape();

        for (String expected : List.of("# HELP fleetpulse_alerting_alerts_consumed_total ",
                "fleetpulse_alerting_notifications_total{outcome=\"sent\",receiver=\"slack\",receiver_type=\"slack\"}",
                "# HELP fleetpulse_alerting_notifications_skipped_total ",
                "fleetpulse_alerting_delivery_duration_seconds_bucket{",
                "# HELP fleetpulse_alerting_notifications_in_flight ",
                "# HELP fleetpulse_alerting_delivered_set_size ",
                "kafka_consumer_fetch_manager_records_lag_max", "kafka_producer_record_send_total")) {
            assertTrue(metrics.contains(expected), expected + " in\n" + metrics);
        }
        assertFalse(metrics.lines().anyMatch(l -> l.startsWith("alerting_") || l.contains(" alerting_")),
                "no meter without the fleetpulse_ prefix");
        assertFalse(metrics.contains("quantile="), "histograms, not client-side percentiles");
        Promtool.assertNoFindings("alerting /metrics", metrics);
    }

    // ---------------------------------------------------------------- helpers

    private static AlertingService startService() throws Exception {
        AlertingService started = new AlertingService(Settings.of(Map.ofEntries(
                Map.entry("kafka.bootstrap.servers", kafka.bootstrapServers()),
                Map.entry("kafka.topic.partitions", "2"),
                Map.entry("alerting.group.id", "it-alerting"),
                Map.entry("alerting.slack.webhook.url", slack.baseUrl() + SLACK_PATH),
                Map.entry("alerting.pagerduty.url", pagerDuty.baseUrl() + PD_PATH),
                Map.entry("alerting.pagerduty.routing.key", ROUTING_KEY),
                Map.entry("alerting.webhook.urls", slack.baseUrl() + WEBHOOK_PATH),
                Map.entry("alerting.retry.budget", "5s"),
                Map.entry("alerting.retry.initial.backoff", "50ms"),
                Map.entry("alerting.retry.max.backoff", "200ms"),
                Map.entry("alerting.slack.rate.per.second", "50"),
                Map.entry("alerting.pagerduty.rate.per.second", "50"),
                Map.entry("alerting.webhook.rate.per.second", "50"),
                Map.entry("alerting.http.timeout", "2s"),
                Map.entry("ops.stop.timeout", "8s")), AlertingService.KEYS));
        started.start();
        await(started::isReady, "the alerting service to join its group");
        return started;
    }

    /** Each receiver's consumer group, as /status names them. */
    private static boolean carries(OutboxRecord intent, String fingerprint) {
        return intent.getAlerts().stream().anyMatch(a -> a.getFingerprint().equals(fingerprint));
    }

    private static List<String> receiverGroups() {
        return ((List<?>) service.status().get("receivers")).stream()
                .map(r -> String.valueOf(((Map<?, ?>) r).get("group"))).toList();
    }

    private static RecordMetadata send(AlertEvent event) throws Exception {
        try (KafkaProducer<String, AlertEvent> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                Topics.ALERTS.keySerde().serializer(), Topics.ALERTS.valueSerde().serializer())) {
            return producer.send(new ProducerRecord<>(Topics.ALERTS.name(), event.getFingerprint(), event)).get();
        }
    }

    /** The audit records of one fingerprint, once {@code until} holds for them. */
    private static List<NotificationRecord> awaitNotifications(String fingerprint,
                                                               Predicate<List<NotificationRecord>> until) {
        return only(fingerprint, TopicProbe.readUntil(kafka.bootstrapServers(), Topics.NOTIFICATIONS,
                r -> until.test(only(fingerprint, r)), WAIT));
    }

    private static List<NotificationRecord> only(String fingerprint, List<ConsumerRecord<String, NotificationRecord>> records) {
        return records.stream().filter(r -> fingerprint.equals(r.key())).map(ConsumerRecord::value).toList();
    }

    private static List<NotificationRecord> pagerDutyOnly(List<NotificationRecord> records) {
        return records.stream().filter(n -> n.getReceiverType().equals("pagerduty")).toList();
    }

    private static List<JsonNode> bodies(List<LoggedRequest> requests) throws Exception {
        List<JsonNode> out = new java.util.ArrayList<>();
        for (LoggedRequest request : requests) {
            out.add(AlertFormat.JSON.readTree(request.getBodyAsString()));
        }
        return out;
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        Await.until(condition, WAIT, what, () -> service == null ? null : "status " + service.status());
    }

    private static String throwableText(IThrowableProxy proxy) {
        return proxy == null ? "" : " " + proxy.getClassName() + ": " + proxy.getMessage() + throwableText(proxy.getCause());
    }

    private static ch.qos.logback.classic.Logger root() {
        return (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }
}
