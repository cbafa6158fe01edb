package io.fleetpulse.alerting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class DeliveredSetTest {

    private static final Instant NOW = Instant.parse("2024-05-02T12:00:00Z");

    @Test
    void shouldForgetIdsSentBeforeTheLookback() {
        DeliveredSet set = new DeliveredSet(Duration.ofHours(24));
        set.add("old", NOW.minus(Duration.ofHours(25)));
        set.add("recent", NOW.minus(Duration.ofHours(23)));

        set.prune(NOW);

        assertFalse(set.contains("old"));
        assertTrue(set.contains("recent"));
        assertEquals(1, set.size());
    }

    @Test
    void shouldKeepTheLatestSendTimeOfAnId() {
        DeliveredSet set = new DeliveredSet(Duration.ofHours(1));
        set.add("id", NOW.minus(Duration.ofMinutes(5)));
        set.add("id", NOW.minus(Duration.ofHours(5)));

        set.prune(NOW);

        assertTrue(set.contains("id"));
    }
}
