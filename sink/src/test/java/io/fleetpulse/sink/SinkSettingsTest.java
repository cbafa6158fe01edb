package io.fleetpulse.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.runtime.KafkaSettings;
import io.fleetpulse.runtime.OpsSettings;
import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.config.Settings;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SinkSettingsTest {

    private static final String URL = "jdbc:postgresql://localhost:5432/fleetpulse";

    private static SinkSettings settings(Map<String, String> values) {
        return SinkSettings.from(Settings.of(values, SinkService.KEYS));
    }

    @Test
    void shouldRefuseToStartWithoutAJdbcUrl() {
        ConfigException e = assertThrows(ConfigException.class, () -> settings(Map.of()));
        assertEquals("sink.jdbc.url", e.key());
    }

    @Test
    void shouldRefuseAJdbcUrlThatIsNotPostgresWithoutShowingItsPassword() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> settings(Map.of("sink.jdbc.url", "jdbc:mysql://db/x?password=hunter2")));
        assertEquals("sink.jdbc.url", e.key());
        assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
        assertTrue(e.getMessage().contains("jdbc:mysql://db/x?password=****"), e.getMessage());
        assertTrue(e.getMessage().contains("jdbc:postgresql:"), e.getMessage());
    }

    @Test
    void shouldTakeTheDefaultGroupForABlankOne() {
        assertEquals("fleetpulse-sink", settings(Map.of("sink.jdbc.url", URL, "sink.group.id", " ")).groupId());
    }

    @Test
    void shouldNameTheKeyOfABadValue() {
        for (String[] bad : new String[][] {{"sink.batch.max.records", "0"}, {"sink.poll.timeout", "soon"},
                {"sink.retention.1m", "-1d"}, {"sink.partitions.premake.days", "x"}, {"sink.partitions.interval", "0s"},
                {"sink.retention.alerts", "forever"}, {"sink.retry.backoff.max", "1y"}, {"sink.jdbc.urll", URL},
                {"sink.jdbc.socket.timeout", "500ms"}, {"sink.jdbc.connect.timeout", "0s"}, {"sink.ready.db.timeout", "x"}}) {
            Map<String, String> values = new HashMap<>(Map.of("sink.jdbc.url", URL));
            values.put(bad[0], bad[1]);
            ConfigException e = assertThrows(ConfigException.class, () -> settings(values), bad[0]);
            assertEquals(bad[0], e.key());
        }
    }

    @Test
    void shouldBoundEveryDatabaseCallWellUnderTwoMinutesByDefault() {
        SinkSettings s = settings(Map.of("sink.jdbc.url", URL));
        assertEquals(Duration.ofSeconds(15), s.timeouts().socket());
        assertEquals(Duration.ofSeconds(14), s.timeouts().statement(), "the server cancels before the client gives up");
        assertEquals(Duration.ofSeconds(5), s.timeouts().connect());
        assertEquals("-c statement_timeout=14000", s.timeouts().properties().get("options"));
        assertEquals("15", s.timeouts().properties().get("socketTimeout"));
    }

    @Test
    void shouldReadEveryKeyInTheOneDurationSyntax() {
        SinkSettings s = settings(Map.of("sink.jdbc.url", URL, "sink.poll.timeout", "250ms",
                "sink.retention.1m", "2w", "sink.retention.alerts", "P400D", "sink.partitions.premake.days", "5"));
        assertEquals(Duration.ofMillis(250), s.pollTimeout());
        assertEquals(Duration.ofDays(14), s.retention1m());
        assertEquals(Duration.ofDays(400), s.retentionAlerts());
        assertEquals(5, s.partitionSchemes().get(0).aheadPeriods());
        assertEquals(SinkSettings.MONTHS_AHEAD, s.partitionSchemes().get(1).aheadPeriods());
    }

    @Test
    void shouldListEveryKeyOnceIncludingKafkasAndOps() {
        assertTrue(SinkService.KEYS.containsAll(KafkaSettings.KEYS));
        assertTrue(SinkService.KEYS.containsAll(OpsSettings.KEYS));
        assertTrue(SinkService.KEYS.containsAll(SinkSettings.KEYS));
        assertTrue(SinkSettings.JDBC_PASSWORD.isSecret());
        assertEquals(SinkService.KEYS.size(), SinkService.KEYS.stream().map(k -> k.name()).distinct().count());
    }

    @Test
    void shouldNeverShowTheRawUrlOrPassword() {
        Settings resolved = Settings.of(Map.of("sink.jdbc.url", URL + "?user=u&password=hunter2",
                "sink.jdbc.password", "s3cret"), SinkService.KEYS);
        SinkSettings s = SinkSettings.from(resolved);
        for (String shown : new String[] {resolved.describe().toString(), s.toString(), s.maskedJdbcUrl()}) {
            assertFalse(shown.contains("hunter2"), shown);
            assertFalse(shown.contains("s3cret"), shown);
        }
        assertEquals(URL + "?user=u&password=****", s.maskedJdbcUrl());
    }

    @Test
    void shouldMaskUserInfoPasswords() {
        assertEquals("jdbc:postgresql://u:****@db:5432/x", JdbcUrls.masked("jdbc:postgresql://u:pw@db:5432/x"));
        assertEquals("jdbc:postgresql://db/x?ssl=true&password=****&a=b",
                JdbcUrls.masked("jdbc:postgresql://db/x?ssl=true&password=pw&a=b"));
    }
}
