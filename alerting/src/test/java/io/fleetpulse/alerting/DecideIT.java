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
import io.fleetpulse.events.OutboxRecord;
import io.fleetpulse.events.Severity;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.testkit.Await;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.TopicProbe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decide end to end on a real broker with local receivers: a routing file sends critical alerts to PagerDuty at once
 * and every alert to Slack (and a db target's to a signed webhook) grouped by target after group_wait, each group in
 * one request; a group waiting when the service stops is notified,
 * once, after the restart (its timer is in the changelogged store); a target's target-down alert mutes its other
 * alerts until it resolves.
 */
class DecideIT {

    private static final String SLACK_PATH = "/services/T9/B9/decideToken";
    private static final String PD_PATH = "/v2/enqueue";
    private static final String HOOK_PATH = "/hooks/decide?token=decideHookToken";
    private static final String SIGNING_SECRET = "decide-it-signing-secret-0123456789";
    private static final Duration GROUP_WAIT = Duration.ofSeconds(5);
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    static Path dir;
    private static KafkaFixture kafka;
    private static WireMockServer receivers;
    private static Map<String, String> settings;

    @BeforeAll
    static void startEverything() throws Exception {
        kafka = KafkaFixture.start();
        kafka.createContractTopics(2);
        receivers = new WireMockServer(options().dynamicPort());
        receivers.start();
        receivers.stubFor(post(urlEqualTo(SLACK_PATH)).willReturn(aResponse().withStatus(200).withBody("ok")));
        receivers.stubFor(post(urlEqualTo(PD_PATH)).willReturn(aResponse().withStatus(202).withBody("{}")));
        receivers.stubFor(post(urlEqualTo(HOOK_PATH)).willReturn(aResponse().withStatus(204)));
        Files.writeString(dir.resolve("slack-url"), receivers.baseUrl() + SLACK_PATH);
        Files.writeString(dir.resolve("hook-url"), receivers.baseUrl() + HOOK_PATH);
        Files.writeString(dir.resolve("hook-secret"), SIGNING_SECRET);
        Files.writeString(dir.resolve("pd-key"), "decideRoutingKey0123456789");
        Path routing = Files.writeString(dir.resolve("routing.yaml"), """
                receivers:
                  - {name: team-slack, kind: slack, url_file: %s}
                  - {name: oncall, kind: pagerduty, routing_key_file: %s, url: '%s'}
                  - {name: db-hook, kind: webhook, url_file: %s, signing_secret_file: %s}
                route:
                  receiver: team-slack
                  group_by: [target]
                  group_wait: %ds
                  group_interval: 2s
                  routes:
                    - {matchers: ['severity="critical"'], receiver: oncall, group_by: ['...'], group_wait: 0s,
                       continue: true}
                    - {matchers: ['target=~".+"'], continue: true}
                    - {matchers: ['target=~"db-.+"'], receiver: db-hook}
                inhibit_rules:
                  - {source_matchers: ['rule="target-down"'], target_matchers: ['rule!="target-down"'], equal: [target]}
                """.formatted(dir.resolve("slack-url"), dir.resolve("pd-key"), receivers.baseUrl() + PD_PATH,
                dir.resolve("hook-url"), dir.resolve("hook-secret"), GROUP_WAIT.toSeconds()));
        settings = Map.of(
                "kafka.bootstrap.servers", kafka.bootstrapServers(),
                "kafka.topic.partitions", "2",
                "alerting.group.id", "it-decide",
                "alerting.routing.file", routing.toString(),
                "alerting.decide.tick", "100ms",
                "alerting.decide.state.dir", dir.resolve("state").toString(),
                "alerting.slack.rate.per.second", "100",
                "ops.stop.timeout", "8s");
    }

    @AfterAll
    static void stopEverything() throws Exception {
        if (receivers != null) {
            receivers.stop();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void shouldPageCriticalAlertsAtOnceAndPostTheTargetsGroupToSlackAfterGroupWait() throws Exception {
        AlertingService service = start();
        try {
            long producedAt = System.currentTimeMillis();
            send(TestAlerts.firing("fp-dec-warning", "db-1", Severity.WARNING));
            send(TestAlerts.firing("fp-dec-critical", "db-1", Severity.CRITICAL));

            Await.until(() -> requests(PD_PATH, "fp-dec-").size() == 1, WAIT, "PagerDuty to be paged", service::status);
            assertTrue(requests(PD_PATH, "fp-dec-").get(0).getBodyAsString().contains("fp-dec-critical"),
                    "only the critical alert is routed to oncall");
            Await.until(() -> requests(SLACK_PATH, "fp-dec-").size() == 1, WAIT, "Slack to get the db-1 group",
                    service::status);
            Await.until(() -> requests(HOOK_PATH, "fp-dec-").size() == 1, WAIT, "the webhook to get the db-1 group",
                    service::status);
            for (LoggedRequest post : List.of(requests(SLACK_PATH, "fp-dec-").get(0), requests(HOOK_PATH, "fp-dec-").get(0))) {
                long after = post.getLoggedDate().getTime() - producedAt;
                assertTrue(after >= GROUP_WAIT.toMillis() - 200, "the group is told after group_wait: " + after);
            }
            String slackMessage = requests(SLACK_PATH, "fp-dec-").get(0).getBodyAsString();
            assertTrue(slackMessage.contains("fingerprint `fp-dec-warning`") && slackMessage.contains(
                    "fingerprint `fp-dec-critical`") && slackMessage.contains("[FIRING:2]"),
                    "the group in one Slack message: " + slackMessage);
            LoggedRequest hook = requests(HOOK_PATH, "fp-dec-").get(0);
            JsonNode body = AlertFormat.JSON.readTree(hook.getBodyAsString());
            assertEquals("4", body.path("version").asText());
            assertEquals("root.2{target=\"db-1\"}", body.path("groupKey").asText());
            assertEquals("db-hook", body.path("receiver").asText());
            assertEquals(List.of("fp-dec-warning", "fp-dec-critical"), java.util.stream.StreamSupport
                    .stream(body.path("alerts").spliterator(), false).map(a -> a.path("fingerprint").asText()).toList());
            // Verified as the README tells a receiver to: HMAC-SHA256 of "<timestamp>.<body>" with the shared secret.
            String timestamp = hook.getHeader("X-FleetPulse-Timestamp");
            assertEquals("v1=" + ReceiverPayloadTest.hmacSha256Hex(SIGNING_SECRET, timestamp + "." + hook.getBodyAsString()),
                    hook.getHeader("X-FleetPulse-Signature"));
            assertTrue(Math.abs(System.currentTimeMillis() / 1000 - Long.parseLong(timestamp)) < 60, timestamp);
            assertTrue(hook.getHeader("Idempotency-Key").contains("it-decide"), hook.getHeader("Idempotency-Key"));
            assertFalse(service.status().toString().contains(SIGNING_SECRET), "the secret is never on /status");

            List<OutboxRecord> slackGroup = outbox(r -> r.getReceiver().equals("team-slack")
                    && carries(r, "fp-dec-warning"));
            assertEquals(1, slackGroup.size(), "one group notification: " + slackGroup);
            assertEquals(List.of("fp-dec-warning", "fp-dec-critical"), slackGroup.get(0).getAlerts().stream()
                    .map(AlertEvent::getFingerprint).toList());
            assertEquals("root.1{target=\"db-1\"}", slackGroup.get(0).getGroupKey());
            assertEquals("it-decide", slackGroup.get(0).getDeployment());
            assertEquals(1, requests(PD_PATH, "fp-dec-").size(), "a warning never pages");
        } finally {
            service.close();
        }
    }

    @Test
    void shouldNotifyAGroupWaitingAtStopOnceAfterTheRestart() throws Exception {
        AlertingService first = start();
        try {
            send(TestAlerts.firing("fp-dec-restart", "web-9", Severity.WARNING));
            // Stopped while the group waits: decide has taken the alert in (its offset committed with the store).
            Await.until(DecideIT::decideCaughtUp, WAIT, "decide to take the alert in", first::status);
            assertEquals(0, requests(SLACK_PATH, "fp-dec-restart").size(), "still within group_wait");
        } finally {
            first.close();
        }
        AlertingService second = start();
        try {
            Await.until(() -> requests(SLACK_PATH, "fp-dec-restart").size() == 1, WAIT,
                    "the group to be notified after the restart", second::status);
            assertEquals(1, outbox(r -> r.getReceiver().equals("team-slack") && carries(r, "fp-dec-restart")).size(),
                    "notified once");
        } finally {
            second.close();
        }
    }

    @Test
    void shouldMuteATargetsAlertsWhileItsTargetDownFiresAndNotifyThemOnceItResolves() throws Exception {
        AlertingService service = start();
        try {
            AlertEvent down = AlertEvent.newBuilder(TestAlerts.firing("fp-inh-down", "web-5", Severity.WARNING))
                    .setRuleId("target-down").setSummary("web-5 unreachable").build();
            send(down);
            Await.until(DecideIT::decideCaughtUp, WAIT, "decide to take the source in", service::status);
            send(TestAlerts.firing("fp-inh-cpu", "web-5", Severity.WARNING));
            send(TestAlerts.firing("fp-inh-other", "web-6", Severity.WARNING));
            Await.until(() -> requests(SLACK_PATH, "fp-inh-other").size() == 1, WAIT, "web-6's alert on Slack",
                    service::status);
            Await.until(() -> requests(SLACK_PATH, "fp-inh-down").size() == 1, WAIT, "web-5 down on Slack",
                    service::status);

            long resolvedAt = System.currentTimeMillis();
            send(TestAlerts.resolved(down));
            Await.until(() -> requests(SLACK_PATH, "fp-inh-cpu").size() == 1, WAIT,
                    "web-5's CPU alert once web-5 is reachable again", service::status);

            List<OutboxRecord> cpu = outbox(r -> carries(r, "fp-inh-cpu"));
            assertTrue(cpu.get(0).getDecidedAt().toEpochMilli() >= resolvedAt,
                    "muted while target-down fired: first notified at " + cpu.get(0).getDecidedAt());
        } finally {
            service.close();
        }
    }

    private static AlertingService start() throws Exception {
        AlertingService service = new AlertingService(Settings.of(settings, AlertingService.KEYS));
        service.start();
        Await.until(service::isReady, WAIT, "the service to be ready", service::status);
        return service;
    }

    /** Whether decide's group committed every fleet.alerts record (so the alert is in its store and changelog). */
    private static boolean decideCaughtUp() {
        try (var admin = kafka.admin()) {
            var committed = admin.listConsumerGroupOffsets("it-decide-decide").partitionsToOffsetAndMetadata().get();
            var ends = admin.listOffsets(committed.keySet().stream().filter(tp -> tp.topic().equals(Topics.ALERTS.name()))
                    .collect(java.util.stream.Collectors.toMap(tp -> tp,
                            tp -> org.apache.kafka.clients.admin.OffsetSpec.latest()))).all().get();
            return !ends.isEmpty() && ends.entrySet().stream()
                    .allMatch(e -> committed.get(e.getKey()).offset() >= e.getValue().offset());
        } catch (Exception e) {
            return false;
        }
    }

    private static void send(AlertEvent event) {
        TopicProbe.send(kafka.bootstrapServers(), Topics.ALERTS, event.getFingerprint(), event);
    }

    private static List<LoggedRequest> requests(String path, String containing) {
        return receivers.findAll(postRequestedFor(urlEqualTo(path)).withRequestBody(containing(containing)));
    }

    private static boolean carries(OutboxRecord record, String fingerprint) {
        return record.getAlerts().stream().anyMatch(a -> a.getFingerprint().equals(fingerprint));
    }

    private static List<OutboxRecord> outbox(java.util.function.Predicate<OutboxRecord> which) {
        return TopicProbe.readUntil(kafka.bootstrapServers(), Topics.OUTBOX,
                        r -> r.stream().anyMatch(o -> which.test(o.value())), WAIT)
                .stream().map(ConsumerRecord::value).filter(which).toList();
    }
}
