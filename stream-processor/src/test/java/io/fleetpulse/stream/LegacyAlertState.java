package io.fleetpulse.stream;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;

/** Alert state as the first release wrote it (format 1, keyed {@code ruleId|targetId}), to test the upgrade. */
final class LegacyAlertState {

    private LegacyAlertState() {
    }

    /** Byte for byte what format 1's serializer wrote: written here independently of today's code. */
    static byte[] format1(String fingerprint, AlertStateMachine.Snapshot machine) {
        try (ByteArrayOutputStream bytes = new ByteArrayOutputStream();
             DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(1);
            out.writeBoolean(fingerprint != null);
            if (fingerprint != null) {
                out.writeUTF(fingerprint);
            }
            out.writeUTF(machine.state().name());
            instant(out, machine.conditionSince());
            out.writeInt(machine.conditionObservations());
            instant(out, machine.startsAt());
            instant(out, machine.recoverySince());
            out.writeInt(machine.recoveryObservations());
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void instant(DataOutputStream out, Instant t) throws IOException {
        out.writeBoolean(t != null);
        if (t != null) {
            out.writeLong(t.toEpochMilli());
        }
    }
}
