package io.fleetpulse.alerting;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Decides which receivers get an alert transition; does no I/O. Today every receiver gets every FIRING and
 * RESOLVED transition, minus those already delivered. Grouping, silences and inhibition belong here as they come,
 * each decision stays a plain function of the event and the router's state.
 */
final class Router {

    /** What to do with one event: notifications to send, and those skipped as already delivered. */
    record Routing(List<Notification> deliver, List<Notification> alreadyDelivered) {

        static final Routing NONE = new Routing(List.of(), List.of());
    }

    private final List<Receiver> receivers;
    private final String deployment;
    private final Predicate<String> delivered;

    /**
     * @param deployment this service's consumer group, part of every notification id
     * @param delivered  whether a notification id was already delivered (the {@link DeliveredSet})
     */
    Router(List<Receiver> receivers, String deployment, Predicate<String> delivered) {
        this.receivers = List.copyOf(receivers);
        this.deployment = deployment;
        this.delivered = delivered;
    }

    Routing route(AlertEvent event) {
        // Only FIRING and RESOLVED are notifiable; other states are internal to the rule engine.
        if (event.getState() != AlertState.FIRING && event.getState() != AlertState.RESOLVED) {
            return Routing.NONE;
        }
        List<Notification> deliver = new ArrayList<>();
        List<Notification> skipped = new ArrayList<>();
        for (Receiver receiver : receivers) {
            Notification notification = Notification.of(event, deployment, receiver);
            (delivered.test(notification.id()) ? skipped : deliver).add(notification);
        }
        return new Routing(List.copyOf(deliver), List.copyOf(skipped));
    }

    /** What one receiver's delivery worker does with {@code event}: its notification, or empty when it is not to go. */
    Optional<Notification> route(AlertEvent event, Receiver receiver) {
        if (event.getState() != AlertState.FIRING && event.getState() != AlertState.RESOLVED) {
            return Optional.empty();
        }
        Notification notification = Notification.of(event, deployment, receiver);
        return delivered.test(notification.id()) ? Optional.empty() : Optional.of(notification);
    }
}
