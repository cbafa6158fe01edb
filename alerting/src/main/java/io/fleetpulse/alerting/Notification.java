package io.fleetpulse.alerting;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.OutboxRecord;
import java.util.List;
import java.util.Map;

/**
 * What one receiver of one deployment is told in one request: a whole group notification for Slack and webhooks, one
 * alert transition of it for PagerDuty (whose incidents are per alert, {@code dedup_key} = fingerprint).
 *
 * @param id        the idempotence key (delivered set, audit, the webhook's {@code Idempotency-Key}), stable across
 *                  retries, restarts and redeliveries. A group notification's is the outbox record's id (receiver,
 *                  group key, decision time), a hash of the alert transitions it tells, the deployment and the
 *                  receiver's {@link Receiver#identity() identity};
 *                  an alert transition's is its fingerprint, state and transition time, the deployment and the
 *                  identity. So a redelivered outbox record maps to the same id, while a second deployment, or the
 *                  same one pointed at another Slack URL or routing key, never takes another's delivery for its own
 * @param groupKey  the group it belongs to (route id + group_by values); notifications of one group go out in order
 * @param groupLabels the group_by labels and their values
 * @param alerts    what it tells, firing and resolved, in the order decide listed them; never empty
 */
record Notification(String id, String groupKey, Map<String, String> groupLabels, List<AlertEvent> alerts,
                    Receiver receiver) {

    Notification {
        if (alerts.isEmpty()) {
            throw new IllegalArgumentException("a notification tells at least one alert: " + id);
        }
        groupLabels = Map.copyOf(groupLabels);
        alerts = List.copyOf(alerts);
    }

    /** The whole group notification {@code intent}, its alerts as given (those left to send), for one receiver. */
    static Notification ofGroup(OutboxRecord intent, List<AlertEvent> alerts, String deployment, Receiver receiver) {
        return new Notification(intent.getNotificationId() + "|" + transitionsHash(alerts) + "|" + deployment + "|"
                + receiver.identity(), intent.getGroupKey(), intent.getGroupLabels(), alerts, receiver);
    }

    /**
     * What the notification tells, as a short stable hash of its alert transitions. The outbox id names the group and
     * the decision's millisecond, and one group can be flushed twice in one millisecond (with group_interval 0 a
     * FIRING and its RESOLVED read together): without this the second would pass for a redelivery of the first.
     */
    static String transitionsHash(List<AlertEvent> alerts) {
        String[] transitions = alerts.stream().map(a -> a.getFingerprint() + "|" + a.getState() + "|"
                + a.getOccurredAt().toEpochMilli()).toArray(String[]::new);
        return Receiver.hashOf(transitions);
    }

    /** One alert transition of a group, for a receiver that is told alert by alert (PagerDuty). */
    static Notification ofAlert(AlertEvent event, String groupKey, Map<String, String> groupLabels, String deployment,
                                Receiver receiver) {
        return new Notification(idOf(event, deployment, receiver.identity()), groupKey, groupLabels, List.of(event),
                receiver);
    }

    /** One alert transition on its own, outside any group (alerting's own notices): a group of one. */
    static Notification of(AlertEvent event, String deployment, Receiver receiver) {
        return ofAlert(event, event.getFingerprint(), Map.of(), deployment, receiver);
    }

    static String idOf(AlertEvent event, String deployment, String receiverIdentity) {
        return event.getFingerprint() + "|" + event.getState() + "|" + event.getOccurredAt().toEpochMilli() + "|"
                + deployment + "|" + receiverIdentity;
    }

    /** Notifications with the same key go out in the order submitted: per group, and per alert for PagerDuty. */
    String orderKey() {
        return receiver.perAlert() ? alerts.get(0).getFingerprint() : groupKey;
    }

    List<AlertEvent> firing() {
        return alerts.stream().filter(a -> a.getState() == AlertState.FIRING).toList();
    }

    List<AlertEvent> resolved() {
        return alerts.stream().filter(a -> a.getState() != AlertState.FIRING).toList();
    }
}
