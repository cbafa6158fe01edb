package io.fleetpulse.collector;

import io.fleetpulse.testkit.Await;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waits for a condition on a running collector, failing with its status when it does not come true in time. */
final class AwaitCollector {

    private AwaitCollector() {
    }

    static void until(BooleanSupplier condition, CollectorService collector, Duration timeout) throws InterruptedException {
        Await.until(condition, timeout, "the condition", () -> "status " + collector.status());
    }
}
