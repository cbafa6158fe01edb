package io.fleetpulse.alerting;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A per-receiver rate limit: {@code ratePerSecond} tokens a second, bursts up to {@code capacity}. Callers reserve
 * a token and are told how long to wait for it, so waiting callers are served in order and never starve.
 */
final class TokenBucket {

    private final double ratePerNano;
    private final double capacity;
    private final LongSupplier nanoClock;
    private double tokens;
    private long refilledAt;

    TokenBucket(double ratePerSecond, double capacity, LongSupplier nanoClock) {
        if (!(ratePerSecond > 0) || !(capacity >= 1)) {
            throw new IllegalArgumentException("rate must be positive and capacity at least 1");
        }
        this.ratePerNano = ratePerSecond / 1e9;
        this.capacity = capacity;
        this.nanoClock = nanoClock;
        this.tokens = capacity;
        this.refilledAt = nanoClock.getAsLong();
    }

    /** A bucket allowing a burst of one second's worth (at least one request). */
    static TokenBucket perSecond(double ratePerSecond) {
        return new TokenBucket(ratePerSecond, Math.max(1, ratePerSecond), System::nanoTime);
    }

    /** Takes one token, possibly borrowed from the future; returns the nanoseconds to wait before using it. */
    synchronized long reserve() {
        long now = nanoClock.getAsLong();
        tokens = Math.min(capacity, tokens + (now - refilledAt) * ratePerNano);
        refilledAt = now;
        tokens -= 1;
        return tokens >= 0 ? 0 : (long) Math.ceil(-tokens / ratePerNano);
    }

    void acquire() throws InterruptedException {
        long wait = reserve();
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
        }
    }
}
