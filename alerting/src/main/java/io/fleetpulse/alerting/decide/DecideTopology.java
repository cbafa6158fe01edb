package io.fleetpulse.alerting.decide;

import io.fleetpulse.alerting.route.AlertLabels;
import io.fleetpulse.alerting.route.Route;
import io.fleetpulse.alerting.route.RoutingTree;
import io.fleetpulse.alerting.silence.SilenceIndex;
import io.fleetpulse.alerting.silence.SilenceRule;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.events.OutboxRecord;
import io.fleetpulse.schemas.DeadLetters;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.schemas.UndecodableRecordException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
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
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
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
 *   <li>{@code decide-silences}: a global store holding fleet.silences, so every task sees every silence. A firing
 *       alert an active silence matches (at the wall clock of decide: the processor's system time, which
 *       TopologyTestDriver mocks) is held back in its group like a muted one ({@link AlertGroup}); each tick judges
 *       the groups again, so an alert whose silence ended is notified on the group's next flush.</li>
 *   <li>{@code audit-sink}: the decision audit on fleet.notifications, in the same transaction as the groups and the
 *       outbox: GROUPED (waiting in a group), SILENCED (naming the silence), INHIBITED (naming the rule and the
 *       inhibiting alert), attempt 0, receiver = the route's receiver.</li>
 * </ol>
 */
public final class DecideTopology {

    public static final String GROUP_STORE = "decide-groups";
    /** The global store of fleet.silences (silence id → the raw Silence record); the API reads it too. */
    public static final String SILENCE_STORE = "decide-silences";
    static final String SERVICE = "alerting";

    /** How the audit names a receiver: its kind (slack, pagerduty, webhook) and identity (null when unknown). */
    public record AuditedReceiver(String type, String id) {
    }

    private DecideTopology() {
    }

    /** With the receivers named as the routing file declares them (kind only, no identity). */
    public static Topology build(RoutingTree routing, Duration tick, String deployment) {
        Map<String, AuditedReceiver> receivers = new HashMap<>();
        routing.receivers().forEach(spec -> receivers.put(spec.name(),
                new AuditedReceiver(spec.kind().name().toLowerCase(Locale.ROOT), null)));
        return build(routing, tick, deployment, receivers);
    }

    /** @param receivers by name, how the decision audit names each receiver */
    public static Topology build(RoutingTree routing, Duration tick, String deployment,
                                 Map<String, AuditedReceiver> receivers) {
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
        Map<String, KStream<String, Decided>> decided = accepted
                .repartition(Repartitioned.with(Serdes.String(), Topics.ALERTS.valueSerde()).withName("decide-by-group"))
                .process(() -> new GroupAlerts(routing, tick, deployment, receivers), Named.as("decide-groups-processor"),
                        GROUP_STORE)
                .split(Named.as("decided-"))
                .branch((key, value) -> value.audit() != null, Branched.as("audit"))
                .defaultBranch(Branched.as("notification"));
        decided.get("decided-audit")
                .mapValues(Decided::audit, Named.as("to-audit-record"))
                .to(Topics.NOTIFICATIONS.name(), Produced.with(Topics.NOTIFICATIONS.keySerde(),
                        Topics.NOTIFICATIONS.valueSerde()).withName("audit-sink"));
        decided.get("decided-notification")
                .mapValues(Decided::notification, Named.as("to-outbox-record"))
                .to(Topics.OUTBOX.name(), Produced.with(Topics.OUTBOX.keySerde(), Topics.OUTBOX.valueSerde())
                        .withName("outbox-sink"));
        // Added last, so the other sub-topologies (and so the task ids of the groups' state) keep their numbers. The
        // store holds the topic's bytes as they are (decoded when used), so the restore's raw copy is exact and a bad
        // record cannot stop the global thread; silences are few, so memory is enough.
        builder.addGlobalStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(SILENCE_STORE),
                        Serdes.String(), Serdes.ByteArray()).withLoggingDisabled(), Topics.SILENCES.name(),
                Consumed.with(Serdes.String(), Serdes.ByteArray()).withName("silences-source"), KeepSilences::new);
        return builder.build();
    }

    /** What the groups decide: a group notification for fleet.outbox, or an audit record for fleet.notifications. */
    record Decided(OutboxRecord notification, NotificationRecord audit) {
    }

    /** Keeps the global store equal to fleet.silences (a tombstone deletes). */
    private static final class KeepSilences implements Processor<String, byte[], Void, Void> {

        private KeyValueStore<String, byte[]> silences;

        @Override
        public void init(ProcessorContext<Void, Void> context) {
            silences = context.getStateStore(SILENCE_STORE);
        }

        @Override
        public void process(Record<String, byte[]> record) {
            if (record.key() == null) {
                return;
            }
            if (record.value() == null) {
                silences.delete(record.key());
            } else {
                silences.put(record.key(), record.value());
            }
        }
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

    private static final class GroupAlerts extends ContextualProcessor<String, AlertEvent, String, Decided> {

        private final RoutingTree routing;
        private final Duration tick;
        private final String deployment;
        private final Map<String, AuditedReceiver> receivers;
        private final Map<String, Route> routesById = new HashMap<>();
        private final SilenceIndex silences = new SilenceIndex();
        private KeyValueStore<String, byte[]> groups;
        private ReadOnlyKeyValueStore<String, byte[]> silenceStore;

        GroupAlerts(RoutingTree routing, Duration tick, String deployment, Map<String, AuditedReceiver> receivers) {
            this.routing = routing;
            this.tick = tick;
            this.deployment = deployment;
            this.receivers = Map.copyOf(receivers);
            routing.allRoutes().forEach(route -> routesById.put(route.id(), route));
        }

        @Override
        public void init(ProcessorContext<String, Decided> context) {
            super.init(context);
            groups = context.getStateStore(GROUP_STORE);
            silenceStore = context.getStateStore(SILENCE_STORE);
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
            AlertEvent event = record.value();
            boolean wasMuted = group.isMuted(event.getFingerprint());
            String mutedBy = InhibitAlerts.mutedReason(record.headers());
            if (!group.add(event, mutedBy != null, now, route.timers())) {
                return; // older than the transition the group holds
            }
            refreshSilences();
            judgeSilences(group, route.timers(), now);
            if (mutedBy != null && !wasMuted) {
                audit(group, event, NotificationOutcome.INHIBITED, "inhibited: " + mutedBy, now);
            }
            groups.put(record.key(), group.encode());
            boolean held = group.isMuted(event.getFingerprint()) || group.isSilenced(event.getFingerprint());
            if (group.dueAt(route.timers()) <= now && route.timers().groupWait().isZero()) {
                flush(record.key(), group, route.timers(), now);
            } else if (!held && (event.getState() == AlertState.FIRING
                    || group.wasNotifiedFiring(event.getFingerprint()))) {
                audit(group, event, NotificationOutcome.GROUPED, "grouped in " + record.key() + ": notified at "
                        + Instant.ofEpochMilli(group.dueAt(route.timers())) + " at the earliest", now);
            }
        }

        /** Every tick: the silences judged again in every group, then the groups that are due flushed. */
        private void flushDue(long now) {
            refreshSilences();
            List<KeyValue<String, AlertGroup>> due = new ArrayList<>();
            try (KeyValueIterator<String, byte[]> all = groups.all()) {
                while (all.hasNext()) {
                    KeyValue<String, byte[]> entry = all.next();
                    AlertGroup group = AlertGroup.decode(entry.value);
                    if (judgeSilences(group, timersOf(group), now) || group.dueAt(timersOf(group)) <= now) {
                        due.add(KeyValue.pair(entry.key, group));
                    }
                }
            }
            due.forEach(entry -> flush(entry.key, entry.value, timersOf(entry.value), now));
        }

        private void refreshSilences() {
            try (KeyValueIterator<String, byte[]> all = silenceStore.all()) {
                silences.refresh(all);
            }
        }

        /** Judges the group's firing alerts against the silences; audits each newly silenced. Whether any changed. */
        private boolean judgeSilences(AlertGroup group, Route.Timers timers, long now) {
            Instant at = Instant.ofEpochMilli(now);
            Map<AlertEvent, SilenceRule> changed = group.judgeSilences(
                    alert -> silences.silencing(AlertLabels.of(alert), at).orElse(null), now, timers);
            changed.forEach((alert, silence) -> {
                if (silence != null) {
                    audit(group, alert, NotificationOutcome.SILENCED, "silenced by " + silence.describe(), now);
                }
            });
            return !changed.isEmpty();
        }

        /** One decision audit record, keyed by fingerprint as the delivery's are. */
        private void audit(AlertGroup group, AlertEvent alert, NotificationOutcome outcome, String reason, long now) {
            AuditedReceiver receiver = receivers.getOrDefault(group.receiver(), new AuditedReceiver("unknown", null));
            String receiverRef = receiver.id() != null ? receiver.id() : group.receiver();
            NotificationRecord record = NotificationRecord.newBuilder()
                    .setNotificationId(alert.getFingerprint() + "|" + alert.getState() + "|"
                            + alert.getOccurredAt().toEpochMilli() + "|" + deployment + "|" + receiverRef)
                    .setFingerprint(alert.getFingerprint())
                    .setRuleId(alert.getRuleId())
                    .setTargetId(alert.getTargetId())
                    .setReceiver(group.receiver())
                    .setReceiverType(receiver.type())
                    .setReceiverId(receiver.id())
                    .setDeployment(deployment)
                    .setAlertState(alert.getState())
                    .setOutcome(outcome)
                    .setAttempt(0)
                    .setError(reason)
                    .setDecidedAt(Instant.ofEpochMilli(now))
                    .build();
            context().forward(new Record<>(alert.getFingerprint(), new Decided(null, record), now));
        }

        private void flush(String key, AlertGroup group, Route.Timers timers, long now) {
            byte[] before = groups.get(key);
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
                context().forward(new Record<>(key, new Decided(notification, null), now));
            }
            if (group.isOver()) {
                groups.delete(key);
            } else {
                byte[] after = group.encode();
                if (!Arrays.equals(before, after)) { // a group held back by a silence is looked at every tick
                    groups.put(key, after);
                }
            }
        }

        /** A route removed from the file since: its groups finish with the root's timers. */
        private Route.Timers timersOf(AlertGroup group) {
            Route route = routesById.get(group.routeId());
            return (route != null ? route : routing.root()).timers();
        }
    }
}
