package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class AgentRateLimitTest {

    private static final long SECOND = 1_000_000_000L;

    @Test
    void shouldLetABurstThroughThenOneRequestPerRefill() {
        AgentRateLimit limit = new AgentRateLimit(2, 3); // 2 a second, bursts of 3

        assertEquals(0, limit.acquire("edge-1", 0));
        assertEquals(0, limit.acquire("edge-1", 0));
        assertEquals(0, limit.acquire("edge-1", 0));
        assertEquals(SECOND / 2, limit.acquire("edge-1", 0), "the next token in half a second");
        assertEquals(SECOND / 4, limit.acquire("edge-1", SECOND / 4), "a refused request takes nothing");
        assertEquals(0, limit.acquire("edge-1", SECOND / 2));
        assertEquals(SECOND / 2, limit.acquire("edge-1", SECOND / 2));
    }

    @Test
    void shouldKeepABucketPerAgentAndRefillNoFurtherThanTheBurst() {
        AgentRateLimit limit = new AgentRateLimit(1, 2);
        limit.acquire("edge-1", 0);
        limit.acquire("edge-1", 0);

        assertEquals(0, limit.acquire("edge-2", 0), "another agent is not slowed");
        long later = 3_600 * SECOND;
        assertEquals(0, limit.acquire("edge-1", later));
        assertEquals(0, limit.acquire("edge-1", later));
        assertEquals(SECOND, limit.acquire("edge-1", later), "an hour's quiet is worth one burst, not 3600 requests");
    }

    @Test
    void shouldPassEverythingWithoutALimitAndRoundRetryAfterUpToWholeSeconds() {
        for (int i = 0; i < 1_000; i++) {
            assertEquals(0, AgentRateLimit.NONE.acquire("edge-1", 0));
        }
        assertEquals(1, AgentRateLimit.retryAfterSeconds(1));
        assertEquals(1, AgentRateLimit.retryAfterSeconds(SECOND));
        assertEquals(2, AgentRateLimit.retryAfterSeconds(SECOND + 1));
    }
}
