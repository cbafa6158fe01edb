package io.fleetpulse.collector;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waits for a condition on a running collector, failing with its status when it does not come true in time. */
final class AwaitCollector {

    private AwaitCollector() {
    }

    static void until(BooleanSupplier condition, CollectorService collector, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not true within " + timeout + "; status " + collector.status());
            }
            Thread.sleep(100);
        }
    }
}
