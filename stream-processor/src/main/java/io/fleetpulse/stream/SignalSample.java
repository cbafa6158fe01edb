package io.fleetpulse.stream;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.HealthScore;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.events.TargetWindow;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * One value of one {@link Signal} of one target at one event time: what the rules are fed.
 *
 * @param windowStart  set when the value comes from a closed window
 * @param observations how many raw observations stand behind the value (1, or the window's checks)
 * @param check        the check name, for the per-check signals of a check result; null otherwise
 */
public record SignalSample(Signal signal, double value, Instant at, Instant windowStart, Instant windowEnd,
                           int observations, String check) {

    /** A sample that does not come from one check. */
    public SignalSample(Signal signal, double value, Instant at, Instant windowStart, Instant windowEnd,
                        int observations) {
        this(signal, value, at, windowStart, windowEnd, observations, null);
    }

    /** The same sample with another value: what a {@link Detection} derived from this one. */
    SignalSample withValue(double newValue) {
        return new SignalSample(signal, newValue, at, windowStart, windowEnd, observations, check);
    }

    static SignalSample point(Signal signal, double value, Instant at) {
        return new SignalSample(signal, value, at, null, null, 1);
    }

    private static SignalSample ofCheck(Signal signal, double value, Instant at, String check) {
        return new SignalSample(signal, value, at, null, null, 1, check);
    }

    /** A check failed when its status is anything but OK or WARN. */
    public static boolean failed(CheckStatus status) {
        return status != CheckStatus.OK && status != CheckStatus.WARN;
    }

    public static List<SignalSample> fromCheck(CheckResult check) {
        Instant at = check.getObservedAt();
        String name = check.getCheckName();
        List<SignalSample> out = new ArrayList<>(2);
        out.add(ofCheck(Signal.CHECK_FAILED, failed(check.getStatus()) ? 1 : 0, at, name));
        if (check.getLatencyMs() != null) {
            out.add(ofCheck(Signal.CHECK_LATENCY_MS, check.getLatencyMs(), at, name));
        }
        return out;
    }

    public static List<SignalSample> fromMetrics(MetricSample m) {
        Instant at = m.getObservedAt();
        List<SignalSample> out = new ArrayList<>(6);
        addIfPresent(out, Signal.CPU_PERCENT, m.getCpuPercent(), at);
        addIfPresent(out, Signal.MEMORY_PERCENT, m.getMemoryPercent(), at);
        addIfPresent(out, Signal.DISK_PERCENT, m.getDiskPercent(), at);
        if (m.getDiskFreeBytes() != null) {
            out.add(point(Signal.DISK_FREE_BYTES, m.getDiskFreeBytes(), at));
        }
        addIfPresent(out, Signal.GPU_PERCENT, m.getGpuPercent(), at);
        addIfPresent(out, Signal.TASK_LATENCY_MS, m.getTaskLatencyMs(), at);
        return out;
    }

    /**
     * Window signals exist only for windows that had checks: a window of metrics alone says nothing about errors. A
     * 1-hour window gives {@link Signal#ERROR_RATE_1H}, a 1-minute one its error rate and p95 latency.
     */
    public static List<SignalSample> fromWindow(TargetWindow w) {
        List<SignalSample> out = new ArrayList<>(2);
        if (w.getChecks() > 0) {
            int checks = (int) Math.min(Integer.MAX_VALUE, w.getChecks());
            boolean hour = Duration.between(w.getWindowStart(), w.getWindowEnd()).equals(HealthTopology.HOUR_WINDOW_SIZE);
            out.add(new SignalSample(hour ? Signal.ERROR_RATE_1H : Signal.ERROR_RATE_1M, w.getErrorRate(),
                    w.getWindowEnd(), w.getWindowStart(), w.getWindowEnd(), checks));
            if (!hour && w.getLatencyP95Ms() != null) {
                out.add(new SignalSample(Signal.LATENCY_P95_MS_1M, w.getLatencyP95Ms(), w.getWindowEnd(),
                        w.getWindowStart(), w.getWindowEnd(), checks));
            }
        }
        return out;
    }

    /** The {@link Signal#HEALTH_STATUS} of one health score, at its window's end. */
    public static SignalSample fromHealth(HealthScore health) {
        return new SignalSample(Signal.HEALTH_STATUS, HealthScorer.rank(health.getStatus()), health.getWindowEnd(),
                health.getWindowStart(), health.getWindowEnd(), 1);
    }

    private static void addIfPresent(List<SignalSample> out, Signal signal, Double value, Instant at) {
        if (value != null && Double.isFinite(value)) {
            out.add(point(signal, value, at));
        }
    }
}
