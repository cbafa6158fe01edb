package io.fleetpulse.alerting.decide;

import io.fleetpulse.alerting.route.AlertLabels;
import io.fleetpulse.alerting.route.InhibitRule;
import io.fleetpulse.alerting.route.RoutingTree;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Inhibition at decide time (Alertmanager's {@code inhibit_rules}): marks each routed transition muted or not, in the
 * header {@link #MUTED}, before it is repartitioned to its group.
 *
 * <p>Inhibition is across groups and across fleet.alerts partitions (a target's UNREACHABLE alert and its CPU alert
 * have different fingerprints, so different partitions, and usually different groups), so this step runs in one task:
 * its input, {@code decide-inhibit}, has one partition. Its store {@link #STORE} holds the firing alerts any rule can
 * use, as source or as target, by fingerprint, each with the verdict last sent for it. When a source starts or stops
 * firing, every held target is judged again and those whose verdict changed are sent again to each of their groups
 * (the same transition, the other verdict), so a target unmuted when its source resolves is then notified. One task
 * for the whole deployment is cheap (a lookup per transition, a scan of the held alerts per source change) and keeps
 * the verdicts in transition order; the groups, the costly part, stay partitioned by group key.
 *
 * <p>A RESOLVED transition is never muted: an alert whose FIRING was notified always gets its resolve
 * ({@link AlertGroup}).
 */
final class InhibitAlerts extends ContextualProcessor<String, AlertEvent, String, AlertEvent> {

    static final String STORE = "decide-inhibit";
    /** Present on a transition that is muted; its value says why (the rule and the inhibiting alert), for the audit. */
    static final String MUTED = "fleetpulse-muted";

    private final RoutingTree routing;
    private final List<InhibitRule> rules;
    private KeyValueStore<String, byte[]> held;

    InhibitAlerts(RoutingTree routing) {
        this.routing = routing;
        this.rules = routing.inhibitRules();
    }

    @Override
    public void init(ProcessorContext<String, AlertEvent> context) {
        super.init(context);
        held = context.getStateStore(STORE);
    }

    /** Whether a record that went through this step is muted. */
    static boolean isMuted(Headers headers) {
        return headers.lastHeader(MUTED) != null;
    }

    /** Why a muted record is muted (e.g. {@code inhibit rule 0 by target-down on web-1 (fingerprint fp)}), or null. */
    static String mutedReason(Headers headers) {
        var header = headers.lastHeader(MUTED);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    @Override
    public void process(Record<String, AlertEvent> record) {
        AlertEvent event = record.value();
        Map<String, String> labels = AlertLabels.of(event);
        boolean source = rules.stream().anyMatch(rule -> rule.isSource(labels));
        boolean target = rules.stream().anyMatch(rule -> rule.isTarget(labels));
        boolean firing = event.getState() == AlertState.FIRING;
        boolean wasFiring = held.get(event.getFingerprint()) != null;
        String inhibitedBy = firing && target ? inhibitedBy(event.getFingerprint(), labels) : null;
        if (firing && (source || target)) {
            held.put(event.getFingerprint(), encode(event, inhibitedBy != null));
        } else {
            held.delete(event.getFingerprint());
        }
        context().forward(record.withHeaders(verdict(inhibitedBy)));
        if (source && firing != wasFiring) {
            judgeAgain(event.getFingerprint(), record.timestamp());
        }
    }

    /** Sends again, to each of its groups, every held alert whose verdict changed. */
    private void judgeAgain(String changedSource, long timestamp) {
        List<KeyValue<AlertEvent, String>> changed = new ArrayList<>();
        try (KeyValueIterator<String, byte[]> all = held.all()) {
            while (all.hasNext()) {
                KeyValue<String, byte[]> entry = all.next();
                if (entry.key.equals(changedSource)) {
                    continue;
                }
                AlertEvent alert = decode(entry.value);
                Map<String, String> labels = AlertLabels.of(alert);
                String inhibitedBy = rules.stream().anyMatch(rule -> rule.isTarget(labels))
                        ? inhibitedBy(entry.key, labels) : null;
                if ((inhibitedBy != null) != (entry.value[0] == 1)) {
                    changed.add(KeyValue.pair(alert, inhibitedBy));
                }
            }
        }
        for (KeyValue<AlertEvent, String> entry : changed) {
            held.put(entry.key.getFingerprint(), encode(entry.key, entry.value != null));
            for (String groupKey : DecideTopology.groupsOf(routing, entry.key).keySet()) {
                context().forward(new Record<>(groupKey, entry.key, timestamp, verdict(entry.value)));
            }
        }
    }

    /** Which rule and held firing alert (other than {@code fingerprint}) inhibit {@code labels}, or null. */
    private String inhibitedBy(String fingerprint, Map<String, String> labels) {
        try (KeyValueIterator<String, byte[]> all = held.all()) {
            while (all.hasNext()) {
                KeyValue<String, byte[]> entry = all.next();
                if (entry.key.equals(fingerprint)) {
                    continue; // an alert never inhibits itself
                }
                Map<String, String> sourceLabels = AlertLabels.of(decode(entry.value));
                for (int i = 0; i < rules.size(); i++) {
                    if (rules.get(i).inhibits(sourceLabels, labels)) {
                        return "inhibit rule " + i + " by " + sourceLabels.get(AlertLabels.RULE) + " on "
                                + sourceLabels.get(AlertLabels.TARGET) + " (fingerprint " + entry.key + ")";
                    }
                }
            }
        }
        return null;
    }

    private static Headers verdict(String inhibitedBy) {
        RecordHeaders headers = new RecordHeaders();
        if (inhibitedBy != null) {
            headers.add(MUTED, inhibitedBy.getBytes(StandardCharsets.UTF_8));
        }
        return headers;
    }

    /** Stored: one byte (1 = the verdict last sent was muted), then the transition as on fleet.alerts. */
    private static byte[] encode(AlertEvent event, boolean muted) {
        byte[] encoded = Topics.ALERTS.valueSerde().serializer().serialize(Topics.ALERTS.name(), event);
        byte[] stored = new byte[encoded.length + 1];
        stored[0] = (byte) (muted ? 1 : 0);
        System.arraycopy(encoded, 0, stored, 1, encoded.length);
        return stored;
    }

    private static AlertEvent decode(byte[] stored) {
        return Topics.ALERTS.valueSerde().deserializer().deserialize(Topics.ALERTS.name(),
                Arrays.copyOfRange(stored, 1, stored.length));
    }
}
