package io.fleetpulse.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topics;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.TopologyDescription;
import org.junit.jupiter.api.Test;

/** A replay's topology is the live one writing to prefixed topics; nothing else differs. */
class OutputPrefixTest {

    @Test
    void shouldWriteEveryOutputUnderThePrefixAndChangeNothingElse() {
        TopologySettings live = TopologySettings.defaults();
        TopologyDescription liveTopology = HealthTopology.build(new StreamsBuilder(), live).describe();
        TopologyDescription replay = HealthTopology.build(new StreamsBuilder(), live.withOutputPrefix("replay-")).describe();

        Set<String> liveSinks = sinks(liveTopology);
        assertEquals(Set.of(Topics.AGGREGATES_1M.name(), Topics.AGGREGATES_1H.name(), Topics.HEALTH.name(),
                Topics.ALERTS.name(), Topics.DLQ.name()), liveSinks);
        Set<String> prefixed = new TreeSet<>();
        liveSinks.forEach(t -> prefixed.add("replay-" + t));
        assertEquals(prefixed, sinks(replay));
        assertEquals(liveTopology.toString().replaceAll("topic: fleet\\.", "topic: replay-fleet."), replay.toString());
    }

    @Test
    void shouldRefuseAPrefixThatNoTopicNameCouldStartWith() {
        ConfigException e = assertThrows(ConfigException.class, () -> TopologySettings.from(
                Settings.of(Map.of("streams.output.topic.prefix", "re play/"), StreamProcessorService.KEYS)));

        assertEquals("streams.output.topic.prefix", e.key());
        assertTrue(e.getMessage().contains("'re play/'"), e.getMessage());
    }

    private static Set<String> sinks(TopologyDescription description) {
        Set<String> topics = new TreeSet<>();
        description.subtopologies().forEach(sub -> sub.nodes().forEach(node -> {
            if (node instanceof TopologyDescription.Sink sink) {
                topics.add(sink.topic());
            }
        }));
        return topics;
    }
}
