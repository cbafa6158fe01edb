package io.fleetpulse.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.runtime.KafkaSettings;
import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.runtime.config.ConfigException;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SinkServiceTest {

    private static final String URL = "jdbc:postgresql://localhost:5432/fleetpulse";

    @Test
    void shouldRefuseToStartWithoutAJdbcUrl() {
        ConfigException e = assertThrows(ConfigException.class, () -> new SinkService(Config.of(Map.of())));
        assertEquals("sink.jdbc.url", e.key());
    }

    @Test
    void shouldRefuseAJdbcUrlThatIsNotPostgres() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> new SinkService(Config.of(Map.of("sink.jdbc.url", "jdbc:mysql://db/x?password=hunter2"))));
        assertEquals("sink.jdbc.url", e.key());
        assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
    }

    @Test
    void shouldNameTheKeyOfABadValue() {
        for (String[] bad : new String[][] {{"sink.batch.max.records", "0"}, {"sink.poll.timeout", "soon"},
                {"sink.retention.1m", "-1d"}, {"sink.partitions.premake.days", "x"}, {"sink.partitions.interval", "0s"},
                {"sink.retention.alerts", "forever"}, {"sink.retry.backoff.max", "1y"}}) {
            Map<String, String> values = new HashMap<>(Map.of("sink.jdbc.url", URL));
            values.put(bad[0], bad[1]);
            ConfigException e = assertThrows(ConfigException.class, () -> new SinkService(Config.of(values)), bad[0]);
            assertEquals(bad[0], e.key());
        }
    }

    @Test
    void shouldListEveryKeyIncludingKafkas() {
        assertTrue(SinkService.KEYS.containsAll(KafkaSettings.KEYS));
        assertTrue(SinkService.KEYS.stream().anyMatch(k -> k.name().equals("sink.jdbc.password") && k.isSecret()));
        assertEquals(SinkService.KEYS.size(), SinkService.KEYS.stream().map(k -> k.name()).distinct().count());
    }

    @Test
    void shouldMaskPasswordsInStatusEvenInsideTheUrl() {
        SinkService sink = new SinkService(Config.of(Map.of("sink.jdbc.url", URL + "?user=u&password=hunter2",
                "sink.jdbc.password", "s3cret")));
        String status = sink.status().toString();
        assertFalse(status.contains("hunter2"), status);
        assertFalse(status.contains("s3cret"), status);
        assertFalse(sink.isLive(), "not live before start");
        assertFalse(sink.isReady());
        sink.close();
    }

    @Test
    void shouldMaskUserInfoPasswords() {
        assertEquals("jdbc:postgresql://u:****@db:5432/x", JdbcUrls.masked("jdbc:postgresql://u:pw@db:5432/x"));
        assertEquals("jdbc:postgresql://db/x?ssl=true&password=****&a=b",
                JdbcUrls.masked("jdbc:postgresql://db/x?ssl=true&password=pw&a=b"));
    }
}
