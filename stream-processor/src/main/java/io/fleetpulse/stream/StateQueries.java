package io.fleetpulse.stream;

import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.HealthScore;
import io.fleetpulse.events.HealthStatus;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.events.Severity;
import io.fleetpulse.events.Target;
import io.fleetpulse.events.TargetWindow;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * What this instance's state stores know, as plain JSON-ready maps: the read API's local answers. Reads only the
 * stores of the tasks this instance runs (active ones); {@link ReadApi} asks the other instances for theirs.
 * Throws Streams' {@code InvalidStateStoreException} while the stores are not queryable (a rebalance, a restore).
 */
final class StateQueries {

    private final KafkaStreams streams;

    StateQueries(KafkaStreams streams) {
        this.streams = streams;
    }

    /** Every target this instance knows (from the inventory or from its records), one summary each. */
    List<Map<String, Object>> targets() {
        Map<String, Target> inventory = all(HealthTopology.INVENTORY_STORE);
        Map<String, TargetClock> clocks = all(HealthTopology.TARGET_STORE);
        Map<String, Integer> firing = new TreeMap<>();
        for (AlertRecord alert : this.<AlertRecord>all(HealthTopology.ALERT_STORE).values()) {
            if (alert.machine().state() == AlertState.FIRING && alert.targetId() != null) {
                firing.merge(alert.targetId(), 1, Integer::sum);
            }
        }
        TreeSet<String> ids = known(inventory, clocks.keySet());
        List<Map<String, Object>> out = new ArrayList<>();
        for (String id : ids) {
            Map<String, Object> target = new LinkedHashMap<>();
            target.put("targetId", id);
            Target entry = inventory.get(id);
            target.put("group", groupOf(entry));
            target.put("inInventory", entry != null);
            TargetClock clock = clocks.get(id);
            target.put("eventTime", clock == null ? null : Instant.ofEpochMilli(clock.eventTimeMs()).toString());
            target.put("absent", clock != null && clock.absent());
            target.put("firingAlerts", firing.getOrDefault(id, 0));
            out.add(target);
        }
        return out;
    }

    /** One target: its inventory entry, event time, open windows (so far) and open alerts; empty when unknown here. */
    Optional<Map<String, Object>> target(String id) {
        Target entry = this.<Target>store(HealthTopology.INVENTORY_STORE).get(id);
        TargetClock clock = this.<TargetClock>store(HealthTopology.TARGET_STORE).get(id);
        List<Map<String, Object>> alerts = new ArrayList<>();
        try (KeyValueIterator<String, AlertRecord> it = this.<AlertRecord>store(HealthTopology.ALERT_STORE)
                .prefixScan(AlertRecord.targetPrefix(id), Serdes.String().serializer())) {
            it.forEachRemaining(kv -> {
                if (kv.value.machine().state() != AlertState.INACTIVE) {
                    alerts.add(alert(kv.value));
                }
            });
        }
        HealthScore health = this.<HealthScore>store(HealthTopology.HEALTH_STORE).get(id);
        if (entry == null && clock == null && alerts.isEmpty() && health == null) {
            return Optional.empty();
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("targetId", id);
        out.put("group", groupOf(entry));
        out.put("inventory", entry == null ? null : plain(entry));
        if (clock != null) {
            out.put("eventTime", Instant.ofEpochMilli(clock.eventTimeMs()).toString());
            out.put("absent", clock.absent());
            out.put("openWindows", openWindows(id, clock));
        }
        out.put("health", health == null ? null : plain(health));
        out.put("alerts", alerts);
        out.put("lastWindow", plainOrNull(this.<TargetWindow>store(ReadModel.LAST_MINUTE_STORE).get(id)));
        out.put("lastHourWindow", plainOrNull(this.<TargetWindow>store(ReadModel.LAST_HOUR_STORE).get(id)));
        out.put("latestMetrics", plainOrNull(this.<MetricSample>store(ReadModel.LATEST_METRICS_STORE).get(id)));
        return Optional.of(out);
    }

    /**
     * Every target this instance knows, as a worker: its health status and score, when it was last seen (event time),
     * its last closed minute (checks performed and failed, error rate, latency p95) and its latest task figures.
     */
    List<Map<String, Object>> workers() {
        Map<String, Target> inventory = all(HealthTopology.INVENTORY_STORE);
        Map<String, TargetClock> clocks = all(HealthTopology.TARGET_STORE);
        ReadOnlyKeyValueStore<String, HealthScore> health = store(HealthTopology.HEALTH_STORE);
        ReadOnlyKeyValueStore<String, TargetWindow> minutes = store(ReadModel.LAST_MINUTE_STORE);
        ReadOnlyKeyValueStore<String, MetricSample> metrics = store(ReadModel.LATEST_METRICS_STORE);
        TreeSet<String> ids = known(inventory, clocks.keySet());
        List<Map<String, Object>> out = new ArrayList<>();
        for (String id : ids) {
            Map<String, Object> worker = new LinkedHashMap<>();
            worker.put("targetId", id);
            Target entry = inventory.get(id);
            worker.put("group", groupOf(entry));
            HealthScore score = health.get(id);
            worker.put("status", score == null ? null : score.getStatus().name());
            worker.put("score", score == null ? null : score.getScore());
            TargetClock clock = clocks.get(id);
            worker.put("lastSeen", clock == null ? null : Instant.ofEpochMilli(clock.eventTimeMs()).toString());
            worker.put("absent", clock != null && clock.absent());
            TargetWindow window = minutes.get(id);
            worker.put("windowStart", window == null ? null : window.getWindowStart().toString());
            worker.put("checks", window == null ? null : window.getChecks());
            worker.put("failedChecks", window == null ? null : window.getFailures());
            worker.put("errorRate", window == null ? null : window.getErrorRate());
            worker.put("latencyP95Ms", window == null ? null : window.getLatencyP95Ms());
            worker.put("tasks", tasks(metrics.get(id)));
            out.add(worker);
        }
        return out;
    }

    /** A sample's task figures, or null when it carries none (a target that runs no tasks). */
    private static Map<String, Object> tasks(MetricSample sample) {
        if (sample == null || (sample.getTasksCompleted() == null && sample.getTasksFailed() == null
                && sample.getTaskLatencyMs() == null)) {
            return null;
        }
        Map<String, Object> tasks = new LinkedHashMap<>();
        tasks.put("completed", sample.getTasksCompleted());
        tasks.put("failed", sample.getTasksFailed());
        tasks.put("latencyMs", sample.getTaskLatencyMs());
        tasks.put("observedAt", sample.getObservedAt().toString());
        return tasks;
    }

    /**
     * This instance's share of the fleet's health: targets known and not yet scored, targets by status fleet-wide and
     * per group, its {@code worst} lowest scores and its firing alerts by severity ({@link ReadApi} adds the
     * instances up).
     */
    Map<String, Object> healthSummary(int worst) {
        Map<String, Target> inventory = all(HealthTopology.INVENTORY_STORE);
        TreeSet<String> known = known(inventory, this.<TargetClock>all(HealthTopology.TARGET_STORE).keySet());
        Map<String, HealthScore> scores = all(HealthTopology.HEALTH_STORE);
        Map<String, Long> byStatus = new LinkedHashMap<>();
        for (HealthStatus status : HealthStatus.values()) {
            byStatus.put(status.name(), 0L);
        }
        Map<String, Map<String, Long>> groups = groupHealth();
        groups.values().forEach(counts -> counts.forEach((status, n) -> byStatus.merge(status, n, Long::sum)));
        known.addAll(scores.keySet());
        List<Map<String, Object>> lowest = new ArrayList<>();
        scores.values().forEach(score -> {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("targetId", score.getTargetId());
            Target target = inventory.get(score.getTargetId());
            entry.put("group", groupOf(target));
            entry.put("score", score.getScore());
            entry.put("status", score.getStatus().name());
            entry.put("failingChecks", List.copyOf(score.getFailingChecks()));
            entry.put("reasons", List.copyOf(score.getReasons()));
            entry.put("windowEnd", score.getWindowEnd().toString());
            lowest.add(entry);
        });
        lowest.sort(WORST_FIRST);
        Map<String, Long> firing = new LinkedHashMap<>();
        for (Severity severity : Severity.values()) {
            firing.put(severity.name(), 0L);
        }
        for (AlertRecord alert : this.<AlertRecord>all(HealthTopology.ALERT_STORE).values()) {
            if (alert.machine().state() == AlertState.FIRING && alert.severity() != null) {
                firing.merge(alert.severity().name(), 1L, Long::sum);
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("targets", (long) known.size());
        out.put("unscored", (long) (known.size() - scores.size()));
        out.put("byStatus", byStatus);
        out.put("groups", groups);
        out.put("firingAlerts", firing);
        out.put("worst", List.copyOf(lowest.subList(0, Math.min(worst, lowest.size()))));
        return out;
    }

    /** Entries of the health summary's {@code worst}: lowest score first; on a tie the worse status, then by targetId. */
    static final Comparator<Map<String, Object>> WORST_FIRST =
            Comparator.comparingDouble((Map<String, Object> m) -> ((Number) m.get("score")).doubleValue())
                    .thenComparing(m -> -HealthStatus.valueOf((String) m.get("status")).ordinal())
                    .thenComparing(m -> (String) m.get("targetId"));

    /** Group to status to count of this instance's scored targets ({@link GroupHealth}). */
    Map<String, Map<String, Long>> groupHealth() {
        Map<String, Map<String, Long>> out = new TreeMap<>();
        GroupHealth.counts(store(HealthTopology.HEALTH_STORE), store(HealthTopology.INVENTORY_STORE))
                .forEach((group, counts) -> {
                    Map<String, Long> named = new LinkedHashMap<>();
                    counts.forEach((status, n) -> named.put(status.name(), n));
                    out.put(group, named);
                });
        return out;
    }

    /** Targets per inventory group. */
    Map<String, List<String>> groups() {
        Map<String, List<String>> groups = new TreeMap<>();
        this.<Target>all(HealthTopology.INVENTORY_STORE).forEach((id, target) ->
                groups.computeIfAbsent(target.getGroup(), g -> new ArrayList<>()).add(id));
        return groups;
    }

    /** Alerts in {@code state} (FIRING or PENDING), or every alert that is not INACTIVE when {@code state} is null. */
    List<Map<String, Object>> alerts(AlertState state) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (AlertRecord alert : this.<AlertRecord>all(HealthTopology.ALERT_STORE).values()) {
            AlertState now = alert.machine().state();
            if (state == null ? now != AlertState.INACTIVE : now == state) {
                out.add(alert(alert));
            }
        }
        return out;
    }

    private List<Map<String, Object>> openWindows(String id, TargetClock clock) {
        ReadOnlyKeyValueStore<String, WindowAccumulator> minutes = store(HealthTopology.WINDOW_STORE);
        List<Map<String, Object>> out = new ArrayList<>();
        for (long start : clock.openMinutes()) {
            WindowAccumulator acc = minutes.get(WindowEngine.windowKey(start, id));
            if (acc != null) {
                Instant from = Instant.ofEpochMilli(start);
                out.add(plain(acc.toTargetWindow(id, from, from.plus(HealthTopology.WINDOW_SIZE))));
            }
        }
        return out;
    }

    private static Map<String, Object> alert(AlertRecord alert) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("targetId", alert.targetId());
        out.put("ruleId", alert.ruleId());
        out.put("check", alert.check());
        out.put("state", alert.machine().state().name());
        out.put("fingerprint", alert.fingerprint());
        out.put("severity", alert.severity() == null ? null : alert.severity().name());
        out.put("group", alert.group());
        out.put("labels", alert.labels());
        out.put("conditionSince", text(alert.machine().conditionSince()));
        out.put("startsAt", text(alert.machine().startsAt()));
        return out;
    }

    private static String text(Instant at) {
        return at == null ? null : at.toString();
    }

    /** The targets known from the inventory or from their records (a clock), by targetId. */
    private static TreeSet<String> known(Map<String, Target> inventory, java.util.Set<String> clocked) {
        TreeSet<String> ids = new TreeSet<>(inventory.keySet());
        ids.addAll(clocked);
        return ids;
    }

    /** A target's group, as its alerts carry it: {@code default} when it is not in the inventory. */
    private static String groupOf(Target entry) {
        return entry == null ? AlertEngine.DEFAULT_GROUP : entry.getGroup();
    }

    private static Map<String, Object> plainOrNull(SpecificRecord record) {
        return record == null ? null : plain(record);
    }

    /** An Avro record as a map of plain values: strings, numbers, booleans, ISO times, lists and maps. */
    static Map<String, Object> plain(SpecificRecord record) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Schema.Field field : record.getSchema().getFields()) {
            out.put(field.name(), plainValue(record.get(field.pos())));
        }
        return out;
    }

    private static Object plainValue(Object value) {
        if (value instanceof CharSequence || value instanceof Enum<?> || value instanceof Instant) {
            return value.toString();
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new TreeMap<>();
            map.forEach((k, v) -> out.put(k.toString(), plainValue(v)));
            return out;
        }
        if (value instanceof List<?> list) {
            return list.stream().map(StateQueries::plainValue).toList();
        }
        if (value instanceof SpecificRecord nested) {
            return plain(nested);
        }
        return value;
    }

    private <V> Map<String, V> all(String storeName) {
        Map<String, V> out = new TreeMap<>();
        try (KeyValueIterator<String, V> it = this.<V>store(storeName).all()) {
            it.forEachRemaining(kv -> out.put(kv.key, kv.value));
        }
        return out;
    }

    private <V> ReadOnlyKeyValueStore<String, V> store(String name) {
        return streams.store(StoreQueryParameters.fromNameAndType(name, QueryableStoreTypes.<String, V>keyValueStore()));
    }
}
