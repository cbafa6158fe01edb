package io.fleetpulse.alerting;

import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.runtime.text.Durations;
import io.fleetpulse.schemas.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ids of notifications already delivered, so a group notification redelivered after a restart or rebalance
 * (at-least-once consumption of fleet.outbox) is not posted to Slack or a webhook twice. PagerDuty would fold a duplicate by dedup_key anyway; it
 * is checked here too to save the call.
 *
 * <p>The bound: ids are remembered for {@code lookback} (default 24 h) by the time they were sent, and at start the
 * set is rebuilt from this deployment's SENT records on fleet.notifications (see {@link #isOwnDelivery}) whose Kafka
 * timestamp is within the same lookback. Ids name the deployment and the receiver's identity (see
 * {@link Notification}), so deployments sharing the audit topic never mute each other. A
 * notification redelivered more than {@code lookback} after its first delivery could be sent again; uncommitted
 * events are redelivered within seconds or minutes, so this never happens in practice short of a consumer group
 * being rewound by more than a day on purpose.
 */
final class DeliveredSet {

    private static final Logger LOG = LoggerFactory.getLogger(DeliveredSet.class);

    private final String deployment;
    private final Duration lookback;
    private final Map<String, Long> sentAtMillis = new ConcurrentHashMap<>();

    /** @param deployment the consumer group: only SENT records this deployment wrote are taken back at start */
    DeliveredSet(String deployment, Duration lookback) {
        this.deployment = deployment;
        this.lookback = lookback;
    }

    boolean contains(String notificationId) {
        return sentAtMillis.containsKey(notificationId);
    }

    void add(String notificationId, Instant sentAt) {
        sentAtMillis.merge(notificationId, sentAt.toEpochMilli(), Math::max);
    }

    int size() {
        return sentAtMillis.size();
    }

    /** Forgets ids sent more than the lookback before {@code now}; keeps memory bounded by the send rate. */
    void prune(Instant now) {
        long horizon = now.minus(lookback).toEpochMilli();
        sentAtMillis.values().removeIf(sentAt -> sentAt < horizon);
    }

    /**
     * Reads fleet.notifications from {@code now - lookback} to its current end with an unsubscribed consumer and
     * remembers every SENT or RESENT notification id (a group notification's records share one id). Returns how many records were read.
     */
    long rebuild(Consumer<String, byte[]> consumer, Instant now, Duration timeout) {
        Instant since = now.minus(lookback);
        long read;
        try {
            read = TopicReplay.read(consumer, Topics.NOTIFICATIONS.name(), since, timeout, this::remember);
        } catch (IllegalStateException e) {
            throw new IllegalStateException(e.getMessage() + " (rebuilding the delivered set, "
                    + Durations.format(lookback) + " back)", e);
        }
        LOG.info("delivered set rebuilt: {} sent notification ids from {} records of {} since {}",
                size(), read, Topics.NOTIFICATIONS.name(), since);
        return read;
    }

    private void remember(ConsumerRecord<String, byte[]> record) {
        try {
            NotificationRecord notification = Topics.NOTIFICATIONS.valueSerde().deserializer()
                    .deserialize(record.topic(), record.value());
            if (isOwnDelivery(notification)) {
                add(notification.getNotificationId(), notification.getDecidedAt());
            }
        } catch (SerializationException e) {
            // Not ours to dead-letter: the audit topic is only read here to avoid duplicates.
            LOG.warn("skipping an undecodable record at {}-{}@{} while rebuilding the delivered set",
                    record.topic(), record.partition(), record.offset());
        }
    }

    /** SENT, or RESENT by {@code fleetpulse notifications retry}: the receiver has it. */
    static boolean isDelivered(NotificationOutcome outcome) {
        return outcome == NotificationOutcome.SENT || outcome == NotificationOutcome.RESENT;
    }

    /**
     * A SENT (or RESENT) record this deployment wrote, to a receiver it can name. The audit topic is shared by every deployment;
     * records of another group, and records from before v2 of the schema (no receiver identity, no deployment, ids
     * naming only the receiver's kind), say nothing about what this deployment delivered, so they are left out.
     */
    boolean isOwnDelivery(NotificationRecord notification) {
        return notification != null && isDelivered(notification.getOutcome())
                && notification.getReceiverId() != null && deployment.equals(notification.getDeployment());
    }
}
