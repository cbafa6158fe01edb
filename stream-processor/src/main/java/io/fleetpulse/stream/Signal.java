package io.fleetpulse.stream;

import java.util.Arrays;
import java.util.Optional;

/**
 * A per-target series a rule can watch. Point signals come from single checks or metric samples at their
 * observed-at time; window signals come from a closed 1-minute window at its end; {@link #SILENCE_SECONDS} comes from
 * the window engine's per-target clocks, {@link #HEALTH_STATUS} from its health scores.
 */
public enum Signal {

    /** 1 when a check's status is not OK or WARN, else 0. */
    CHECK_FAILED("check_failed"),
    CHECK_LATENCY_MS("check_latency_ms"),
    CPU_PERCENT("cpu_percent"),
    MEMORY_PERCENT("memory_percent"),
    DISK_PERCENT("disk_percent"),
    /** Bytes free on the target's disk; what a {@code predictive} rule forecasts to 0. */
    DISK_FREE_BYTES("disk_free_bytes"),
    GPU_PERCENT("gpu_percent"),
    TASK_LATENCY_MS("task_latency_ms"),
    /** Failures / checks of a closed 1-minute window; only for windows that had checks. */
    ERROR_RATE_1M("error_rate_1m"),
    LATENCY_P95_MS_1M("latency_p95_ms_1m"),
    /** Failures / checks of a closed 1-hour window (merged from its minutes); only for windows that had checks. */
    ERROR_RATE_1H("error_rate_1h"),
    /**
     * Seconds a target has sent nothing, from the window engine: reported once when it reaches the absence timeout
     * ({@code streams.absence.timeout}), and as 0 when the target's next record arrives.
     */
    SILENCE_SECONDS("silence_seconds"),
    /**
     * A target's health status as its rank (HEALTHY 0, DEGRADED 1, CRITICAL 2, UNREACHABLE 3, see
     * {@link HealthScorer#rank}): at the end of each closed 1-minute window, and UNREACHABLE when its silence is
     * reported. What {@code kind: health} rules watch.
     */
    HEALTH_STATUS("health_status");

    private final String ruleName;

    Signal(String ruleName) {
        this.ruleName = ruleName;
    }

    /** How the signal is written in a rules file. */
    public String ruleName() {
        return ruleName;
    }

    public static Optional<Signal> fromRuleName(String name) {
        return Arrays.stream(values()).filter(s -> s.ruleName.equals(name)).findFirst();
    }

    @Override
    public String toString() {
        return ruleName;
    }
}
