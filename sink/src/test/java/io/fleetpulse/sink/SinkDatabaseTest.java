package io.fleetpulse.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SinkDatabaseTest {

    private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");

    @Test
    void shouldKeepTheWritersTimeoutsWhenTheDeadlineIsFarOff() {
        SinkDatabase.Timeouts t = SinkDatabase.WRITER.within(NOW, NOW.plus(Duration.ofMinutes(5)));
        assertEquals(SinkDatabase.WRITER, t);
        assertEquals("10", t.properties().get("connectTimeout"));
        assertEquals("10", t.properties().get("loginTimeout"));
        assertEquals("120", t.properties().get("socketTimeout"));
    }

    @Test
    void shouldCutEveryTimeoutToWhatIsLeftBeforeTheDeadline() {
        Map<String, String> props = SinkDatabase.WRITER.within(NOW, NOW.plusSeconds(3)).properties();
        assertEquals("3", props.get("connectTimeout"));
        assertEquals("3", props.get("loginTimeout"));
        assertEquals("3", props.get("socketTimeout"));
    }

    @Test
    void shouldNeverAskPgjdbcToWaitForeverEvenPastTheDeadline() {
        // pgjdbc reads 0 as "no timeout": one second is the least an attempt gets.
        Map<String, String> props = SinkDatabase.WRITER.within(NOW, NOW.minusSeconds(5)).properties();
        assertEquals("1", props.get("connectTimeout"));
        assertEquals("1", props.get("socketTimeout"));
        assertEquals("1", SinkDatabase.WRITER.within(NOW, NOW.plusMillis(400)).properties().get("loginTimeout"));
    }
}
