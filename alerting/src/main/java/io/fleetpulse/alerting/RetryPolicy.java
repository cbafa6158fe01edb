package io.fleetpulse.alerting;

import io.fleetpulse.runtime.text.Durations;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.DoubleSupplier;

/**
 * What to do after one delivery attempt: done, retry after a wait, or give up. Pure decisions, so the rules are
 * tested directly; {@link DeliveryWorker} does the waiting and the HTTP.
 *
 * <ul>
 *   <li>2xx: delivered.</li>
 *   <li>408, 429, 5xx and network errors: retried for as long as the notification's failing time stays within
 *       {@code budget} (hours: a receiver down for an afternoon still gets its pages once it is back); the last
 *       wait is cut to end at the budget, and a failure at or past it is given up.</li>
 *   <li>Failing time is the time since the first attempt minus pacing: a 429 with a usable {@code Retry-After} is
 *       the receiver pacing us, not failing, so its wait is {@link Decision#throttled() throttled} and not counted,
 *       as long as the notification's Retry-After waits stay within {@code retryAfterBudget}; past it a 429 counts
 *       like any other failure. Waiting for a rate-limit token is pacing too (the caller leaves it out).</li>
 *   <li>Any other status (400, 401, 403, 404, 3xx ...): permanent, retrying cannot fix the request.</li>
 *   <li>Waits are exponential backoff with full jitter: uniform in [0, min(maxBackoff, initial·2^(attempt-1))],
 *       which spreads retries of many clients instead of synchronising them. On 429 and 503 a
 *       {@code Retry-After} replaces the backoff, clamped to {@code retryAfterMax}.</li>
 * </ul>
 */
final class RetryPolicy {

    /** @param budget how long a notification may keep failing before it is recorded FAILED (alerting.retry.budget) */
    record Limits(Duration budget, Duration initialBackoff, Duration maxBackoff, Duration retryAfterMax,
                  Duration retryAfterBudget) {
    }

    enum Verdict { DELIVERED, RETRY, GIVE_UP }

    /**
     * @param why       for RETRY and GIVE_UP: what went wrong, as recorded on the audit record
     * @param throttled for RETRY: the wait is a honoured Retry-After on 429, and the attempt does not count
     */
    record Decision(Verdict verdict, Duration delay, String why, boolean throttled) {

        Decision(Verdict verdict, Duration delay, String why) {
            this(verdict, delay, why, false);
        }
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
     * @param attempt    this attempt's number among the failing ones: 1 + the counted failures before it (throttled
     *                   ones are not counted); it sets the backoff cap
     * @param failing    how long this notification has been failing: since its first attempt, minus pacing (token
     *                   waits and honoured Retry-After waits)
     * @param throttled  the Retry-After waits this notification already did on 429s
     * @param status     the HTTP status, empty when the request failed without one (connect error, timeout)
     * @param retryAfter the response's Retry-After header, if any
     * @param error      description of the failure when there was no status
     */
    Decision decide(int attempt, Duration failing, Duration throttled, OptionalInt status, Optional<String> retryAfter, String error,
                    Instant now) {
        if (status.isPresent() && status.getAsInt() >= 200 && status.getAsInt() < 300) {
            return new Decision(Verdict.DELIVERED, Duration.ZERO, null);
        }
        String why = status.isPresent() ? "HTTP " + status.getAsInt() : error;
        if (status.isPresent() && !isRetryable(status.getAsInt())) {
            return new Decision(Verdict.GIVE_UP, Duration.ZERO, why + " (permanent)");
        }
        Optional<Duration> asked = status.isPresent() && (status.getAsInt() == 429 || status.getAsInt() == 503)
                ? retryAfter.flatMap(h -> RetryAfter.parse(h, now)).map(this::clamp) : Optional.empty();
        if (asked.isPresent() && status.getAsInt() == 429
                && throttled.plus(asked.get()).compareTo(limits.retryAfterBudget()) <= 0) {
            return new Decision(Verdict.RETRY, asked.get(), why + " (throttled: Retry-After honoured, not counted "
                    + "as an attempt)", true);
        }
        Duration left = limits.budget().minus(failing);
        if (left.isNegative() || left.isZero()) {
            return new Decision(Verdict.GIVE_UP, Duration.ZERO, why + " (gave up after " + attempt + " attempts "
                    + "failing for " + Durations.format(failing.truncatedTo(ChronoUnit.SECONDS)) + ", the retry budget)");
        }
        Duration wait = asked.orElseGet(() -> backoff(attempt));
        return new Decision(Verdict.RETRY, wait.compareTo(left) > 0 ? left : wait, why);
    }

    private Duration clamp(Duration asked) {
        return asked.compareTo(limits.retryAfterMax()) > 0 ? limits.retryAfterMax() : asked;
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
