package io.fleetpulse.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.runtime.KafkaSettings;
import io.fleetpulse.runtime.OpsSettings;
import io.fleetpulse.runtime.ServiceState;
import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.config.ConfigKey;
import io.fleetpulse.runtime.config.Settings;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Settings are read and checked once, in the constructor, before anything touches Kafka. */
class StreamProcessorServiceTest {

    private static Settings settings(Map<String, String> values) {
        return Settings.of(values, StreamProcessorService.KEYS);
    }

    @Test
    void shouldRefuseABadSettingNamingItsKey() {
        for (Map.Entry<String, String> bad : Map.of(
                "streams.num.threads", "0",
                "streams.window.grace", "ten seconds",
                "streams.commit.interval", "-1s",
                "kafka.topic.replication.factor", "x").entrySet()) {
            ConfigException e = assertThrows(ConfigException.class, () -> settings(Map.of(bad.getKey(), bad.getValue())));
            assertEquals(bad.getKey(), e.key());
        }
        ConfigException unknown = assertThrows(ConfigException.class, () -> settings(Map.of("streams.num.thread", "2")));
        assertTrue(unknown.getMessage().contains("did you mean 'streams.num.threads'"), unknown.getMessage());
    }

    @Test
    void shouldRefuseABadRulesFileNamingItsKeyAndEveryProblem(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("rules.yaml");
        Files.writeString(file, "rules:\n  - id: x\n    kind: threshold\n    signal: cpu_pct\n    op: \">\"\n    value: 1\n");

        ConfigException e = assertThrows(ConfigException.class,
                () -> new StreamProcessorService(settings(Map.of("rules.file", file.toString()))));

        assertEquals("rules.file", e.key());
        assertTrue(e.getMessage().startsWith("Invalid rules file (rules.file): " + file + " has 2 problems:"), e.getMessage());
        assertTrue(e.getMessage().contains(file + ":2:5: rules[0]: missing required key 'severity'"), e.getMessage());
        assertTrue(e.getMessage().contains(file + ":4:13: rules[0].signal: 'cpu_pct' is not one of"), e.getMessage());
        ConfigException missing = assertThrows(ConfigException.class,
                () -> new StreamProcessorService(settings(Map.of("rules.file", dir.resolve("nope.yaml").toString()))));
        assertEquals("rules.file", missing.key());
        assertTrue(missing.getMessage().contains("cannot read the file"), missing.getMessage());
    }

    @Test
    void shouldMakeExactlyOnceStreamsPropsFromSettings() {
        Settings given = settings(Map.of(
                "kafka.bootstrap.servers", "broker:9092",
                "streams.commit.interval", "250ms",
                "streams.num.threads", "2",
                "kafka.client.security.protocol", "SSL"));

        Properties props = StreamsProps.from(given).properties(KafkaSettings.from(given));

        assertEquals(StreamsConfig.EXACTLY_ONCE_V2, props.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG));
        assertEquals("fleetpulse-stream-processor", props.get(StreamsConfig.APPLICATION_ID_CONFIG));
        assertEquals("broker:9092", props.get(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG));
        assertEquals(250L, props.get(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG));
        assertEquals(2, props.get(StreamsConfig.NUM_STREAM_THREADS_CONFIG));
        assertEquals("SSL", props.get("security.protocol"));
    }

    @Test
    void shouldDeclareEveryKeyAndBeLiveButNotReadyBeforeStart() {
        StreamProcessorService service = new StreamProcessorService(settings(Map.of("streams.window.grace", "5s")));
        try {
            for (ConfigKey<?> key : KafkaSettings.KEYS) {
                assertTrue(StreamProcessorService.KEYS.contains(key), key.name());
            }
            assertTrue(StreamProcessorService.KEYS.containsAll(OpsSettings.KEYS));
            assertTrue(StreamProcessorService.KEYS.containsAll(StreamsProps.KEYS));
            assertTrue(StreamProcessorService.KEYS.containsAll(TopologySettings.KEYS));
            assertEquals(ServiceState.CREATED, service.state());
            assertEquals("CREATED", service.status().get("state"));
            assertFalse(service.isReady());
            assertTrue(service.isLive());
            @SuppressWarnings("unchecked")
            Map<String, String> shown = (Map<String, String>) service.status().get("settings");
            assertEquals("5s", shown.get("streams.window.grace"));
            assertNotNull(service.meterRegistry().find("fleetpulse.stream_processor.dead.letters").tag("reason", "late")
                    .functionCounter());
            String scraped = ((PrometheusMeterRegistry) service.meterRegistry()).scrape();
            assertTrue(scraped.contains("# HELP fleetpulse_stream_processor_alerts_total alert transitions published"), scraped);
            assertTrue(scraped.contains("fleetpulse_stream_processor_records_in_total{topic=\"fleet.checks\"} 0.0"), scraped);
            assertTrue(scraped.contains("fleetpulse_stream_processor_records_in_total{topic=\"fleet.targets\"} 0.0"), scraped);
        } finally {
            service.close();
            service.close();
        }
        assertFalse(service.isLive());
        assertEquals(ServiceState.STOPPED, service.state());
    }
}
