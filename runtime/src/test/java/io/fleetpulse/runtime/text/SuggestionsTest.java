package io.fleetpulse.runtime.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SuggestionsTest {

    private static final List<String> KEYS = List.of("targets", "defaults", "interval", "absence-timeout");

    @Test
    void shouldSuggestTheClosestKnownWordForATypo() {
        assertEquals(Optional.of("targets"), Suggestions.closest("tragets", KEYS));
        assertEquals(Optional.of("interval"), Suggestions.closest("intervall", KEYS));
        assertEquals(Optional.of("absence-timeout"), Suggestions.closest("absence_timeout", KEYS));
        assertEquals(Optional.of("defaults"), Suggestions.closest("Defaults", KEYS));
    }

    @Test
    void shouldSuggestNothingForAnUnrelatedWord() {
        assertEquals(Optional.empty(), Suggestions.closest("colour", KEYS));
        assertEquals("", Suggestions.didYouMean("xyz", KEYS));
    }
}
