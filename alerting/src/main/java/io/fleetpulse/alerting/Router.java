package io.fleetpulse.alerting;

import io.fleetpulse.alerting.route.AlertLabels;
import io.fleetpulse.alerting.route.RoutingTree;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Decides which receivers get an alert transition; does no I/O. The {@link RoutingTree} says who (without a routing
 * file: every receiver), minus what was already delivered. Grouping, silences and inhibition belong here as they come,
 * each decision stays a plain function of the event and the router's state.
 */
final class Router {

    /** What to do with one event: notifications to send, and those skipped as already delivered. */
    record Routing(List<Notification> deliver, List<Notification> alreadyDelivered) {

        static final Routing NONE = new Routing(List.of(), List.of());
    }

    private final List<Receiver> receivers;
    private final RoutingTree routing;
    private final String deployment;
    private final Predicate<String> delivered;

    /**
     * @param deployment this service's consumer group, part of every notification id
     * @param delivered  whether a notification id was already delivered (the {@link DeliveredSet})
     */
    /** Every alert to every receiver: the routing without a routing file. */
    Router(List<Receiver> receivers, String deployment, Predicate<String> delivered) {
        this(receivers, RoutingTree.everyReceiver(receivers.stream().map(Receiver::name).toList()), deployment,
                delivered);
    }

    Router(List<Receiver> receivers, RoutingTree routing, String deployment, Predicate<String> delivered) {
        this.receivers = List.copyOf(receivers);
        this.routing = routing;
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
        Set<String> routed = routing.receiversOf(AlertLabels.of(event));
        for (Receiver receiver : receivers) {
            if (!routed.contains(receiver.name())) {
                continue;
            }
            Notification notification = Notification.of(event, deployment, receiver);
            (delivered.test(notification.id()) ? skipped : deliver).add(notification);
        }
        return new Routing(List.copyOf(deliver), List.copyOf(skipped));
    }

    /** What one receiver's delivery worker does with {@code event}: its notification, or empty when it is not to go. */
    Optional<Notification> route(AlertEvent event, Receiver receiver) {
        if (event.getState() != AlertState.FIRING && event.getState() != AlertState.RESOLVED
                || !routing.receiversOf(AlertLabels.of(event)).contains(receiver.name())) {
            return Optional.empty();
        }
        Notification notification = Notification.of(event, deployment, receiver);
        return delivered.test(notification.id()) ? Optional.empty() : Optional.of(notification);
    }
}
