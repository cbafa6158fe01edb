package io.fleetpulse.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StraightCopyTest {

    @Test
    void shouldTryTheFastPathOnEveryBatchWhileItSucceeds() {
        SinkStore.StraightCopy fast = new SinkStore.StraightCopy();
        for (int i = 0; i < 5; i++) {
            assertTrue(fast.worthTrying(PartitionedTable.TARGET_WINDOW_1M));
            fast.record(PartitionedTable.TARGET_WINDOW_1M, true);
        }
    }

    @Test
    void shouldSkipTwiceAsManyBatchesAfterEachRefusalUpTo64AndResetOnSuccess() {
        SinkStore.StraightCopy fast = new SinkStore.StraightCopy();
        PartitionedTable health = PartitionedTable.TARGET_HEALTH;
        assertTrue(fast.worthTrying(health));
        fast.record(health, false);
        List<Integer> skipped = new ArrayList<>();
        for (int refusal = 0; refusal < 8; refusal++) {
            int skips = 0;
            while (!fast.worthTrying(health)) {
                skips++;
            }
            skipped.add(skips);
            fast.record(health, false); // the batch it was tried on was refused again
        }
        assertEquals(List.of(1, 2, 4, 8, 16, 32, 64, 64), skipped);
        while (!fast.worthTrying(health)) {
            // the last skip
        }
        fast.record(health, true);
        assertTrue(fast.worthTrying(health), "a success resets the skipping");
        assertTrue(fast.worthTrying(PartitionedTable.ALERT_EVENT), "tables are counted apart");
    }
}
