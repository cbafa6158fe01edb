package io.fleetpulse.stream.detect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The normal tail and its inverse, which the forecasts' confidence bounds use. */
class NormalTest {

    @Test
    void shouldInvertItsOwnUpperTail() {
        assertEquals(2.326348, Normal.upperQuantile(0.01), 1e-5);
        assertEquals(1.281552, Normal.upperQuantile(0.1), 1e-5);
        assertEquals(0, Normal.upperQuantile(0.5), 1e-7);
        assertEquals(-1.644854, Normal.upperQuantile(0.95), 1e-5, "above one half, the lower side");
        for (double z = -5; z <= 8; z += 0.25) {
            assertEquals(z, Normal.upperQuantile(Normal.upperTail(z)), 1e-5 * Math.max(1, Math.abs(z)), "z " + z);
        }
    }

    @Test
    void shouldAnswerTheEndsAndRefuseWhatIsNotAProbability() {
        assertEquals(Double.POSITIVE_INFINITY, Normal.upperQuantile(0));
        assertEquals(Double.NEGATIVE_INFINITY, Normal.upperQuantile(1));
        assertThrows(IllegalArgumentException.class, () -> Normal.upperQuantile(1.5));
        assertThrows(IllegalArgumentException.class, () -> Normal.upperQuantile(Double.NaN));
    }
}
