package io.fleetpulse.alerting;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.DoubleSupplier;

/**
 * What to do after one delivery attempt: done, retry after a wait, or give up. Pure decisions, so the rules are
 * tested directly; {@link DeliveryWorker} does the waiting and the HTTP.
 *
 * <ul>
 *   <li>2xx: delivered.</li>
 *   <li>408, 429, 5xx and network errors: retried, up to {@code maxAttempts} attempts in all.</li>
 *   <li>Any other status (400, 401, 403, 404, 3xx ...): permanent, retrying cannot fix the request.</li>
 *   <li>Waits are exponential backoff with full jitter: uniform in [0, min(maxBackoff, initial·2^(attempt-1))],
 *       which spreads retries of many clients instead of synchronising them. On 429 and 503 a
 *       {@code Retry-After} replaces the backoff, clamped to {@code retryAfterMax}.</li>
 * </ul>
 */
final class RetryPolicy {

    record Limits(int maxAttempts, Duration initialBackoff, Duration maxBackoff, Duration retryAfterMax) {
    }

    enum Verdict { DELIVERED, RETRY, GIVE_UP }

    /** @param why for RETRY and GIVE_UP: what went wrong, as recorded on the audit record */
    record Decision(Verdict verdict, Duration delay, String why) {
    }

    private final Limits limits;
    private final DoubleSupplier jitter;

    /** @param jitter uniform in [0, 1); tests pass fixed values to check the bounds */
    RetryPolicy(Limits limits, DoubleSupplier jitter) {
        this.limits = limits;
        this.jitter = jitter;
    }

    Limits limits() {
        return limits;
    }

    /**
     * @param attempt    1 for the first attempt
     * @param status     the HTTP status, empty when the request failed without one (connect error, timeout)
     * @param retryAfter the response's Retry-After header, if any
     * @param error      description of the failure when there was no status
     */
    Decision decide(int attempt, OptionalInt status, Optional<String> retryAfter, String error, Instant now) {
        if (status.isPresent() && status.getAsInt() >= 200 && status.getAsInt() < 300) {
            return new Decision(Verdict.DELIVERED, Duration.ZERO, null);
        }
        String why = status.isPresent() ? "HTTP " + status.getAsInt() : error;
        if (status.isPresent() && !isRetryable(status.getAsInt())) {
            return new Decision(Verdict.GIVE_UP, Duration.ZERO, why + " (permanent)");
        }
        if (attempt >= limits.maxAttempts()) {
            return new Decision(Verdict.GIVE_UP, Duration.ZERO, why + " (gave up after " + attempt + " attempts)");
        }
        Duration wait = backoff(attempt);
        if (status.isPresent() && (status.getAsInt() == 429 || status.getAsInt() == 503)) {
            Optional<Duration> asked = retryAfter.flatMap(h -> RetryAfter.parse(h, now));
            if (asked.isPresent()) {
                wait = asked.get().compareTo(limits.retryAfterMax()) > 0 ? limits.retryAfterMax() : asked.get();
            }
        }
        return new Decision(Verdict.RETRY, wait, why);
    }

    static boolean isRetryable(int status) {
        return status == 408 || status == 429 || (status >= 500 && status <= 599);
    }

    /** The wait after failed attempt number {@code attempt}: full jitter over the exponential cap. */
    Duration backoff(int attempt) {
        long capMillis = cap(attempt).toMillis();
        return Duration.ofMillis(Math.min(capMillis, (long) Math.floor(jitter.getAsDouble() * (capMillis + 1))));
    }

    /** min(maxBackoff, initial·2^(attempt-1)), without overflowing for large attempt numbers. */
    Duration cap(int attempt) {
        long initial = limits.initialBackoff().toMillis();
        long max = limits.maxBackoff().toMillis();
        int doublings = Math.max(0, attempt - 1);
        if (doublings >= 62 || initial > (max >> Math.min(doublings, 62))) {
            return limits.maxBackoff();
        }
        return Duration.ofMillis(Math.min(max, initial << doublings));
    }
}
