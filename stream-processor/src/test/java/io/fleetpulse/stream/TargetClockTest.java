package io.fleetpulse.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class TargetClockTest {

    @Test
    void shouldSurviveTheStoreSerdeWithEveryField() {
        TargetClock clock = new TargetClock(120_000, 110_000, 5_000_000, 60_000, true,
                new long[] {60_000, 120_000}, new long[] {0}, true);

        TargetClock back = TargetClock.SERDE.deserializer().deserialize("t", TargetClock.SERDE.serializer().serialize("t", clock));

        assertEquals(clock.eventTimeMs(), back.eventTimeMs());
        assertEquals(clock.seenAtTaskTimeMs(), back.seenAtTaskTimeMs());
        assertEquals(clock.arrivalWallMs(), back.arrivalWallMs());
        assertEquals(clock.closedThroughMs(), back.closedThroughMs());
        assertTrue(back.absent());
        assertArrayEquals(clock.openMinutes(), back.openMinutes());
        assertArrayEquals(clock.openHours(), back.openHours());
        assertEquals(120_000, back.earliestOpenEnd(60_000, 3_600_000));
        assertTrue(back.removed());
    }

    @Test
    void shouldReadFormatOneAsNotRemoved() {
        java.nio.ByteBuffer v1 = java.nio.ByteBuffer.allocate(1 + 8 * 4 + 1 + 4 + 8 + 4);
        v1.put((byte) 1).putLong(120_000).putLong(110_000).putLong(5_000_000).putLong(60_000).put((byte) 1)
                .putInt(1).putLong(60_000).putInt(0);

        TargetClock back = TargetClock.SERDE.deserializer().deserialize("t", v1.array());

        assertEquals(120_000, back.eventTimeMs());
        assertTrue(back.absent());
        assertArrayEquals(new long[] {60_000}, back.openMinutes());
        assertEquals(false, back.removed());
    }

    @Test
    void shouldKeepOpenWindowStartsSortedAndUnique() {
        long[] starts = TargetClock.with(TargetClock.with(TargetClock.with(new long[0], 120), 0), 60);

        assertArrayEquals(new long[] {0, 60, 120}, starts);
        assertArrayEquals(starts, TargetClock.with(starts, 60));
    }

    @Test
    void shouldRefuseBytesOfAnUnknownFormat() {
        assertThrows(SerializationException.class, () -> TargetClock.SERDE.deserializer().deserialize("t", new byte[] {9, 0}));
        assertThrows(SerializationException.class, () -> TargetClock.SERDE.deserializer().deserialize("t", new byte[] {1, 0}));
    }
}
