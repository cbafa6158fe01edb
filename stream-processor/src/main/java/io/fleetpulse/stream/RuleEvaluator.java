package io.fleetpulse.stream;

import io.fleetpulse.events.AlertEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Feeds every signal value of a target to the {@link AlertEngine} and publishes each FIRING and RESOLVED transition
 * as an {@link AlertEvent} keyed by the alert's fingerprint. Input is keyed by targetId and co-partitioned with
 * {@code fleet.targets}, so a target's alerts and its inventory entry stay in one task.
 *
 * <p>At start the engine resolves the alerts of rules that left the rule book: on the first record, or by wall clock
 * {@link #STARTUP_SWEEP_DELAY} after the task starts, whichever comes first, so it happens with no input at all.
 */
final class RuleEvaluator implements Processor<String, SignalSample, String, AlertEvent> {

    /** How long after a task starts its removed rules are resolved if no record came first. */
    static final Duration STARTUP_SWEEP_DELAY = Duration.ofSeconds(1);

    private final RuleBook rules;
    private final String alertStoreName;
    private final PipelineCounters counters;

    private ProcessorContext<String, AlertEvent> context;
    private AlertEngine engine;
    private Cancellable startupSweep;

    RuleEvaluator(RuleBook rules, String alertStoreName, PipelineCounters counters) {
        this.rules = rules;
        this.alertStoreName = alertStoreName;
        this.counters = counters;
    }

    @Override
    public void init(ProcessorContext<String, AlertEvent> context) {
        this.context = context;
        this.engine = new AlertEngine(rules, context.getStateStore(alertStoreName),
                context.getStateStore(HealthTopology.INVENTORY_STORE), counters);
        // Forwarding is not allowed in init, hence a punctuation that runs once.
        this.startupSweep = context.schedule(STARTUP_SWEEP_DELAY, PunctuationType.WALL_CLOCK_TIME, this::sweep);
    }

    @Override
    public void process(Record<String, SignalSample> record) {
        sweep(context.currentSystemTimeMs());
        forward(engine.observe(record.key(), record.value()));
    }

    private void sweep(long wallClockMs) {
        if (startupSweep != null) {
            startupSweep.cancel();
            startupSweep = null;
            forward(engine.sweepAtStart(Instant.ofEpochMilli(wallClockMs)));
        }
    }

    private void forward(List<AlertEvent> events) {
        events.forEach(event -> context.forward(AlertEngine.record(event)));
    }
}
