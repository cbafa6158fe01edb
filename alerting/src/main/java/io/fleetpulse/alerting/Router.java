package io.fleetpulse.alerting;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.OutboxRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * What one receiver sends for a group notification decide put on fleet.outbox, minus what was already delivered;
 * does no I/O. Routing and grouping were decided upstream (decide), so this only shapes the delivery: one
 * notification for the whole group (Slack, webhooks), or one per alert transition for a receiver told alert by alert
 * (PagerDuty, whose incidents are per fingerprint).
 */
final class Router {

    /** What to do with one group notification: notifications to send, and those skipped as already delivered. */
    record Routing(List<Notification> deliver, List<Notification> alreadyDelivered) {

        static final Routing NONE = new Routing(List.of(), List.of());
    }

    private final String deployment;
    private final Predicate<String> delivered;

    /**
     * @param deployment this service's consumer group, part of every notification id
     * @param delivered  whether a notification id was already delivered (the {@link DeliveredSet})
     */
    Router(String deployment, Predicate<String> delivered) {
        this.deployment = deployment;
        this.delivered = delivered;
    }

    Routing route(OutboxRecord intent, Receiver receiver) {
        // Decide never writes an alert it could not decide on; one that is not deliverable anyway is left out.
        List<AlertEvent> alerts = intent.getAlerts().stream()
                .filter(alert -> AlertingService.invalidReason(alert) == null).toList();
        if (alerts.isEmpty()) {
            return Routing.NONE;
        }
        List<Notification> notifications = receiver.perAlert()
                ? alerts.stream().map(alert -> Notification.ofAlert(alert, intent.getGroupKey(),
                        intent.getGroupLabels(), deployment, receiver)).toList()
                : List.of(Notification.ofGroup(intent, alerts, deployment, receiver));
        List<Notification> deliver = new ArrayList<>();
        List<Notification> skipped = new ArrayList<>();
        for (Notification notification : notifications) {
            (delivered.test(notification.id()) ? skipped : deliver).add(notification);
        }
        return new Routing(List.copyOf(deliver), List.copyOf(skipped));
    }
}
