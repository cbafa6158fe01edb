package io.fleetpulse.stream;

import io.fleetpulse.events.MetricSample;
import io.fleetpulse.events.TargetWindow;
import io.fleetpulse.schemas.Topics;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * Keeps what the read API shows of a target beyond its open state: its last closed 1-minute and 1-hour windows (they
 * are deleted from the window stores when they close) and its latest metric sample (the worker view's task figures).
 * Fed by the window engine; a target's removal (a null health score) drops all three, as it drops the rest of its
 * state. Nothing downstream reads these stores: they exist for interactive queries only.
 */
final class ReadModel implements Processor<String, EngineOutput, Void, Void> {

    /** The last closed 1-minute window of each target, as published on fleet.aggregates.1m. */
    static final String LAST_MINUTE_STORE = "target-last-window-1m";
    /** The last closed 1-hour window of each target, as published on fleet.aggregates.1h. */
    static final String LAST_HOUR_STORE = "target-last-window-1h";
    /** The accepted metric sample of each target with the latest observedAt. */
    static final String LATEST_METRICS_STORE = "target-latest-metrics";

    private KeyValueStore<String, TargetWindow> lastMinute;
    private KeyValueStore<String, TargetWindow> lastHour;
    private KeyValueStore<String, MetricSample> latestMetrics;

    /** A last-window store (both hold {@code TargetWindow}s, as their topics do). */
    static StoreBuilder<KeyValueStore<String, TargetWindow>> windowStore(String name) {
        return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(name), Serdes.String(),
                Topics.AGGREGATES_1M.valueSerde()).withCachingEnabled();
    }

    /**
     * A target's latest sample is read and rewritten on every sample: held as an object and written out once per commit
     * ({@link DeferredWriteStore}), so a sample costs no Avro decoding and encoding here. The read API reads the store
     * it wraps (the state as of the last commit).
     */
    static StoreBuilder<KeyValueStore<String, MetricSample>> metricsStore() {
        return DeferredWriteStore.builder(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(LATEST_METRICS_STORE),
                Serdes.String(), Topics.METRICS.valueSerde()), WindowEngine.HOT_ENTRIES_MAX);
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        lastMinute = context.getStateStore(LAST_MINUTE_STORE);
        lastHour = context.getStateStore(LAST_HOUR_STORE);
        latestMetrics = context.getStateStore(LATEST_METRICS_STORE);
    }

    @Override
    public void process(Record<String, EngineOutput> record) {
        String target = record.key();
        EngineOutput out = record.value();
        switch (out.kind()) {
            case WINDOW_1M -> lastMinute.put(target, out.window());
            case WINDOW_1H -> lastHour.put(target, out.window());
            case METRICS -> {
                // Within grace a sample may arrive after a later one: the latest by event time stays.
                MetricSample had = latestMetrics.get(target);
                if (had == null || !out.sample().getObservedAt().isBefore(had.getObservedAt())) {
                    latestMetrics.put(target, out.sample());
                }
            }
            case HEALTH -> {
                if (out.health() == null) {
                    lastMinute.delete(target);
                    lastHour.delete(target);
                    latestMetrics.delete(target);
                }
            }
            default -> {
                // The topology feeds nothing else here.
            }
        }
    }
}
