package io.fleetpulse.alerting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.alerting.route.RoutingTree;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.Severity;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RouterTest {

    private final Receiver slack = new SlackReceiver("slack", URI.create("https://hooks.slack.com/services/x"));
    private final Receiver pagerDuty = new PagerDutyReceiver("pagerduty", URI.create("https://events.pagerduty.com/v2/enqueue"), "key");
    private final Receiver webhook = new WebhookReceiver("webhook", URI.create("http://localhost:1/hook"));
    private final DeliveredSet delivered = new DeliveredSet("team-a", Duration.ofHours(24));
    private final Router router = new Router(List.of(slack, pagerDuty, webhook), "team-a", delivered::contains);

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
        delivered.add(Notification.of(firing, "team-a", slack).id(), Instant.now());

        Router.Routing routing = router.route(firing);

        assertEquals(List.of("pagerduty", "webhook"), receivers(routing.deliver()));
        assertEquals(List.of("slack"), receivers(routing.alreadyDelivered()));
        assertEquals(3, receivers(router.route(TestAlerts.resolved(firing)).deliver()).size(),
                "the resolve is a different notification");
    }

    @Test
    void shouldRouteToNobodyWithoutReceivers() {
        assertTrue(new Router(List.of(), "team-a", id -> false).route(TestAlerts.firing("fp")).deliver().isEmpty());
    }

    @Test
    void shouldIdentifyANotificationByFingerprintStateTimeDeploymentAndReceiverIdentity() {
        AlertEvent firing = TestAlerts.firing("fp-1");
        assertEquals("fp-1|FIRING|" + TestAlerts.STARTED.toEpochMilli() + "|team-a|" + slack.identity(),
                Notification.of(firing, "team-a", slack).id());
        assertEquals(Notification.of(firing, "team-a", slack).id(),
                Notification.of(TestAlerts.firing("fp-1"), "team-a", slack).id(), "a redelivered event maps to the same id");
        assertNotEquals(Notification.of(firing, "team-a", slack).id(), Notification.of(firing, "team-a", pagerDuty).id());
        AlertEvent refired = AlertEvent.newBuilder(firing).setOccurredAt(TestAlerts.ENDED.plusSeconds(60)).build();
        assertNotEquals(Notification.of(firing, "team-a", slack).id(), Notification.of(refired, "team-a", slack).id(),
                "firing again later is a new notification");
    }

    @Test
    void shouldNotTakeAnotherDeploymentsOrAnotherSlackWebhooksDeliveryForItsOwn() {
        AlertEvent firing = TestAlerts.firing("fp-1");
        Receiver otherSlack = new SlackReceiver("slack", URI.create("https://hooks.slack.com/services/y"));
        Receiver otherPagerDuty = new PagerDutyReceiver("pagerduty",
                URI.create("https://events.pagerduty.com/v2/enqueue"), "other-key");
        delivered.add(Notification.of(firing, "team-a", slack).id(), Instant.now());
        delivered.add(Notification.of(firing, "team-a", pagerDuty).id(), Instant.now());

        Router sameGroupOtherReceivers = new Router(List.of(otherSlack, otherPagerDuty), "team-a", delivered::contains);
        Router otherGroupSameReceivers = new Router(List.of(slack, pagerDuty), "team-b", delivered::contains);

        assertEquals(List.of("slack", "pagerduty"), receivers(sameGroupOtherReceivers.route(firing).deliver()),
                "same names, other Slack URL and routing key: not delivered yet");
        assertEquals(List.of("slack", "pagerduty"), receivers(otherGroupSameReceivers.route(firing).deliver()),
                "another deployment (consumer group) delivers for itself");
        assertEquals(List.of("slack", "pagerduty"), receivers(router.route(firing).alreadyDelivered()));
    }

    @Test
    void shouldSendOnlyToTheReceiversTheRoutingTreeNames() {
        RoutingTree tree = RoutingTree.parse("""
                receivers: [{name: slack, kind: slack, url_env: U}, {name: pagerduty, kind: pagerduty, routing_key_env: K}]
                route:
                  receiver: slack
                  routes: [{matchers: ['severity="critical"', 'env="prod"'], receiver: pagerduty, continue: true},
                           {matchers: ['target="web-1"'], receiver: slack}]
                """, "routing.yaml", Map.of("U", "https://hooks.slack.com/services/x", "K", "key")::get);
        Router routed = new Router(List.of(slack, pagerDuty, webhook), tree, "team-a", id -> false);

        assertEquals(List.of("slack", "pagerduty"), receivers(routed.route(TestAlerts.firing("fp-1")).deliver()));
        AlertEvent warning = TestAlerts.firing("fp-2", "web-2", Severity.WARNING);
        assertEquals(List.of("slack"), receivers(routed.route(warning).deliver()));
        assertTrue(routed.route(warning, pagerDuty).isEmpty());
        assertTrue(routed.route(TestAlerts.firing("fp-1"), webhook).isEmpty(), "no route names the webhook");
    }

    private static List<String> receivers(List<Notification> notifications) {
        return notifications.stream().map(n -> n.receiver().name()).toList();
    }
}
