package io.fleetpulse.stream;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.Evidence;
import io.fleetpulse.events.Severity;
import io.fleetpulse.events.Target;
import io.fleetpulse.runtime.text.Durations;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
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
 *       name, so a check that keeps failing fires even while the other checks of the same poll pass. During a rule's
 *       warm-up after the target first appeared, its values are ignored.</li>
 *   <li>{@link #tick}: time moved on to {@code now}; PENDING and FIRING alerts of rules with {@code stale_after} whose
 *       series had no value for that long resolve ("stale") or turn into "no data" alerts.</li>
 *   <li>{@link #removeTarget}: a decommissioned target's firing alerts resolve ("target removed"), its state goes.</li>
 *   <li>{@link #sweepAtStart}: once per task, before anything else: migrates format-1 state and resolves the alerts of
 *       rules that are no longer in the rule book ("rule removed").</li>
 * </ul>
 *
 * A FIRING alert stores its fingerprint, severity, group and labels; its resolve carries those, not the current
 * rule's or inventory's.
 *
 * <p>The engine knows no rule kinds: every kind compiles to a {@link ThresholdRule} on some {@link Signal}, so a new
 * kind needs a compiler in {@link RuleBook} (and maybe a new signal), not a change here.
 */
final class AlertEngine {

    /** The label naming the check of a per-check alert; part of the fingerprint, so each check is its own alert. */
    static final String CHECK_LABEL = "check";
    static final String DEFAULT_GROUP = "default";
    static final String RULE_REMOVED = "rule removed";
    static final String TARGET_REMOVED = "target removed";
    static final String STALE = "stale";
    /** The evidence signal of a stale resolve or a "no data" alert: seconds since the series' last value. */
    static final String NO_DATA_SIGNAL = "no_data_seconds";
    /** Format-1 state of a rule that no longer exists has no severity left to resolve with. */
    private static final Severity LEGACY_SEVERITY = Severity.WARNING;

    private final RuleBook rules;
    private final KeyValueStore<String, AlertRecord> alerts;
    private final KeyValueStore<String, Target> inventory;
    private final KeyValueStore<String, Long> firstSeen;
    private final PipelineCounters counters;
    private final DetectorBank detectors;
    /**
     * When each PENDING or FIRING alert of a rule with staleness goes stale (its last value + {@code stale_after}),
     * in memory and ordered by that time, so a tick finds the due ones without a store scan; rebuilt by the start
     * sweep. An entry is checked against the store before it acts, so a stale entry costs nothing but the check.
     */
    private final NavigableSet<Due> staleDue = new TreeSet<>();
    private final Map<String, Long> dueOf = new HashMap<>();
    /**
     * Keys of migrated format-1 alerts of per-check rules that still fire: their one state covered every check of the
     * target, so every check's samples keep feeding it until it resolves. Rebuilt by each start's sweep.
     */
    private final Set<String> allChecksAlerts = new HashSet<>();
    private boolean swept;
    /** {@link #groupOf} as the rule book asks for it, made once (a lambda per rule and value was garbage). */
    private final Function<String, String> groupOfTarget = this::groupOf;
    /** The last target's id and key prefix: a record's samples are all of one target, with the same id object. */
    private String lastTargetId;
    private String lastTargetPrefix;

    /** An alert key and when it goes stale (epoch ms). */
    private record Due(long at, String key) implements Comparable<Due> {
        @Override
        public int compareTo(Due o) {
            int byTime = Long.compare(at, o.at);
            return byTime != 0 ? byTime : key.compareTo(o.key);
        }
    }

    /** @param firstSeen targetId to the event time (epoch ms) of its first sample, for the rules' warm-up */
    AlertEngine(RuleBook rules, KeyValueStore<String, AlertRecord> alerts, KeyValueStore<String, Target> inventory,
                KeyValueStore<String, Long> firstSeen, KeyValueStore<String, TargetModels> models,
                PipelineCounters counters) {
        this.rules = rules;
        this.detectors = new DetectorBank(models);
        this.alerts = alerts;
        this.inventory = inventory;
        this.firstSeen = firstSeen;
        this.counters = counters;
    }

    /** The Kafka record of an event: keyed by fingerprint, at the event time of the transition. */
    static Record<String, AlertEvent> record(AlertEvent event) {
        return new Record<>(event.getFingerprint(), event, event.getOccurredAt().toEpochMilli());
    }

    /** Feeds one sample of {@code targetId} to the rules that watch it. */
    List<AlertEvent> observe(String targetId, SignalSample sample) {
        List<AlertEvent> out = new ArrayList<>(0);
        Instant appeared = rules.hasWarmUp() ? appeared(targetId, sample.at()) : null;
        String targetPrefix = targetPrefix(targetId);
        for (ThresholdRule listed : rules.rulesFor(sample.signal())) {
            if (!listed.selects(sample.check())) {
                continue;
            }
            // A model learns every value, also those its rules ignore during their warm-up.
            Derived derived = listed.detection() == null ? null
                    : detectors.derive(targetPrefix, sample, listed.detection());
            if (warmingUp(listed, appeared, sample.at())
                    || (derived != null && derived.history() < listed.detection().minHistory())) {
                continue;
            }
            ThresholdRule rule = rules.effective(listed, targetId, groupOfTarget);
            SignalSample judged = derived == null ? sample : sample.withValue(derived.value());
            String check = rule.perCheck() ? sample.check() : null;
            String key = AlertRecord.keyUnder(targetPrefix, rule.id(), check);
            AlertRecord stored = alerts.get(key);
            // Nothing stored is INACTIVE, and a value that does not meet the firing condition leaves an INACTIVE
            // machine INACTIVE (also under M of N): nothing to step, store or schedule. Most values of a fleet.
            if (stored != null || rule.fire().holdsFor(judged.value())) {
                AlertRecord next = step(rule, targetId, check, stored, judged, derived, out);
                if (rule.stale() != null) {
                    // Only rules with staleness keep it: it makes every value of a PENDING or FIRING alert a store
                    // write.
                    Instant last = stored == null ? null : stored.lastSeen();
                    next = next.seenAt(last != null && last.isAfter(sample.at()) ? last : sample.at(), false);
                }
                persist(key, stored, next);
                scheduleStale(key, next, rule);
            }
            if (rule.perCheck() && !allChecksAlerts.isEmpty()) {
                feedAllChecksAlert(rule, targetId, judged, derived, out);
            }
        }
        return out;
    }

    /**
     * Time has moved on to {@code now} (the task's event time): every PENDING or FIRING alert of a rule with
     * {@code stale_after} whose series has had no value since {@code now - stale_after} goes stale, at the instant it
     * did (last value + {@code stale_after}). {@code on_stale: resolve}: a FIRING alert resolves (reason "stale"),
     * a PENDING one ends quietly. {@code on_stale: absent}: both fire as "no data" under the rule's fingerprint.
     */
    List<AlertEvent> tick(Instant now) {
        List<AlertEvent> out = new ArrayList<>(0);
        while (!staleDue.isEmpty() && staleDue.first().at() <= now.toEpochMilli()) {
            Due due = staleDue.pollFirst();
            dueOf.remove(due.key());
            AlertRecord record = alerts.get(due.key());
            ThresholdRule rule = record == null ? null : rules.rule(record.ruleId()).orElse(null);
            if (rule == null || rule.stale() == null || record.noData() || !pendingOrFiring(record)) {
                continue;
            }
            Instant staleAt = record.lastValueAt().plus(rule.stale().after());
            if (staleAt.isAfter(now)) {
                scheduleStale(due.key(), record, rule);
            } else if (rule.stale().toAbsence()) {
                AlertRecord noData = noData(rule, record, staleAt, out);
                alerts.put(due.key(), noData);
            } else {
                if (record.firing()) {
                    out.add(described(resolvedBy(record, STALE + " (no value for "
                            + Durations.format(rule.stale().after()) + ")", noDataEvidence(rule), staleAt),
                            rule, record.check(), null));
                }
                alerts.delete(due.key());
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
            unscheduleStale(entry.key);
        }
        firstSeen.delete(targetId); // a target added again warms up again and its models learn it again
        detectors.removeTarget(targetId);
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
                scheduleStale(key, record, rule.get());
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
                             SignalSample sample, Derived derived, List<AlertEvent> out) {
        AlertStateMachine machine = new AlertStateMachine(rule, stored == null ? null : stored.machine());
        Optional<AlertStateMachine.Transition> transition =
                machine.observe(sample.value(), sample.at(), sample.observations());
        if (transition.isEmpty()) {
            if (stored == null) {
                return AlertRecord.unfired(rule.id(), targetId, check, machine.snapshot());
            }
            AlertRecord next = stored.withMachine(machine.snapshot());
            return stored.noData() && next.firing() ? dataReturned(rule, next, sample, derived, out)
                    : escalated(rule, next, sample, derived, out);
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
            out.add(described(event(fired, AlertState.FIRING, rule.summary(targetId, check, t.value(), derived),
                    evidence(sample, t.value(), rule.tierFor(t.value()).condition(), t.observations(), derived), t),
                    rule, check, t.value(), derived));
            return fired;
        }
        counters.alertResolved();
        out.add(described(event(stored, AlertState.RESOLVED, rule.resolvedSummary(targetId, check, t.value(), derived),
                evidence(sample, t.value(), t.condition(), t.observations(), derived), t), rule, check, null, null));
        return AlertRecord.unfired(rule.id(), targetId, check, machine.snapshot());
    }

    /**
     * A firing alert whose value meets a higher tier than it fired (or last escalated) with is announced again, FIRING
     * under the same fingerprint with the higher severity. Severity only moves up until the alert resolves: moving it
     * down on every value between two tiers would page on every wobble.
     */
    private AlertRecord escalated(ThresholdRule rule, AlertRecord firing, SignalSample sample, Derived derived,
                                  List<AlertEvent> out) {
        if (!firing.firing() || firing.severity() == null || !rule.fire().holdsFor(sample.value())) {
            return firing; // only a value that meets a tier can raise the severity
        }
        ThresholdRule.Tier tier = rule.tierFor(sample.value());
        if (tier.severity().compareTo(firing.severity()) <= 0) {
            return firing;
        }
        return announcedAgain(rule, firing, sample, derived, tier, out);
    }

    /**
     * A "no data" alert's series has a value again and it is not recovered: a value meeting the firing condition
     * announces it again as the rule's own alert (FIRING, same fingerprint, the rule's summary), with the higher of its
     * severity and the value's tier; a value on its way to recovery (inside the recovery {@code for}, or in the
     * hysteresis band) announces nothing, the resolve will.
     */
    private AlertRecord dataReturned(ThresholdRule rule, AlertRecord firing, SignalSample sample, Derived derived,
                                     List<AlertEvent> out) {
        if (!rule.fire().holdsFor(sample.value())) {
            return firing; // the caller marks it as having data again
        }
        return announcedAgain(rule, firing, sample, derived, rule.tierFor(sample.value()), out);
    }

    /** FIRING again under the same fingerprint and {@code startsAt}, at the higher of its severity and {@code tier}'s. */
    private AlertRecord announcedAgain(ThresholdRule rule, AlertRecord firing, SignalSample sample, Derived derived,
                                       ThresholdRule.Tier tier, List<AlertEvent> out) {
        Severity severity = firing.severity() != null && firing.severity().compareTo(tier.severity()) > 0
                ? firing.severity() : tier.severity();
        AlertRecord next = new AlertRecord(firing.fingerprint(), firing.ruleId(), firing.targetId(), firing.check(),
                severity, firing.group(), firing.labels(), firing.machine(), firing.lastSeen(), false);
        counters.alertFired();
        out.add(described(event(next, AlertState.FIRING,
                rule.summary(firing.targetId(), firing.check(), sample.value(), derived),
                evidence(sample, sample.value(), tier.condition(), sample.observations(), derived),
                firing.machine().startsAt(), null, sample.at()), rule, firing.check(), sample.value(), derived));
        return next;
    }

    /**
     * A PENDING or FIRING alert that went stale at {@code staleAt} under {@code on_stale: absent}: FIRING as "no data",
     * keeping the identity a FIRING alert fired with, or taking one now for a PENDING alert.
     */
    private AlertRecord noData(ThresholdRule listed, AlertRecord record, Instant staleAt, List<AlertEvent> out) {
        String targetId = record.targetId();
        ThresholdRule rule = rules.effective(listed, targetId, groupOfTarget);
        AlertStateMachine.Snapshot m = record.machine();
        AlertRecord fired;
        if (record.firing()) {
            fired = new AlertRecord(record.fingerprint(), record.ruleId(), targetId, record.check(), record.severity(),
                    record.group(), record.labels(), m, record.lastSeen(), true);
        } else {
            Target target = inventory.get(targetId);
            Map<String, String> labels = labels(rule, target, record.check());
            AlertStateMachine.Snapshot firing = new AlertStateMachine.Snapshot(AlertState.FIRING, m.conditionSince(),
                    m.conditionObservations(), staleAt, null, 0);
            fired = new AlertRecord(Fingerprint.of(rule.id(), targetId, labels), rule.id(), targetId, record.check(),
                    rule.severity(), target == null ? DEFAULT_GROUP : target.getGroup(), labels, firing,
                    record.lastSeen(), true);
        }
        counters.alertFired();
        String summary = targetId + " sent no " + rule.signal().ruleName()
                + (record.check() == null ? "" : " for check " + record.check()) + " for "
                + Durations.format(rule.stale().after()) + " (" + rule.id() + ")";
        Instant startsAt = fired.machine().startsAt() == null ? staleAt : fired.machine().startsAt();
        out.add(described(event(fired, AlertState.FIRING, summary, noDataEvidence(rule), startsAt, null, staleAt),
                rule, record.check(), null));
        return fired;
    }

    private static Evidence noDataEvidence(ThresholdRule rule) {
        double seconds = rule.stale().after().toMillis() / 1000.0;
        return Evidence.newBuilder().setSignal(NO_DATA_SIGNAL).setValue(seconds).setOperator(">=")
                .setThreshold(seconds).setSamples(0).build();
    }

    private static boolean pendingOrFiring(AlertRecord record) {
        return record.machine().state() == AlertState.PENDING || record.machine().state() == AlertState.FIRING;
    }

    /** Indexes when the alert goes stale, if its rule has staleness and it is PENDING or FIRING on fresh data. */
    private void scheduleStale(String key, AlertRecord record, ThresholdRule rule) {
        if (rule.stale() == null) {
            return; // never indexed: the rule book's rules keep their staleness for the engine's life
        }
        unscheduleStale(key);
        if (record.noData() || !pendingOrFiring(record) || record.lastValueAt() == null) {
            return;
        }
        long at = record.lastValueAt().plus(rule.stale().after()).toEpochMilli();
        dueOf.put(key, at);
        staleDue.add(new Due(at, key));
    }

    private void unscheduleStale(String key) {
        Long at = dueOf.remove(key);
        if (at != null) {
            staleDue.remove(new Due(at, key));
        }
    }

    /**
     * When the rules first saw the target (event time), recorded on its first sample; an earlier sample arriving
     * later moves it back, so the order records arrive in does not lengthen the warm-up.
     */
    private Instant appeared(String targetId, Instant at) {
        Long first = firstSeen.get(targetId);
        if (first == null || at.toEpochMilli() < first) {
            firstSeen.put(targetId, at.toEpochMilli());
            return at;
        }
        return Instant.ofEpochMilli(first);
    }

    private static boolean warmingUp(ThresholdRule rule, Instant appeared, Instant at) {
        return appeared != null && !rule.warmUp().isZero() && at.isBefore(appeared.plus(rule.warmUp()));
    }

    private void feedAllChecksAlert(ThresholdRule rule, String targetId, SignalSample sample, Derived derived,
                                    List<AlertEvent> out) {
        String key = AlertRecord.key(targetId, rule.id(), null);
        if (!allChecksAlerts.contains(key)) {
            return;
        }
        AlertRecord stored = alerts.get(key);
        AlertRecord next = stored == null ? null : step(rule, targetId, null, stored, sample, derived, out);
        if (next == null || !next.firing()) {
            alerts.delete(key);
            allChecksAlerts.remove(key);
        } else {
            persist(key, stored, next);
        }
    }

    private String targetPrefix(String targetId) {
        if (targetId != lastTargetId) {
            lastTargetId = targetId;
            lastTargetPrefix = AlertRecord.targetPrefix(targetId);
        }
        return lastTargetPrefix;
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
        String signal = reason.equals(TARGET_REMOVED) ? "target_removed" : "rule_removed";
        Evidence evidence = Evidence.newBuilder().setSignal(signal).setValue(1).setOperator("==")
                .setThreshold(1).setSamples(0).build();
        AlertEvent event = resolvedBy(fired, reason, evidence, at);
        rules.rule(fired.ruleId()).ifPresent(rule -> described(event, rule, fired.check(), null));
        return event;
    }

    /** A RESOLVED event of a firing alert whose summary ends with {@code reason}. */
    private AlertEvent resolvedBy(AlertRecord fired, String reason, Evidence evidence, Instant at) {
        counters.alertResolved();
        String summary = fired.targetId() + " resolved (" + fired.ruleId()
                + (fired.check() == null ? "" : ", check " + fired.check()) + "): " + reason;
        Instant startsAt = fired.machine().startsAt() == null ? at : fired.machine().startsAt();
        return event(fired, AlertState.RESOLVED, summary, evidence, startsAt, at, at);
    }

    /**
     * The rule's runbook link, and for a FIRING event (a {@code value}) its description. A resolve has no
     * description: the summary says how it recovered.
     */
    private static AlertEvent described(AlertEvent event, ThresholdRule rule, String check, Double value) {
        return described(event, rule, check, value, null);
    }

    private static AlertEvent described(AlertEvent event, ThresholdRule rule, String check, Double value,
                                        Derived derived) {
        event.setRunbookUrl(rule.runbook(event.getTargetId(), check));
        event.setDescription(value == null ? null : rule.description(event.getTargetId(), check, value, derived));
        return event;
    }

    /**
     * What the rule compared: for a value a {@link Detection} judged, the condition's {@code value} and
     * {@code threshold} are the derived number's (score, seconds to the limit), and {@link Derived#addTo} puts the
     * observed value, the model's baseline or forecast and its name beside them.
     */
    private static Evidence evidence(SignalSample sample, double value, Condition condition, int samples,
                                     Derived derived) {
        Evidence.Builder evidence = Evidence.newBuilder()
                .setSignal(sample.signal().ruleName())
                .setValue(value)
                .setOperator(condition.op().symbol())
                .setThreshold(condition.threshold())
                .setWindowStart(sample.windowStart())
                .setWindowEnd(sample.windowEnd())
                .setSamples(samples);
        return (derived == null ? evidence : derived.addTo(evidence)).build();
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
