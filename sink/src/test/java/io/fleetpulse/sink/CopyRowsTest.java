package io.fleetpulse.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.TargetWindow;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CopyRowsTest {

    private static final Instant T = Instant.parse("2026-11-23T10:15:00Z");

    @Test
    void shouldWriteAWindowAsOneCsvRowWithUnquotedEmptyFieldsForNulls() {
        StringBuilder out = new StringBuilder();
        CopyRows.appendWindow(out, 7, Records.window("srv-1", T, 4));
        assertEquals("7,\"srv-1\",2026-11-23T10:15:00Z,2026-11-23T10:16:00Z,4,1,0.25,12.5,40.0,,0.25,0.5,0.6,0.7,0.8,0.9,6\n",
                out.toString());
    }

    @Test
    void shouldQuoteTextSoCommasQuotesAndNewlinesSurvive() {
        TargetWindow w = Records.window("a,b\"c\nd", T, 1);
        StringBuilder out = new StringBuilder();
        CopyRows.appendWindow(out, 0, w);
        assertTrue(out.toString().startsWith("0,\"a,b\"\"c\nd\","), out.toString());
    }

    @Test
    void shouldWriteNonFiniteNumbersTheWayPostgresReadsThem() {
        TargetWindow w = Records.window("srv-1", T, 1);
        w.setErrorRate(Double.NaN);
        w.setCpuMax(Double.POSITIVE_INFINITY);
        w.setLatencyP50Ms(1.0E-7);
        StringBuilder out = new StringBuilder();
        CopyRows.appendWindow(out, 0, w);
        String[] fields = out.toString().strip().split(",");
        assertEquals("NaN", fields[6]);
        assertEquals("1.0E-7", fields[7]);
        assertEquals("Infinity", fields[11]);
    }

    @Test
    void shouldWriteAnAlertWithItsEvidenceAndSortedLabels() {
        AlertEvent a = Records.alert("fp-1", "srv-1", AlertState.FIRING, T);
        StringBuilder out = new StringBuilder();
        CopyRows.appendAlert(out, 3, a);
        assertEquals("3,\"fp-1\",\"cpu-high\",\"srv-1\",\"web\",\"{\"\"team\"\":\"\"core\"\",\"\"zone\"\":\"\"eu-1\"\"}\","
                + "\"FIRING\",\"CRITICAL\",\"CPU above 90% on srv-1, \"\"sustained\"\"\",\"cpu_percent\",97.5,\">\",90.0,"
                + "2026-11-23T10:10:00Z,2026-11-23T10:15:00Z,30,2026-11-23T10:14:00Z,,2026-11-23T10:15:00Z\n", out.toString());
    }

    @Test
    void shouldWriteAHealthScoreWithItsListsAsJsonArrays() {
        StringBuilder out = new StringBuilder();
        CopyRows.appendHealth(out, 5, Records.health("srv-1", T, 62.5));
        assertEquals("5,\"srv-1\",2026-11-23T10:15:00Z,2026-11-23T10:16:00Z,62.5,\"DEGRADED\","
                + "\"[\"\"http\"\",\"\"tls \\\"\"expiry\\\"\"\"\"]\",\"[\"\"error rate 12% > 5%\"\"]\"\n", out.toString());
        assertEquals(Optional.empty(), CopyRows.invalidHealth(Records.health("srv-1", T, 90)));
        io.fleetpulse.events.HealthScore nul = Records.health("srv-1", T, 90);
        nul.setReasons(java.util.List.of("ok", "bad\0"));
        assertEquals(Optional.of("reasons contains a NUL character, which PostgreSQL text cannot hold"),
                CopyRows.invalidHealth(nul));
        assertEquals(Optional.of("targetId is empty"), CopyRows.invalidHealth(Records.health(" ", T, 90)));
    }

    @Test
    void shouldAcceptAnOrdinaryWindowAndAlert() {
        assertEquals(Optional.empty(), CopyRows.invalidWindow(Records.window("srv-1", T, 1)));
        assertEquals(Optional.empty(), CopyRows.invalidAlert(Records.alert("fp", "srv-1", AlertState.RESOLVED, T)));
    }

    @Test
    void shouldRefuseTextPostgresCannotHold() {
        assertTrue(CopyRows.invalidWindow(Records.window("srv\0", T, 1)).orElseThrow().contains("NUL"));
        AlertEvent a = Records.alert("fp", "srv-1", AlertState.FIRING, T);
        a.setLabels(Map.of("k", "v\0"));
        assertTrue(CopyRows.invalidAlert(a).orElseThrow().contains("labels[k]"));
    }

    @Test
    void shouldRefuseAnEmptyKey() {
        assertTrue(CopyRows.invalidWindow(Records.window(" ", T, 1)).isPresent());
        assertTrue(CopyRows.invalidAlert(Records.alert("", "srv-1", AlertState.FIRING, T)).isPresent());
    }

    @Test
    void shouldRefuseTimesOutsideTheYearsPostgresTextReads() {
        TargetWindow w = Records.window("srv-1", Instant.parse("+10000-01-01T00:00:00Z"), 1);
        assertTrue(CopyRows.invalidWindow(w).orElseThrow().contains("windowStart"));
        AlertEvent a = Records.alert("fp", "srv-1", AlertState.FIRING, T);
        a.setEndsAt(Instant.ofEpochMilli(Long.MIN_VALUE / 2));
        assertTrue(CopyRows.invalidAlert(a).orElseThrow().contains("endsAt"));
    }
}
