package io.fleetpulse.stream;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.Evidence;
import java.util.HashMap;
import java.util.Optional;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Feeds every signal value of a target to the state machines of the rules watching that signal and publishes each
 * FIRING and RESOLVED transition as an {@link AlertEvent} keyed by the alert's fingerprint. The machines live in a
 * changelogged store keyed {@code ruleId|targetId}; input is keyed by targetId, so a target's alerts stay in one task.
 */
final class RuleEvaluator implements Processor<String, SignalSample, String, AlertEvent> {

    private final RuleBook rules;
    private final String storeName;
    private final PipelineCounters counters;

    private ProcessorContext<String, AlertEvent> context;
    private KeyValueStore<String, AlertRecord> alerts;

    RuleEvaluator(RuleBook rules, String storeName, PipelineCounters counters) {
        this.rules = rules;
        this.storeName = storeName;
        this.counters = counters;
    }

    /** Rule ids cannot contain '|', so the key splits back unambiguously. */
    static String storeKey(String ruleId, String targetId) {
        return ruleId + "|" + targetId;
    }

    @Override
    public void init(ProcessorContext<String, AlertEvent> context) {
        this.context = context;
        this.alerts = context.getStateStore(storeName);
    }

    @Override
    public void process(Record<String, SignalSample> record) {
        String targetId = record.key();
        SignalSample sample = record.value();
        for (ThresholdRule rule : rules.rulesFor(sample.signal())) {
            String key = storeKey(rule.id(), targetId);
            AlertRecord stored = alerts.get(key);
            AlertStateMachine machine = new AlertStateMachine(rule, stored == null ? null : stored.machine());
            Optional<AlertStateMachine.Transition> transition =
                    machine.observe(sample.value(), sample.at(), sample.observations());
            String fingerprint = stored == null ? null : stored.fingerprint();
            if (transition.isPresent()) {
                AlertStateMachine.Transition t = transition.get();
                if (fingerprint == null) {
                    fingerprint = rule.fingerprint(targetId);
                }
                publish(rule, targetId, sample, t, fingerprint);
                // A resolved alert lets go of its fingerprint; the next firing takes the rule's current one.
                fingerprint = t.state() == AlertState.FIRING ? fingerprint : null;
            }
            AlertRecord next = new AlertRecord(fingerprint, machine.snapshot());
            boolean forgettable = next.machine().equals(AlertStateMachine.Snapshot.INACTIVE) && next.fingerprint() == null;
            if (forgettable) {
                if (stored != null) {
                    alerts.delete(key); // nothing left to remember: healthy targets cost no state
                }
            } else if (!next.equals(stored)) {
                alerts.put(key, next);
            }
        }
    }

    private void publish(ThresholdRule rule, String targetId, SignalSample sample, AlertStateMachine.Transition t,
                         String fingerprint) {
        Evidence evidence = Evidence.newBuilder()
                .setSignal(sample.signal().ruleName())
                .setValue(t.value())
                .setOperator(t.condition().op().symbol())
                .setThreshold(t.condition().threshold())
                .setWindowStart(sample.windowStart())
                .setWindowEnd(sample.windowEnd())
                .setSamples(t.observations())
                .build();
        AlertEvent event = AlertEvent.newBuilder()
                .setFingerprint(fingerprint)
                .setRuleId(rule.id())
                .setTargetId(targetId)
                .setLabels(new HashMap<>(rule.labels()))
                .setState(t.state())
                .setSeverity(rule.severity())
                .setSummary(t.state() == AlertState.RESOLVED
                        ? rule.resolvedSummary(targetId, t.value()) : rule.summary(targetId, t.value()))
                .setEvidence(evidence)
                .setStartsAt(t.startsAt())
                .setEndsAt(t.endsAt())
                .setOccurredAt(t.at())
                .build();
        if (t.state() == AlertState.FIRING) {
            counters.alertFired();
        } else {
            counters.alertResolved();
        }
        context.forward(new Record<>(fingerprint, event, t.at().toEpochMilli()));
    }
}
