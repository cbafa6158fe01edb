package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.runtime.KafkaSettings;
import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.config.ConfigKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Settings are read and checked in the constructor, before anything touches the network. */
class CollectorServiceTest {

    @TempDir
    Path dir;

    private Path inventory(String yaml) throws Exception {
        Path file = dir.resolve("inventory.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    private static ConfigException refused(Map<String, String> settings) {
        return assertThrows(ConfigException.class, () -> new CollectorService(Config.of(settings)));
    }

    @Test
    void shouldRequireAnInventory() {
        ConfigException e = refused(Map.of());
        assertEquals("collector.inventory", e.key());
    }

    @Test
    void shouldNameTheKeyOfABadSetting() throws Exception {
        Path file = inventory("targets:\n  - { id: a, health: \"http://a/health\" }\n");
        Map<String, String> base = Map.of("collector.inventory", file.toString());

        assertEquals("collector.poll.interval", refused(with(base, "collector.poll.interval", "often")).key());
        assertEquals("collector.max.concurrent.polls", refused(with(base, "collector.max.concurrent.polls", "0")).key());
        assertEquals("collector.poll.timeout", refused(with(with(base, "collector.poll.interval", "1s"),
                "collector.poll.timeout", "5s")).key());
    }

    @Test
    void shouldStopOnAnInventoryProblemBeforeStarting() throws Exception {
        Path file = inventory("targets:\n  - { id: a, health: \"not a url\" }\n");

        ConfigException e = refused(Map.of("collector.inventory", file.toString()));
        assertEquals("collector.inventory", e.key());
        assertTrue(e.getMessage().contains("target 'a' (targets[0]): field 'health'"), e.getMessage());
    }

    @Test
    void shouldBeLiveButNotReadyBeforeStartAndListAllItsKeys() throws Exception {
        Path file = inventory("targets:\n  - { id: a, health: \"http://a/health\" }\n");
        CollectorService service = new CollectorService(Config.of(Map.of("collector.inventory", file.toString(),
                "collector.id", "c-test")));

        assertTrue(service.isLive());
        assertFalse(service.isReady());
        assertEquals(1, service.status().get("targets"));
        assertEquals("c-test", service.status().get("collectorId"));
        assertTrue(CollectorService.KEYS.containsAll(KafkaSettings.KEYS));
        assertTrue(CollectorService.KEYS.stream().map(ConfigKey::name).toList().containsAll(java.util.List.of(
                "collector.inventory", "collector.id", "collector.poll.interval", "collector.poll.timeout",
                "collector.max.concurrent.polls")));
        service.close();
        service.close();
        assertFalse(service.isLive());
    }

    private static Map<String, String> with(Map<String, String> base, String key, String value) {
        Map<String, String> copy = new HashMap<>(base);
        copy.put(key, value);
        return copy;
    }
}
