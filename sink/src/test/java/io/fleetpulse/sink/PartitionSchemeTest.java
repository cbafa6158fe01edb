package io.fleetpulse.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.sink.PartitionScheme.Partition;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PartitionSchemeTest {

    private final PartitionScheme daily = new PartitionScheme(PartitionedTable.TARGET_WINDOW_1M, Duration.ofDays(30), 3);
    private final PartitionScheme monthly = new PartitionScheme(PartitionedTable.ALERT_EVENT, Duration.ofDays(400), 2);

    @Test
    void shouldNameDailyPartitionsAfterTheirUtcDay() {
        Partition p = daily.partitionFor(Instant.parse("2026-11-23T17:45:12Z"));
        assertEquals("target_window_1m_p20261123", p.name());
        assertEquals(Instant.parse("2026-11-23T00:00:00Z"), p.start());
        assertEquals(Instant.parse("2026-11-24T00:00:00Z"), p.end());
    }

    @Test
    void shouldPutTheLastMillisecondOfADayAndMidnightInDifferentPartitions() {
        assertEquals("target_window_1m_p20261130", daily.partitionFor(Instant.parse("2026-11-30T23:59:59.999Z")).name());
        Partition december = daily.partitionFor(Instant.parse("2026-12-01T00:00:00Z"));
        assertEquals("target_window_1m_p20261201", december.name());
        assertEquals(Instant.parse("2026-12-02T00:00:00Z"), december.end());
    }

    @Test
    void shouldEndTheLastDayOfAYearOnNewYearsMidnight() {
        Partition p = daily.partitionFor(Instant.parse("2026-12-31T12:00:00Z"));
        assertEquals(Instant.parse("2027-01-01T00:00:00Z"), p.end());
    }

    @Test
    void shouldCoverLeapDay() {
        Partition p = daily.partitionFor(Instant.parse("2028-02-29T08:00:00Z"));
        assertEquals("target_window_1m_p20280229", p.name());
        assertEquals(LocalDate.of(2028, 3, 1), p.to());
    }

    @Test
    void shouldNameMonthlyPartitionsAfterTheirMonthAndSpanItExactly() {
        Partition p = monthly.partitionFor(Instant.parse("2026-02-14T09:00:00Z"));
        assertEquals("alert_event_p202602", p.name());
        assertEquals(Instant.parse("2026-02-01T00:00:00Z"), p.start());
        assertEquals(Instant.parse("2026-03-01T00:00:00Z"), p.end());
    }

    @Test
    void shouldRollMonthlyPartitionsOverTheYearBoundary() {
        Partition december = monthly.partitionFor(Instant.parse("2026-12-31T23:59:59.999Z"));
        assertEquals("alert_event_p202612", december.name());
        assertEquals(Instant.parse("2027-01-01T00:00:00Z"), december.end());
        assertEquals("alert_event_p202701", monthly.partitionFor(december.end()).name());
    }

    @Test
    void shouldWantDailyPartitionsFromTheRetentionCutoffToThreeDaysAhead() {
        List<Partition> wanted = daily.wanted(Instant.parse("2026-11-23T10:00:00Z"));
        // cutoff 2026-10-24T10:00 -> first wanted day 2026-10-24; today + 3 = 2026-11-26
        assertEquals("target_window_1m_p20261024", wanted.get(0).name());
        assertEquals("target_window_1m_p20261126", wanted.get(wanted.size() - 1).name());
        assertEquals(31 + 3, wanted.size());
        for (int i = 1; i < wanted.size(); i++) {
            assertEquals(wanted.get(i - 1).end(), wanted.get(i).start(), "partitions are contiguous");
        }
    }

    @Test
    void shouldWantPremadeDaysAcrossAMonthEnd() {
        List<Partition> wanted = daily.wanted(Instant.parse("2026-11-29T23:00:00Z"));
        assertEquals(List.of("target_window_1m_p20261129", "target_window_1m_p20261130", "target_window_1m_p20261201",
                        "target_window_1m_p20261202"),
                wanted.subList(wanted.size() - 4, wanted.size()).stream().map(Partition::name).toList());
    }

    @Test
    void shouldWantMonthlyPartitionsFromTheRetentionCutoffToTwoMonthsAhead() {
        List<Partition> wanted = monthly.wanted(Instant.parse("2026-11-23T10:00:00Z"));
        // cutoff = 2026-11-23T10:00 - 400 d = 2025-10-19T10:00
        assertEquals("alert_event_p202510", wanted.get(0).name());
        assertEquals("alert_event_p202701", wanted.get(wanted.size() - 1).name());
        assertEquals(16, wanted.size());
        assertTrue(wanted.stream().anyMatch(p -> p.name().equals("alert_event_p202612")));
    }

    @Test
    void shouldPutTheRetentionCutoffExactlyRetentionBeforeNow() {
        assertEquals(Instant.parse("2026-10-24T10:00:00Z"), daily.retentionCutoff(Instant.parse("2026-11-23T10:00:00Z")));
    }

    @Test
    void shouldExpireADayOnlyWhenAllOfItIsOlderThanTheCutoff() {
        Instant now = Instant.parse("2026-11-23T10:00:00Z"); // cutoff 2026-10-24T10:00
        assertTrue(daily.isExpired(daily.partitionFor(Instant.parse("2026-10-23T12:00:00Z")), now));
        assertFalse(daily.isExpired(daily.partitionFor(Instant.parse("2026-10-24T00:00:00Z")), now),
                "the cutoff day still holds rows newer than the cutoff");
        Instant atMidnight = Instant.parse("2026-11-23T00:00:00Z"); // cutoff exactly 2026-10-24T00:00
        assertTrue(daily.isExpired(daily.partitionFor(Instant.parse("2026-10-23T23:59:59Z")), atMidnight),
                "a partition ending exactly at the cutoff holds only older rows");
    }

    @Test
    void shouldNeverWantAPartitionItWouldDrop() {
        Instant now = Instant.parse("2027-03-01T00:00:00.001Z");
        for (PartitionScheme scheme : List.of(daily, monthly)) {
            scheme.wanted(now).forEach(p -> assertFalse(scheme.isExpired(p, now), p.name()));
        }
    }

    @Test
    void shouldExpireMonthsPastTheAlertRetention() {
        Instant now = Instant.parse("2026-11-23T10:00:00Z"); // cutoff 2025-10-19T10:00
        assertTrue(monthly.isExpired(monthly.parse("alert_event_p202509").orElseThrow(), now));
        assertFalse(monthly.isExpired(monthly.parse("alert_event_p202510").orElseThrow(), now));
    }

    @Test
    void shouldParseOnlyItsOwnDatedNames() {
        assertEquals(Optional.of(daily.partitionFor(Instant.parse("2026-11-23T00:00:00Z"))),
                daily.parse("target_window_1m_p20261123"));
        assertEquals(Optional.empty(), daily.parse("target_window_1m_default"));
        assertEquals(Optional.empty(), daily.parse("target_window_1m_p20260231"), "no February 31st");
        assertEquals(Optional.empty(), daily.parse("target_window_1m_p2026112"));
        assertEquals(Optional.empty(), daily.parse("target_window_1m_p2026-11-2"));
        assertEquals(Optional.empty(), daily.parse("alert_event_p202611"));
        assertEquals(Optional.empty(), monthly.parse("alert_event_p202613"));
        assertEquals("alert_event_p202611", monthly.parse("alert_event_p202611").orElseThrow().name());
    }

    @Test
    void shouldRefuseIdentifiersThatAreNotPlainLowerCaseNames() {
        assertEquals("target_window_1m_p20261123", PartitionedTable.requireIdentifier("target_window_1m_p20261123"));
        for (String bad : new String[] {"", "Target", "a b", "x;drop table y", "a\"b", "1abc", "a".repeat(64), null}) {
            assertThrows(IllegalArgumentException.class, () -> PartitionedTable.requireIdentifier(bad), String.valueOf(bad));
        }
    }

    @Test
    void shouldRejectANonPositiveRetention() {
        assertThrows(IllegalArgumentException.class,
                () -> new PartitionScheme(PartitionedTable.TARGET_WINDOW_1M, Duration.ZERO, 3));
    }
}
