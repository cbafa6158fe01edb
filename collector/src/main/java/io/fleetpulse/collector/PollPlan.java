package io.fleetpulse.collector;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * When each target is next due, as a pure plan over a millisecond time line the caller supplies (the scheduler's
 * monotonic clock; a test's hand-moved one), so timing is tested without waiting.
 *
 * <p>A target's first start falls at random within its first interval, so a fleet does not fire in lockstep. Every
 * later start is its <em>anchor</em> (first start plus a whole number of intervals) moved by a fresh random jitter
 * of up to {@code jitterFraction} of the interval either way: targets never fall into step again, however long they
 * run, and the jitter never adds up to drift, so a target is polled exactly once per interval on average.
 *
 * @param <T> what is planned (a target)
 */
final class PollPlan<T> {

    /** One planned start: what, when it is due, and the anchor its jitter is measured from. */
    record Due<T>(T item, long intervalMs, long anchorMs, long plannedMs, long order) {
    }

    private final double jitterFraction;
    private final SplittableRandom random;
    private final PriorityQueue<Due<T>> byPlannedStart = new PriorityQueue<>((a, b) -> a.plannedMs() != b.plannedMs()
            ? Long.compare(a.plannedMs(), b.plannedMs()) : Long.compare(a.order(), b.order()));
    private long added;

    PollPlan(double jitterFraction, SplittableRandom random) {
        if (jitterFraction < 0 || jitterFraction > 0.5) {
            throw new IllegalArgumentException("jitter must be 0 to 0.5 of the interval, not " + jitterFraction);
        }
        this.jitterFraction = jitterFraction;
        this.random = random;
    }

    /** Plans {@code item} every {@code intervalMs}, its first start within one interval after {@code nowMs}. */
    void add(T item, long intervalMs, long nowMs) {
        add(item, intervalMs, nowMs, intervalMs);
    }

    /** As {@link #add(Object, long, long)}, its first start within {@code firstWithinMs} (at most the interval). */
    void add(T item, long intervalMs, long nowMs, long firstWithinMs) {
        long first = nowMs + 1 + random.nextLong(Math.max(1, Math.min(firstWithinMs, intervalMs)));
        byPlannedStart.add(new Due<>(item, intervalMs, first, first, added++));
    }

    /**
     * Everything due at {@code nowMs}, the most overdue first, each with its planned start; each is planned again
     * for its next interval. A start long missed (the process stalled) is not made up in a burst: the next one is
     * planned from the first anchor after now.
     */
    List<Due<T>> takeDue(long nowMs) {
        List<Due<T>> due = new ArrayList<>();
        while (!byPlannedStart.isEmpty() && byPlannedStart.peek().plannedMs() <= nowMs) {
            Due<T> d = byPlannedStart.poll();
            due.add(d);
            long nextAnchor = d.anchorMs() + d.intervalMs();
            if (nextAnchor <= nowMs) {
                nextAnchor += ((nowMs - nextAnchor) / d.intervalMs() + 1) * d.intervalMs();
            }
            byPlannedStart.add(new Due<>(d.item(), d.intervalMs(), nextAnchor, Math.max(nowMs + 1,
                    nextAnchor + jitter(d.intervalMs())), d.order()));
        }
        return due;
    }

    /** When the next start is due, or {@link Long#MAX_VALUE} when nothing is planned. */
    long nextDueMs() {
        return byPlannedStart.isEmpty() ? Long.MAX_VALUE : byPlannedStart.peek().plannedMs();
    }

    /** Drops every planned start of the items {@code which} matches (a target removed from the inventory). */
    void removeIf(java.util.function.Predicate<T> which) {
        byPlannedStart.removeIf(d -> which.test(d.item()));
    }

    void clear() {
        byPlannedStart.clear();
    }

    private long jitter(long intervalMs) {
        long bound = Math.round(intervalMs * jitterFraction);
        return bound == 0 ? 0 : random.nextLong(-bound, bound + 1);
    }
}
