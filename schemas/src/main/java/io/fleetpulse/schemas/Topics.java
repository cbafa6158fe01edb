package io.fleetpulse.schemas;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.events.HealthScore;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.events.OutboxRecord;
import io.fleetpulse.events.Silence;
import io.fleetpulse.events.Target;
import io.fleetpulse.events.TargetWindow;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.avro.specific.SpecificRecord;

/** The typed registry of every FleetPulse topic (see the topic table in docs and README). */
public final class Topics {

    private static final Duration WEEK = Duration.ofDays(7);
    private static final Duration MONTH = Duration.ofDays(30);

    public static final Topic<String, Target> TARGETS = compacted("fleet.targets", Target.class, true);
    public static final Topic<String, CheckResult> CHECKS = deleting("fleet.checks", CheckResult.class, WEEK, true);
    public static final Topic<String, MetricSample> METRICS = deleting("fleet.metrics", MetricSample.class, WEEK, true);
    public static final Topic<String, TargetWindow> AGGREGATES_1M = deleting("fleet.aggregates.1m", TargetWindow.class, MONTH, true);
    public static final Topic<String, TargetWindow> AGGREGATES_1H = deleting("fleet.aggregates.1h", TargetWindow.class, MONTH, true);
    public static final Topic<String, HealthScore> HEALTH = compacted("fleet.health", HealthScore.class, true);
    public static final Topic<String, AlertEvent> ALERTS = deleting("fleet.alerts", AlertEvent.class, MONTH, false);
    public static final Topic<String, NotificationRecord> NOTIFICATIONS =
            deleting("fleet.notifications", NotificationRecord.class, MONTH, false);
    /**
     * Group notifications decided by alerting (routing, grouping, silences, inhibition), one per receiver and group
     * notification, keyed by receiver + '|' + group key; read by alerting's per-receiver delivery.
     */
    public static final Topic<String, OutboxRecord> OUTBOX = deleting("fleet.outbox", OutboxRecord.class, WEEK, false);
    /**
     * Silences and recurring maintenance windows, keyed by silence id, compacted: the latest version of each is kept
     * (expiring rewrites it with endsAt = now); written by alerting's API, read by decide as a global store.
     */
    public static final Topic<String, Silence> SILENCES = compacted("fleet.silences", Silence.class, false);
    /** Keyed by the original record's key, kept raw: the key of a bad record may itself be bad. */
    public static final Topic<Bytes, DeadLetter> DLQ = new Topic<>("fleet.dlq", Serdes.Bytes(),
            serde(DeadLetter.class), DeadLetter.class, false, MONTH, false);

    public static final List<Topic<?, ?>> ALL = List.of(TARGETS, CHECKS, METRICS, AGGREGATES_1M, AGGREGATES_1H,
            HEALTH, ALERTS, OUTBOX, NOTIFICATIONS, SILENCES, DLQ);

    private Topics() {
    }

    public static Optional<Topic<?, ?>> byName(String name) {
        return ALL.stream().filter(t -> t.name().equals(name)).findFirst();
    }

    /** The value serde of a record type, on single-object encoding with its schema history. */
    public static <V extends SpecificRecord> Serde<V> serde(Class<V> type) {
        return new CodecSerde<>(SingleObjectCodec.of(type));
    }

    private static <V extends SpecificRecord> Topic<String, V> compacted(String name, Class<V> type, boolean perTarget) {
        return new Topic<>(name, Serdes.String(), serde(type), type, true, null, perTarget);
    }

    private static <V extends SpecificRecord> Topic<String, V> deleting(String name, Class<V> type, Duration retention,
                                                                      boolean perTarget) {
        return new Topic<>(name, Serdes.String(), serde(type), type, false, retention, perTarget);
    }
}
