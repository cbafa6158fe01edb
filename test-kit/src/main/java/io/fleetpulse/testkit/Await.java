package io.fleetpulse.testkit;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waits for a condition with a deadline, checking it every {@link #POLL}: the one way the tests wait for something to
 * happen. No test sleeps a fixed time for time to pass; the pause here only spaces the checks.
 */
public final class Await {

    /** How often the condition is checked: short next to any timeout, long enough not to spin a core. */
    public static final Duration POLL = Duration.ofMillis(20);

    private Await() {
    }

    /** Returns once {@code condition} holds; fails naming {@code what} after {@code timeout}. */
    public static void until(BooleanSupplier condition, Duration timeout, String what) throws InterruptedException {
        until(condition, timeout, what, () -> null);
    }

    /**
     * Returns once {@code condition} holds; after {@code timeout} fails naming {@code what} and showing what
     * {@code context} gives then (a service's status, what a receiver got), if not null.
     */
    public static void until(BooleanSupplier condition, Duration timeout, String what, Supplier<?> context)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                Object shown = context.get();
                throw new AssertionError("timed out after " + timeout.toMillis() / 1000.0 + " s waiting for " + what
                        + (shown == null ? "" : "; " + shown));
            }
            Thread.sleep(POLL.toMillis());
        }
    }
}
