package io.fleetpulse.stream;

import io.fleetpulse.events.HealthScore;
import io.fleetpulse.events.HealthStatus;
import io.fleetpulse.events.Target;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * How many targets of each inventory group are in each health status, computed when asked from the latest scores
 * ({@code target-health}) and the inventory ({@code target-inventory}): no counter to keep right through removals,
 * regroupings and restores. A target not in the inventory counts in group {@code default}, like its alerts. One call
 * covers one instance's stores; the read API adds up the instances.
 */
final class GroupHealth {

    private GroupHealth() {
    }

    /** Group to status to count; every status of a group that has targets is present, 0 when none is in it. */
    static SortedMap<String, Map<HealthStatus, Long>> counts(ReadOnlyKeyValueStore<String, HealthScore> health,
                                                             ReadOnlyKeyValueStore<String, Target> inventory) {
        SortedMap<String, Map<HealthStatus, Long>> counts = new TreeMap<>();
        try (KeyValueIterator<String, HealthScore> all = health.all()) {
            while (all.hasNext()) {
                KeyValue<String, HealthScore> entry = all.next();
                Target target = inventory.get(entry.key);
                String group = target == null ? AlertEngine.DEFAULT_GROUP : target.getGroup();
                counts.computeIfAbsent(group, g -> zeros()).merge(entry.value.getStatus(), 1L, Long::sum);
            }
        }
        counts.replaceAll((group, byStatus) -> Collections.unmodifiableMap(byStatus));
        return Collections.unmodifiableSortedMap(counts);
    }

    private static Map<HealthStatus, Long> zeros() {
        Map<HealthStatus, Long> byStatus = new EnumMap<>(HealthStatus.class);
        for (HealthStatus status : HealthStatus.values()) {
            byStatus.put(status, 0L);
        }
        return byStatus;
    }
}
