package io.fleetpulse.alerting;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.Evidence;
import io.fleetpulse.events.Severity;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Alert events as the stream processor publishes them, for tests. */
final class TestAlerts {

    static final Instant STARTED = Instant.parse("2024-05-01T12:01:00Z");
    static final Instant ENDED = Instant.parse("2024-05-01T12:09:00Z");

    private TestAlerts() {
    }

    static AlertEvent firing(String fingerprint) {
        return firing(fingerprint, "web-1", Severity.CRITICAL);
    }

    static AlertEvent firing(String fingerprint, String target, Severity severity) {
        return AlertEvent.newBuilder()
                .setFingerprint(fingerprint)
                .setRuleId("cpu-high")
                .setTargetId(target)
                .setGroup("frontend")
                .setLabels(Map.of("env", "prod", "dc", "eu-1"))
                .setState(AlertState.FIRING)
                .setSeverity(severity)
                .setSummary("CPU above 90% for 5m")
                .setEvidence(Evidence.newBuilder()
                        .setSignal("cpu_percent").setValue(97.5).setOperator(">").setThreshold(90.0)
                        .setWindowStart(Instant.parse("2024-05-01T12:00:00Z"))
                        .setWindowEnd(Instant.parse("2024-05-01T12:01:00Z"))
                        .setSamples(6)
                        .build())
                .setStartsAt(STARTED)
                .setOccurredAt(STARTED)
                .build();
    }

    /** The first fingerprint in {@code body} made of {@code prefix} and digits, e.g. fp-kill-12. */
    static String fingerprintIn(String body, String prefix) {
        int at = body.indexOf(prefix);
        if (at < 0) {
            throw new AssertionError("no " + prefix + "N in " + body);
        }
        int end = at + prefix.length();
        while (end < body.length() && Character.isDigit(body.charAt(end))) {
            end++;
        }
        return body.substring(at, end);
    }

    /** A group notification of {@code alerts} for {@code receiver}, grouped by group, as decide would write it. */
    static Notification group(Receiver receiver, AlertEvent... alerts) {
        return new Notification("team|root.0{group=\"frontend\"}|1714564860000|it-group|" + receiver.identity(),
                "root.0{group=\"frontend\"}", Map.of("group", "frontend"), List.of(alerts), receiver);
    }

    /** {@code event} alone, as a group of one: what the receivers send without a routing file. */
    static Notification single(Receiver receiver, AlertEvent event) {
        return Notification.of(event, "it-group", receiver);
    }

    static AlertEvent resolved(AlertEvent firing) {
        return AlertEvent.newBuilder(firing)
                .setState(AlertState.RESOLVED)
                .setEndsAt(ENDED)
                .setOccurredAt(ENDED)
                .setEvidence(Evidence.newBuilder(firing.getEvidence()).setValue(41.0).build())
                .build();
    }
}
