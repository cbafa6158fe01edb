package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class ByteSizeTest {

    @Test
    void shouldReadWholeBytesWithDecimalOrBinaryUnits() {
        assertEquals(1_073_741_824L, ByteSize.parse("1073741824"));
        assertEquals(10L << 30, ByteSize.parse("10GiB"));
        assertEquals(500_000_000L, ByteSize.parse("500 MB"));
        assertEquals(2L << 40, ByteSize.parse("2tib"));
        assertEquals(1_000_000L, ByteSize.parse("1_000_000"));
    }

    @Test
    void shouldRefuseWhatIsNotAWholeSize() {
        assertNull(ByteSize.parse("lots"));
        assertNull(ByteSize.parse("1.5GiB"));
        assertNull(ByteSize.parse("-1"));
        assertNull(ByteSize.parse("10 parsecs"));
        assertNull(ByteSize.parse("99999999999 TiB"), "past a long");
    }

    @Test
    void shouldShowASizeInItsLargestBinaryUnit() {
        assertEquals("512 B", ByteSize.format(512));
        assertEquals("9.0 GiB", ByteSize.format(9L << 30));
        assertEquals("1.5 MiB", ByteSize.format(3L << 19));
    }
}
