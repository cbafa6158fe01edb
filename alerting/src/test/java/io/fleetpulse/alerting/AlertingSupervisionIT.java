package io.fleetpulse.alerting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.runtime.ServiceState;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.testkit.KafkaFixture;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.MemberToRemove;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;
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
 * Supervision against a real broker: a fault the consumer loop cannot get past fails the service (so the process
 * exits non-zero and is restarted) and leaves the batch uncommitted. The test broker does not auto-create topics, so
 * a deleted audit topic stays deleted and every audit send fails.
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
    void shouldFailLeavingTheBatchUncommittedWhenTheAuditTopicIsDeleted() throws Exception {
        AlertingService service = new AlertingService(Settings.of(Map.ofEntries(
                Map.entry("kafka.bootstrap.servers", kafka.bootstrapServers()),
                Map.entry("kafka.topic.partitions", "2"),
                Map.entry("alerting.group.id", GROUP),
                // Nothing listens there: each notification fails at once and is audited FAILED.
                Map.entry("alerting.webhook.urls", "http://127.0.0.1:" + closedPort() + "/hook"),
                Map.entry("alerting.retry.max.attempts", "1"),
                // An unacknowledged audit record fails after seconds, not the producer's default two minutes.
                Map.entry("kafka.client.max.block.ms", "2000"),
                Map.entry("kafka.client.request.timeout.ms", "3000"),
                Map.entry("kafka.client.delivery.timeout.ms", "5000")), AlertingService.KEYS));
        try {
            service.start();
            await(service::isReady, "the service to join its group", service);
            AlertEvent firing = TestAlerts.firing("fp-fault");
            RecordMetadata audited = send(firing);
            await(() -> service.notificationCount("webhook", NotificationOutcome.FAILED) == 1
                    && (long) service.status().get("batchesCommitted") == 1, "the first batch to commit", service);

            try (Admin admin = kafka.admin()) {
                admin.deleteTopics(List.of(Topics.NOTIFICATIONS.name())).all().get();
                await(() -> !admin.listTopics().names().get().contains(Topics.NOTIFICATIONS.name()),
                        "the audit topic to be gone", service);
            }
            RecordMetadata unaudited = send(TestAlerts.resolved(firing));
            long started = System.nanoTime();
            Throwable cause = service.failure().toCompletableFuture().get(FAILS_WITHIN.toSeconds(), TimeUnit.SECONDS);
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);

            assertTrue(cause.getMessage().startsWith("alerting: consumer died"), cause.getMessage());
            assertTrue(String.valueOf(cause.getCause()).contains("not acknowledged"), String.valueOf(cause.getCause()));
            assertEquals(ServiceState.FAILED, service.state());
            assertFalse(service.isLive(), "FAILED is not live: the orchestrator restarts it");
            assertFalse(service.isReady());
            assertTrue(String.valueOf(service.status().get("failure")).contains("consumer died"),
                    service.status().toString());
            assertTrue(seconds < FAILS_WITHIN.toSeconds(), "failed after " + seconds + " s");

            assertEquals(audited.partition(), unaudited.partition(), "one fingerprint, one partition");
            try (Admin admin = kafka.admin()) {
                OffsetAndMetadata committed = admin.listConsumerGroupOffsets(GROUP).partitionsToOffsetAndMetadata()
                        .get().get(new TopicPartition(unaudited.topic(), unaudited.partition()));
                assertEquals(unaudited.offset(), committed.offset(),
                        "the first batch is committed, the one whose audit failed is left for redelivery");
            }
        } finally {
            service.close();
        }
        assertEquals(ServiceState.FAILED, service.state(), "closing a failed service keeps it FAILED");
    }

    @Test
    void shouldFailWhenTheGroupExpelsItsMember() throws Exception {
        // A static member can be removed from its group by an admin, as the coordinator does to a member that
        // stopped heartbeating or polling.
        AlertingService service = new AlertingService(Settings.of(Map.of(
                "kafka.bootstrap.servers", kafka.bootstrapServers(),
                "kafka.topic.partitions", "2",
                "alerting.group.id", GROUP,
                "kafka.client.group.instance.id", "alerting-1"), AlertingService.KEYS));
        try {
            service.start();
            await(service::isReady, "the service to join its group", service);
            try (Admin admin = kafka.admin()) {
                admin.removeMembersFromConsumerGroup(GROUP, new RemoveMembersFromConsumerGroupOptions(
                        List.of(new MemberToRemove("alerting-1")))).all().get();
            }
            Throwable cause = service.failure().toCompletableFuture().get(FAILS_WITHIN.toSeconds(), TimeUnit.SECONDS);

            assertTrue(String.valueOf(cause.getCause()).contains("expelled from consumer group " + GROUP),
                    String.valueOf(cause.getCause()));
            assertEquals(ServiceState.FAILED, service.state());
        } finally {
            service.close();
        }
    }

    private static int closedPort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private RecordMetadata send(AlertEvent event) throws Exception {
        try (KafkaProducer<String, AlertEvent> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                Topics.ALERTS.keySerde().serializer(), Topics.ALERTS.valueSerde().serializer())) {
            return producer.send(new ProducerRecord<>(Topics.ALERTS.name(), event.getFingerprint(), event)).get();
        }
    }

    private static void await(Check condition, String what, AlertingService service) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what + "; status " + service.status());
            }
            Thread.sleep(50);
        }
    }

    @FunctionalInterface
    private interface Check {
        boolean holds() throws Exception;
    }
}
