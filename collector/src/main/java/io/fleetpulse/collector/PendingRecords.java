package io.fleetpulse.collector;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Records waiting for the broker, bounded, oldest first. Each record belongs to a series (one target's one check,
 * or its metrics); when a series holds {@code maxPerSeries} records, or the whole buffer {@code maxRecords}, a new
 * record supersedes the oldest of its own series, so an outage keeps every target's newest view instead of
 * refusing the newest records. Only a record of a series with nothing buffered, arriving when the buffer is full,
 * supersedes the oldest record of all. Thread-safe: the poll loop adds, the sender thread takes.
 *
 * <p>Superseded records are counted, never silently lost; a taken record that could not be handed to the producer
 * is put back at the head with {@link #putBack}, in front of everything newer of its series.
 */
final class PendingRecords<T> {

    /** One buffered record; {@code live} turns false once it is taken or superseded. */
    static final class Slot<T> {
        final String series;
        final T item;
        private boolean live = true;

        private Slot(String series, T item) {
            this.series = series;
            this.item = item;
        }
    }

    private final int maxRecords;
    private final int maxPerSeries;
    /** Every slot in arrival order, including ones no longer live (dropped lazily, compacted when they pile up). */
    private final ArrayDeque<Slot<T>> order = new ArrayDeque<>();
    private final Map<String, ArrayDeque<Slot<T>>> bySeries = new HashMap<>();
    private int live;
    private long superseded;

    PendingRecords(int maxRecords, int maxPerSeries) {
        if (maxRecords < 1 || maxPerSeries < 1) {
            throw new IllegalArgumentException("caps must be positive: " + maxRecords + ", " + maxPerSeries);
        }
        this.maxRecords = maxRecords;
        this.maxPerSeries = maxPerSeries;
    }

    /** Adds {@code item}, superseding (and counting) the oldest record of its series, or of all, when full. */
    synchronized void add(String series, T item) {
        ArrayDeque<Slot<T>> own = bySeries.computeIfAbsent(series, s -> new ArrayDeque<>());
        if (own.size() >= maxPerSeries || (live >= maxRecords && !own.isEmpty())) {
            supersede(own.pollFirst());
        } else if (live >= maxRecords) {
            supersedeOldest();
        }
        Slot<T> slot = new Slot<>(series, item);
        own.addLast(slot);
        order.addLast(slot);
        live++;
        if (order.size() > 2 * maxRecords + 16) {
            order.removeIf(s -> !s.live);
        }
        notifyAll();
    }

    /** Removes and returns the oldest record, waiting up to {@code timeoutMs} for one; null if none came. */
    synchronized Slot<T> take(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true) {
            dropDeadHead();
            if (!order.isEmpty()) {
                Slot<T> slot = order.pollFirst();
                ArrayDeque<Slot<T>> own = bySeries.get(slot.series);
                own.pollFirst(); // the oldest live slot overall is the oldest of its series
                if (own.isEmpty()) {
                    bySeries.remove(slot.series);
                }
                slot.live = false;
                live--;
                return slot;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }

    /** Puts a taken record back at the head, the oldest again of all and of its series. */
    synchronized void putBack(Slot<T> slot) {
        slot.live = true;
        bySeries.computeIfAbsent(slot.series, s -> new ArrayDeque<>()).addFirst(slot);
        order.addFirst(slot);
        live++;
        notifyAll();
    }

    synchronized int size() {
        return live;
    }

    /** Records superseded by newer ones since the start. */
    synchronized long superseded() {
        return superseded;
    }

    private void supersede(Slot<T> slot) {
        slot.live = false;
        live--;
        superseded++;
    }

    private void supersedeOldest() {
        dropDeadHead();
        Slot<T> oldest = order.pollFirst();
        ArrayDeque<Slot<T>> own = bySeries.get(oldest.series);
        own.pollFirst();
        if (own.isEmpty()) {
            bySeries.remove(oldest.series);
        }
        supersede(oldest);
    }

    private void dropDeadHead() {
        while (!order.isEmpty() && !order.peekFirst().live) {
            order.pollFirst();
        }
    }
}
