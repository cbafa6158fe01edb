package io.fleetpulse.sink;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.events.Evidence;
import io.fleetpulse.events.HealthScore;
import io.fleetpulse.events.Target;
import io.fleetpulse.events.TargetWindow;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.TreeMap;

/**
 * Turns records into CSV rows for {@code COPY ... FROM STDIN WITH (FORMAT csv)} into the staging tables, in the
 * column order of each {@link Format}'s columns (the COPY of {@link TableSql}), and refuses values PostgreSQL would reject.
 *
 * <p>The refusal matters: one row the database rejects fails the whole batch, and since the sink never skips
 * rows it would retry that batch forever. So whatever could make COPY fail (a NUL character, a timestamp outside
 * PostgreSQL's range, an empty key) is caught here and sent to the DLQ as invalid instead.
 *
 * <p>In CSV format an unquoted empty field is NULL and a quoted one is text, so every text value is quoted.
 */
final class CopyRows {

    /** PostgreSQL's timestamptz reaches further, but ISO-8601 text past year 9999 needs a sign PG does not read. */
    private static final Instant EARLIEST = Instant.parse("0001-01-01T00:00:00Z");
    private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59.999Z");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** Columns of {@code target_window_1m} and {@code target_window_1h}, in the order {@link #appendWindow} writes. */
    static final List<String> WINDOW_COLUMNS = List.of("target_id", "window_start", "window_end", "checks", "failures",
            "error_rate", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "cpu_avg", "cpu_max", "memory_avg",
            "memory_max", "disk_avg", "disk_max", "samples");
    /** Columns of {@code alert_event}, in the order {@link #appendAlert} writes. */
    static final List<String> ALERT_COLUMNS = List.of("fingerprint", "rule_id", "target_id", "group_name", "labels",
            "state", "severity", "summary", "evidence_signal", "evidence_value", "evidence_operator",
            "evidence_threshold", "evidence_window_start", "evidence_window_end", "evidence_samples", "starts_at",
            "ends_at", "occurred_at");

    static final Format<TargetWindow> WINDOWS = new Format<>(TargetWindow.class, WINDOW_COLUMNS,
            CopyRows::invalidWindow, CopyRows::appendWindow);
    static final Format<AlertEvent> ALERTS = new Format<>(AlertEvent.class, ALERT_COLUMNS,
            CopyRows::invalidAlert, CopyRows::appendAlert);

    /** Columns of {@code notification}, in the order {@link #appendNotification} writes. */
    static final List<String> NOTIFICATION_COLUMNS = List.of("notification_id", "fingerprint", "rule_id", "target_id",
            "receiver", "receiver_type", "receiver_id", "deployment", "alert_state", "outcome", "attempt",
            "http_status", "error", "decided_at");
    /** Columns of {@code dead_letter}, in the order {@link #appendDeadLetter} writes. */
    static final List<String> DEAD_LETTER_COLUMNS = List.of("service", "source_topic", "source_partition",
            "source_offset", "reason", "error", "original_key", "original_value", "failed_at");

    static final Format<NotificationRecord> NOTIFICATIONS = new Format<>(NotificationRecord.class,
            NOTIFICATION_COLUMNS, CopyRows::invalidNotification, CopyRows::appendNotification);
    static final Format<DeadLetter> DEAD_LETTERS = new Format<>(DeadLetter.class, DEAD_LETTER_COLUMNS,
            CopyRows::invalidDeadLetter, CopyRows::appendDeadLetter);

    /** Columns of {@code target_health}, in the order {@link #appendHealth} writes. */
    static final List<String> HEALTH_COLUMNS = List.of("target_id", "window_start", "window_end", "score", "status",
            "failing_checks", "reasons");

    static final Format<HealthScore> HEALTH_SCORES = new Format<>(HealthScore.class, HEALTH_COLUMNS,
            CopyRows::invalidHealth, CopyRows::appendHealth);

    /** Columns of {@code targets} written from a record (not removed_at), in the order {@link #appendTarget} writes. */
    static final List<String> TARGET_COLUMNS = List.of("target_id", "health_url", "metrics_url", "group_name", "labels",
            "check_interval_ms", "metrics_interval_ms", "timeout_ms", "critical_checks", "absence_timeout_ms",
            "updated_at");

    static final Format<Target> TARGETS = new Format<>(Target.class, TARGET_COLUMNS, CopyRows::invalidTarget,
            CopyRows::appendTarget);

    private CopyRows() {
    }

    static Optional<String> invalidTarget(Target t) {
        if (t.getTargetId().isBlank()) {
            return Optional.of("targetId is empty");
        }
        return firstProblem(labels(t.getLabels()), texts("criticalChecks", t.getCriticalChecks()), text("targetId", t.getTargetId()), text("healthUrl", t.getHealthUrl()),
                text("metricsUrl", t.getMetricsUrl()), text("group", t.getGroup()), time("updatedAt", t.getUpdatedAt()));
    }

    static void appendTarget(StringBuilder out, long seq, Target t) {
        out.append(seq);
        text(out, t.getTargetId());
        text(out, t.getHealthUrl());
        text(out, t.getMetricsUrl());
        text(out, t.getGroup());
        text(out, labelsJson(t.getLabels()));
        number(out, t.getCheckIntervalMs());
        number(out, t.getMetricsIntervalMs());
        number(out, t.getTimeoutMs());
        text(out, json(t.getCriticalChecks()));
        number(out, t.getAbsenceTimeoutMs());
        time(out, t.getUpdatedAt());
        out.append('\n');
    }

    static Optional<String> invalidHealth(HealthScore h) {
        if (h.getTargetId().isBlank()) {
            return Optional.of("targetId is empty");
        }
        return firstProblem(texts("failingChecks", h.getFailingChecks()), texts("reasons", h.getReasons()),
                text("targetId", h.getTargetId()), time("windowStart", h.getWindowStart()),
                time("windowEnd", h.getWindowEnd()));
    }

    static void appendHealth(StringBuilder out, long seq, HealthScore h) {
        out.append(seq);
        text(out, h.getTargetId());
        time(out, h.getWindowStart());
        time(out, h.getWindowEnd());
        number(out, h.getScore());
        text(out, h.getStatus().name());
        text(out, json(h.getFailingChecks()));
        text(out, json(h.getReasons()));
        out.append('\n');
    }

    static Optional<String> invalidNotification(NotificationRecord n) {
        if (n.getNotificationId().isBlank()) {
            return Optional.of("notificationId is empty");
        }
        return firstProblem(text("notificationId", n.getNotificationId()), text("fingerprint", n.getFingerprint()),
                text("ruleId", n.getRuleId()), text("targetId", n.getTargetId()), text("receiver", n.getReceiver()),
                text("receiverType", n.getReceiverType()), text("receiverId", n.getReceiverId()),
                text("deployment", n.getDeployment()), text("error", n.getError()),
                time("decidedAt", n.getDecidedAt()));
    }

    static void appendNotification(StringBuilder out, long seq, NotificationRecord n) {
        out.append(seq);
        text(out, n.getNotificationId());
        text(out, n.getFingerprint());
        text(out, n.getRuleId());
        text(out, n.getTargetId());
        text(out, n.getReceiver());
        text(out, n.getReceiverType());
        text(out, n.getReceiverId());
        text(out, n.getDeployment());
        text(out, n.getAlertState().name());
        text(out, n.getOutcome().name());
        number(out, n.getAttempt());
        number(out, n.getHttpStatus());
        text(out, n.getError());
        time(out, n.getDecidedAt());
        out.append('\n');
    }

    static Optional<String> invalidDeadLetter(DeadLetter d) {
        return firstProblem(text("service", d.getService()), text("sourceTopic", d.getSourceTopic()),
                text("reason", d.getReason()), text("error", d.getError()), time("failedAt", d.getFailedAt()));
    }

    static void appendDeadLetter(StringBuilder out, long seq, DeadLetter d) {
        out.append(seq);
        text(out, d.getService());
        text(out, d.getSourceTopic());
        number(out, d.getSourcePartition());
        number(out, d.getSourceOffset());
        text(out, d.getReason());
        text(out, d.getError());
        bytes(out, d.getOriginalKey());
        bytes(out, d.getOriginalValue());
        time(out, d.getFailedAt());
        out.append('\n');
    }

    /** bytea in its hex input form; CSV does not treat the backslash specially. */
    private static void bytes(StringBuilder out, java.nio.ByteBuffer value) {
        out.append(',');
        if (value == null) {
            return;
        }
        java.nio.ByteBuffer b = value.duplicate();
        out.append("\"\\x");
        while (b.hasRemaining()) {
            int octet = b.get() & 0xff;
            out.append(HEX[octet >>> 4]).append(HEX[octet & 0xf]);
        }
        out.append('"');
    }

    /** Writes one staging row: {@code seq}, then the columns in order, then a newline. */
    interface Appender<T> {
        void append(StringBuilder out, long seq, T value);
    }

    /**
     * How one Avro record type becomes a staging row: the columns it fills (in CSV order), what makes a value
     * unstorable, and the CSV writer.
     */
    record Format<T>(Class<T> type, List<String> columns, Function<T, Optional<String>> invalid,
                     Appender<T> appender) {

        // Columns are checked as identifiers by PartitionedTable, which holds the formats: calling it from here
        // would make the two classes' static initialisation depend on which one is touched first.

        /**
         * The staging line for {@code value}, or why it cannot be stored ({@link Decoded#reason()} undecodable or
         * invalid).
         */
        Decoded decode(org.apache.kafka.common.serialization.Deserializer<?> deserializer, String topic, byte[] value,
                       long seq) {
            T decoded;
            try {
                Object any = deserializer.deserialize(topic, value);
                if (!type.isInstance(any)) {
                    return new Decoded(null, io.fleetpulse.schemas.DeadLetters.UNDECODABLE,
                            "not a " + type.getSimpleName());
                }
                decoded = type.cast(any);
            } catch (RuntimeException e) {
                return new Decoded(null, io.fleetpulse.schemas.DeadLetters.UNDECODABLE, String.valueOf(e.getMessage()));
            }
            Optional<String> problem = invalid.apply(decoded);
            if (problem.isPresent()) {
                return new Decoded(null, io.fleetpulse.schemas.DeadLetters.INVALID, problem.get());
            }
            StringBuilder line = new StringBuilder();
            appender.append(line, seq, decoded);
            return new Decoded(line.toString(), null, null);
        }
    }

    /** A staging line, or the dead-letter reason and error instead. */
    record Decoded(String line, String reason, String error) {
    }

    /** Why {@code window} cannot be stored, or empty if it can. */
    static Optional<String> invalidWindow(TargetWindow window) {
        if (window.getTargetId().isBlank()) {
            return Optional.of("targetId is empty");
        }
        return firstProblem(
                text("targetId", window.getTargetId()),
                time("windowStart", window.getWindowStart()),
                time("windowEnd", window.getWindowEnd()));
    }

    /** Why {@code alert} cannot be stored, or empty if it can. */
    static Optional<String> invalidAlert(AlertEvent alert) {
        if (alert.getFingerprint().isBlank()) {
            return Optional.of("fingerprint is empty");
        }
        Evidence e = alert.getEvidence();
        return firstProblem(labels(alert.getLabels()),
                text("fingerprint", alert.getFingerprint()),
                text("ruleId", alert.getRuleId()),
                text("targetId", alert.getTargetId()),
                text("group", alert.getGroup()),
                text("summary", alert.getSummary()),
                text("evidence.signal", e.getSignal()),
                text("evidence.operator", e.getOperator()),
                time("evidence.windowStart", e.getWindowStart()),
                time("evidence.windowEnd", e.getWindowEnd()),
                time("startsAt", alert.getStartsAt()),
                time("endsAt", alert.getEndsAt()),
                time("occurredAt", alert.getOccurredAt()));
    }

    /** Appends one staging row for {@code window}; {@code seq} orders duplicates of a key within a batch. */
    static void appendWindow(StringBuilder out, long seq, TargetWindow w) {
        out.append(seq);
        text(out, w.getTargetId());
        time(out, w.getWindowStart());
        time(out, w.getWindowEnd());
        number(out, w.getChecks());
        number(out, w.getFailures());
        number(out, w.getErrorRate());
        number(out, w.getLatencyP50Ms());
        number(out, w.getLatencyP95Ms());
        number(out, w.getLatencyP99Ms());
        number(out, w.getCpuAvg());
        number(out, w.getCpuMax());
        number(out, w.getMemoryAvg());
        number(out, w.getMemoryMax());
        number(out, w.getDiskAvg());
        number(out, w.getDiskMax());
        number(out, w.getSamples());
        out.append('\n');
    }

    /** Appends one staging row for {@code alert}. */
    static void appendAlert(StringBuilder out, long seq, AlertEvent a) {
        Evidence e = a.getEvidence();
        out.append(seq);
        text(out, a.getFingerprint());
        text(out, a.getRuleId());
        text(out, a.getTargetId());
        text(out, a.getGroup());
        text(out, labelsJson(a.getLabels()));
        text(out, a.getState().name());
        text(out, a.getSeverity().name());
        text(out, a.getSummary());
        text(out, e.getSignal());
        number(out, e.getValue());
        text(out, e.getOperator());
        number(out, e.getThreshold());
        time(out, e.getWindowStart());
        time(out, e.getWindowEnd());
        number(out, e.getSamples());
        time(out, a.getStartsAt());
        time(out, a.getEndsAt());
        time(out, a.getOccurredAt());
        out.append('\n');
    }

    static String labelsJson(Map<String, String> labels) {
        // Sorted, so the same labels always give the same text and a replay is seen as "unchanged".
        return json(new TreeMap<>(labels));
    }

    /** Strings, lists and maps of strings as JSON text (a jsonb column). */
    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("strings, lists and maps of strings always serialise", e);
        }
    }

    private static void text(StringBuilder out, String value) {
        out.append(',');
        if (value == null) {
            return;
        }
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"') {
                out.append('"');
            }
            out.append(c);
        }
        out.append('"');
    }

    private static void time(StringBuilder out, Instant value) {
        out.append(',');
        if (value != null) {
            out.append(DateTimeFormatter.ISO_INSTANT.format(value));
        }
    }

    private static void number(StringBuilder out, Number value) {
        out.append(',');
        if (value != null) {
            // Java prints NaN, Infinity, -Infinity and 1.0E-5 the way float8 input reads them.
            out.append(value);
        }
    }

    @SafeVarargs
    private static Optional<String> firstProblem(Optional<String>... checks) {
        for (Optional<String> check : checks) {
            if (check.isPresent()) {
                return check;
            }
        }
        return Optional.empty();
    }

    private static Optional<String> text(String field, CharSequence value) {
        if (value != null && value.toString().indexOf('\0') >= 0) {
            return Optional.of(field + " contains a NUL character, which PostgreSQL text cannot hold");
        }
        return Optional.empty();
    }

    /** The first key or value of {@code labels} PostgreSQL text cannot hold. */
    private static Optional<String> labels(Map<String, String> labels) {
        return labels.entrySet().stream()
                .map(l -> text("labels key", l.getKey()).or(() -> text("labels[" + l.getKey() + "]", l.getValue())))
                .flatMap(Optional::stream).findFirst();
    }

    /** The first of {@code values} PostgreSQL text cannot hold. */
    private static Optional<String> texts(String field, List<String> values) {
        return values.stream().map(v -> text(field, v)).flatMap(Optional::stream).findFirst();
    }

    private static Optional<String> time(String field, Instant value) {
        if (value != null && (value.isBefore(EARLIEST) || value.isAfter(LATEST))) {
            return Optional.of(field + " " + value + " is outside years 1 to 9999");
        }
        return Optional.empty();
    }
}
