package io.fleetpulse.alerting;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlMatching;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.testkit.Await;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.TopicProbe;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two alerting deployments on one broker and one fleet.alerts, each in its own consumer group with its own Slack
 * webhook and PagerDuty routing key, sharing the fleet.notifications audit topic: neither takes the other's
 * deliveries, nor audit records from before receiver identities existed, for its own.
 */
class AlertingDeploymentsIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String PD_PATH = "/v2/enqueue";
    private static final int EVENTS = 4;

    private KafkaFixture kafka;
    private WireMockServer receiversA;
    private WireMockServer receiversB;
    private final List<AlertingService> services = new ArrayList<>();

    @BeforeEach
    void startBrokerAndReceivers() throws Exception {
        kafka = KafkaFixture.start();
        kafka.createContractTopics(2);
        receiversA = receivers();
        receiversB = receivers();
    }

    @AfterEach
    void stopEverything() throws Exception {
        for (AlertingService service : services) {
            service.close();
        }
        receiversA.stop();
        receiversB.stop();
        kafka.close();
    }

    @Test
    void shouldDeliverEveryNotificationInASecondDeploymentStartedAfterTheFirstHadDeliveredThem() throws Exception {
        List<AlertEvent> events = new ArrayList<>();
        for (int i = 0; i < EVENTS / 2; i++) {
            AlertEvent firing = TestAlerts.firing("fp-deploy-" + i);
            events.add(firing);
            events.add(TestAlerts.resolved(firing));
        }
        // What a deployment from before receiver identities wrote: SENT, with an id naming only the receiver's kind.
        for (AlertEvent event : events) {
            for (String kind : List.of("slack", "pagerduty")) {
                TopicProbe.send(kafka.bootstrapServers(), Topics.NOTIFICATIONS, event.getFingerprint(),
                        v1Sent(event, kind));
            }
        }
        AlertingService a = start("it-team-a", receiversA, "/services/T1/B1/tokenA", "routing-key-team-a");
        events.forEach(e -> TopicProbe.send(kafka.bootstrapServers(), Topics.ALERTS, e.getFingerprint(), e));
        await(() -> a.sentCount("slack") == EVENTS && a.sentCount("pagerduty") == EVENTS, "team A to deliver", a);

        // Started once A's SENT records are on the shared audit topic: it reads them back, and must not be muted.
        AlertingService b = start("it-team-b", receiversB, "/services/T2/B2/tokenB", "routing-key-team-b");
        await(() -> b.sentCount("slack") == EVENTS && b.sentCount("pagerduty") == EVENTS, "team B to deliver", b);

        assertEquals(0, a.skippedCount("slack") + a.skippedCount("pagerduty"), "old audit records muted A");
        assertEquals(0, b.skippedCount("slack") + b.skippedCount("pagerduty"), "A's deliveries muted B");
        for (WireMockServer server : List.of(receiversA, receiversB)) {
            String slackPath = server == receiversA ? "/services/T1/B1/tokenA" : "/services/T2/B2/tokenB";
            for (AlertEvent event : events.subList(0, 1)) {
                assertEquals(2, server.countRequestsMatching(postRequestedFor(urlEqualTo(slackPath))
                        .withRequestBody(containing(event.getFingerprint())).build()).getCount(),
                        "FIRING and RESOLVED once each on " + slackPath);
            }
            assertEquals(EVENTS, server.countRequestsMatching(postRequestedFor(urlEqualTo(PD_PATH)).build()).getCount());
            assertEquals(EVENTS, server.countRequestsMatching(postRequestedFor(urlEqualTo(slackPath)).build()).getCount());
        }
        List<NotificationRecord> sent = TopicProbe.readUntil(kafka.bootstrapServers(), Topics.NOTIFICATIONS,
                        r -> r.stream().filter(n -> n.value().getDeployment() != null
                                && n.value().getOutcome() == NotificationOutcome.SENT).count() == 4L * EVENTS, WAIT)
                .stream().map(ConsumerRecord::value).filter(n -> n.getDeployment() != null).toList();
        assertEquals(4L * EVENTS, sent.stream().map(n -> n.getDeployment() + n.getReceiverId() + n.getNotificationId())
                .distinct().count(), "every SENT record names its deployment and receiver identity: " + sent);
        assertEquals(4, sent.stream().map(n -> n.getDeployment() + " " + n.getReceiverId()).distinct().count(),
                "two deployments × two receivers");
    }

    @Test
    void shouldStartDecideWhereTheSharedGroupOfAnEarlierVersionStopped() throws Exception {
        // What the version with one group for every receiver leaves: its group committed past what it delivered.
        for (int i = 0; i < EVENTS; i++) {
            AlertEvent old = TestAlerts.firing("fp-old-" + i);
            TopicProbe.send(kafka.bootstrapServers(), Topics.ALERTS, old.getFingerprint(), old);
        }
        Map<TopicPartition, OffsetAndMetadata> end = endOfAlerts();
        try (Admin admin = kafka.admin()) {
            admin.alterConsumerGroupOffsets("it-upgrade", end).all().get();
        }

        AlertingService upgraded = start("it-upgrade", receiversA, "/services/T1/B1/tokenA", "routing-key-upgrade");
        AlertEvent fresh = TestAlerts.firing("fp-after-upgrade");
        TopicProbe.send(kafka.bootstrapServers(), Topics.ALERTS, fresh.getFingerprint(), fresh);
        await(() -> upgraded.sentCount("slack") == 1 && upgraded.sentCount("pagerduty") == 1, "the new alert", upgraded);
        Map<TopicPartition, OffsetAndMetadata> endNow = endOfAlerts();
        // Decide reads fleet.alerts now (the receivers read fleet.outbox): its group is the one that moves on.
        await(() -> endNow.equals(committedOnAlerts("it-upgrade-decide")), "decide to commit it all", upgraded);

        assertEquals(0, receiversA.countRequestsMatching(postRequestedFor(urlMatching(".*"))
                .withRequestBody(containing("fp-old-")).build()).getCount(), "nothing from before the upgrade again");
        assertEquals(0, upgraded.skippedCount("slack") + upgraded.skippedCount("pagerduty"),
                "not even decided on: decide's group started where the shared one stopped");
    }

    private Map<TopicPartition, OffsetAndMetadata> committedOnAlerts(String group) {
        try (Admin admin = kafka.admin()) {
            Map<TopicPartition, OffsetAndMetadata> committed = new HashMap<>();
            admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().forEach((tp, offset) -> {
                if (offset != null && tp.topic().equals(Topics.ALERTS.name())) {
                    committed.put(tp, new OffsetAndMetadata(offset.offset()));
                }
            });
            return committed;
        } catch (Exception e) {
            throw new IllegalStateException("offsets of " + group, e);
        }
    }

    private Map<TopicPartition, OffsetAndMetadata> endOfAlerts() throws Exception {
        try (Admin admin = kafka.admin()) {
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (int p = 0; p < 2; p++) {
                latest.put(new TopicPartition(Topics.ALERTS.name(), p), OffsetSpec.latest());
            }
            Map<TopicPartition, OffsetAndMetadata> end = new HashMap<>();
            admin.listOffsets(latest).all().get().forEach((tp, info) -> end.put(tp, new OffsetAndMetadata(info.offset())));
            return end;
        }
    }

    private static NotificationRecord v1Sent(AlertEvent event, String kind) {
        return NotificationRecord.newBuilder()
                .setNotificationId(event.getFingerprint() + "|" + event.getState() + "|"
                        + event.getOccurredAt().toEpochMilli() + "|" + kind)
                .setFingerprint(event.getFingerprint()).setRuleId(event.getRuleId()).setTargetId(event.getTargetId())
                .setReceiver(kind).setReceiverType(kind).setAlertState(event.getState())
                .setOutcome(NotificationOutcome.SENT).setAttempt(1).setDecidedAt(Instant.now()).build();
    }

    private static WireMockServer receivers() {
        WireMockServer server = new WireMockServer(options().dynamicPort());
        server.start();
        server.stubFor(post(urlEqualTo(PD_PATH)).willReturn(aResponse().withStatus(202).withBody("{}")));
        server.stubFor(post(urlMatching("/services/.*")).willReturn(aResponse().withStatus(200).withBody("ok")));
        return server;
    }

    private AlertingService start(String group, WireMockServer server, String slackPath, String routingKey)
            throws Exception {
        AlertingService service = new AlertingService(Settings.of(Map.ofEntries(
                Map.entry("kafka.bootstrap.servers", kafka.bootstrapServers()),
                Map.entry("kafka.topic.partitions", "2"),
                Map.entry("alerting.group.id", group),
                Map.entry("alerting.slack.webhook.url", server.baseUrl() + slackPath),
                Map.entry("alerting.pagerduty.url", server.baseUrl() + PD_PATH),
                Map.entry("alerting.pagerduty.routing.key", routingKey),
                Map.entry("alerting.slack.rate.per.second", "50"),
                Map.entry("alerting.pagerduty.rate.per.second", "50"),
                Map.entry("alerting.webhook.rate.per.second", "50"),
                Map.entry("alerting.http.timeout", "2s"),
                Map.entry("ops.stop.timeout", "8s")), AlertingService.KEYS));
        services.add(service);
        service.start();
        await(service::isReady, group + " to join its group", service);
        return service;
    }

    private static void await(BooleanSupplier condition, String what, AlertingService service)
            throws InterruptedException {
        Await.until(condition, WAIT, what, () -> "status " + service.status());
    }
}
