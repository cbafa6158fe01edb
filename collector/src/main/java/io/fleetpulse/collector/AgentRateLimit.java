package io.fleetpulse.collector;

import java.util.HashMap;
import java.util.Map;

/**
 * How often each push agent may call the push API: a token bucket per agent, {@code perSecond} requests a second on
 * average with bursts of up to {@code burst}. A request over the limit is told how long until it would pass, which
 * becomes the 429's {@code Retry-After}. One agent's flood never slows another agent, nor the polling.
 *
 * <p>Time comes in as a parameter (a monotonic nanosecond clock), so the policy is tested without waiting.
 */
final class AgentRateLimit {

    /** No limit: every request passes. */
    static final AgentRateLimit NONE = new AgentRateLimit(0, 1);

    private final double perSecond;
    private final int burst;
    private final Map<String, Bucket> buckets = new HashMap<>();

    /** @param perSecond requests a second each agent may make on average; 0 for no limit */
    AgentRateLimit(double perSecond, int burst) {
        if (perSecond < 0 || burst < 1) {
            throw new IllegalArgumentException("perSecond " + perSecond + " and burst " + burst);
        }
        this.perSecond = perSecond;
        this.burst = burst;
    }

    private static final class Bucket {
        double tokens;
        long refilledAtNanos;

        Bucket(double tokens, long now) {
            this.tokens = tokens;
            this.refilledAtNanos = now;
        }
    }

    /**
     * Takes one request of {@code agent} at {@code nowNanos}: 0 when it may pass, else the nanoseconds until it would
     * (nothing is taken then, so an agent retrying too early does not dig itself deeper).
     */
    synchronized long acquire(String agent, long nowNanos) {
        if (perSecond == 0) {
            return 0;
        }
        Bucket bucket = buckets.computeIfAbsent(agent, a -> new Bucket(burst, nowNanos));
        long elapsed = Math.max(0, nowNanos - bucket.refilledAtNanos);
        bucket.tokens = Math.min(burst, bucket.tokens + elapsed / 1e9 * perSecond);
        bucket.refilledAtNanos = nowNanos;
        if (bucket.tokens >= 1) {
            bucket.tokens -= 1;
            return 0;
        }
        return (long) Math.ceil((1 - bucket.tokens) / perSecond * 1e9);
    }

    /** Whole seconds to wait for {@code nanos}, as Retry-After says them: rounded up, at least 1. */
    static long retryAfterSeconds(long nanos) {
        return Math.max(1, (nanos + 999_999_999L) / 1_000_000_000L);
    }
}
