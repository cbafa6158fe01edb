package io.fleetpulse.stream;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.events.TargetWindow;
import io.fleetpulse.schemas.Topic;
import io.fleetpulse.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;

/**
 * The stream processor's topology, as a function of its settings.
 *
 * <pre>
 * fleet.checks, fleet.metrics (raw bytes)
 *   └► intake: decode, validate, stamp event time, catch late ──rejected──► cut to fit ► fleet.dlq
 *        └► accepted ─┬► cogroup per target ► 1-min windows ► suppress until closed ► fleet.aggregates.1m
 *                     │                                                             └► window signals ─┐
 *                     └► point signals (check_failed, cpu_percent, ...) ───────────────────────────────┴► evaluate-rules ► fleet.alerts
 * fleet.targets (raw bytes) ► targets-intake ──rejected──► fleet.dlq                        group, labels ▲ (target-inventory)
 *   └► track-inventory: keep the entry; a tombstone resolves the target's alerts ► fleet.alerts
 * </pre>
 *
 * Every input is keyed by targetId and co-partitioned, so nothing is repartitioned. Every node and store is named:
 * the names are part of the deployed state (changelog topics), and {@code topology-description.txt} pins them.
 *
 * <p>Known limitation: windows close on stream time, which only the partition's own records move on. A partition
 * that goes quiet keeps its last windows (and the window signals they would feed) open until records arrive again.
 */
public final class HealthTopology {

    public static final Duration WINDOW_SIZE = Duration.ofMinutes(1);
    /**
     * How much longer than a window store keeps a window (size + grace) its changelog keeps it: room for the broker's
     * clock and log-segment rolling. Streams' default is a whole day, which made the 1-minute windows' changelog hold
     * 24 h of dead windows (and restore them all after a lost state dir). Applied by {@link StreamsProps}.
     */
    public static final Duration WINDOW_CHANGELOG_MARGIN = Duration.ofMinutes(1);

    public static final String WATERMARK_STORE = "intake-watermark";
    public static final String WINDOW_STORE = "aggregates-1m-store";
    public static final String FINAL_WINDOWS = "aggregates-1m-final";
    public static final String ALERT_STORE = "alert-states";
    /** The task's share of fleet.targets: group and labels of each target, for its alerts. */
    public static final String INVENTORY_STORE = "target-inventory";

    private HealthTopology() {
    }

    public static Topology build(StreamsBuilder builder, TopologySettings settings) {
        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(WATERMARK_STORE), Serdes.String(), Serdes.Long()));
        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(ALERT_STORE), Serdes.String(), AlertRecord.SERDE));
        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(INVENTORY_STORE), Serdes.String(), Topics.TARGETS.valueSerde()));

        Map<String, KStream<Bytes, Intake<CheckResult>>> checks = intake(builder, "checks", Topics.CHECKS,
                CheckResult::getTargetId, CheckResult::getObservedAt, ValueContract::violation, settings);
        Map<String, KStream<Bytes, Intake<MetricSample>>> metrics = intake(builder, "metrics", Topics.METRICS,
                MetricSample::getTargetId, MetricSample::getObservedAt, ValueContract::violation, settings);

        // Cut to fit before the sink: a dead letter the broker refuses would fail the transaction on every restart.
        DeadLetterLimit limit = new DeadLetterLimit(settings.deadLetterMaxOriginalBytes());
        checks.get("checks-rejected").map((key, intake) -> fitted(limit, intake), Named.as("checks-dead-letters"))
                .merge(metrics.get("metrics-rejected").map((key, intake) -> fitted(limit, intake),
                        Named.as("metrics-dead-letters")), Named.as("dead-letters"))
                .to(Topics.DLQ.name(), produced(Topics.DLQ, "dlq-sink"));

        KStream<Bytes, CheckResult> acceptedChecks =
                checks.get("checks-accepted").mapValues(Intake::value, Named.as("checks-unwrap"));
        KStream<Bytes, MetricSample> acceptedMetrics =
                metrics.get("metrics-accepted").mapValues(Intake::value, Named.as("metrics-unwrap"));

        KStream<String, TargetWindow> windows = oneMinuteWindows(acceptedChecks, acceptedMetrics, settings);
        windows.to(Topics.AGGREGATES_1M.name(), produced(Topics.AGGREGATES_1M, "aggregates-1m-sink"));

        // From here on keys are targetId strings: the same bytes as before, so the same partition and task.
        acceptedChecks.flatMap((key, check) -> keyed(check.getTargetId(), SignalSample.fromCheck(check)),
                        Named.as("check-signals"))
                .merge(acceptedMetrics.flatMap((key, sample) -> keyed(sample.getTargetId(), SignalSample.fromMetrics(sample)),
                        Named.as("metric-signals")), Named.as("point-signals"))
                .merge(windows.flatMapValues(SignalSample::fromWindow, Named.as("window-signals")), Named.as("signals"))
                .process(() -> new RuleEvaluator(settings.rules(), ALERT_STORE, settings.counters()),
                        Named.as("evaluate-rules"), ALERT_STORE, INVENTORY_STORE)
                .to(Topics.ALERTS.name(), produced(Topics.ALERTS, "alerts-sink"));

        inventory(builder, limit, settings);
        return builder.build();
    }

    /**
     * fleet.targets into the inventory store the rule engine reads; a tombstone resolves the target's alerts.
     * Co-partitioned with the signals (same key, same partition count), so the task that holds a target's alerts
     * holds its inventory entry too.
     */
    private static void inventory(StreamsBuilder builder, DeadLetterLimit limit, TopologySettings settings) {
        Map<String, KStream<Bytes, TargetIntake.Entry>> targets = builder
                .stream(Topics.TARGETS.name(), Consumed.with(Serdes.Bytes(), Serdes.ByteArray()).withName("targets-source"))
                .processValues(() -> new TargetIntake(settings.counters()), Named.as("targets-intake"))
                .split(Named.as("targets-"))
                .branch((key, entry) -> entry.isRejected(), Branched.as("rejected"))
                .defaultBranch(Branched.as("accepted"));
        targets.get("targets-rejected").map((key, entry) -> {
                    DeadLetter letter = limit.fit(entry.deadLetter());
                    return KeyValue.pair(DeadLetterLimit.kafkaKey(letter), letter);
                }, Named.as("targets-dead-letters"))
                .to(Topics.DLQ.name(), produced(Topics.DLQ, "targets-dlq-sink"));
        targets.get("targets-accepted")
                .process(() -> new InventoryProcessor(settings.rules(), settings.counters()),
                        Named.as("track-inventory"), ALERT_STORE, INVENTORY_STORE)
                .to(Topics.ALERTS.name(), produced(Topics.ALERTS, "inventory-alerts-sink"));
    }

    /**
     * Raw bytes in, so that bytes which are not a record go to the DLQ exactly as they came; the key stays raw
     * (a fixed-key step), which is what keeps the windowed aggregation free of a repartition.
     */
    private static <V> Map<String, KStream<Bytes, Intake<V>>> intake(
            StreamsBuilder builder, String name, Topic<String, V> topic, Function<V, String> targetId,
            Function<V, Instant> observedAt, Function<V, String> valueViolation, TopologySettings settings) {
        return builder.stream(topic.name(), Consumed.with(Serdes.Bytes(), Serdes.ByteArray()).withName(name + "-source"))
                .processValues(() -> new IntakeProcessor<>(topic, targetId, observedAt, valueViolation, WINDOW_SIZE,
                        settings.windowGrace(), WATERMARK_STORE, settings.counters()), Named.as(name + "-intake"), WATERMARK_STORE)
                .split(Named.as(name + "-"))
                .branch((key, intake) -> intake.isRejected(), Branched.as("rejected"))
                .defaultBranch(Branched.as("accepted"));
    }

    /** Keyed by the original key bytes, cut like the letter's own copy of them. */
    private static KeyValue<Bytes, DeadLetter> fitted(DeadLetterLimit limit, Intake<?> intake) {
        DeadLetter letter = limit.fit(intake.deadLetter());
        return KeyValue.pair(DeadLetterLimit.kafkaKey(letter), letter);
    }

    private static List<KeyValue<String, SignalSample>> keyed(String targetId, List<SignalSample> samples) {
        return samples.stream().map(s -> KeyValue.pair(targetId, s)).toList();
    }

    /**
     * Checks and metrics of a target cogrouped into one accumulator per 1-minute event-time window; suppression
     * lets exactly one final result per window through, once stream time passes window end + grace.
     * (Cogrouped windows have no emitStrategy(onWindowClose), hence suppress.)
     */
    private static KStream<String, TargetWindow> oneMinuteWindows(KStream<Bytes, CheckResult> checks,
                                                                  KStream<Bytes, MetricSample> metrics,
                                                                  TopologySettings settings) {
        KGroupedStream<Bytes, CheckResult> checksByTarget =
                checks.groupByKey(Grouped.with("checks-by-target", Serdes.Bytes(), Topics.CHECKS.valueSerde()));
        KGroupedStream<Bytes, MetricSample> metricsByTarget =
                metrics.groupByKey(Grouped.with("metrics-by-target", Serdes.Bytes(), Topics.METRICS.valueSerde()));
        PipelineCounters counters = settings.counters();
        return checksByTarget
                .cogroup((Bytes target, CheckResult check, WindowAccumulator acc) -> acc.add(check))
                .cogroup(metricsByTarget, (Bytes target, MetricSample sample, WindowAccumulator acc) -> acc.add(sample))
                .windowedBy(TimeWindows.ofSizeAndGrace(WINDOW_SIZE, settings.windowGrace()))
                .aggregate(WindowAccumulator::new, Named.as("aggregate-1m"),
                        Materialized.<Bytes, WindowAccumulator, WindowStore<Bytes, byte[]>>as(WINDOW_STORE)
                                // A window is needed until it closes, not a moment longer.
                                .withRetention(WINDOW_SIZE.plus(settings.windowGrace()))
                                .withKeySerde(Serdes.Bytes())
                                .withValueSerde(WindowAccumulator.SERDE))
                .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()).withName(FINAL_WINDOWS))
                .toStream(Named.as("aggregates-1m-closed"))
                .map((window, acc) -> {
                    counters.windowOut();
                    String targetId = new String(window.key().get(), StandardCharsets.UTF_8);
                    return KeyValue.pair(targetId, acc.toTargetWindow(targetId,
                            window.window().startTime(), window.window().endTime()));
                }, Named.as("to-target-window"));
    }

    private static <K, V> Produced<K, V> produced(Topic<K, V> topic, String name) {
        return Produced.with(topic.keySerde(), topic.valueSerde()).withName(name);
    }
}
