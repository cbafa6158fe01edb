package io.fleetpulse.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fleetpulse.runtime.KafkaSettings;
import io.fleetpulse.runtime.config.Settings;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.internals.InternalTopologyBuilder;
import org.junit.jupiter.api.Test;

/**
 * The configs Streams creates the changelogs with, from the topology and props the service uses. The 1-minute window
 * changelog used to keep 24 h 1 min 10 s (Streams' default extra day for window stores); the window engine's stores
 * are key-value stores whose changelogs are compacted and expire after size + grace + idle timeout + 1 min. A
 * TopologyTestDriver creates no topics, so this reads the changelog configs Streams would create from its topology
 * builder (an internal API, hence the reflection).
 */
class ChangelogRetentionTest {

    private static final String MINUTES_CHANGELOG = "app-" + HealthTopology.WINDOW_STORE + "-changelog";
    private static final String HOURS_CHANGELOG = "app-" + HealthTopology.HOUR_WINDOW_STORE + "-changelog";

    @Test
    void shouldKeepTheWindowChangelogsForMinutesNotADay() throws ReflectiveOperationException {
        Map<String, Map<String, String>> configs = changelogConfigs(TopologySettings.defaults());

        assertEquals("compact,delete", configs.get(MINUTES_CHANGELOG).get("cleanup.policy"));
        assertEquals(String.valueOf(Duration.ofSeconds(60 + 10 + 30 + 60).toMillis()),
                configs.get(MINUTES_CHANGELOG).get("retention.ms"), "window 1 min + grace 10 s + idle 30 s + margin 1 min");
        assertEquals("compact,delete", configs.get(HOURS_CHANGELOG).get("cleanup.policy"));
        assertEquals(String.valueOf(Duration.ofSeconds(3600 + 10 + 30 + 60).toMillis()),
                configs.get(HOURS_CHANGELOG).get("retention.ms"), "window 1 h + grace + idle + margin");
    }

    @Test
    void shouldFollowTheConfiguredGraceAndIdleTimeout() throws ReflectiveOperationException {
        TopologySettings settings = TopologySettings.defaults().withGrace(Duration.ofSeconds(45))
                .withTiming(new TopologySettings.WindowTiming(Duration.ofSeconds(20), Duration.ofMinutes(2), Duration.ofMinutes(1)));
        Map<String, String> config = changelogConfigs(settings).get(MINUTES_CHANGELOG);

        assertEquals(String.valueOf(Duration.ofSeconds(60 + 45 + 20 + 60).toMillis()), config.get("retention.ms"));
    }

    @Test
    void shouldKeepTheOtherStoresCompactedWithoutRetention() throws ReflectiveOperationException {
        Map<String, Map<String, String>> configs = changelogConfigs(TopologySettings.defaults());

        // with target-inventory, alert-first-seen, target-health, detector-states and the read model's last windows and
        // latest metrics
        assertEquals(11, configs.size(), configs.toString());
        configs.forEach((topic, config) -> {
            if (!topic.equals(MINUTES_CHANGELOG) && !topic.equals(HOURS_CHANGELOG)) {
                assertEquals("compact", config.get("cleanup.policy"), topic);
                assertEquals(null, config.get("retention.ms"), topic);
            }
        });
    }

    /** Changelog topic name (application id {@code app}) to the topic configs Streams would create it with. */
    private static Map<String, Map<String, String>> changelogConfigs(TopologySettings settings)
            throws ReflectiveOperationException {
        Settings given = Settings.of(Map.of("streams.application.id", "app"), StreamProcessorService.KEYS);
        Properties props = StreamsProps.from(given).properties(KafkaSettings.from(given));
        StreamsConfig config = new StreamsConfig(props);
        Topology topology = HealthTopology.build(new StreamsBuilder(), settings);
        Field field = Topology.class.getDeclaredField("internalTopologyBuilder");
        field.setAccessible(true);
        InternalTopologyBuilder internal = ((InternalTopologyBuilder) field.get(topology)).rewriteTopology(config);
        internal.buildTopology();
        long additional = config.getLong(StreamsConfig.WINDOW_STORE_CHANGE_LOG_ADDITIONAL_RETENTION_MS_CONFIG);
        Map<String, Map<String, String>> out = new TreeMap<>();
        internal.subtopologyToTopicsInfo().values().forEach(info -> info.stateChangelogTopics.forEach(
                (name, topic) -> out.put(name, new TreeMap<>(topic.properties(Map.of(), additional)))));
        return out;
    }
}
