package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The outage buffer keeps each series' newest records, oldest first, and counts what it supersedes. */
class PendingRecordsTest {

    @Test
    void shouldSupersedeTheOldestOfASeriesPastItsCapAndKeepTheNewest() throws Exception {
        PendingRecords<String> pending = new PendingRecords<>(100, 2);
        pending.add("a", "a1");
        pending.add("b", "b1");
        pending.add("a", "a2");
        pending.add("a", "a3");

        assertEquals(List.of("b1", "a2", "a3"), drain(pending));
        assertEquals(1, pending.superseded());
    }

    @Test
    void shouldSupersedeTheOwnSeriesFirstWhenTheBufferIsFull() throws Exception {
        PendingRecords<String> pending = new PendingRecords<>(3, 10);
        pending.add("a", "a1");
        pending.add("b", "b1");
        pending.add("b", "b2");
        pending.add("b", "b3");
        pending.add("c", "c1");

        // b3 supersedes b1 (its own series); c1 has nothing to supersede of its own, so the oldest of all goes.
        assertEquals(List.of("b2", "b3", "c1"), drain(pending));
        assertEquals(2, pending.superseded());
    }

    @Test
    void shouldPutATakenRecordBackInFrontOfEverythingNewer() throws Exception {
        PendingRecords<String> pending = new PendingRecords<>(10, 10);
        pending.add("a", "a1");
        pending.add("a", "a2");
        PendingRecords.Slot<String> taken = pending.take(0);
        pending.add("a", "a3");
        pending.putBack(taken);

        assertEquals(List.of("a1", "a2", "a3"), drain(pending));
        assertEquals(0, pending.superseded());
    }

    @Test
    void shouldStayBoundedThroughALongOutage() throws Exception {
        PendingRecords<String> pending = new PendingRecords<>(50, 5);
        for (int i = 0; i < 100_000; i++) {
            pending.add("s" + (i % 20), "r" + i);
        }

        assertEquals(50, pending.size());
        assertEquals(100_000 - 50, pending.superseded());
        List<String> kept = drain(pending);
        assertEquals("r99999", kept.get(kept.size() - 1), "oldest first");
        for (int i = 99_980; i < 100_000; i++) {
            assertTrue(kept.contains("r" + i), "the newest of every series is kept: r" + i);
        }
        kept.forEach(r -> assertTrue(Integer.parseInt(r.substring(1)) >= 99_900, r + " is older than any series' newest 5"));
        assertNull(pending.take(0));
    }

    private static List<String> drain(PendingRecords<String> pending) throws InterruptedException {
        List<String> out = new ArrayList<>();
        for (PendingRecords.Slot<String> slot = pending.take(0); slot != null; slot = pending.take(0)) {
            out.add(slot.item);
        }
        return out;
    }
}
