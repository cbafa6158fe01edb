package io.fleetpulse.alerting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.alerting.ReceiverHealth.Change;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ReceiverHealthTest {

    private static final Instant T0 = Instant.parse("2024-05-01T12:00:00Z");

    private final ReceiverHealth health = new ReceiverHealth(new ReceiverHealth.Thresholds(3, Duration.ofMinutes(2)));

    @Test
    void shouldTurnFailingAtTheNthConsecutiveFailureOnce() {
        health.failed(T0, "HTTP 500");
        health.failed(T0.plusSeconds(1), "HTTP 500");
        assertEquals(Change.NONE, health.evaluate(T0.plusSeconds(1)));

        health.failed(T0.plusSeconds(2), "HTTP 502");
        assertEquals(Change.FAILING, health.evaluate(T0.plusSeconds(2)));
        assertEquals(Change.NONE, health.evaluate(T0.plusSeconds(3)), "one change per episode");
        health.failed(T0.plusSeconds(4), "HTTP 502");
        assertEquals(Change.NONE, health.evaluate(T0.plusSeconds(4)));

        ReceiverHealth.Snapshot snapshot = health.snapshot();
        assertTrue(snapshot.failing());
        assertEquals(T0, snapshot.failingSince(), "failing since the streak's first failure");
        assertEquals(4, snapshot.consecutiveFailures());
        assertEquals("HTTP 502", snapshot.lastError());
    }

    @Test
    void shouldTurnFailingAfterFailingForLongEnoughWithFewAttempts() {
        health.failed(T0, "ConnectException");
        assertEquals(Change.NONE, health.evaluate(T0.plus(Duration.ofMinutes(2)).minusMillis(1)));
        assertEquals(Change.FAILING, health.evaluate(T0.plus(Duration.ofMinutes(2))), "no new attempt needed");
    }

    @Test
    void shouldRecoverOnTheFirstSuccessAndStartTheNextStreakAfresh() {
        for (int i = 0; i < 3; i++) {
            health.failed(T0.plusSeconds(i), "HTTP 500");
        }
        assertEquals(Change.FAILING, health.evaluate(T0.plusSeconds(3)));

        health.succeeded();
        assertEquals(Change.RECOVERED, health.evaluate(T0.plusSeconds(4)));
        assertFalse(health.isFailing());
        assertEquals(Change.NONE, health.evaluate(T0.plusSeconds(5)));

        health.failed(T0.plusSeconds(10), "HTTP 500");
        assertEquals(Change.NONE, health.evaluate(T0.plusSeconds(10)), "one failure after a success is not failing");
    }

    @Test
    void shouldNotCallAFlappingReceiverFailing() {
        for (int i = 0; i < 10; i++) {
            health.failed(T0.plusSeconds(2 * i), "HTTP 500");
            health.succeeded();
            assertEquals(Change.NONE, health.evaluate(T0.plusSeconds(2 * i + 1)));
        }
    }
}
