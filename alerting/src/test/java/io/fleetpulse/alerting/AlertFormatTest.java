package io.fleetpulse.alerting;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fleetpulse.events.Evidence;
import org.junit.jupiter.api.Test;

class AlertFormatTest {

    @Test
    void shouldWriteNumbersWithoutNoise() {
        assertEquals("90", AlertFormat.number(90.0));
        assertEquals("97.5", AlertFormat.number(97.5));
        assertEquals("0.123457", AlertFormat.number(0.123456789));
        assertEquals("1200000", AlertFormat.number(1.2e6));
        assertEquals("-3", AlertFormat.number(-3));
        assertEquals("NaN", AlertFormat.number(Double.NaN));
    }

    @Test
    void shouldDescribeEvidenceWithoutAWindowWhenThereIsNone() {
        Evidence absence = Evidence.newBuilder().setSignal("check_up").setValue(0).setOperator("==")
                .setThreshold(0).setSamples(1).build();
        assertEquals("check_up 0 == 0 (1 sample)", AlertFormat.evidence(absence));
    }
}
