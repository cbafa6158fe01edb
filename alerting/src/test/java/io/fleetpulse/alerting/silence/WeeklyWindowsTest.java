package io.fleetpulse.alerting.silence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The weekly maintenance window: local wall-clock hours in a zone, across midnight, week ends and DST. */
class WeeklyWindowsTest {

    private static final WeeklyWindows SATURDAY_NIGHT = WeeklyWindows.parse("Sat 22:00-Sun 02:00", "Europe/Berlin");

    @Test
    void shouldHoldFromSaturdayEveningAcrossMidnightUntilSundayMorningInItsZone() {
        // 2026-12-05 is a Saturday; Berlin is UTC+1 in winter
        assertFalse(SATURDAY_NIGHT.contains(Instant.parse("2026-12-05T20:59:59Z")));
        assertTrue(SATURDAY_NIGHT.contains(Instant.parse("2026-12-05T21:00:00Z")), "22:00 Berlin: starts");
        assertTrue(SATURDAY_NIGHT.contains(Instant.parse("2026-12-05T23:30:00Z")), "00:30 Sunday Berlin");
        assertTrue(SATURDAY_NIGHT.contains(Instant.parse("2026-12-06T00:59:59Z")));
        assertFalse(SATURDAY_NIGHT.contains(Instant.parse("2026-12-06T01:00:00Z")), "02:00 Berlin: the end is excluded");
        assertTrue(SATURDAY_NIGHT.contains(Instant.parse("2026-12-12T22:00:00Z")), "and again the next week");
        assertFalse(SATURDAY_NIGHT.contains(Instant.parse("2026-12-09T22:00:00Z")), "not on a Wednesday");
    }

    @Test
    void shouldKeepItsLocalHoursOnTheNightTheClocksGoForward() {
        // 2026-03-29: Berlin goes from 02:00 CET to 03:00 CEST; Sat 22:00 CET = 21:00Z, Sun 04:00 CEST = 02:00Z
        WeeklyWindows window = WeeklyWindows.parse("Sat 22:00-Sun 04:00", "Europe/Berlin");
        assertTrue(window.contains(Instant.parse("2026-03-28T21:00:00Z")));
        assertTrue(window.contains(Instant.parse("2026-03-29T01:59:59Z")), "03:59 CEST");
        assertFalse(window.contains(Instant.parse("2026-03-29T02:30:00Z")),
                "04:30 CEST: over, though a fixed +01:00 offset would say 03:30");
    }

    @Test
    void shouldKeepItsLocalHoursOnTheNightTheClocksGoBack() {
        // 2026-10-25: Berlin goes from 03:00 CEST back to 02:00 CET; Sat 22:00 CEST = 20:00Z, Sun 04:00 CET = 03:00Z
        WeeklyWindows window = WeeklyWindows.parse("Sat 22:00-Sun 04:00", "Europe/Berlin");
        assertFalse(window.contains(Instant.parse("2026-10-24T19:59:59Z")));
        assertTrue(window.contains(Instant.parse("2026-10-24T20:00:00Z")));
        assertTrue(window.contains(Instant.parse("2026-10-25T02:30:00Z")),
                "03:30 CET: still inside, though a fixed +02:00 offset would say 04:30");
        assertFalse(window.contains(Instant.parse("2026-10-25T03:00:00Z")));
    }

    @Test
    void shouldReadDayRangesWithOneWindowPerDayEndingTheNextDayWhenTheEndIsNotAfterTheStart() {
        WeeklyWindows nights = WeeklyWindows.parse("Mon-Fri 23:00-01:00", "UTC");
        assertEquals(5, nights.spans().size());
        assertEquals("Mon 23:00-Tue 01:00, Tue 23:00-Wed 01:00, Wed 23:00-Thu 01:00, Thu 23:00-Fri 01:00, "
                + "Fri 23:00-Sat 01:00", nights.describe());
        assertTrue(nights.contains(Instant.parse("2026-12-05T00:30:00Z")), "Saturday 00:30: Friday's night");
        assertFalse(nights.contains(Instant.parse("2026-12-06T00:30:00Z")), "Sunday 00:30: Saturday has none");
        assertEquals("Mon 02:00-Mon 04:00, Wed 02:00-Wed 04:00, Sat 22:00-Sun 02:00, Sun 12:00-Sun 13:00",
                WeeklyWindows.parse("Mon,Wed 02:00-04:00; Sat 22:00-Sun 02:00, Sun 12:00-13:00", "UTC").describe());
    }

    @Test
    void shouldFindTheNextStart() {
        assertEquals(Optional.of(Instant.parse("2026-12-05T21:00:00Z")),
                SATURDAY_NIGHT.nextStart(Instant.parse("2026-12-02T08:00:00Z")));
        Instant inside = Instant.parse("2026-12-05T22:00:00Z");
        assertEquals(Optional.of(inside), SATURDAY_NIGHT.nextStart(inside));
    }

    @Test
    void shouldRoundTripThroughItsStoredForm() {
        assertEquals(SATURDAY_NIGHT, WeeklyWindows.fromAvro(SATURDAY_NIGHT.toAvro()));
    }

    @Test
    void shouldSayWhatIsWrongWithABadSchedule() {
        assertEquals("'Sat 22:00' is not a weekly window: expected e.g. 'Sat 22:00-Sun 02:00' or 'Mon-Fri 02:00-04:00'",
                assertThrows(IllegalArgumentException.class, () -> WeeklyWindows.parse("Sat 22:00", "UTC")).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> WeeklyWindows.parse("Sat 22:00-Sun 02:00", "Mars/Olympus")).getMessage().contains("IANA"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> WeeklyWindows.parse("Sat 25:00-Sun 02:00", "UTC")).getMessage().contains("HH:MM"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> WeeklyWindows.parse("Sut 22:00-Sun 02:00", "UTC")).getMessage().contains("day of the week"));
    }
}
