package io.fleetpulse.stream;

import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.Target;
import java.time.Instant;
import java.util.ArrayList;
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
        TreeSet<String> ids = new TreeSet<>(inventory.keySet());
        ids.addAll(clocks.keySet());
        List<Map<String, Object>> out = new ArrayList<>();
        for (String id : ids) {
            Map<String, Object> target = new LinkedHashMap<>();
            target.put("targetId", id);
            Target entry = inventory.get(id);
            target.put("group", entry == null ? AlertEngine.DEFAULT_GROUP : entry.getGroup());
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
        if (entry == null && clock == null && alerts.isEmpty()) {
            return Optional.empty();
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("targetId", id);
        out.put("group", entry == null ? AlertEngine.DEFAULT_GROUP : entry.getGroup());
        out.put("inventory", entry == null ? null : plain(entry));
        if (clock != null) {
            out.put("eventTime", Instant.ofEpochMilli(clock.eventTimeMs()).toString());
            out.put("absent", clock.absent());
            out.put("openWindows", openWindows(id, clock));
        }
        out.put("alerts", alerts);
        return Optional.of(out);
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
