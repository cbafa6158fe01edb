package io.fleetpulse.alerting;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits for a condition with a timeout, polling; no test sleeps a fixed time instead. */
final class Await {

    private Await() {
    }

    /** Returns once {@code condition} holds; fails naming {@code what} and {@code context} after {@code timeout}. */
    static void until(BooleanSupplier condition, Duration timeout, String what, Supplier<Object> context)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                Object shown = context.get();
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what
                        + (shown == null ? "" : "; " + shown));
            }
            Thread.sleep(20);
        }
    }
}
