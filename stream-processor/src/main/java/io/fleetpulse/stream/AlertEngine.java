package io.fleetpulse.stream;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.Evidence;
import io.fleetpulse.events.Severity;
import io.fleetpulse.events.Target;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The alert state of one task: every (rule, target, check) {@link AlertStateMachine}, what each alert fired as, and
 * the decisions that do not come from a signal (a removed target, a removed rule). It takes values and time and
 * returns the {@link AlertEvent}s to publish; the processors around it only forward them.
 *
 * <ul>
 *   <li>{@link #observe}: a signal sample feeds every rule watching it. A per-check signal keeps one state per check
 *       name, so a check that keeps failing fires even while the other checks of the same poll pass.</li>
 *   <li>{@link #removeTarget}: a decommissioned target's firing alerts resolve ("target removed"), its state goes.</li>
 *   <li>{@link #sweepAtStart}: once per task, before anything else: migrates format-1 state and resolves the alerts of
 *       rules that are no longer in the rule book ("rule removed").</li>
 * </ul>
 *
 * A FIRING alert stores its fingerprint, severity, group and labels; its resolve carries those, not the current
 * rule's or inventory's.
 */
final class AlertEngine {

    /** The label naming the check of a per-check alert; part of the fingerprint, so each check is its own alert. */
    static final String CHECK_LABEL = "check";
    static final String DEFAULT_GROUP = "default";
    static final String RULE_REMOVED = "rule removed";
    static final String TARGET_REMOVED = "target removed";
    /** Format-1 state of a rule that no longer exists has no severity left to resolve with. */
    private static final Severity LEGACY_SEVERITY = Severity.WARNING;

    private final RuleBook rules;
    private final KeyValueStore<String, AlertRecord> alerts;
    private final KeyValueStore<String, Target> inventory;
    private final PipelineCounters counters;
    /**
     * Keys of migrated format-1 alerts of per-check rules that still fire: their one state covered every check of the
     * target, so every check's samples keep feeding it until it resolves. Rebuilt by each start's sweep.
     */
    private final Set<String> allChecksAlerts = new HashSet<>();
    private boolean swept;

    AlertEngine(RuleBook rules, KeyValueStore<String, AlertRecord> alerts, KeyValueStore<String, Target> inventory,
                PipelineCounters counters) {
        this.rules = rules;
        this.alerts = alerts;
        this.inventory = inventory;
        this.counters = counters;
    }

    /** The Kafka record of an event: keyed by fingerprint, at the event time of the transition. */
    static Record<String, AlertEvent> record(AlertEvent event) {
        return new Record<>(event.getFingerprint(), event, event.getOccurredAt().toEpochMilli());
    }

    /** Feeds one sample of {@code targetId} to the rules that watch it. */
    List<AlertEvent> observe(String targetId, SignalSample sample) {
        List<AlertEvent> out = new ArrayList<>(0);
        for (ThresholdRule listed : rules.rulesFor(sample.signal())) {
            if (!listed.selects(sample.check())) {
                continue;
            }
            ThresholdRule rule = rules.effective(listed, targetId, () -> groupOf(targetId));
            String check = rule.perCheck() ? sample.check() : null;
            String key = AlertRecord.key(targetId, rule.id(), check);
            AlertRecord stored = alerts.get(key);
            persist(key, stored, step(rule, targetId, check, stored, sample, out));
            if (rule.perCheck() && !allChecksAlerts.isEmpty()) {
                feedAllChecksAlert(rule, targetId, sample, out);
            }
        }
        return out;
    }

    /** The target left the inventory: its firing alerts resolve at {@code at}, and all its alert state goes. */
    List<AlertEvent> removeTarget(String targetId, Instant at) {
        List<AlertEvent> out = new ArrayList<>(0);
        for (KeyValue<String, AlertRecord> entry : drain(alerts.prefixScan(AlertRecord.targetPrefix(targetId),
                new StringSerializer()))) {
            if (entry.value.firing()) {
                out.add(administrativeResolve(entry.value, TARGET_REMOVED, at));
            }
            alerts.delete(entry.key);
            allChecksAlerts.remove(entry.key);
        }
        return out;
    }

    /**
     * Runs once per engine (a no-op after that): re-keys format-1 records ({@code ruleId|targetId}, no identity) to
     * format 2 under their target-first key, and resolves at {@code now} the firing alerts of rules that left the
     * rule book or no longer watch the alert's check. Safe to run again after a crash: what it did is in the
     * changelog only if its output was committed with it.
     */
    List<AlertEvent> sweepAtStart(Instant now) {
        if (swept) {
            return List.of();
        }
        swept = true;
        List<AlertEvent> out = new ArrayList<>(0);
        for (KeyValue<String, AlertRecord> entry : drain(alerts.all())) {
            String key = entry.key;
            AlertRecord record = entry.value;
            if (record.legacy()) {
                alerts.delete(key);
                record = migrated(key, record);
                if (record == null) {
                    continue;
                }
                key = AlertRecord.key(record.targetId(), record.ruleId(), null);
            }
            Optional<ThresholdRule> rule = rules.rule(record.ruleId());
            String gone = rule.isEmpty() ? RULE_REMOVED
                    : record.check() != null && (!rule.get().perCheck() || !rule.get().selects(record.check()))
                    ? "rule no longer watches check " + record.check() : null;
            if (gone != null) {
                if (record.firing()) {
                    out.add(administrativeResolve(record, gone, now));
                }
                alerts.delete(key);
            } else if (rule.get().perCheck() && record.check() == null && !record.firing()) {
                alerts.delete(key); // a format-1 PENDING of every check: the per-check states start over
            } else {
                if (rule.get().perCheck() && record.check() == null) {
                    allChecksAlerts.add(key);
                }
                if (!record.equals(entry.value)) {
                    alerts.put(key, record);
                }
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ internals

    /**
     * One machine step. FIRING takes the alert's identity from the rule, the inventory and the check at that moment;
     * RESOLVED publishes the identity stored at FIRING and lets go of it.
     */
    private AlertRecord step(ThresholdRule rule, String targetId, String check, AlertRecord stored,
                             SignalSample sample, List<AlertEvent> out) {
        AlertStateMachine machine = new AlertStateMachine(rule, stored == null ? null : stored.machine());
        Optional<AlertStateMachine.Transition> transition =
                machine.observe(sample.value(), sample.at(), sample.observations());
        if (transition.isEmpty()) {
            if (stored == null) {
                return AlertRecord.unfired(rule.id(), targetId, check, machine.snapshot());
            }
            return escalated(rule, stored.withMachine(machine.snapshot()), sample, out);
        }
        AlertStateMachine.Transition t = transition.get();
        if (t.state() == AlertState.FIRING) {
            Target target = inventory.get(targetId);
            Map<String, String> labels = labels(rule, target, check);
            AlertRecord fired = new AlertRecord(Fingerprint.of(rule.id(), targetId, labels), rule.id(), targetId,
                    check, rule.tierFor(t.value()).severity(), target == null ? DEFAULT_GROUP : target.getGroup(),
                    labels, machine.snapshot());
            counters.alertFired();
            // The evidence names the tier the firing value met, the lowest one unless it went straight higher.
            out.add(described(event(fired, AlertState.FIRING, rule.summary(targetId, check, t.value()),
                    evidence(sample, t.value(), rule.tierFor(t.value()).condition(), t.observations()), t),
                    rule, check, t.value()));
            return fired;
        }
        counters.alertResolved();
        out.add(described(event(stored, AlertState.RESOLVED, rule.resolvedSummary(targetId, check, t.value()),
                evidence(sample, t.value(), t.condition(), t.observations()), t), rule, check, null));
        return AlertRecord.unfired(rule.id(), targetId, check, machine.snapshot());
    }

    /**
     * A firing alert whose value meets a higher tier than it fired (or last escalated) with is announced again, FIRING
     * under the same fingerprint with the higher severity. Severity only moves up until the alert resolves: moving it
     * down on every value between two tiers would page on every wobble.
     */
    private AlertRecord escalated(ThresholdRule rule, AlertRecord firing, SignalSample sample, List<AlertEvent> out) {
        if (!firing.firing() || firing.severity() == null || !rule.fire().holdsFor(sample.value())) {
            return firing; // only a value that meets a tier can raise the severity
        }
        ThresholdRule.Tier tier = rule.tierFor(sample.value());
        if (tier.severity().compareTo(firing.severity()) <= 0) {
            return firing;
        }
        AlertRecord next = new AlertRecord(firing.fingerprint(), firing.ruleId(), firing.targetId(), firing.check(),
                tier.severity(), firing.group(), firing.labels(), firing.machine());
        counters.alertFired();
        out.add(described(event(next, AlertState.FIRING, rule.summary(firing.targetId(), firing.check(), sample.value()),
                evidence(sample, sample.value(), tier.condition(), sample.observations()),
                firing.machine().startsAt(), null, sample.at()), rule, firing.check(), sample.value()));
        return next;
    }

    private void feedAllChecksAlert(ThresholdRule rule, String targetId, SignalSample sample, List<AlertEvent> out) {
        String key = AlertRecord.key(targetId, rule.id(), null);
        if (!allChecksAlerts.contains(key)) {
            return;
        }
        AlertRecord stored = alerts.get(key);
        AlertRecord next = stored == null ? null : step(rule, targetId, null, stored, sample, out);
        if (next == null || !next.firing()) {
            alerts.delete(key);
            allChecksAlerts.remove(key);
        } else {
            persist(key, stored, next);
        }
    }

    private String groupOf(String targetId) {
        Target target = inventory.get(targetId);
        return target == null ? DEFAULT_GROUP : target.getGroup();
    }

    /** Healthy targets cost no state: an INACTIVE machine that holds no fired identity is forgotten. */
    private void persist(String key, AlertRecord stored, AlertRecord next) {
        if (next.machine().equals(AlertStateMachine.Snapshot.INACTIVE) && next.fingerprint() == null) {
            if (stored != null) {
                alerts.delete(key);
            }
        } else if (!next.equals(stored)) {
            alerts.put(key, next);
        }
    }

    /** The target's inventory labels, then the rule's (which win), then the check's name. */
    private static Map<String, String> labels(ThresholdRule rule, Target target, String check) {
        Map<String, String> labels = new TreeMap<>();
        if (target != null) {
            labels.putAll(target.getLabels());
        }
        labels.putAll(rule.labels());
        if (check != null) {
            labels.put(CHECK_LABEL, check);
        }
        return labels;
    }

    /**
     * A format-1 record kept only the fingerprint and the machine; who it is comes from its key, what it fired with
     * from the current rule (format 1 resolved with the current rule's labels and severity too). Null when the key is
     * not {@code ruleId|targetId}.
     */
    private AlertRecord migrated(String oldKey, AlertRecord legacy) {
        int bar = oldKey.indexOf('|');
        if (bar <= 0 || bar == oldKey.length() - 1) {
            return null;
        }
        String ruleId = oldKey.substring(0, bar);
        String targetId = oldKey.substring(bar + 1);
        if (legacy.fingerprint() == null) {
            return AlertRecord.unfired(ruleId, targetId, null, legacy.machine());
        }
        Optional<ThresholdRule> rule = rules.rule(ruleId);
        return new AlertRecord(legacy.fingerprint(), ruleId, targetId, null,
                rule.map(ThresholdRule::severity).orElse(LEGACY_SEVERITY), DEFAULT_GROUP,
                rule.map(ThresholdRule::labels).orElse(Map.of()), legacy.machine());
    }

    /**
     * A resolve no signal caused: the summary ends with the reason, the evidence says {@code target_removed == 1} or
     * {@code rule_removed == 1} (also for a rule that no longer watches the alert's check).
     */
    private AlertEvent administrativeResolve(AlertRecord fired, String reason, Instant at) {
        counters.alertResolved();
        String signal = reason.equals(TARGET_REMOVED) ? "target_removed" : "rule_removed";
        Evidence evidence = Evidence.newBuilder().setSignal(signal).setValue(1).setOperator("==")
                .setThreshold(1).setSamples(0).build();
        String summary = fired.targetId() + " resolved (" + fired.ruleId()
                + (fired.check() == null ? "" : ", check " + fired.check()) + "): " + reason;
        Instant startsAt = fired.machine().startsAt() == null ? at : fired.machine().startsAt();
        AlertEvent event = event(fired, AlertState.RESOLVED, summary, evidence, startsAt, at, at);
        rules.rule(fired.ruleId()).ifPresent(rule -> described(event, rule, fired.check(), null));
        return event;
    }

    /**
     * The rule's runbook link, and for a FIRING event (a {@code value}) its description. A resolve has no
     * description: the summary says how it recovered.
     */
    private static AlertEvent described(AlertEvent event, ThresholdRule rule, String check, Double value) {
        event.setRunbookUrl(rule.runbook(event.getTargetId(), check));
        event.setDescription(value == null ? null : rule.description(event.getTargetId(), check, value));
        return event;
    }

    private static Evidence evidence(SignalSample sample, double value, Condition condition, int samples) {
        return Evidence.newBuilder()
                .setSignal(sample.signal().ruleName())
                .setValue(value)
                .setOperator(condition.op().symbol())
                .setThreshold(condition.threshold())
                .setWindowStart(sample.windowStart())
                .setWindowEnd(sample.windowEnd())
                .setSamples(samples)
                .build();
    }

    private static AlertEvent event(AlertRecord fired, AlertState state, String summary, Evidence evidence,
                                    AlertStateMachine.Transition t) {
        return event(fired, state, summary, evidence, t.startsAt(), t.endsAt(), t.at());
    }

    private static AlertEvent event(AlertRecord fired, AlertState state, String summary, Evidence evidence,
                                    Instant startsAt, Instant endsAt, Instant at) {
        return AlertEvent.newBuilder()
                .setFingerprint(fired.fingerprint())
                .setRuleId(fired.ruleId())
                .setTargetId(fired.targetId())
                .setGroup(fired.group() == null ? DEFAULT_GROUP : fired.group())
                .setLabels(new HashMap<>(fired.labels()))
                .setState(state)
                .setSeverity(fired.severity() == null ? LEGACY_SEVERITY : fired.severity())
                .setSummary(summary)
                .setEvidence(evidence)
                .setStartsAt(startsAt)
                .setEndsAt(endsAt)
                .setOccurredAt(at)
                .build();
    }

    /** Reads an iterator to the end and closes it, so the store can be changed while going through the list. */
    private static List<KeyValue<String, AlertRecord>> drain(KeyValueIterator<String, AlertRecord> iterator) {
        try (iterator) {
            List<KeyValue<String, AlertRecord>> entries = new ArrayList<>();
            iterator.forEachRemaining(entries::add);
            return entries;
        }
    }
}
