package io.fleetpulse.alerting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.events.NotificationRecord;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class DeliveredSetTest {

    private static final Instant NOW = Instant.parse("2024-05-02T12:00:00Z");

    @Test
    void shouldForgetIdsSentBeforeTheLookback() {
        DeliveredSet set = new DeliveredSet("team-a", Duration.ofHours(24));
        set.add("old", NOW.minus(Duration.ofHours(25)));
        set.add("recent", NOW.minus(Duration.ofHours(23)));

        set.prune(NOW);

        assertFalse(set.contains("old"));
        assertTrue(set.contains("recent"));
        assertEquals(1, set.size());
    }

    @Test
    void shouldKeepTheLatestSendTimeOfAnId() {
        DeliveredSet set = new DeliveredSet("team-a", Duration.ofHours(1));
        set.add("id", NOW.minus(Duration.ofMinutes(5)));
        set.add("id", NOW.minus(Duration.ofHours(5)));

        set.prune(NOW);

        assertTrue(set.contains("id"));
    }

    @Test
    void shouldRebuildOnlyFromSentRecordsOfItsOwnDeploymentThatNameTheReceiver() {
        DeliveredSet set = new DeliveredSet("team-a", Duration.ofHours(24));

        assertTrue(set.isOwnDelivery(sent("team-a", "slack:0123456789abcdef")));
        assertFalse(set.isOwnDelivery(sent("team-b", "slack:0123456789abcdef")), "another deployment's delivery");
        assertFalse(set.isOwnDelivery(sent(null, null)), "a record from before v2: it names only the receiver's kind");
        assertFalse(set.isOwnDelivery(sent("team-a", null)));
        assertFalse(set.isOwnDelivery(NotificationRecord.newBuilder(sent("team-a", "slack:0123456789abcdef"))
                .setOutcome(NotificationOutcome.RETRIED).build()));
        assertFalse(set.isOwnDelivery(null));
    }

    private static NotificationRecord sent(String deployment, String receiverId) {
        return NotificationRecord.newBuilder().setNotificationId("fp|FIRING|1|slack").setFingerprint("fp")
                .setRuleId("r").setTargetId("t").setReceiver("slack").setReceiverType("slack")
                .setAlertState(AlertState.FIRING).setOutcome(NotificationOutcome.SENT).setAttempt(1)
                .setDecidedAt(NOW).setReceiverId(receiverId).setDeployment(deployment).build();
    }
}
