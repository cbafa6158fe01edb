package io.fleetpulse.alerting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.OutboxRecord;
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
    private final Router router = new Router("team-a", delivered::contains);

    private final AlertEvent firing = TestAlerts.firing("fp-1");
    private final AlertEvent resolved = TestAlerts.resolved(TestAlerts.firing("fp-2"));
    private final OutboxRecord intent = intent("slack|root.0{group=\"frontend\"}|1714564860000", firing, resolved);

    @Test
    void shouldSendAGroupNotificationAsOneNotificationToSlackAndWebhooks() {
        for (Receiver receiver : List.of(slack, webhook)) {
            List<Notification> deliver = router.route(intent, receiver).deliver();

            assertEquals(1, deliver.size(), receiver.name());
            assertEquals(List.of(firing, resolved), deliver.get(0).alerts());
            assertEquals("root.0{group=\"frontend\"}", deliver.get(0).groupKey());
            assertEquals(Map.of("group", "frontend"), deliver.get(0).groupLabels());
            assertEquals(intent.getNotificationId() + "|" + Notification.transitionsHash(List.of(firing, resolved))
                    + "|team-a|" + receiver.identity(), deliver.get(0).id(),
                    "the outbox record's id, what it tells, the deployment and the receiver's identity");
        }
    }

    @Test
    void shouldSendPagerDutyOneNotificationPerAlertTransitionOfTheGroup() {
        List<Notification> deliver = router.route(intent, pagerDuty).deliver();

        assertEquals(List.of(List.of(firing), List.of(resolved)), deliver.stream().map(Notification::alerts).toList());
        assertEquals(List.of(Notification.idOf(firing, "team-a", pagerDuty.identity()),
                Notification.idOf(resolved, "team-a", pagerDuty.identity())),
                deliver.stream().map(Notification::id).toList());
        assertEquals(List.of("fp-1", "fp-2"), deliver.stream().map(Notification::orderKey).toList(),
                "a page waits only for the pages of its own alert");
    }

    @Test
    void shouldSkipWhatWasAlreadyDeliveredPerGroupForSlackAndPerAlertForPagerDuty() {
        delivered.add(router.route(intent, slack).deliver().get(0).id(), Instant.now());
        delivered.add(Notification.idOf(firing, "team-a", pagerDuty.identity()), Instant.now());

        assertEquals(1, router.route(intent, slack).alreadyDelivered().size());
        assertTrue(router.route(intent, slack).deliver().isEmpty(), "a redelivered outbox record repeats no message");
        assertEquals(1, router.route(intent, webhook).deliver().size(), "the webhook has not had it");
        Router.Routing pages = router.route(intent, pagerDuty);
        assertEquals(List.of(resolved), pages.deliver().stream().flatMap(n -> n.alerts().stream()).toList());
        assertEquals(1, pages.alreadyDelivered().size());
        OutboxRecord next = intent("slack|root.0{group=\"frontend\"}|1714564920000", firing, resolved);
        assertEquals(1, router.route(next, slack).deliver().size(), "the group's next notification is a new one");
    }

    @Test
    void shouldTellApartTwoFlushesOfOneGroupInTheSameMillisecond() {
        // group_interval 0: a FIRING and its RESOLVED read together are two records with the same outbox id
        String sameMillisecond = "slack|root{fingerprint=\"fp-1\"}|1714564860000";
        Notification first = router.route(intent(sameMillisecond, firing), slack).deliver().get(0);
        delivered.add(first.id(), Instant.now());

        List<Notification> second = router.route(intent(sameMillisecond, TestAlerts.resolved(firing)), slack).deliver();

        assertEquals(1, second.size(), "the RESOLVED is not a redelivery of the FIRING");
        assertNotEquals(first.id(), second.get(0).id());
    }

    @Test
    void shouldLeaveOutAlertsThatCannotBeDelivered() {
        AlertEvent pending = AlertEvent.newBuilder(TestAlerts.firing("fp-3")).setState(AlertState.PENDING).build();

        assertEquals(List.of(firing), router.route(intent("x|g|1", firing, pending), slack).deliver().get(0).alerts());
        assertEquals(Router.Routing.NONE, router.route(intent("x|g|1", pending), slack));
    }

    @Test
    void shouldNotTakeAnotherDeploymentsOrAnotherSlackWebhooksDeliveryForItsOwn() {
        Receiver otherSlack = new SlackReceiver("slack", URI.create("https://hooks.slack.com/services/y"));
        delivered.add(router.route(intent, slack).deliver().get(0).id(), Instant.now());

        assertEquals(1, router.route(intent, otherSlack).deliver().size(), "same name, other URL: not delivered yet");
        assertEquals(1, new Router("team-b", delivered::contains).route(intent, slack).deliver().size(),
                "another deployment (consumer group) delivers for itself");
    }

    @Test
    void shouldIdentifyAnAlertTransitionByFingerprintStateTimeDeploymentAndReceiverIdentity() {
        assertEquals("fp-1|FIRING|" + TestAlerts.STARTED.toEpochMilli() + "|team-a|" + slack.identity(),
                Notification.of(firing, "team-a", slack).id());
        assertEquals(Notification.of(firing, "team-a", slack).id(),
                Notification.of(TestAlerts.firing("fp-1"), "team-a", slack).id(), "a redelivered event maps to the same id");
        assertNotEquals(Notification.of(firing, "team-a", slack).id(), Notification.of(firing, "team-a", pagerDuty).id());
        AlertEvent refired = AlertEvent.newBuilder(firing).setOccurredAt(TestAlerts.ENDED.plusSeconds(60)).build();
        assertNotEquals(Notification.of(firing, "team-a", slack).id(), Notification.of(refired, "team-a", slack).id(),
                "firing again later is a new notification");
    }

    private static OutboxRecord intent(String id, AlertEvent... alerts) {
        return OutboxRecord.newBuilder().setNotificationId(id).setDeployment("team-a").setReceiver("slack")
                .setRouteId("root.0").setGroupKey("root.0{group=\"frontend\"}").setGroupLabels(Map.of("group", "frontend"))
                .setAlerts(List.of(alerts)).setDecidedAt(Instant.ofEpochMilli(1_714_564_860_000L)).build();
    }
}
