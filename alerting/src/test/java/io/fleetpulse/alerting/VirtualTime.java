package io.fleetpulse.alerting;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.PriorityQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;

/**
 * A clock and a {@link DeliveryWorker.Scheduler} that only move when a test runs them: a backoff of thirty minutes
 * takes no time at all, so a day of retries runs in the time its HTTP requests take. Tasks run on the test's thread,
 * in the order they are due; tasks queued by real I/O (an HTTP response arriving) are waited for, with a timeout.
 */
final class VirtualTime extends Clock implements DeliveryWorker.Scheduler {

    private record Due(Instant at, long sequence, Runnable task) {
    }

    private final PriorityQueue<Due> queue = new PriorityQueue<>((a, b) -> a.at().equals(b.at())
            ? Long.compare(a.sequence(), b.sequence()) : a.at().compareTo(b.at()));
    private volatile Instant now;
    private long sequence;
    private boolean closed;

    VirtualTime(Instant start) {
        this.now = start;
    }

    @Override
    public synchronized void after(Duration delay, Runnable task) {
        if (closed) {
            throw new RejectedExecutionException("closed");
        }
        queue.add(new Due(now.plus(delay), sequence++, task));
        notifyAll();
    }

    @Override
    public synchronized void close() {
        closed = true;
        queue.clear();
    }

    /** Runs due tasks, moving the clock to each one's time, until {@code done} holds. */
    void runUntil(BooleanSupplier done, Duration realTimeout) throws InterruptedException {
        long deadline = System.nanoTime() + realTimeout.toNanos();
        while (!done.getAsBoolean()) {
            Due next;
            synchronized (this) {
                while (queue.isEmpty() && !done.getAsBoolean()) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new AssertionError("nothing left to run at " + now + " and the condition still fails");
                    }
                    wait(Math.max(1, Math.min(50, left / 1_000_000)));
                }
                if (queue.isEmpty()) {
                    return;
                }
                next = queue.poll();
                if (next.at().isAfter(now)) {
                    now = next.at();
                }
            }
            next.task().run();
        }
    }

    @Override
    public Instant instant() {
        return now;
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}
