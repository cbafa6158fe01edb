package io.fleetpulse.runtime.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class NumbersTest {

    @Test
    void shouldShowAtMostFourDecimalsWithoutTrailingZerosOrExponents() {
        assertEquals("0.6667", Numbers.format(2.0 / 3));
        assertEquals("90", Numbers.format(90.0));
        assertEquals("0.75", Numbers.format(0.75));
        assertEquals("0.00075", Numbers.format(7.5E-4));
        assertEquals("1234567.891", Numbers.format(1234567.891));
        assertEquals("12345678901234", Numbers.format(1.2345678901234E13));
        assertEquals("-3.5", Numbers.format(-3.5));
        assertEquals("0", Numbers.format(0.0));
        assertEquals("0", Numbers.format(-0.0));
        assertEquals("NaN", Numbers.format(Double.NaN));
        assertEquals("+Inf", Numbers.format(Double.POSITIVE_INFINITY));
        assertEquals("66.67%", Numbers.percent(2.0 / 3));
    }
}
