package io.fleetpulse.runtime.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsTest {

    private static final ConfigKey<Duration> INTERVAL = ConfigKey.duration("collector.poll.interval", Duration.ofSeconds(10), "how often");
    private static final ConfigKey<Integer> WORKERS = ConfigKey.integer("collector.workers", 4, 1, 64, "pollers");
    private static final ConfigKey<String> ROUTING_KEY = ConfigKey.string("alerting.pagerduty.routing.key", null, "key").secret();
    private static final List<ConfigKey<?>> KEYS = List.of(INTERVAL, WORKERS, ROUTING_KEY);

    @Test
    void shouldLetTheEnvironmentOverrideTheFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("collector.properties");
        Files.writeString(file, "collector.poll.interval=30s\ncollector.workers=8\n");

        Settings settings = Settings.resolve(Config.load(file, Map.of("FLEETPULSE_COLLECTOR_WORKERS", "2")), KEYS);

        assertEquals(Duration.ofSeconds(30), settings.get(INTERVAL));
        assertEquals(2, settings.get(WORKERS));
    }

    @Test
    void shouldNameTheKeyTheValueAndWhatIsAllowed() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> Settings.of(Map.of("collector.poll.interval", "soon"), KEYS));

        assertEquals("collector.poll.interval", e.key());
        assertTrue(e.getMessage().contains("'soon'"), e.getMessage());
        assertTrue(e.getMessage().contains("30s"), e.getMessage());
    }

    @Test
    void shouldNameTheEnvironmentVariableAValueCameFrom() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> Settings.resolve(Config.load(null, Map.of("FLEETPULSE_COLLECTOR_WORKERS", "0")), KEYS));
        assertTrue(e.getMessage().contains("FLEETPULSE_COLLECTOR_WORKERS"), e.getMessage());
        assertTrue(e.getMessage().contains("from 1 to 64"), e.getMessage());
    }

    @Test
    void shouldRejectAMisspelledKeyNamingTheClosestKnownOne(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("collector.properties");
        Files.writeString(file, "collector.pol.interval=30s\n");

        ConfigException e = assertThrows(ConfigException.class, () -> Settings.resolve(Config.load(file, Map.of()), KEYS));

        assertEquals("collector.pol.interval", e.key());
        assertTrue(e.getMessage().contains("Unknown setting 'collector.pol.interval'"), e.getMessage());
        assertTrue(e.getMessage().contains("did you mean 'collector.poll.interval'"), e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void shouldReportEveryProblemAtOnce() {
        ConfigException e = assertThrows(ConfigException.class, () -> Settings.of(
                Map.of("collector.workers", "many", "collector.poll.interval", "soon", "colector.workers", "3"), KEYS));
        assertTrue(e.getMessage().startsWith("3 configuration problems"), e.getMessage());
        assertTrue(e.getMessage().contains("'many'") && e.getMessage().contains("'soon'")
                && e.getMessage().contains("colector.workers"), e.getMessage());
    }

    @Test
    void shouldNeverShowASecret() {
        Settings settings = Settings.of(Map.of("alerting.pagerduty.routing.key", "R0UT1NG",
                "kafka.client.sasl.jaas.config", "pw=hunter2"), KEYS);

        Map<String, String> shown = settings.describe();

        assertEquals("****", shown.get("alerting.pagerduty.routing.key"));
        assertEquals("****", shown.get("kafka.client.sasl.jaas.config"));
        assertFalse(shown.toString().contains("R0UT1NG"));
        assertFalse(shown.toString().contains("hunter2"));
        ConfigException e = assertThrows(ConfigException.class,
                () -> Settings.of(Map.of("k", "x"), List.of(ConfigKey.integer("k", 1, 1, 2, "d").secret())));
        assertFalse(e.getMessage().contains("'x'"));
    }

    @Test
    void shouldShowValuesAsAPersonWritesThem() {
        Settings settings = Settings.of(Map.of("collector.poll.interval", "PT90S"), KEYS);
        assertEquals("90s", settings.describe().get("collector.poll.interval"));
        assertEquals("4", settings.describe().get("collector.workers"));
    }

    @Test
    void shouldRefuseAMissingRequiredSetting() {
        ConfigException e = assertThrows(ConfigException.class, () -> Settings.of(Map.of(),
                List.of(ConfigKey.path("collector.inventory", null, "inventory YAML").required())));
        assertTrue(e.getMessage().contains("FLEETPULSE_COLLECTOR_INVENTORY"), e.getMessage());
    }

    @Test
    void shouldParseEveryDurationSpellingAndRefuseZero() {
        ConfigKey<Duration> key = ConfigKey.duration("d", null, "");
        assertEquals(Duration.ofMillis(500), Settings.of(Map.of("d", "500ms"), List.of(key)).get(key));
        assertEquals(Duration.ofDays(7), Settings.of(Map.of("d", "7d"), List.of(key)).get(key));
        assertEquals(Duration.ofDays(14), Settings.of(Map.of("d", "2w"), List.of(key)).get(key));
        assertEquals(Duration.ofSeconds(90), Settings.of(Map.of("d", "PT90S"), List.of(key)).get(key));
        assertThrows(ConfigException.class, () -> Settings.of(Map.of("d", "0s"), List.of(key)));
    }

    @Test
    void shouldPassKafkaClientSettingsThroughWithoutCallingThemUnknown() {
        Settings settings = Settings.resolve(Config.load(null, Map.of("FLEETPULSE_KAFKA_CLIENT_SECURITY_PROTOCOL", "SSL")), KEYS);
        assertEquals("SSL", settings.kafkaPassthrough().get("security.protocol"));
        assertEquals("SSL", Settings.of(Map.of("kafka.client.security.protocol", "SSL"), KEYS)
                .kafkaPassthrough().get("security.protocol"));
    }

    @Test
    void shouldRefuseAKeyTheServiceDidNotDeclare() {
        Settings settings = Settings.of(Map.of(), KEYS);
        assertThrows(IllegalArgumentException.class, () -> settings.get(ConfigKey.bool("other", true, "")));
    }
}
