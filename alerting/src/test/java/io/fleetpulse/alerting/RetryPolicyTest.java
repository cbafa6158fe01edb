package io.fleetpulse.alerting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.alerting.RetryPolicy.Verdict;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {

    private static final Instant NOW = Instant.parse("2024-05-01T12:00:00Z");
    private static final RetryPolicy.Limits DEFAULTS = new RetryPolicy.Limits(Duration.ofHours(24), Duration.ofMillis(500),
            Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofMinutes(15));

    private final RetryPolicy alwaysMax = new RetryPolicy(DEFAULTS, () -> 0.999_999_999);

    @Test
    void shouldDoubleTheBackoffCapUpToTheMaximum() {
        assertEquals(Duration.ofMillis(500), alwaysMax.cap(1));
        assertEquals(Duration.ofMillis(1000), alwaysMax.cap(2));
        assertEquals(Duration.ofMillis(2000), alwaysMax.cap(3));
        assertEquals(Duration.ofMillis(16_000), alwaysMax.cap(6));
        assertEquals(Duration.ofSeconds(30), alwaysMax.cap(7));
        assertEquals(Duration.ofSeconds(30), alwaysMax.cap(1_000), "no overflow for absurd attempt numbers");
    }

    @Test
    void shouldSpreadFullJitterBetweenZeroAndTheCap() {
        assertEquals(Duration.ZERO, new RetryPolicy(DEFAULTS, () -> 0.0).backoff(3));
        assertEquals(Duration.ofMillis(2000), alwaysMax.backoff(3));
        assertEquals(Duration.ofMillis(1000), new RetryPolicy(DEFAULTS, () -> 0.5).backoff(3));

        Random random = new Random(42);
        RetryPolicy jittered = new RetryPolicy(DEFAULTS, random::nextDouble);
        long sum = 0;
        int n = 20_000;
        for (int i = 0; i < n; i++) {
            long millis = jittered.backoff(4).toMillis();
            assertTrue(millis >= 0 && millis <= 4000, "within [0, cap]: " + millis);
            sum += millis;
        }
        double mean = (double) sum / n;
        assertTrue(Math.abs(mean - 2000) < 60, "uniform over [0, 4000] averages 2000, got " + mean);
    }

    @Test
    void shouldTreatAny2xxAsDelivered() {
        assertEquals(Verdict.DELIVERED, decide(1, 202, null).verdict());
        assertEquals(Verdict.DELIVERED, decide(1, 200, null).verdict());
    }

    @Test
    void shouldRetryTimeoutsThrottlingServerErrorsAndNetworkErrors() {
        for (int status : new int[] {408, 429, 500, 502, 503, 504}) {
            RetryPolicy.Decision decision = decide(2, status, null);
            assertEquals(Verdict.RETRY, decision.verdict(), "status " + status);
            assertEquals(Duration.ofMillis(1000), decision.delay(), "backoff of attempt 2 at full jitter");
            assertEquals("HTTP " + status, decision.why());
        }
        RetryPolicy.Decision network = alwaysMax.decide(1, Duration.ZERO, Duration.ZERO, OptionalInt.empty(), Optional.empty(),
                "ConnectException: refused", NOW);
        assertEquals(Verdict.RETRY, network.verdict());
        assertEquals("ConnectException: refused", network.why());
    }

    @Test
    void shouldGiveUpAtOnceOnOtherClientErrors() {
        for (int status : new int[] {400, 401, 403, 404, 413, 422, 301}) {
            RetryPolicy.Decision decision = decide(1, status, null);
            assertEquals(Verdict.GIVE_UP, decision.verdict(), "status " + status);
            assertTrue(decision.why().contains("permanent"), decision.why());
        }
    }

    @Test
    void shouldKeepRetryingForHoursAndGiveUpOnlyOnceTheBudgetIsSpent() {
        RetryPolicy.Decision afterHundreds = failingFor(600, Duration.ofHours(23).plusMinutes(59));
        assertEquals(Verdict.RETRY, afterHundreds.verdict(), "no count of attempts ends it within the budget");
        assertEquals(Duration.ofSeconds(30), afterHundreds.delay(), "capped backoff");

        RetryPolicy.Decision lastWait = failingFor(601, Duration.ofHours(24).minusSeconds(10));
        assertEquals(Verdict.RETRY, lastWait.verdict());
        assertEquals(Duration.ofSeconds(10), lastWait.delay(), "the last wait ends at the budget, not past it");

        RetryPolicy.Decision last = failingFor(602, Duration.ofHours(24));
        assertEquals(Verdict.GIVE_UP, last.verdict());
        assertEquals("HTTP 500 (gave up after 602 attempts failing for 1d, the retry budget)", last.why());
    }

    private RetryPolicy.Decision failingFor(int attempt, Duration failing) {
        return alwaysMax.decide(attempt, failing, Duration.ZERO, OptionalInt.of(500), Optional.empty(), null, NOW);
    }

    @Test
    void shouldWaitAsLongAsRetryAfterSaysOn429And503() {
        assertEquals(Duration.ofSeconds(7), decide(1, 429, "7").delay());
        assertEquals(Duration.ofSeconds(12), decide(1, 503, "Wed, 01 May 2024 12:00:12 GMT").delay());
        assertEquals(Duration.ZERO, decide(1, 429, "0").delay(), "the server may ask for an immediate retry");
    }

    @Test
    void shouldIgnoreRetryAfterOnOtherStatusesAndWhenMalformed() {
        assertEquals(Duration.ofMillis(500), decide(1, 500, "7").delay());
        assertEquals(Duration.ofMillis(500), decide(1, 429, "soon").delay());
    }

    @Test
    void shouldClampRetryAfterSoOneReceiverCannotStallItsQueue() {
        assertEquals(Duration.ofSeconds(60), decide(1, 429, "86400").delay());
    }

    @Test
    void shouldNotCountA429WithRetryAfterAsAnAttemptWhileTheRetryAfterBudgetLasts() {
        RetryPolicy.Decision throttled = decide(6, 429, "7");
        assertEquals(Verdict.RETRY, throttled.verdict(), "the last counted attempt is not used up by a 429");
        assertTrue(throttled.throttled());
        assertEquals(Duration.ofSeconds(7), throttled.delay());
        assertTrue(throttled.why().startsWith("HTTP 429 (throttled"), throttled.why());

        RetryPolicy.Decision pastBudget = alwaysMax.decide(6, Duration.ofHours(1), Duration.ofMinutes(15).minusSeconds(6),
                OptionalInt.of(429), Optional.of("7"), null, NOW);
        assertFalse(pastBudget.throttled(), "past the Retry-After budget a 429 counts as failing time");
        RetryPolicy.Decision throttledForEver = alwaysMax.decide(6, Duration.ofHours(24),
                Duration.ofMinutes(15), OptionalInt.of(429), Optional.of("7"), null, NOW);
        assertEquals(Verdict.GIVE_UP, throttledForEver.verdict(), "a receiver throttling for ever is bounded");
        assertFalse(decide(2, 429, null).throttled(), "a 429 without Retry-After is a failure with backoff");
        assertFalse(decide(2, 503, "7").throttled(), "a 503 is a failure even when it says when to come back");
        assertEquals(Duration.ofSeconds(7), decide(2, 503, "7").delay());
    }

    private RetryPolicy.Decision decide(int attempt, int status, String retryAfter) {
        return alwaysMax.decide(attempt, Duration.ZERO, Duration.ZERO, OptionalInt.of(status),
                Optional.ofNullable(retryAfter), null, NOW);
    }
}
