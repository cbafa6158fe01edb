package io.fleetpulse.stream;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.Target;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Keeps the task's share of {@code fleet.targets} in the {@code target-inventory} store, where the rule engine finds
 * a target's group and labels when an alert fires. A tombstone resolves the target's firing alerts ("target removed")
 * at the tombstone's timestamp and drops the target's alert state and inventory entry.
 */
final class InventoryProcessor implements Processor<Bytes, TargetIntake.Entry, String, AlertEvent> {

    private final RuleBook rules;
    private final PipelineCounters counters;

    private ProcessorContext<String, AlertEvent> context;
    private KeyValueStore<String, Target> inventory;
    private AlertEngine engine;

    InventoryProcessor(RuleBook rules, PipelineCounters counters) {
        this.rules = rules;
        this.counters = counters;
    }

    @Override
    public void init(ProcessorContext<String, AlertEvent> context) {
        this.context = context;
        this.inventory = context.getStateStore(HealthTopology.INVENTORY_STORE);
        this.engine = new AlertEngine(rules, context.getStateStore(HealthTopology.ALERT_STORE), inventory,
                context.getStateStore(HealthTopology.FIRST_SEEN_STORE), context.getStateStore(HealthTopology.DETECTOR_STORE),
                counters);
    }

    @Override
    public void process(Record<Bytes, TargetIntake.Entry> record) {
        // Format-1 state is keyed rule-first, out of reach of a target's prefix: migrate before the first removal.
        engine.sweepAtStart(Instant.ofEpochMilli(context.currentSystemTimeMs()))
                .forEach(event -> context.forward(AlertEngine.record(event)));
        String targetId = new String(record.key().get(), StandardCharsets.UTF_8);
        Target target = record.value().target();
        if (target != null) {
            inventory.put(targetId, target);
            return;
        }
        inventory.delete(targetId);
        engine.removeTarget(targetId, Instant.ofEpochMilli(record.timestamp()))
                .forEach(event -> context.forward(AlertEngine.record(event)));
    }
}
