package io.fleetpulse.alerting.decide;

import io.fleetpulse.alerting.route.AlertLabels;
import io.fleetpulse.alerting.route.Route;
import io.fleetpulse.alerting.route.RoutingTree;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.events.OutboxRecord;
import io.fleetpulse.schemas.DeadLetters;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.schemas.UndecodableRecordException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * Decide: fleet.alerts in, group notifications out on fleet.outbox, one per receiver and group notification, each
 * naming the deployment (alerting.group.id) that decided it, since several deployments may share the topic.
 *
 * <ol>
 *   <li>{@code route-alerts}: each FIRING / RESOLVED transition is matched against the {@link RoutingTree}; it goes
 *       on once per route that takes it, keyed by receiver + '|' + group key. Bad records go to fleet.dlq.</li>
 *   <li>{@code decide-inhibit} (only with inhibit rules): one partition, so one task sees every firing alert and
 *       marks each transition muted or not ({@link InhibitAlerts}).</li>
 *   <li>{@code decide-by-group}: repartitioned by that key, so one task holds a whole group whichever fleet.alerts
 *       partitions its alerts came from.</li>
 *   <li>{@code decide-groups}: the {@link AlertGroup}s in a changelogged store; a wall-clock punctuation every
 *       {@code tick} flushes the groups that are due. Timers are stored with the group, so they survive restarts
 *       and rebalances (a group overdue after a restart is notified on the first tick).</li>
 * </ol>
 */
public final class DecideTopology {

    public static final String GROUP_STORE = "decide-groups";
    static final String SERVICE = "alerting";

    private DecideTopology() {
    }

    public static Topology build(RoutingTree routing, Duration tick, String deployment) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(GROUP_STORE),
                Serdes.String(), Serdes.ByteArray()));
        Map<String, KStream<String, Routed>> routed = builder
                .stream(Topics.ALERTS.name(), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray())
                        .withName("alerts-source"))
                .process(() -> new RouteAlerts(routing), Named.as("route-alerts"))
                .split(Named.as("routed-"))
                .branch((key, value) -> value.deadLetter() != null, Branched.as("rejected"))
                .defaultBranch(Branched.as("accepted"));
        routed.get("routed-rejected")
                .map((key, value) -> KeyValue.pair(value.rawKey() == null ? null : Bytes.wrap(value.rawKey()),
                        value.deadLetter()), Named.as("to-dead-letter"))
                .to(Topics.DLQ.name(), Produced.with(Topics.DLQ.keySerde(), Topics.DLQ.valueSerde())
                        .withName("dlq-sink"));
        KStream<String, AlertEvent> accepted = routed.get("routed-accepted")
                .mapValues(Routed::event, Named.as("to-alert-event"));
        if (!routing.inhibitRules().isEmpty()) {
            builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(InhibitAlerts.STORE),
                    Serdes.String(), Serdes.ByteArray()));
            accepted = accepted
                    .repartition(Repartitioned.with(Serdes.String(), Topics.ALERTS.valueSerde())
                            .withName(InhibitAlerts.STORE).withNumberOfPartitions(1))
                    .process(() -> new InhibitAlerts(routing), Named.as("decide-inhibit-processor"),
                            InhibitAlerts.STORE);
        }
        accepted.repartition(Repartitioned.with(Serdes.String(), Topics.ALERTS.valueSerde()).withName("decide-by-group"))
                .process(() -> new GroupAlerts(routing, tick, deployment), Named.as("decide-groups-processor"), GROUP_STORE)
                .to(Topics.OUTBOX.name(), Produced.with(Topics.OUTBOX.keySerde(), Topics.OUTBOX.valueSerde())
                        .withName("outbox-sink"));
        return builder.build();
    }

    /** A routed transition, or the dead letter of a record that is none. */
    record Routed(AlertEvent event, byte[] rawKey, DeadLetter deadLetter) {
    }

    /** The store and outbox key of a group: receiver + '|' + group key. */
    static String keyOf(String receiver, String groupKey) {
        return receiver + "|" + groupKey;
    }

    /** The groups {@code event} belongs to, by key, with the route that made each. */
    static Map<String, Route> groupsOf(RoutingTree routing, AlertEvent event) {
        Map<String, String> labels = AlertLabels.of(event);
        Map<String, Route> groups = new HashMap<>();
        for (Route route : routing.routesOf(labels)) {
            groups.putIfAbsent(keyOf(route.receiver(), AlertGroup.keyOf(route.id(), route.groupBy().of(labels))), route);
        }
        return groups;
    }

    private static final class RouteAlerts extends ContextualProcessor<byte[], byte[], String, Routed> {

        private final RoutingTree routing;

        RouteAlerts(RoutingTree routing) {
            this.routing = routing;
        }

        @Override
        public void process(Record<byte[], byte[]> record) {
            AlertEvent event;
            try {
                event = Topics.ALERTS.valueSerde().deserializer().deserialize(Topics.ALERTS.name(), record.value());
            } catch (UndecodableRecordException e) {
                reject(record, DeadLetters.UNDECODABLE, e.getMessage());
                return;
            }
            String invalid = invalidReason(event);
            if (invalid != null) {
                reject(record, DeadLetters.INVALID, invalid);
                return;
            }
            for (String key : groupsOf(routing, event).keySet()) {
                // headers from outside mean nothing here (a muted verdict is only decide-inhibit's)
                context().forward(record.withKey(key).withValue(new Routed(event, null, null))
                        .withHeaders(new RecordHeaders()));
            }
        }

        private void reject(Record<byte[], byte[]> record, String reason, String error) {
            RecordMetadata source = context().recordMetadata().orElseThrow();
            DeadLetter letter = DeadLetters.of(SERVICE, source.topic(), source.partition(), source.offset(),
                    record.key(), record.value(), reason, error, Instant.ofEpochMilli(context().currentSystemTimeMs()));
            context().forward(record.withKey((String) null).withValue(new Routed(null, record.key(), letter)));
        }
    }

    /** Why {@code event} cannot be decided on, or null. */
    public static String invalidReason(AlertEvent event) {
        if (event == null) {
            return "empty value (tombstone) on " + Topics.ALERTS.name();
        }
        if (event.getFingerprint() == null || event.getFingerprint().isBlank()) {
            return "alert event without a fingerprint";
        }
        if (event.getTargetId() == null || event.getTargetId().isBlank()) {
            return "alert event without a targetId";
        }
        if (event.getState() != AlertState.FIRING && event.getState() != AlertState.RESOLVED) {
            return "alert state " + event.getState() + " is not published on " + Topics.ALERTS.name()
                    + " (only FIRING and RESOLVED)";
        }
        return null;
    }

    private static final class GroupAlerts extends ContextualProcessor<String, AlertEvent, String, OutboxRecord> {

        private final RoutingTree routing;
        private final Duration tick;
        private final String deployment;
        private final Map<String, Route> routesById = new HashMap<>();
        private KeyValueStore<String, byte[]> groups;

        GroupAlerts(RoutingTree routing, Duration tick, String deployment) {
            this.routing = routing;
            this.tick = tick;
            this.deployment = deployment;
            routing.allRoutes().forEach(route -> routesById.put(route.id(), route));
        }

        @Override
        public void init(ProcessorContext<String, OutboxRecord> context) {
            super.init(context);
            groups = context.getStateStore(GROUP_STORE);
            context.schedule(tick, PunctuationType.WALL_CLOCK_TIME, this::flushDue);
        }

        @Override
        public void process(Record<String, AlertEvent> record) {
            Route route = groupsOf(routing, record.value()).get(record.key());
            if (route == null) {
                return; // routed by an older routing file: no route of this one takes it
            }
            long now = context().currentSystemTimeMs();
            byte[] stored = groups.get(record.key());
            Map<String, String> labels = route.groupBy().of(AlertLabels.of(record.value()));
            AlertGroup group = stored != null ? AlertGroup.decode(stored)
                    : AlertGroup.open(route.receiver(), route.id(), AlertGroup.keyOf(route.id(), labels), labels);
            group.add(record.value(), InhibitAlerts.isMuted(record.headers()), now, route.timers());
            groups.put(record.key(), group.encode());
            if (group.dueAt(route.timers()) <= now && route.timers().groupWait().isZero()) {
                flush(record.key(), group, route.timers(), now);
            }
        }

        private void flushDue(long now) {
            List<KeyValue<String, AlertGroup>> due = new ArrayList<>();
            try (KeyValueIterator<String, byte[]> all = groups.all()) {
                while (all.hasNext()) {
                    KeyValue<String, byte[]> entry = all.next();
                    AlertGroup group = AlertGroup.decode(entry.value);
                    if (group.dueAt(timersOf(group)) <= now) {
                        due.add(KeyValue.pair(entry.key, group));
                    }
                }
            }
            due.forEach(entry -> flush(entry.key, entry.value, timersOf(entry.value), now));
        }

        private void flush(String key, AlertGroup group, Route.Timers timers, long now) {
            List<AlertEvent> alerts = group.flush(now, timers);
            if (!alerts.isEmpty()) {
                OutboxRecord notification = OutboxRecord.newBuilder()
                        .setNotificationId(key + "|" + now)
                        .setDeployment(deployment)
                        .setReceiver(group.receiver())
                        .setRouteId(group.routeId())
                        .setGroupKey(group.groupKey())
                        .setGroupLabels(group.groupLabels())
                        .setAlerts(alerts)
                        .setDecidedAt(Instant.ofEpochMilli(now))
                        .build();
                context().forward(new Record<>(key, notification, now));
            }
            if (group.isOver()) {
                groups.delete(key);
            } else {
                groups.put(key, group.encode());
            }
        }

        /** A route removed from the file since: its groups finish with the root's timers. */
        private Route.Timers timersOf(AlertGroup group) {
            Route route = routesById.get(group.routeId());
            return (route != null ? route : routing.root()).timers();
        }
    }
}
