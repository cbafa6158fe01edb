package io.fleetpulse.sink;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.Evidence;
import io.fleetpulse.events.Severity;
import io.fleetpulse.events.TargetWindow;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/** Test records with every field set, so a test changes only what it is about. */
final class Records {

    private Records() {
    }

    static TargetWindow window(String target, Instant start, long checks) {
        return TargetWindow.newBuilder()
                .setTargetId(target)
                .setWindowStart(start)
                .setWindowEnd(start.plus(Duration.ofMinutes(1)))
                .setChecks(checks)
                .setFailures(1)
                .setErrorRate(1.0 / checks)
                .setLatencyP50Ms(12.5)
                .setLatencyP95Ms(40.0)
                .setLatencyP99Ms(null)
                .setCpuAvg(0.25)
                .setCpuMax(0.5)
                .setMemoryAvg(0.6)
                .setMemoryMax(0.7)
                .setDiskAvg(0.8)
                .setDiskMax(0.9)
                .setSamples(6)
                .build();
    }

    static io.fleetpulse.events.HealthScore health(String target, Instant windowStart, double score) {
        return io.fleetpulse.events.HealthScore.newBuilder()
                .setTargetId(target)
                .setScore(score)
                .setStatus(score >= 80 ? io.fleetpulse.events.HealthStatus.HEALTHY : io.fleetpulse.events.HealthStatus.DEGRADED)
                .setFailingChecks(java.util.List.of("http", "tls \"expiry\""))
                .setReasons(java.util.List.of("error rate 12% > 5%"))
                .setWindowStart(windowStart)
                .setWindowEnd(windowStart.plus(Duration.ofMinutes(1)))
                .build();
    }

    static io.fleetpulse.events.Target target(String target, String group, Instant updatedAt) {
        return io.fleetpulse.events.Target.newBuilder()
                .setTargetId(target)
                .setHealthUrl("http://" + target + ":8080/health")
                .setMetricsUrl(null)
                .setGroup(group)
                .setLabels(Map.of("zone", "eu-1"))
                .setCheckIntervalMs(10_000)
                .setMetricsIntervalMs(null)
                .setTimeoutMs(2_000)
                .setCriticalChecks(java.util.List.of("db"))
                .setAbsenceTimeoutMs(60_000)
                .setUpdatedAt(updatedAt)
                .build();
    }

    static AlertEvent alert(String fingerprint, String target, AlertState state, Instant occurredAt) {
        return AlertEvent.newBuilder()
                .setFingerprint(fingerprint)
                .setRuleId("cpu-high")
                .setTargetId(target)
                .setGroup("web")
                .setLabels(Map.of("zone", "eu-1", "team", "core"))
                .setState(state)
                .setSeverity(Severity.CRITICAL)
                .setSummary("CPU above 90% on " + target + ", \"sustained\"")
                .setEvidence(Evidence.newBuilder()
                        .setSignal("cpu_percent")
                        .setValue(97.5)
                        .setOperator(">")
                        .setThreshold(90.0)
                        .setWindowStart(occurredAt.minus(Duration.ofMinutes(5)))
                        .setWindowEnd(occurredAt)
                        .setSamples(30)
                        .build())
                .setStartsAt(occurredAt.minus(Duration.ofMinutes(1)))
                .setEndsAt(state == AlertState.RESOLVED ? occurredAt : null)
                .setOccurredAt(occurredAt)
                .build();
    }
}
