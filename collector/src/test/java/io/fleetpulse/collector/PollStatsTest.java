package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.CheckStatus;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PollStatsTest {

    private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

    @Test
    void shouldCountChecksPerTargetAndInTotalWithTheTargetsByTheirLastStatus() {
        PollStats stats = new PollStats();
        assertNull(stats.record("a", CheckStatus.OK, T0, 4));
        assertEquals(CheckStatus.OK, stats.record("a", CheckStatus.TIMEOUT, T0.plusSeconds(10), 2000));
        stats.record("b", CheckStatus.OK, T0.plusSeconds(11), 7);

        Map<String, Object> status = stats.toStatus();
        assertEquals(3L, status.get("performed"));
        assertEquals(2L, status.get("successful"));
        assertEquals(1L, status.get("failed"));
        assertEquals(2.0 / 3, (double) status.get("successRate"), 1e-9);
        assertEquals("2026-12-01T10:00:11Z", status.get("lastRun"));
        assertEquals(7L, status.get("lastDurationMs"));
        assertEquals(Map.of("OK", 1, "TIMEOUT", 1), status.get("targetsByStatus"));
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> targets = (Map<String, Map<String, Object>>) status.get("targets");
        assertEquals(Map.of("performed", 2L, "successful", 1L, "failed", 1L, "successRate", 0.5,
                "lastRun", "2026-12-01T10:00:10Z", "lastDurationMs", 2000L, "status", "TIMEOUT"), targets.get("a"));
        assertEquals(2.0 / 3, stats.successRate(), 1e-9);
        assertEquals(T0.plusSeconds(11).getEpochSecond(), stats.lastRunEpochSeconds(), 1e-9);
    }

    @Test
    void shouldDropAForgottenTargetFromThePerTargetFiguresButKeepItsPollsInTheTotal() {
        PollStats stats = new PollStats();
        stats.record("a", CheckStatus.CRITICAL, T0, 3);
        stats.record("b", CheckStatus.OK, T0, 3);
        stats.forget("a");

        assertEquals(Map.of(CheckStatus.OK, 1), stats.targetsByStatus());
        assertEquals(2L, stats.toStatus().get("performed"));
        assertTrue(Double.isNaN(new PollStats().successRate()), "no rate before the first poll");
    }
}
