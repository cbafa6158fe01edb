package io.fleetpulse.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.runtime.KafkaSettings;
import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.config.ConfigKey;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

/** Settings are read and checked in the constructor, before anything touches Kafka. */
class StreamProcessorServiceTest {

    @Test
    void shouldRefuseABadSettingNamingItsKey() {
        for (Map.Entry<String, String> bad : Map.of(
                "streams.num.threads", "0",
                "streams.window.grace", "ten seconds",
                "streams.commit.interval", "-1s",
                "kafka.topic.replication.factor", "x").entrySet()) {
            ConfigException e = assertThrows(ConfigException.class,
                    () -> new StreamProcessorService(Config.of(Map.of(bad.getKey(), bad.getValue()))));
            assertEquals(bad.getKey(), e.key());
        }
    }

    @Test
    void shouldMakeExactlyOnceStreamsPropsFromConfig() {
        Properties props = StreamsProps.from(Config.of(Map.of(
                "kafka.bootstrap.servers", "broker:9092",
                "streams.commit.interval", "250ms",
                "streams.num.threads", "2",
                "kafka.client.security.protocol", "SSL")));

        assertEquals(StreamsConfig.EXACTLY_ONCE_V2, props.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG));
        assertEquals("fleetpulse-stream-processor", props.get(StreamsConfig.APPLICATION_ID_CONFIG));
        assertEquals("broker:9092", props.get(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG));
        assertEquals(250L, props.get(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG));
        assertEquals(2, props.get(StreamsConfig.NUM_STREAM_THREADS_CONFIG));
        assertEquals("SSL", props.get("security.protocol"));
    }

    @Test
    void shouldListEveryKeyAndReportStateBeforeStart() {
        StreamProcessorService service = new StreamProcessorService(Config.of(Map.of("streams.window.grace", "5s")));
        try {
            for (ConfigKey<?> key : KafkaSettings.KEYS) {
                assertTrue(StreamProcessorService.KEYS.contains(key), key.name());
            }
            assertTrue(StreamProcessorService.KEYS.contains(TopologySettings.WINDOW_GRACE));
            assertEquals("CREATED", service.status().get("state"));
            assertFalse(service.isReady());
            assertTrue(service.isLive());
            @SuppressWarnings("unchecked")
            Map<String, String> shown = (Map<String, String>) service.status().get("config");
            assertEquals(Duration.ofSeconds(5).toString(), shown.get("streams.window.grace"));
            assertNotNull(service.meterRegistry().find("fleetpulse.stream.dead.letters").tag("reason", "late").functionCounter());
        } finally {
            service.close();
            service.close();
        }
        assertFalse(service.isLive());
    }
}
