package io.fleetpulse.stream;

import io.fleetpulse.events.AlertState;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.ByteArrayInputStream;
import java.time.Instant;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * What the {@code alert-states} store keeps per rule and target: the state machine's snapshot and, while the alert
 * fires, the fingerprint it fired under, so its resolve carries the same key even if the rule's labels changed
 * in between.
 */
record AlertRecord(String fingerprint, AlertStateMachine.Snapshot machine) {

    /** Binary, versioned; written to the store's changelog on every change. */
    static final Serde<AlertRecord> SERDE = Serdes.serdeFrom(
            (topic, r) -> r == null ? null : r.toBytes(),
            (topic, bytes) -> bytes == null ? null : fromBytes(bytes));

    private static final byte FORMAT = 1;

    private byte[] toBytes() {
        try (ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
             DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT);
            writeNullable(out, fingerprint);
            out.writeUTF(machine.state().name());
            writeInstant(out, machine.conditionSince());
            out.writeInt(machine.conditionObservations());
            writeInstant(out, machine.startsAt());
            writeInstant(out, machine.recoverySince());
            out.writeInt(machine.recoveryObservations());
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new SerializationException("cannot encode alert state", e);
        }
    }

    private static AlertRecord fromBytes(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            byte format = in.readByte();
            if (format != FORMAT) {
                throw new SerializationException("unknown alert state format " + format);
            }
            String fingerprint = readNullable(in);
            AlertState state = AlertState.valueOf(in.readUTF());
            Instant conditionSince = readInstant(in);
            int conditionObservations = in.readInt();
            Instant startsAt = readInstant(in);
            Instant recoverySince = readInstant(in);
            int recoveryObservations = in.readInt();
            return new AlertRecord(fingerprint, new AlertStateMachine.Snapshot(state, conditionSince,
                    conditionObservations, startsAt, recoverySince, recoveryObservations));
        } catch (IOException | IllegalArgumentException e) {
            throw new SerializationException("corrupt alert state", e);
        }
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
