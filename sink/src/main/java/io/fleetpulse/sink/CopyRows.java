package io.fleetpulse.sink;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.Evidence;
import io.fleetpulse.events.TargetWindow;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Turns records into CSV rows for {@code COPY ... FROM STDIN WITH (FORMAT csv)} into the staging tables, in the
 * column order of {@code BatchDao/copy*.sql}, and refuses values PostgreSQL would reject.
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

    private CopyRows() {
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
        Optional<String> labels = alert.getLabels().entrySet().stream()
                .map(l -> text("labels key", l.getKey()).or(() -> text("labels[" + l.getKey() + "]", l.getValue())))
                .flatMap(Optional::stream).findFirst();
        return firstProblem(labels,
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
        try {
            // Sorted, so the same labels always give the same text and a replay is seen as "unchanged".
            return JSON.writeValueAsString(new TreeMap<>(labels));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a map of strings always serialises", e);
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

    private static Optional<String> time(String field, Instant value) {
        if (value != null && (value.isBefore(EARLIEST) || value.isAfter(LATEST))) {
            return Optional.of(field + " " + value + " is outside years 1 to 9999");
        }
        return Optional.empty();
    }
}
