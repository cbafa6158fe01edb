package io.fleetpulse.runtime.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {

    @Test
    void shouldParseEveryUnitAndIso8601() {
        assertEquals(Duration.ofMillis(500), Durations.parse("500ms"));
        assertEquals(Duration.ofSeconds(30), Durations.parse("30s"));
        assertEquals(Duration.ofMinutes(5), Durations.parse("5m"));
        assertEquals(Duration.ofHours(1), Durations.parse("1h"));
        assertEquals(Duration.ofDays(7), Durations.parse("7d"));
        assertEquals(Duration.ofDays(14), Durations.parse("2w"));
        assertEquals(Duration.ofSeconds(30), Durations.parse("PT30S"));
        assertEquals(Duration.ofDays(1), Durations.parse("p1d"));
        assertEquals(Duration.ofMinutes(90), Durations.parse("1h30m"));
        assertEquals(Duration.ofSeconds(10), Durations.parse(" 10 s "));
        assertEquals(Duration.ZERO, Durations.parse("0s"));
    }

    @Test
    void shouldRefuseWhatIsNotADuration() {
        for (String bad : new String[] {"", "ten", "10", "5x", "-5s", "PT-5S", "1.5h", "s"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(bad), bad);
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Durations.parsePositive("0ms"));
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("99999999999999999w"));
    }

    @Test
    void shouldFormatWhatItParses() {
        assertEquals("90s", Durations.format(Duration.ofSeconds(90)));
        assertEquals("5m", Durations.format(Duration.ofMinutes(5)));
        assertEquals("2w", Durations.format(Duration.ofDays(14)));
        assertEquals("500ms", Durations.format(Duration.ofMillis(500)));
        assertEquals("0s", Durations.format(Duration.ZERO));
        for (Duration d : new Duration[] {Duration.ofMillis(1), Duration.ofSeconds(3601), Duration.ofDays(9)}) {
            assertEquals(d, Durations.parse(Durations.format(d)));
        }
    }
}
