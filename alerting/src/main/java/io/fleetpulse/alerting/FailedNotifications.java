package io.fleetpulse.alerting;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.events.OutboxRecord;
import io.fleetpulse.runtime.DaemonThreads;
import io.fleetpulse.runtime.KafkaSettings;
import io.fleetpulse.runtime.ServiceMeters;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topics;
import java.io.PrintWriter;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Re-sends the notifications one deployment recorded FAILED (behind {@code fleetpulse notifications retry}): finds
 * them on the fleet.notifications audit, finds what they told (a group notification on fleet.outbox for Slack and
 * webhooks, an alert event on fleet.alerts for PagerDuty), and delivers each once more through a
 * {@link DeliveryWorker} of its receiver, audited RESENT when it goes through. Ids are the original ones, so a
 * re-sent notification counts as delivered for the service's delivered set, and a second run re-sends nothing that
 * the first delivered.
 *
 * <p>Only FAILED notifications not later SENT are taken, of this deployment ({@code alerting.group.id}) and of a
 * receiver still configured with the same identity (the same URL or routing key).
 */
public final class FailedNotifications {

    private static final String CLIENT_ID = "fleetpulse-notifications-retry";
    private static final Duration READ_TIMEOUT = Duration.ofMinutes(2);
    /**
     * How far before a notification's alert transition (or decision, for a group) its record may have been
     * written to fleet.alerts (fleet.outbox).
     */
    private static final Duration EVENT_SLACK = Duration.ofHours(1);

    /** What a run did; {@code lines} says it per notification, secrets masked. */
    public record Report(int failed, int resent, int failedAgain, int notFound, List<String> lines) {
    }

    private FailedNotifications() {
    }

    /**
     * @param settings resolved with {@link AlertingService#KEYS}: the deployment's own configuration
     * @param receiver only this receiver's (its configured name), or null for every receiver
     * @param since    FAILED records decided at or after this
     * @param within   how long each one is retried now before it is recorded FAILED again
     */
    public static Report resend(Settings settings, String receiver, Instant since, Duration within,
                                PrintWriter progress) throws InterruptedException {
        AlertingSettings alerting = AlertingSettings.from(settings);
        KafkaSettings kafka = KafkaSettings.from(settings);
        Map<String, Receiver> receivers = new LinkedHashMap<>();
        for (Receiver r : alerting.receivers()) {
            if (receiver == null || r.name().equals(receiver)) {
                receivers.put(r.identity(), r);
            }
        }
        if (receiver != null && receivers.isEmpty()) {
            throw new IllegalArgumentException("no receiver named " + receiver + " is configured (configured: "
                    + alerting.receivers().stream().map(Receiver::name).toList() + ")");
        }
        String deployment = alerting.groupId();
        Map<String, NotificationRecord> failed = failedSince(kafka, deployment, receivers.keySet(), since);
        Map<String, Notification> found = new LinkedHashMap<>();
        found.putAll(alertNotifications(kafka, deployment, receivers, failed));
        found.putAll(groupNotifications(kafka, deployment, receivers, failed));
        List<String> lines = new ArrayList<>();
        int notFound = 0;
        for (NotificationRecord record : failed.values()) {
            if (!found.containsKey(record.getNotificationId())) {
                notFound++;
                boolean perAlert = receivers.get(record.getReceiverId()).perAlert();
                lines.add(record.getNotificationId() + " " + record.getReceiver() + " not found on "
                        + (perAlert ? Topics.ALERTS : Topics.OUTBOX).name() + " (past its retention?)");
            }
        }
        int[] outcomes = deliver(kafka, alerting, found, within, lines);
        lines.forEach(progress::println);
        progress.flush();
        return new Report(failed.size(), outcomes[0], outcomes[1], notFound, List.copyOf(lines));
    }

    /**
     * The FAILED notifications since {@code since} of this deployment and these receivers, not delivered since, by
     * id. A group notification has one record per alert, all with its id: one of them stands for it.
     */
    private static Map<String, NotificationRecord> failedSince(KafkaSettings kafka, String deployment,
                                                               Set<String> receiverIds, Instant since) {
        Map<String, NotificationRecord> failed = new LinkedHashMap<>();
        Set<String> delivered = new HashSet<>();
        try (KafkaConsumer<String, byte[]> reader = reader(kafka, "audit")) {
            TopicReplay.read(reader, Topics.NOTIFICATIONS.name(), since, READ_TIMEOUT, record -> {
                NotificationRecord n = decode(record, Topics.NOTIFICATIONS.valueSerde().deserializer()::deserialize);
                if (n == null || !deployment.equals(n.getDeployment()) || !receiverIds.contains(n.getReceiverId())) {
                    return;
                }
                if (DeliveredSet.isDelivered(n.getOutcome())) {
                    delivered.add(n.getNotificationId());
                    failed.remove(n.getNotificationId());
                } else if (n.getOutcome() == NotificationOutcome.FAILED && !delivered.contains(n.getNotificationId())
                        && !n.getDecidedAt().isBefore(since)) {
                    failed.putIfAbsent(n.getNotificationId(), n);
                }
            });
        }
        return failed;
    }

    /**
     * The notifications of receivers told alert by alert (PagerDuty), rebuilt from their alert events on
     * fleet.alerts: the id names the transition (fingerprint, state, time).
     */
    private static Map<String, Notification> alertNotifications(KafkaSettings kafka, String deployment,
                                                                Map<String, Receiver> receivers,
                                                                Map<String, NotificationRecord> failed) {
        Wanted wanted = Wanted.of(failed.values(), n -> {
            String[] parts = n.getNotificationId().split("\\|");
            if (!receivers.get(n.getReceiverId()).perAlert() || parts.length < 3) {
                return null;
            }
            return Map.entry(parts[0] + "|" + parts[1] + "|" + parts[2], Instant.ofEpochMilli(Long.parseLong(parts[2])));
        });
        Map<String, Notification> found = new LinkedHashMap<>();
        if (wanted.earliest() == null) {
            return found;
        }
        try (KafkaConsumer<String, byte[]> reader = reader(kafka, "alerts")) {
            TopicReplay.read(reader, Topics.ALERTS.name(), wanted.earliest().minus(EVENT_SLACK), READ_TIMEOUT, record -> {
                AlertEvent event = decode(record, Topics.ALERTS.valueSerde().deserializer()::deserialize);
                if (event != null && event.getOccurredAt() != null) {
                    String transition = event.getFingerprint() + "|" + event.getState() + "|"
                            + event.getOccurredAt().toEpochMilli();
                    for (NotificationRecord n : wanted.byKey().getOrDefault(transition, List.of())) {
                        found.put(n.getNotificationId(), Notification.of(event, deployment,
                                receivers.get(n.getReceiverId())));
                    }
                }
            });
        }
        return found;
    }

    /**
     * The group notifications (Slack, webhooks), rebuilt from decide's records on fleet.outbox: the id is the outbox
     * record's id (which ends with the decision time) + a hash of what it told + the deployment + the receiver's
     * identity; one outbox id may stand for two records (two flushes in one millisecond), told apart by the hash.
     */
    private static Map<String, Notification> groupNotifications(KafkaSettings kafka, String deployment,
                                                                Map<String, Receiver> receivers,
                                                                Map<String, NotificationRecord> failed) {
        Wanted wanted = Wanted.of(failed.values(), n -> {
            String suffix = "|" + deployment + "|" + n.getReceiverId();
            String id = n.getNotificationId();
            if (receivers.get(n.getReceiverId()).perAlert() || !id.endsWith(suffix)) {
                return null;
            }
            // <outbox id>|<transitions hash>|deployment|receiver id; the outbox id ends with the decision time
            String withHash = id.substring(0, id.length() - suffix.length());
            String outboxId = withHash.substring(0, Math.max(0, withHash.lastIndexOf('|')));
            try {
                return Map.entry(outboxId, Instant.ofEpochMilli(Long.parseLong(
                        outboxId.substring(outboxId.lastIndexOf('|') + 1))));
            } catch (NumberFormatException e) {
                return null; // not decide's (alerting's own notices): nothing on the outbox to send again
            }
        });
        Map<String, Notification> found = new LinkedHashMap<>();
        if (wanted.earliest() == null) {
            return found;
        }
        // Ids carry the receiver's identity; the router rebuilds exactly what was sent, minus nothing delivered.
        Router router = new Router(deployment, id -> false);
        try (KafkaConsumer<String, byte[]> reader = reader(kafka, "outbox")) {
            TopicReplay.read(reader, Topics.OUTBOX.name(), wanted.earliest().minus(EVENT_SLACK), READ_TIMEOUT, record -> {
                OutboxRecord intent = decode(record, Topics.OUTBOX.valueSerde().deserializer()::deserialize);
                if (intent == null || !deployment.equals(intent.getDeployment())) {
                    return;
                }
                for (NotificationRecord n : wanted.byKey().getOrDefault(intent.getNotificationId(), List.of())) {
                    router.route(intent, receivers.get(n.getReceiverId())).deliver().stream()
                            .filter(notification -> notification.id().equals(n.getNotificationId()))
                            .forEach(notification -> found.put(notification.id(), notification));
                }
            });
        }
        return found;
    }

    /**
     * FAILED records by what finds them on a topic (a transition, an outbox id), and the earliest time that topic
     * must be read from.
     */
    private record Wanted(Map<String, List<NotificationRecord>> byKey, Instant earliest) {

        /** @param keyAndTime a record's key and time, or null for a record not looked up this way */
        static Wanted of(Collection<NotificationRecord> failed,
                         Function<NotificationRecord, Map.Entry<String, Instant>> keyAndTime) {
            Map<String, List<NotificationRecord>> byKey = new LinkedHashMap<>();
            Instant earliest = null;
            for (NotificationRecord n : failed) {
                Map.Entry<String, Instant> wanted = keyAndTime.apply(n);
                if (wanted != null) {
                    byKey.computeIfAbsent(wanted.getKey(), k -> new ArrayList<>()).add(n);
                    earliest = earliest == null || wanted.getValue().isBefore(earliest) ? wanted.getValue() : earliest;
                }
            }
            return new Wanted(byKey, earliest);
        }
    }

    /** Delivers every found notification once more; returns {RESENT, FAILED} counts and adds a line per one. */
    private static int[] deliver(KafkaSettings kafka, AlertingSettings alerting, Map<String, Notification> found,
                                 Duration within, List<String> lines) throws InterruptedException {
        int[] counts = new int[2];
        if (found.isEmpty()) {
            return counts;
        }
        ExecutorService httpThreads = Executors.newCachedThreadPool(DaemonThreads.named(CLIENT_ID + "-http"));
        RetryPolicy.Limits configured = alerting.retryLimits();
        RetryPolicy policy = new RetryPolicy(new RetryPolicy.Limits(within, configured.initialBackoff(),
                configured.maxBackoff(), configured.retryAfterMax(), configured.retryAfterBudget()),
                () -> ThreadLocalRandom.current().nextDouble());
        DeliveredSet delivered = new DeliveredSet(alerting.groupId(), alerting.deliveredLookback());
        ServiceMeters meters = ServiceMeters.create("alerting");
        Map<String, DeliveryWorker> workers = new LinkedHashMap<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(kafka.producer(CLIENT_ID),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            HttpClient http = HttpClient.newBuilder().connectTimeout(alerting.httpTimeout())
                    .followRedirects(HttpClient.Redirect.NEVER).executor(httpThreads).build();
            DeliveryWorker.AuditLog audit = record -> {
                CompletableFuture<Void> acked = new CompletableFuture<>();
                producer.send(new ProducerRecord<>(Topics.NOTIFICATIONS.name(),
                        record.getFingerprint().getBytes(StandardCharsets.UTF_8),
                        Topics.NOTIFICATIONS.valueSerde().serializer().serialize(Topics.NOTIFICATIONS.name(), record)),
                        (metadata, e) -> {
                            if (e == null) {
                                acked.complete(null);
                            } else {
                                acked.completeExceptionally(e);
                            }
                        });
                return acked;
            };
            Map<String, DeliveryWorker.Delivery> deliveries = new LinkedHashMap<>();
            for (Notification notification : found.values()) {
                Receiver receiver = notification.receiver();
                DeliveryWorker worker = workers.computeIfAbsent(receiver.identity(), id -> new DeliveryWorker(receiver,
                        alerting.groupId(), http, alerting.httpTimeout(), policy,
                        TokenBucket.perSecond(alerting.ratePerSecond(receiver.type())), delivered, audit,
                        DeliveryWorker.Scheduler.onThread(CLIENT_ID + "-" + receiver.name()), Clock.systemUTC(),
                        new ReceiverHealth(alerting.failing()), meters));
                deliveries.put(notification.id(), worker.resend(notification));
            }
            long waitMillis = within.plus(alerting.httpTimeout()).plusSeconds(30).toMillis();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
            for (Map.Entry<String, DeliveryWorker.Delivery> entry : deliveries.entrySet()) {
                DeliveryWorker.Result result = await(entry.getValue(), deadline);
                Receiver receiver = entry.getValue().notification.receiver();
                if (result == DeliveryWorker.Result.SENT || result == DeliveryWorker.Result.SKIPPED) {
                    counts[0]++;
                    lines.add(entry.getKey() + " " + receiver.name() + " re-sent");
                } else {
                    counts[1]++;
                    DeliveryWorker.LastError last = workers.get(receiver.identity()).lastError();
                    lines.add(entry.getKey() + " " + receiver.name() + " failed again"
                            + (last == null ? "" : ": " + last.error()));
                }
            }
        } finally {
            workers.values().forEach(DeliveryWorker::close);
            httpThreads.shutdownNow();
        }
        return counts;
    }

    private static DeliveryWorker.Result await(DeliveryWorker.Delivery delivery, long deadlineNanos)
            throws InterruptedException {
        try {
            return delivery.settled.get(Math.max(1, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return DeliveryWorker.Result.FAILED;
        }
    }

    private static KafkaConsumer<String, byte[]> reader(KafkaSettings kafka, String what) {
        Map<String, Object> props = kafka.common(CLIENT_ID + "-" + what);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
    }

    private static <T> T decode(ConsumerRecord<String, byte[]> record, BiFunction<String, byte[], T> decoder) {
        try {
            return record.value() == null ? null : decoder.apply(record.topic(), record.value());
        } catch (SerializationException e) {
            return null; // not ours to dead-letter here: this only looks things up
        }
    }
}
