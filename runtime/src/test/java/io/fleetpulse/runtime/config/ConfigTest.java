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

class ConfigTest {

    private static final ConfigKey<Duration> INTERVAL = ConfigKey.duration("collector.poll.interval", Duration.ofSeconds(10), "how often");
    private static final ConfigKey<Integer> WORKERS = ConfigKey.integer("collector.workers", 4, 1, 64, "pollers");
    private static final ConfigKey<String> ROUTING_KEY = ConfigKey.string("alerting.pagerduty.routing.key", null, "key").secret();

    @Test
    void shouldLetTheEnvironmentOverrideTheFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("collector.properties");
        Files.writeString(file, "collector.poll.interval=30s\ncollector.workers=8\n");

        Config config = Config.load(file, Map.of("FLEETPULSE_COLLECTOR_WORKERS", "2"));

        assertEquals(Duration.ofSeconds(30), config.get(INTERVAL));
        assertEquals(2, config.get(WORKERS));
    }

    @Test
    void shouldNameTheKeyTheValueAndWhatIsAllowed() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> Config.of(Map.of("collector.poll.interval", "soon")).get(INTERVAL));

        assertEquals("collector.poll.interval", e.key());
        assertTrue(e.getMessage().contains("'soon'"), e.getMessage());
        assertTrue(e.getMessage().contains("10s"), e.getMessage());
    }

    @Test
    void shouldNameTheEnvironmentVariableAValueCameFrom() {
        Config config = Config.load(null, Map.of("FLEETPULSE_COLLECTOR_WORKERS", "0"));
        ConfigException e = assertThrows(ConfigException.class, () -> config.get(WORKERS));
        assertTrue(e.getMessage().contains("FLEETPULSE_COLLECTOR_WORKERS"), e.getMessage());
        assertTrue(e.getMessage().contains("from 1 to 64"), e.getMessage());
    }

    @Test
    void shouldNeverShowASecret() {
        Config config = Config.of(Map.of("alerting.pagerduty.routing.key", "R0UT1NG", "kafka.client.sasl.jaas.config", "pw=hunter2"));

        Map<String, String> shown = config.describe(List.of(ROUTING_KEY));

        assertEquals("****", shown.get("alerting.pagerduty.routing.key"));
        assertEquals("****", shown.get("kafka.client.sasl.jaas.config"));
        assertFalse(shown.toString().contains("R0UT1NG"));
        ConfigException e = assertThrows(ConfigException.class, () -> Config.of(Map.of("k", "x"))
                .get(ConfigKey.integer("k", 1, 1, 2, "d").secret()));
        assertFalse(e.getMessage().contains("'x'"));
    }

    @Test
    void shouldRefuseAMissingRequiredSetting() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> Config.of(Map.of()).get(ConfigKey.path("collector.inventory", null, "inventory YAML").required()));
        assertTrue(e.getMessage().contains("FLEETPULSE_COLLECTOR_INVENTORY"), e.getMessage());
    }

    @Test
    void shouldParseEveryDurationSpelling() {
        ConfigKey<Duration> key = ConfigKey.duration("d", null, "");
        assertEquals(Duration.ofMillis(500), Config.of(Map.of("d", "500ms")).get(key));
        assertEquals(Duration.ofMinutes(5), Config.of(Map.of("d", "5m")).get(key));
        assertEquals(Duration.ofDays(7), Config.of(Map.of("d", "7d")).get(key));
        assertEquals(Duration.ofSeconds(90), Config.of(Map.of("d", "PT90S")).get(key));
        assertThrows(ConfigException.class, () -> Config.of(Map.of("d", "0s")).get(key));
    }

    @Test
    void shouldPassKafkaClientSettingsThrough() {
        Config config = Config.load(null, Map.of("FLEETPULSE_KAFKA_CLIENT_SECURITY_PROTOCOL", "SSL"));
        assertEquals("SSL", config.kafkaPassthrough().get("security.protocol"));
    }
}
