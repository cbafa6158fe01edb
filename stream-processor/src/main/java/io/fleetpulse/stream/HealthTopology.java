package io.fleetpulse.stream;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.events.TargetWindow;
import io.fleetpulse.schemas.Topic;
import io.fleetpulse.schemas.Topics;
import java.time.Duration;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The stream processor's topology, as a function of its settings.
 *
 * <pre>
 * fleet.checks, fleet.metrics (raw bytes)
 *   └► intake: decode, validate, key's partition ──rejected───────────────────────────┐
 *        └► accepted ► window-engine (per-target event time, wall-clock idle closing) │
 *             ├► late ───────────────────────────────────────────────────────────────┴► cut to fit ► fleet.dlq
 *             ├► closed 1-minute windows ► fleet.aggregates.1m, window signals ─┐
 *             ├► closed 1-hour windows ► fleet.aggregates.1h, window signals ───┤
 *             ├► silence signals ───────────────────────────────────────────────┤
 *             ├► health scores (target-health) ► fleet.health, health signals ──┤
 *             └► accepted checks and samples ► point signals ───────────────────┴► evaluate-rules ► fleet.alerts
 *             closed windows, samples, removals ► keep-read-model (last windows, latest sample; for the read API)
 * fleet.targets (raw bytes) ► targets-intake ──rejected──► fleet.dlq
 *   ├► track-inventory (target-inventory: group, labels for evaluate-rules); a tombstone resolves the target's alerts ► fleet.alerts
 *   └► window-engine: a tombstone drops the target's windows and health
 * </pre>
 *
 * Every input is keyed by targetId and co-partitioned, so nothing is repartitioned. Every node and store is named:
 * the names are part of the deployed state (changelog topics), and {@code topology-description.txt} pins them.
 * The windowing itself is {@link WindowEngine}. Every sink writes to {@link TopologySettings#outputTopic}: the contract's
 * topic, or a prefixed copy of it for a replay; nothing else differs between the live run and a replay.
 */
public final class HealthTopology {

    public static final Duration WINDOW_SIZE = Duration.ofMinutes(1);
    public static final Duration HOUR_WINDOW_SIZE = Duration.ofHours(1);
    /**
     * How much longer than a window can stay open (size + grace + idle timeout) its changelog keeps its last write:
     * room for the broker's clock and log-segment rolling. Streams' default for window stores is a whole day.
     */
    public static final Duration WINDOW_CHANGELOG_MARGIN = Duration.ofMinutes(1);

    public static final String TARGET_STORE = "window-targets";
    public static final String WINDOW_STORE = "windows-1m";
    public static final String HOUR_WINDOW_STORE = "windows-1h";
    public static final String ALERT_STORE = "alert-states";
    /** The task's share of fleet.targets: group and labels of each target, for its alerts. */
    public static final String INVENTORY_STORE = "target-inventory";
    /** When the rules first saw each target (event time), for the rules' warm-up. */
    public static final String FIRST_SEEN_STORE = "alert-first-seen";
    /** The latest {@code HealthScore} of each of the task's targets (what fleet.health last said), for the read path. */
    public static final String HEALTH_STORE = "target-health";
    /** The anomaly detectors and trends of the rules' series (per target, signal and check). */
    public static final String DETECTOR_STORE = "detector-states";

    private HealthTopology() {
    }

    public static Topology build(StreamsBuilder builder, TopologySettings settings) {
        // Every signal sample reads its rules' states, most of them absent (a healthy target's): held as objects and
        // written once per commit, the absent ones answered from the store's key set (sparse), so a sample costs no
        // record-cache miss, no RocksDB read and no entry per (target, rule, check) in the held map.
        builder.addStateStore(DeferredWriteStore.sparse(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(ALERT_STORE), Serdes.String(), AlertRecord.SERDE), WindowEngine.HOT_ENTRIES_MAX));
        // The window engine reads and rewrites a target's clock and open minute on every record: held as objects and
        // written once per commit (DeferredWriteStore) instead of through the record cache.
        builder.addStateStore(DeferredWriteStore.builder(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(TARGET_STORE), Serdes.String(), TargetClock.SERDE), WindowEngine.HOT_ENTRIES_MAX));
        builder.addStateStore(DeferredWriteStore.builder(windowStore(WINDOW_STORE, WINDOW_SIZE, settings),
                WindowEngine.HOT_ENTRIES_MAX));
        // Hours are touched once a minute per target, not per record, and a merged hour can be a large histogram.
        builder.addStateStore(windowStore(HOUR_WINDOW_STORE, HOUR_WINDOW_SIZE, settings).withCachingEnabled());
        // Read for every closed minute (its critical checks) and for the rules' group overrides, and absent for a target
        // the inventory does not list: held as objects, absent ones too (the record cache does not remember a miss).
        builder.addStateStore(DeferredWriteStore.builder(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(INVENTORY_STORE), Serdes.String(), Topics.TARGETS.valueSerde()),
                WindowEngine.HOT_ENTRIES_MAX));
        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(FIRST_SEEN_STORE), Serdes.String(), Serdes.Long()).withCachingEnabled());
        // Every value of a watched series changes its model (a KB or two), and its target's entry: held as objects and
        // written about once per checkpoint interval, not per commit, which would write every model of the task every
        // second.
        builder.addStateStore(DeferredWriteStore.checkpointing(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(DETECTOR_STORE), Serdes.String(), TargetModels.SERDE),
                DetectorBank.HELD_MAX, DetectorBank.CHECKPOINT_INTERVAL));
        builder.addStateStore(Stores.keyValueStoreBuilder(
                        Stores.persistentKeyValueStore(HEALTH_STORE), Serdes.String(), Topics.HEALTH.valueSerde())
                .withCachingEnabled());

        builder.addStateStore(ReadModel.windowStore(ReadModel.LAST_MINUTE_STORE));
        builder.addStateStore(ReadModel.windowStore(ReadModel.LAST_HOUR_STORE));
        builder.addStateStore(ReadModel.metricsStore());

        Map<String, KStream<Bytes, Intake<CheckResult>>> checks = intake(builder, "checks", Topics.CHECKS,
                CheckResult::getTargetId, CheckResult::getObservedAt, ValueContract::violation, settings);
        Map<String, KStream<Bytes, Intake<MetricSample>>> metrics = intake(builder, "metrics", Topics.METRICS,
                MetricSample::getTargetId, MetricSample::getObservedAt, ValueContract::violation, settings);

        // Cut to fit before the sink: a dead letter the broker refuses would fail the transaction on every restart.
        DeadLetterLimit limit = new DeadLetterLimit(settings.deadLetterMaxOriginalBytes());
        KStream<Bytes, TargetIntake.Entry> listed = inventory(builder, limit, settings);

        // Casts, not nodes: every accepted record would otherwise pay a node hop to change only its static type.
        KStream<Bytes, Intake<?>> accepted = anyIntake(checks.get("checks-accepted"))
                .merge(anyIntake(metrics.get("metrics-accepted")), Named.as("accepted"))
                .merge(listed.<Intake<?>>mapValues((key, entry) -> Intake.accepted(new WindowEngine.InventoryChange(
                                new String(key.get(), StandardCharsets.UTF_8), entry.target() == null), -1, null),
                        Named.as("targets-to-engine")), Named.as("accepted-and-targets"));
        // From here on keys are targetId strings: the same bytes as before, so the same partition and task.
        KStream<String, EngineOutput> engineOutput = accepted
                .process(() -> new WindowEngine(settings.windowGrace(), settings.timing(), TARGET_STORE, WINDOW_STORE,
                        HOUR_WINDOW_STORE, settings.counters(), settings.health()), Named.as("window-engine"),
                        TARGET_STORE, WINDOW_STORE, HOUR_WINDOW_STORE, INVENTORY_STORE, HEALTH_STORE);
        // Only what goes to a topic is split out; the rules and the read model take the engine's output whole (below),
        // so the most frequent records (accepted checks and samples) pass through no chain of merges on the way.
        Map<String, KStream<String, EngineOutput>> engine = engineOutput
                .split(Named.as("engine-"))
                .branch((key, out) -> out.is(EngineOutput.Kind.WINDOW_1M), Branched.as("windows-1m"))
                .branch((key, out) -> out.is(EngineOutput.Kind.WINDOW_1H), Branched.as("windows-1h"))
                .branch((key, out) -> out.is(EngineOutput.Kind.HEALTH), Branched.as("health"))
                .branch((key, out) -> out.is(EngineOutput.Kind.LATE), Branched.as("late"))
                .noDefaultBranch();

        checks.get("checks-rejected").map((key, intake) -> fitted(limit, intake.deadLetter()), Named.as("checks-dead-letters"))
                .merge(metrics.get("metrics-rejected").map((key, intake) -> fitted(limit, intake.deadLetter()),
                        Named.as("metrics-dead-letters")), Named.as("dead-letters"))
                .merge(engine.get("engine-late").map((key, out) -> fitted(limit, out.late()),
                        Named.as("late-dead-letters")), Named.as("all-dead-letters"))
                .to(settings.outputTopic(Topics.DLQ), produced(Topics.DLQ, "dlq-sink"));

        engine.get("engine-windows-1m").mapValues(EngineOutput::window, Named.as("to-target-window"))
                .to(settings.outputTopic(Topics.AGGREGATES_1M), produced(Topics.AGGREGATES_1M, "aggregates-1m-sink"));
        engine.get("engine-windows-1h").mapValues(EngineOutput::window, Named.as("to-target-window-1h"))
                .to(settings.outputTopic(Topics.AGGREGATES_1H), produced(Topics.AGGREGATES_1H, "aggregates-1h-sink"));
        // A null score is a removed target's: a tombstone on the compacted fleet.health.
        engine.get("engine-health").mapValues(EngineOutput::health, Named.as("to-health-score"))
                .to(settings.outputTopic(Topics.HEALTH), produced(Topics.HEALTH, "health-sink"));

        // Closed windows, samples and removals; it ignores the rest.
        engineOutput.process(ReadModel::new, Named.as("keep-read-model"), ReadModel.LAST_MINUTE_STORE,
                ReadModel.LAST_HOUR_STORE, ReadModel.LATEST_METRICS_STORE);

        // One list of samples per record, not one record per sample: a check gives two, a metric sample up to five.
        // The rules see the engine's outputs in the order it forwarded them, as through the former merges.
        engineOutput.mapValues(HealthTopology::signals, Named.as("engine-signals"))
                .process(() -> new RuleEvaluator(settings.rules(), ALERT_STORE, settings.counters()),
                        Named.as("evaluate-rules"), ALERT_STORE, INVENTORY_STORE, FIRST_SEEN_STORE, DETECTOR_STORE)
                .to(settings.outputTopic(Topics.ALERTS), produced(Topics.ALERTS, "alerts-sink"));

        return builder.build();
    }

    /**
     * The signal samples one output of the window engine gives the rules, in order; none for a late record or a
     * removed target's health (the rules skip a record without samples).
     */
    static List<SignalSample> signals(EngineOutput out) {
        return switch (out.kind()) {
            case CHECK -> SignalSample.fromCheck(out.check());
            case METRICS -> SignalSample.fromMetrics(out.sample());
            case WINDOW_1M, WINDOW_1H -> SignalSample.fromWindow(out.window());
            case SIGNAL -> List.of(out.signal());
            case HEALTH -> out.health() == null ? List.of() : List.of(SignalSample.fromHealth(out.health()));
            case LATE -> List.of();
        };
    }

    @SuppressWarnings("unchecked")
    private static KStream<Bytes, Intake<?>> anyIntake(KStream<Bytes, ? extends Intake<?>> stream) {
        return (KStream<Bytes, Intake<?>>) stream;
    }

    /**
     * A window store of the engine: a key-value store (one accumulator per target and open window, deleted when the
     * window closes) whose changelog is compacted and also expires, after the longest a window can stay open past its
     * last write (size + grace + idle timeout) plus a margin, instead of keeping a day of dead windows.
     */
    private static StoreBuilder<KeyValueStore<String, WindowAccumulator>> windowStore(String name, Duration size,
                                                                                     TopologySettings settings) {
        return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(name), Serdes.String(), WindowAccumulator.SERDE)
                .withLoggingEnabled(Map.of(
                        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT + "," + TopicConfig.CLEANUP_POLICY_DELETE,
                        TopicConfig.RETENTION_MS_CONFIG, String.valueOf(changelogRetention(size, settings).toMillis())));
    }

    /** How long a window store's changelog keeps a write: size + grace + idle timeout + margin. */
    public static Duration changelogRetention(Duration size, TopologySettings settings) {
        return size.plus(settings.windowGrace()).plus(settings.timing().idleTimeout()).plus(WINDOW_CHANGELOG_MARGIN);
    }

    /**
     * fleet.targets into the inventory store the rule engine reads; a tombstone resolves the target's alerts.
     * Co-partitioned with the signals (same key, same partition count), so the task that holds a target's alerts
     * holds its inventory entry too. Returns the accepted entries, which the window engine also reads.
     */
    private static KStream<Bytes, TargetIntake.Entry> inventory(StreamsBuilder builder, DeadLetterLimit limit, TopologySettings settings) {
        Map<String, KStream<Bytes, TargetIntake.Entry>> targets = builder
                .stream(Topics.TARGETS.name(), Consumed.with(Serdes.Bytes(), Serdes.ByteArray()).withName("targets-source"))
                .processValues(() -> new TargetIntake(settings.counters(), settings.sourcePartitions()), Named.as("targets-intake"))
                .split(Named.as("targets-"))
                .branch((key, entry) -> entry.isRejected(), Branched.as("rejected"))
                .defaultBranch(Branched.as("accepted"));
        targets.get("targets-rejected").map((key, entry) -> fitted(limit, entry.deadLetter()), Named.as("targets-dead-letters"))
                .to(settings.outputTopic(Topics.DLQ), produced(Topics.DLQ, "targets-dlq-sink"));
        targets.get("targets-accepted")
                .process(() -> new InventoryProcessor(settings.rules(), settings.counters()),
                        Named.as("track-inventory"), ALERT_STORE, INVENTORY_STORE, FIRST_SEEN_STORE, DETECTOR_STORE)
                .to(settings.outputTopic(Topics.ALERTS), produced(Topics.ALERTS, "inventory-alerts-sink"));
        return targets.get("targets-accepted");
    }

    /**
     * Raw bytes in, so that bytes which are not a record go to the DLQ exactly as they came; the key stays raw
     * (a fixed-key step), which keeps the stream partitioned as it came.
     */
    private static <V> Map<String, KStream<Bytes, Intake<V>>> intake(
            StreamsBuilder builder, String name, Topic<String, V> topic, Function<V, String> targetId,
            Function<V, Instant> observedAt, Function<V, String> valueViolation, TopologySettings settings) {
        return builder.stream(topic.name(), Consumed.with(Serdes.Bytes(), Serdes.ByteArray()).withName(name + "-source"))
                .processValues(() -> new IntakeProcessor<>(topic, targetId, observedAt, valueViolation,
                        settings.timing().maxAhead(), settings.counters(),
                        settings.sourcePartitions()), Named.as(name + "-intake"))
                .split(Named.as(name + "-"))
                .branch((key, intake) -> intake.isRejected(), Branched.as("rejected"))
                .defaultBranch(Branched.as("accepted"));
    }

    /** Keyed by the original key bytes, cut like the letter's own copy of them. */
    private static KeyValue<Bytes, DeadLetter> fitted(DeadLetterLimit limit, DeadLetter deadLetter) {
        DeadLetter letter = limit.fit(deadLetter);
        return KeyValue.pair(DeadLetterLimit.kafkaKey(letter), letter);
    }

    private static <K, V> Produced<K, V> produced(Topic<K, V> topic, String name) {
        return Produced.with(topic.keySerde(), topic.valueSerde()).withName(name);
    }
}
