package io.fleetpulse.stream;

import io.fleetpulse.events.HealthStatus;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the topology has done, counted as it runs (shared by every stream thread). Under exactly-once a batch that
 * is aborted and processed again is counted again, so these are processing counts, not committed-output counts.
 */
public final class PipelineCounters {

    private final Map<String, LongAdder> recordsIn = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> deadLetters = new ConcurrentHashMap<>();
    private final LongAdder windowsOut = new LongAdder();
    private final LongAdder alertsFired = new LongAdder();
    private final LongAdder alertsResolved = new LongAdder();
    private final Map<HealthStatus, LongAdder> healthScores = new EnumMap<>(HealthStatus.class);

    public PipelineCounters() {
        for (HealthStatus status : HealthStatus.values()) {
            healthScores.put(status, new LongAdder()); // all present up front: the EnumMap is read unlocked
        }
    }

    void recordIn(String topic) {
        recordsIn.computeIfAbsent(topic, t -> new LongAdder()).increment();
    }

    void deadLetter(String reason) {
        deadLetters.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    void windowOut() {
        windowsOut.increment();
    }

    void alertFired() {
        alertsFired.increment();
    }

    void alertResolved() {
        alertsResolved.increment();
    }

    void healthScored(HealthStatus status) {
        healthScores.get(status).increment();
    }

    /** Health scores published to fleet.health with this status (a removal's tombstone is none). */
    public long healthScores(HealthStatus status) {
        return healthScores.get(status).sum();
    }

    public long recordsIn(String topic) {
        LongAdder a = recordsIn.get(topic);
        return a == null ? 0 : a.sum();
    }

    public long deadLetters(String reason) {
        LongAdder a = deadLetters.get(reason);
        return a == null ? 0 : a.sum();
    }

    public long windowsOut() {
        return windowsOut.sum();
    }

    public long alertsFired() {
        return alertsFired.sum();
    }

    public long alertsResolved() {
        return alertsResolved.sum();
    }

    public Map<String, Long> recordsInByTopic() {
        return snapshot(recordsIn);
    }

    public Map<String, Long> deadLettersByReason() {
        return snapshot(deadLetters);
    }

    private static Map<String, Long> snapshot(Map<String, LongAdder> counters) {
        Map<String, Long> out = new TreeMap<>();
        counters.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }
}
