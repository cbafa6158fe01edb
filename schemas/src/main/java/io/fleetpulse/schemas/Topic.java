package io.fleetpulse.schemas;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serde;

/**
 * One topic of the public contract: its name, how its keys and values are encoded, and how it is kept.
 * Operators and services take names and serdes from here, never from bare strings.
 *
 * @param perTarget keyed by targetId, so it must share the partition count of every other per-target topic
 * @param retention {@code null} for compacted topics that keep the latest value per key forever
 */
public record Topic<K, V>(String name, Serde<K> keySerde, Serde<V> valueSerde, Class<V> valueType,
                          boolean compacted, Duration retention, boolean perTarget) {

    /** Broker-side configs that make the topic behave as the contract says. */
    public Map<String, String> configs() {
        if (compacted) {
            return Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
        }
        return Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE,
                TopicConfig.RETENTION_MS_CONFIG, Long.toString(retention.toMillis()));
    }

    @Override
    public String toString() {
        return name;
    }
}
