package io.fleetpulse.stream;

import io.fleetpulse.stream.detect.SeriesDetector;
import io.fleetpulse.stream.detect.TrendForecaster;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The models of a task's series, one per (target, signal, check) and {@link Detection#stateName()}, in the
 * {@code detector-states} store as one {@link TargetModels} entry per target: {@link #derive} feeds a value to its
 * model once, however many rules share the model, and says what the model makes of it for one rule. Keyed by the
 * target's prefix of the alert states' keys, so a removed target's models go with one prefix scan.
 */
final class DetectorBank {

    /**
     * Targets whose models are held as objects per task before the least recently used clean ones are forgotten (and
     * read again when needed): a task's share of 100,000 targets with ten watched series each, at about 1 KB a model.
     */
    static final int HELD_MAX = 20_000;
    /**
     * How often a changed target's models are written to the changelog. A model learns from every value, so writing
     * it at every commit would write every model of the task every second; a restart resumes from a checkpoint about
     * this old, the values since then unlearnt, which changes a statistical model's view by a minute of history, not
     * an alert's state (the alert states stay exactly-once).
     */
    static final Duration CHECKPOINT_INTERVAL = Duration.ofMinutes(1);

    private final KeyValueStore<String, TargetModels> store;
    /** The models already fed the current sample, so rules sharing one do not feed it twice. */
    private SignalSample fedSample;
    private final List<String> fedNames = new ArrayList<>(2);
    private final List<SeriesModel> fedModels = new ArrayList<>(2);
    private final Map<Detection, String> stateNames = new IdentityHashMap<>();

    DetectorBank(KeyValueStore<String, TargetModels> store) {
        this.store = store;
    }

    /**
     * Feeds {@code sample} to its model for {@code detection} (once per sample) and derives the rule's value.
     *
     * @param targetKey the target's {@link AlertRecord#targetPrefix}, the key of its models
     */
    Derived derive(String targetKey, SignalSample sample, Detection detection) {
        SeriesModel model = fed(targetKey, sample, detection);
        double observed = sample.value();
        long at = sample.at().toEpochMilli();
        if (detection instanceof Detection.Forecast forecast) {
            TrendForecaster trend = model.trend();
            TrendForecaster recent = model.recentTrend();
            // Both the window's trend and its recent part must head there; the later of their crossings counts, each
            // at its slope's lower bound for min_confidence: the limit is reached within that time with that confidence
            // (a trend not sure of its direction forecasts nothing).
            double seconds = Math.max(trend.secondsUntil(forecast.limit(), forecast.rising(), forecast.minConfidence()),
                    recent.secondsUntil(forecast.limit(), forecast.rising(), forecast.minConfidence()));
            double confidence = Math.min(trend.confidence(), recent.confidence());
            Instant predictedAt = seconds >= Derived.NEVER ? null : Instant.ofEpochMilli(at + Math.round(seconds * 1000));
            return new Derived(detection, seconds, observed, trend.samples(), Derived.TREND_DETECTOR, Double.NaN,
                    trend.level(), trend.spread(), trend.slopePerSecond(), confidence, predictedAt);
        }
        Detection.Anomaly anomaly = (Detection.Anomaly) detection;
        SeriesDetector detector = model.detector();
        double score = anomaly.direction().counts(observed, detector.expected()) ? model.lastScore : 0;
        return new Derived(detection, score, observed, detector.samples(), detector.name(), score,
                detector.expected(), detector.spread(), Double.NaN, Double.NaN, null);
    }

    private SeriesModel fed(String key, SignalSample sample, Detection detection) {
        if (sample != fedSample) {
            fedSample = sample;
            fedNames.clear();
            fedModels.clear();
        }
        // A forecast's state name is built from its window: once per rule, not once per value.
        String stateName = stateNames.computeIfAbsent(detection, Detection::stateName);
        int i = fedNames.indexOf(stateName);
        if (i >= 0) {
            return fedModels.get(i);
        }
        TargetModels target = store.get(key);
        if (target == null) {
            target = new TargetModels();
        }
        String signal = sample.signal().ruleName();
        SeriesModel model = target.get(signal, stateName, sample.check());
        if (model == null) {
            model = SeriesModel.of(detection);
            target.add(signal, stateName, sample.check(), model);
        }
        long at = sample.at().toEpochMilli();
        if (model.detector() != null) {
            model.lastScore = model.detector().observe(at, sample.value());
        } else {
            model.trend().observe(at, sample.value());
            model.recentTrend().observe(at, sample.value());
        }
        store.put(key, target);
        fedNames.add(stateName);
        fedModels.add(model);
        return model;
    }

    /**
     * A removed target's models go: added again, it is learnt again. A prefix scan, so it also takes what an earlier
     * build kept under one key per series (keys that begin with the target's).
     */
    void removeTarget(String targetId) {
        List<String> keys = new ArrayList<>();
        try (KeyValueIterator<String, TargetModels> it = store.prefixScan(AlertRecord.targetPrefix(targetId),
                new StringSerializer())) {
            it.forEachRemaining((KeyValue<String, TargetModels> entry) -> keys.add(entry.key));
        }
        keys.forEach(store::delete);
    }
}
