package io.fleetpulse.alerting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TokenBucketTest {

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);

    @Test
    void shouldAllowABurstThenSpaceRequestsAtTheRate() {
        TokenBucket bucket = new TokenBucket(10, 2, clock::get);

        assertEquals(0, bucket.reserve());
        assertEquals(0, bucket.reserve());
        assertEquals(TimeUnit.MILLISECONDS.toNanos(100), bucket.reserve());
        assertEquals(TimeUnit.MILLISECONDS.toNanos(200), bucket.reserve(), "waiting callers queue up in order");
    }

    @Test
    void shouldRefillOverTimeButNeverBeyondCapacity() {
        TokenBucket bucket = new TokenBucket(10, 2, clock::get);
        bucket.reserve();
        bucket.reserve();

        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(100));
        assertEquals(0, bucket.reserve(), "one token back after 100 ms at 10/s");

        clock.addAndGet(TimeUnit.SECONDS.toNanos(60));
        assertEquals(0, bucket.reserve());
        assertEquals(0, bucket.reserve());
        assertEquals(TimeUnit.MILLISECONDS.toNanos(100), bucket.reserve(), "an idle minute still buys only the burst");
    }

    @Test
    void shouldAllowSlowRatesBelowOnePerSecond() {
        TokenBucket bucket = TokenBucket.perSecond(0.5);
        bucket.reserve();
        long wait = bucket.reserve();
        assertEquals(2.0, wait / 1e9, 0.01);
    }

    @Test
    void shouldRejectANonPositiveRate() {
        assertThrows(IllegalArgumentException.class, () -> new TokenBucket(0, 1, clock::get));
    }
}
