package io.fleetpulse.alerting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class RouterTest {

    private final Receiver slack = new SlackReceiver("slack", URI.create("https://hooks.slack.com/services/x"));
    private final Receiver pagerDuty = new PagerDutyReceiver("pagerduty", URI.create("https://events.pagerduty.com/v2/enqueue"), "key");
    private final Receiver webhook = new WebhookReceiver("webhook", URI.create("http://localhost:1/hook"));
    private final DeliveredSet delivered = new DeliveredSet(Duration.ofHours(24));
    private final Router router = new Router(List.of(slack, pagerDuty, webhook), delivered::contains);

    @Test
    void shouldSendFiringAndResolvedToEveryReceiver() {
        AlertEvent firing = TestAlerts.firing("fp-1");
        assertEquals(List.of("slack", "pagerduty", "webhook"), receivers(router.route(firing).deliver()));
        assertEquals(List.of("slack", "pagerduty", "webhook"),
                receivers(router.route(TestAlerts.resolved(firing)).deliver()));
    }

    @Test
    void shouldSendNothingForStatesThatAreNotNotifiable() {
        for (AlertState state : List.of(AlertState.PENDING, AlertState.INACTIVE)) {
            AlertEvent event = AlertEvent.newBuilder(TestAlerts.firing("fp-1")).setState(state).build();
            assertEquals(Router.Routing.NONE, router.route(event));
        }
    }

    @Test
    void shouldSkipWhatWasAlreadyDelivered() {
        AlertEvent firing = TestAlerts.firing("fp-1");
        delivered.add(Notification.idOf(firing, "slack"), Instant.now());

        Router.Routing routing = router.route(firing);

        assertEquals(List.of("pagerduty", "webhook"), receivers(routing.deliver()));
        assertEquals(List.of("slack"), receivers(routing.alreadyDelivered()));
        assertEquals(3, receivers(router.route(TestAlerts.resolved(firing)).deliver()).size(),
                "the resolve is a different notification");
    }

    @Test
    void shouldRouteToNobodyWithoutReceivers() {
        assertTrue(new Router(List.of(), id -> false).route(TestAlerts.firing("fp")).deliver().isEmpty());
    }

    @Test
    void shouldIdentifyANotificationByFingerprintStateTimeAndReceiver() {
        AlertEvent firing = TestAlerts.firing("fp-1");
        assertEquals("fp-1|FIRING|" + TestAlerts.STARTED.toEpochMilli() + "|slack", Notification.idOf(firing, "slack"));
        assertEquals(Notification.idOf(firing, "slack"), Notification.idOf(TestAlerts.firing("fp-1"), "slack"),
                "a redelivered event maps to the same id");
        assertNotEquals(Notification.idOf(firing, "slack"), Notification.idOf(firing, "pagerduty"));
        AlertEvent refired = AlertEvent.newBuilder(firing).setOccurredAt(TestAlerts.ENDED.plusSeconds(60)).build();
        assertNotEquals(Notification.idOf(firing, "slack"), Notification.idOf(refired, "slack"),
                "firing again later is a new notification");
    }

    private static List<String> receivers(List<Notification> notifications) {
        return notifications.stream().map(n -> n.receiver().name()).toList();
    }
}
