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
 * Feeds every signal value of a target to the {@link AlertEngine} (the samples of one record come as one list, in
 * order, as if each were its own record) and publishes each FIRING and RESOLVED transition
 * as an {@link AlertEvent} keyed by the alert's fingerprint. Input is keyed by targetId and co-partitioned with
 * {@code fleet.targets}, so a target's alerts and its inventory entry stay in one task.
 *
 * <p>At start the engine resolves the alerts of rules that left the rule book: on the first record, or by wall clock
 * {@link #STARTUP_SWEEP_DELAY} after the task starts, whichever comes first, so it happens with no input at all.
 *
 * <p>After every sample the engine is ticked with the task's event time (the highest {@code at} of the samples it has
 * been fed), which is what makes alerts go stale. Event time, not the wall clock, so a replay of the same records
 * makes the same stale decisions at the same instants. It still moves when the partition is silent: the window
 * engine then carries its event time on at wall-clock pace and sends {@code silence_seconds} samples at that time.
 * A wall-clock punctuation would add nothing, since the event time only moves with a sample. The event time is not
 * stored: after a restart it starts again at the first sample, so staleness due during the outage is decided on the
 * first sample after it.
 */
final class RuleEvaluator implements Processor<String, List<SignalSample>, String, AlertEvent> {

    /** How long after a task starts its removed rules are resolved if no record came first. */
    static final Duration STARTUP_SWEEP_DELAY = Duration.ofSeconds(1);

    private final RuleBook rules;
    private final String alertStoreName;
    private final PipelineCounters counters;

    private ProcessorContext<String, AlertEvent> context;
    private AlertEngine engine;
    private Cancellable startupSweep;
    private Instant eventTime = Instant.EPOCH;

    RuleEvaluator(RuleBook rules, String alertStoreName, PipelineCounters counters) {
        this.rules = rules;
        this.alertStoreName = alertStoreName;
        this.counters = counters;
    }

    @Override
    public void init(ProcessorContext<String, AlertEvent> context) {
        this.context = context;
        this.engine = new AlertEngine(rules, context.getStateStore(alertStoreName),
                context.getStateStore(HealthTopology.INVENTORY_STORE),
                context.getStateStore(HealthTopology.FIRST_SEEN_STORE), context.getStateStore(HealthTopology.DETECTOR_STORE),
                counters);
        // Forwarding is not allowed in init, hence a punctuation that runs once.
        this.startupSweep = context.schedule(STARTUP_SWEEP_DELAY, PunctuationType.WALL_CLOCK_TIME, this::sweep);
    }

    @Override
    public void process(Record<String, List<SignalSample>> record) {
        List<SignalSample> samples = record.value();
        if (samples.isEmpty()) {
            return; // as if nothing came: a record without samples must not start the sweep
        }
        sweep(context.currentSystemTimeMs());
        for (SignalSample sample : samples) {
            forward(engine.observe(record.key(), sample));
            if (sample.at().isAfter(eventTime)) {
                eventTime = sample.at();
                forward(engine.tick(eventTime));
            }
        }
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
