package io.fleetpulse.alerting;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.events.OutboxRecord;
import io.fleetpulse.runtime.ServiceState;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.testkit.Await;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.TopicProbe;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.MemberToRemove;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Supervision against a real broker: a member expelled from its group fails the service (so the process exits
 * non-zero and is restarted), while an audit send the broker does not acknowledge is retried, never fatal, and keeps
 * its event uncommitted until it lands. The test broker does not auto-create topics, so a deleted audit topic stays
 * deleted until the test creates it again.
 */
class AlertingSupervisionIT {

    private static final String GROUP = "it-alerting-supervision";
    private static final Duration FAILS_WITHIN = Duration.ofSeconds(30);

    private KafkaFixture kafka;

    @BeforeEach
    void startBroker() throws Exception {
        kafka = KafkaFixture.start();
        kafka.createContractTopics(2);
    }

    @AfterEach
    void stopBroker() throws Exception {
        kafka.close();
    }

    @Test
    void shouldKeepRetryingAnAuditRecordWhileItsTopicIsGoneAndCommitOnceItIsBack() throws Exception {
        WireMockServer hook = new WireMockServer(options().dynamicPort());
        hook.start();
        hook.stubFor(post(urlEqualTo("/hook")).willReturn(aResponse().withStatus(204)));
        AlertingService service = new AlertingService(Settings.of(Map.ofEntries(
                Map.entry("kafka.bootstrap.servers", kafka.bootstrapServers()),
                Map.entry("kafka.topic.partitions", "2"),
                Map.entry("alerting.group.id", GROUP),
                Map.entry("alerting.webhook.urls", hook.baseUrl() + "/hook"),
                // An unacknowledged audit record fails after seconds, not the producer's default two minutes.
                Map.entry("kafka.client.max.block.ms", "1000"),
                Map.entry("kafka.client.request.timeout.ms", "1500"),
                Map.entry("kafka.client.delivery.timeout.ms", "2500")), AlertingService.KEYS));
        try {
            service.start();
            await(service::isReady, "the service to join its group", service);
            String group = receiverGroup(service);
            AlertEvent firing = TestAlerts.firing("fp-fault");
            send(firing);
            ConsumerRecord<String, OutboxRecord> audited = intentOf(firing);
            await(() -> committed(group, audited) == audited.offset() + 1, "the first event to commit", service);

            try (Admin admin = kafka.admin()) {
                admin.deleteTopics(List.of(Topics.NOTIFICATIONS.name())).all().get();
                await(() -> !admin.listTopics().names().get().contains(Topics.NOTIFICATIONS.name()),
                        "the audit topic to be gone", service);
            }
            AlertEvent resolved = TestAlerts.resolved(firing);
            send(resolved);
            await(() -> service.sentCount("webhook") == 2 && (long) service.status().get("auditResends") >= 2,
                    "the webhook to get the RESOLVED and its audit record to be sent again", service);

            assertEquals(ServiceState.RUNNING, service.state(), "an audit send failure is not fatal");
            ConsumerRecord<String, OutboxRecord> unaudited = intentOf(resolved);
            assertEquals(audited.partition(), unaudited.partition(), "one group, one partition of fleet.outbox");
            assertEquals(unaudited.offset(), committed(group, unaudited),
                    "the event whose audit record is not written yet stays uncommitted");

            kafka.createContractTopics(2);
            await(() -> committed(group, unaudited) == unaudited.offset() + 1,
                    "the audit record to land and the event to commit", service);
            assertTrue(TopicProbe.readUntil(kafka.bootstrapServers(), Topics.NOTIFICATIONS, r -> r.stream()
                    .anyMatch(n -> n.value().getOutcome() == NotificationOutcome.SENT
                            && n.value().getAlertState() == AlertState.RESOLVED), Duration.ofSeconds(20)).size() >= 1);
            assertEquals(2, hook.findAll(postRequestedFor(urlEqualTo("/hook"))).size(), "nothing sent twice");
        } finally {
            service.close();
            hook.stop();
        }
    }

    @Test
    void shouldFailWhenTheGroupExpelsItsMember() throws Exception {
        // A static member can be removed from its group by an admin, as the coordinator does to a member that
        // stopped heartbeating or polling.
        AlertingService service = new AlertingService(Settings.of(Map.of(
                "kafka.bootstrap.servers", kafka.bootstrapServers(),
                "kafka.topic.partitions", "2",
                "alerting.group.id", GROUP,
                "alerting.webhook.urls", "http://127.0.0.1:9/never-called",
                "kafka.client.group.instance.id", "alerting-1"), AlertingService.KEYS));
        try {
            service.start();
            await(service::isReady, "the service to join its group", service);
            String group = receiverGroup(service);
            try (Admin admin = kafka.admin()) {
                admin.removeMembersFromConsumerGroup(group, new RemoveMembersFromConsumerGroupOptions(
                        List.of(new MemberToRemove("alerting-1")))).all().get();
            }
            Throwable cause = service.failure().toCompletableFuture().get(FAILS_WITHIN.toSeconds(), TimeUnit.SECONDS);

            assertTrue(String.valueOf(cause.getCause()).contains("expelled from consumer group " + group),
                    String.valueOf(cause.getCause()));
            assertEquals(ServiceState.FAILED, service.state());
        } finally {
            service.close();
        }
    }

    /** The one receiver's consumer group, as /status names it. */
    private static String receiverGroup(AlertingService service) {
        return String.valueOf(((Map<?, ?>) ((List<?>) service.status().get("receivers")).get(0)).get("group"));
    }

    /** The group's committed offset of the record's partition, -1 when none. */
    /** The webhook's group notification on fleet.outbox that carries {@code event}. */
    private ConsumerRecord<String, OutboxRecord> intentOf(AlertEvent event) {
        Predicate<ConsumerRecord<String, OutboxRecord>> carries = r -> r.value().getAlerts().stream().anyMatch(a ->
                a.getFingerprint().equals(event.getFingerprint()) && a.getState() == event.getState());
        return TopicProbe.readUntil(kafka.bootstrapServers(), Topics.OUTBOX, r -> r.stream().anyMatch(carries),
                Duration.ofSeconds(30)).stream().filter(carries).findFirst().orElseThrow();
    }

    private long committed(String group, ConsumerRecord<?, ?> record) throws Exception {
        try (Admin admin = kafka.admin()) {
            OffsetAndMetadata committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get()
                    .get(new TopicPartition(record.topic(), record.partition()));
            return committed == null ? -1 : committed.offset();
        }
    }

    private RecordMetadata send(AlertEvent event) throws Exception {
        try (KafkaProducer<String, AlertEvent> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                Topics.ALERTS.keySerde().serializer(), Topics.ALERTS.valueSerde().serializer())) {
            return producer.send(new ProducerRecord<>(Topics.ALERTS.name(), event.getFingerprint(), event)).get();
        }
    }

    /** Its checks call the broker's admin API, which throws checked exceptions. */
    private static void await(Check condition, String what, AlertingService service) throws Exception {
        Await.until(() -> {
            try {
                return condition.holds();
            } catch (Exception e) {
                throw new IllegalStateException("checking " + what, e);
            }
        }, Duration.ofSeconds(20), what, () -> "status " + service.status());
    }

    @FunctionalInterface
    private interface Check {
        boolean holds() throws Exception;
    }
}
