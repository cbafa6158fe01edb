package io.fleetpulse.stream;

import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.Severity;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * What the {@code alert-states} store keeps per rule, target and (for per-check signals) check: who the alert is,
 * the state machine's snapshot and, while the alert fires, what it fired as (fingerprint, severity, group, labels),
 * so its resolve carries exactly that even if the rule or the inventory changed in between, or the rule is gone.
 *
 * <p>Keyed target-first ({@link #key}), so all alerts of a target are one prefix scan ({@link #targetPrefix}).
 *
 * @param ruleId   null only for a record of format 1 (before 0.2), which kept neither identity nor labels; its key
 *                 ({@code ruleId|targetId}) says who it is, and {@link AlertEngine} migrates it at start
 * @param check    the check name for a per-check rule; null for other rules (and for migrated format-1 records,
 *                 whose one state covered every check of the target)
 * @param severity what it fired with; null while it has not fired
 * @param group    the target's inventory group when it fired; null while it has not fired
 * @param lastSeen event time of the last value that fed this alert, for staleness; null when not known (format 2)
 * @param noData   whether the alert fires as "no data": it went stale with {@code on_stale: absent}
 */
record AlertRecord(String fingerprint, String ruleId, String targetId, String check, Severity severity, String group,
                   Map<String, String> labels, AlertStateMachine.Snapshot machine, Instant lastSeen, boolean noData) {

    /**
     * Binary, versioned; written to the store's changelog on every change. Reads formats 1, 2 and 3; writes 3 (1 only
     * for a record read as 1).
     */
    static final Serde<AlertRecord> SERDE = Serdes.serdeFrom(
            (topic, r) -> r == null ? null : r.toBytes(),
            (topic, bytes) -> bytes == null ? null : fromBytes(bytes));

    static final byte FORMAT_1 = 1;
    static final byte FORMAT_2 = 2;
    static final byte FORMAT = 3;

    AlertRecord {
        Objects.requireNonNull(machine, "machine");
        labels = Collections.unmodifiableSortedMap(new TreeMap<>(labels == null ? Map.of() : labels));
    }

    AlertRecord(String fingerprint, String ruleId, String targetId, String check, Severity severity, String group,
                Map<String, String> labels, AlertStateMachine.Snapshot machine) {
        this(fingerprint, ruleId, targetId, check, severity, group, labels, machine, null, false);
    }

    /** A state that has not fired (INACTIVE or PENDING): no identity to remember beyond who it is. */
    static AlertRecord unfired(String ruleId, String targetId, String check, AlertStateMachine.Snapshot machine) {
        return new AlertRecord(null, ruleId, targetId, check, null, null, Map.of(), machine);
    }

    /**
     * When the alert's series last had a value: as stored, else (format 2) the latest instant the machine knows, so
     * an alert written before staleness existed goes stale from there.
     */
    Instant lastValueAt() {
        if (lastSeen != null) {
            return lastSeen;
        }
        Instant latest = null;
        for (Instant t : new Instant[] {machine.conditionSince(), machine.startsAt(), machine.recoverySince()}) {
            if (t != null && (latest == null || t.isAfter(latest))) {
                latest = t;
            }
        }
        return latest;
    }

    AlertRecord seenAt(Instant at, boolean stillNoData) {
        return new AlertRecord(fingerprint, ruleId, targetId, check, severity, group, labels, machine, at, stillNoData);
    }

    /**
     * {@code targetId|ruleId|check} (the check empty when there is none). Rule ids cannot contain '|'; in target ids
     * and check names '%' and '|' are %-escaped, so a target's prefix never matches another target's keys.
     */
    static String key(String targetId, String ruleId, String check) {
        return keyUnder(targetPrefix(targetId), ruleId, check);
    }

    /** {@link #key} under a {@link #targetPrefix} already built: a sample's rules all share their target's. */
    static String keyUnder(String targetPrefix, String ruleId, String check) {
        return targetPrefix + ruleId + "|" + (check == null ? "" : escape(check));
    }

    /** The prefix every key of the target's alerts starts with. */
    static String targetPrefix(String targetId) {
        return escape(targetId) + "|";
    }

    private static String escape(String s) {
        return s.indexOf('%') < 0 && s.indexOf('|') < 0 ? s : s.replace("%", "%25").replace("|", "%7C");
    }

    /** Whether this is a format-1 record, read under its old key {@code ruleId|targetId}. */
    boolean legacy() {
        return ruleId == null;
    }

    boolean firing() {
        return machine.state() == AlertState.FIRING;
    }

    AlertRecord withMachine(AlertStateMachine.Snapshot next) {
        return new AlertRecord(fingerprint, ruleId, targetId, check, severity, group, labels, next, lastSeen, noData);
    }

    private byte[] toBytes() {
        try (ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
             DataOutputStream out = new DataOutputStream(bytes)) {
            if (legacy()) { // as it was read: format 1 has no room for an identity
                out.writeByte(FORMAT_1);
                writeNullable(out, fingerprint);
                writeMachine(out, machine);
                out.flush();
                return bytes.toByteArray();
            }
            out.writeByte(FORMAT);
            writeNullable(out, fingerprint);
            out.writeUTF(ruleId);
            out.writeUTF(targetId);
            writeNullable(out, check);
            writeNullable(out, severity == null ? null : severity.name());
            writeNullable(out, group);
            out.writeInt(labels.size());
            for (Map.Entry<String, String> label : labels.entrySet()) {
                out.writeUTF(label.getKey());
                out.writeUTF(label.getValue());
            }
            writeMachine(out, machine);
            out.writeLong(machine.recentHits());
            writeInstant(out, lastSeen);
            out.writeBoolean(noData);
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new SerializationException("cannot encode alert state", e);
        }
    }

    private static AlertRecord fromBytes(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            byte format = in.readByte();
            if (format == FORMAT_1) {
                String fingerprint = readNullable(in);
                return new AlertRecord(fingerprint, null, null, null, null, null, Map.of(), readMachine(in));
            }
            if (format != FORMAT && format != FORMAT_2) {
                throw new SerializationException("unknown alert state format " + format);
            }
            String fingerprint = readNullable(in);
            String ruleId = in.readUTF();
            String targetId = in.readUTF();
            String check = readNullable(in);
            String severity = readNullable(in);
            String group = readNullable(in);
            int labelCount = in.readInt();
            Map<String, String> labels = new TreeMap<>();
            for (int i = 0; i < labelCount; i++) {
                labels.put(in.readUTF(), in.readUTF());
            }
            AlertStateMachine.Snapshot m = readMachine(in);
            AlertStateMachine.Snapshot machine = new AlertStateMachine.Snapshot(m.state(), m.conditionSince(),
                    m.conditionObservations(), m.startsAt(), m.recoverySince(), m.recoveryObservations(), in.readLong());
            Instant lastSeen = format == FORMAT ? readInstant(in) : null;
            boolean noData = format == FORMAT && in.readBoolean();
            return new AlertRecord(fingerprint, ruleId, targetId, check,
                    severity == null ? null : Severity.valueOf(severity), group, labels, machine, lastSeen, noData);
        } catch (IOException | IllegalArgumentException e) {
            throw new SerializationException("corrupt alert state", e);
        }
    }

    /** The machine's fields in the layout format 1 already used (format 2 appends the M-of-N history). */
    private static void writeMachine(DataOutputStream out, AlertStateMachine.Snapshot machine) throws IOException {
        out.writeUTF(machine.state().name());
        writeInstant(out, machine.conditionSince());
        out.writeInt(machine.conditionObservations());
        writeInstant(out, machine.startsAt());
        writeInstant(out, machine.recoverySince());
        out.writeInt(machine.recoveryObservations());
    }

    private static AlertStateMachine.Snapshot readMachine(DataInputStream in) throws IOException {
        AlertState state = AlertState.valueOf(in.readUTF());
        Instant conditionSince = readInstant(in);
        int conditionObservations = in.readInt();
        Instant startsAt = readInstant(in);
        Instant recoverySince = readInstant(in);
        int recoveryObservations = in.readInt();
        return new AlertStateMachine.Snapshot(state, conditionSince, conditionObservations, startsAt,
                recoverySince, recoveryObservations);
    }

    private static void writeNullable(DataOutputStream out, String s) throws IOException {
        out.writeBoolean(s != null);
        if (s != null) {
            out.writeUTF(s);
        }
    }

    private static String readNullable(DataInputStream in) throws IOException {
        return in.readBoolean() ? in.readUTF() : null;
    }

    private static void writeInstant(DataOutputStream out, Instant t) throws IOException {
        out.writeBoolean(t != null);
        if (t != null) {
            out.writeLong(t.toEpochMilli());
        }
    }

    private static Instant readInstant(DataInputStream in) throws IOException {
        return in.readBoolean() ? Instant.ofEpochMilli(in.readLong()) : null;
    }
}
