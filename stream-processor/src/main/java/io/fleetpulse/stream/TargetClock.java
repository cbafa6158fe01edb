package io.fleetpulse.stream;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * One target's own event time and the windows it has open, as the {@link WindowEngine} keeps it (store
 * {@code window-targets}). Knowing its open windows here means closing them needs no scan of the window stores.
 *
 * @param eventTimeMs   highest observed-at accepted for the target
 * @param seenAtTaskTimeMs the task's event time (as absence measures it, see {@link WindowEngine}) when the target's
 *                      last record was accepted: its silence is how far the task's event time has moved on since, so
 *                      a target whose clock is slow but which keeps sending is never silent
 * @param arrivalWallMs wall-clock time its last record arrived (only decides when idle windows close)
 * @param closedThroughMs every window of the target ending at or before this has closed; a record for one is late
 * @param absent        its silence has been reported; the next record reports it back (silence 0)
 * @param openMinutes   starts of its open 1-minute windows, ascending
 * @param openHours     starts of its open 1-hour windows, ascending
 * @param removed       a fleet.targets tombstone removed the target: its windows were dropped, and until an inventory
 *                      entry for it comes back it is never reported silent and has no health (records still in
 *                      flight after the tombstone are windowed, nothing more)
 */
record TargetClock(long eventTimeMs, long seenAtTaskTimeMs, long arrivalWallMs, long closedThroughMs, boolean absent, long[] openMinutes,
                   long[] openHours, boolean removed) {

    static final Serde<TargetClock> SERDE = Serdes.serdeFrom(
            (topic, clock) -> clock == null ? null : clock.toBytes(),
            (topic, bytes) -> bytes == null ? null : fromBytes(bytes));

    /** 1: without {@code removed}; 2: with it, a byte at the end. */
    private static final byte FORMAT_NO_REMOVED = 1;
    private static final byte FORMAT = 2;
    private static final long[] NONE = new long[0];

    static TargetClock first(long eventTimeMs, long arrivalWallMs) {
        return new TargetClock(eventTimeMs, eventTimeMs, arrivalWallMs, Long.MIN_VALUE, false, NONE, NONE, false);
    }

    TargetClock withClosed(long newClosedThroughMs, long[] newOpenMinutes, long[] newOpenHours) {
        return new TargetClock(eventTimeMs, seenAtTaskTimeMs, arrivalWallMs, newClosedThroughMs, absent, newOpenMinutes,
                newOpenHours, removed);
    }

    TargetClock withAbsent() {
        return new TargetClock(eventTimeMs, seenAtTaskTimeMs, arrivalWallMs, closedThroughMs, true, openMinutes, openHours,
                removed);
    }

    /** The clock of a target a tombstone removed: no open windows (they are dropped), not absent, marked removed. */
    TargetClock asRemoved() {
        return new TargetClock(eventTimeMs, seenAtTaskTimeMs, arrivalWallMs, closedThroughMs, false, NONE, NONE, true);
    }

    /**
     * The clock of a removed target that is back in the inventory: watched for silence again, as if last seen at the
     * task's event time {@code taskTimeMs} (it was not watched while removed).
     */
    TargetClock asRestored(long taskTimeMs) {
        return new TargetClock(eventTimeMs, Math.max(seenAtTaskTimeMs, taskTimeMs), arrivalWallMs, closedThroughMs, absent,
                openMinutes, openHours, false);
    }

    /** The earliest end among the open windows, or {@link Long#MAX_VALUE} when none is open. */
    long earliestOpenEnd(long minuteMs, long hourMs) {
        long end = Long.MAX_VALUE;
        if (openMinutes.length > 0) {
            end = openMinutes[0] + minuteMs;
        }
        if (openHours.length > 0) {
            end = Math.min(end, openHours[0] + hourMs);
        }
        return end;
    }

    /** Whether the 1-minute window starting at {@code start} is open: only an open minute has an accumulator. */
    boolean hasOpenMinute(long start) {
        return Arrays.binarySearch(openMinutes, start) >= 0;
    }

    static long[] with(long[] starts, long start) {
        int at = Arrays.binarySearch(starts, start);
        if (at >= 0) {
            return starts;
        }
        int insert = -at - 1;
        long[] out = new long[starts.length + 1];
        System.arraycopy(starts, 0, out, 0, insert);
        out[insert] = start;
        System.arraycopy(starts, insert, out, insert + 1, starts.length - insert);
        return out;
    }

    private byte[] toBytes() {
        ByteBuffer buf = ByteBuffer.allocate(1 + 8 * 4 + 1 + 4 + 8 * openMinutes.length + 4 + 8 * openHours.length + 1);
        buf.put(FORMAT).putLong(eventTimeMs).putLong(seenAtTaskTimeMs).putLong(arrivalWallMs).putLong(closedThroughMs).put((byte) (absent ? 1 : 0));
        buf.putInt(openMinutes.length);
        for (long start : openMinutes) {
            buf.putLong(start);
        }
        buf.putInt(openHours.length);
        for (long start : openHours) {
            buf.putLong(start);
        }
        buf.put((byte) (removed ? 1 : 0));
        return buf.array();
    }

    private static TargetClock fromBytes(byte[] bytes) {
        try {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            byte format = buf.get();
            if (format != FORMAT && format != FORMAT_NO_REMOVED) {
                throw new SerializationException("unknown target clock format " + format);
            }
            long eventTime = buf.getLong();
            long seenAt = buf.getLong();
            long arrival = buf.getLong();
            long closedThrough = buf.getLong();
            boolean absent = buf.get() == 1;
            long[] minutes = readStarts(buf);
            long[] hours = readStarts(buf);
            boolean removed = format == FORMAT && buf.get() == 1;
            return new TargetClock(eventTime, seenAt, arrival, closedThrough, absent, minutes, hours, removed);
        } catch (SerializationException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new SerializationException("corrupt target clock", e);
        }
    }

    private static long[] readStarts(ByteBuffer buf) {
        long[] starts = new long[buf.getInt()];
        for (int i = 0; i < starts.length; i++) {
            starts[i] = buf.getLong();
        }
        return starts;
    }
}
