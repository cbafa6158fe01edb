package io.fleetpulse.stream;

import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.HealthScore;
import io.fleetpulse.events.HealthStatus;
import io.fleetpulse.events.TargetWindow;
import io.fleetpulse.runtime.text.Numbers;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * A target's health over one closed 1-minute window: values in, a {@link HealthScore} out (no I/O, no clock).
 *
 * <pre>
 * passRate   = (OK + warnWeight * WARN) / checks                 (1 when the window had no checks)
 * errorRate  = failures / checks                                 (0 when the window had no checks)
 * saturation = max over cpu, memory, disk of max(0, (windowMax - saturationLine) / (100 - saturationLine))
 * score      = clamp(0, 100, 100 * passRate - errorRatePoints * errorRate - saturationPoints * saturation)
 * </pre>
 *
 * Status, the first that applies: UNREACHABLE when the window had checks and every one was UNREACHABLE or TIMEOUT
 * (the silence of a target is {@link #silent}); CRITICAL when a check of the target's inventory
 * {@code criticalChecks} failed in the window, or the score is below the critical line; DEGRADED below the healthy
 * line; else HEALTHY. A score exactly at a line is on the better side of it.
 */
final class HealthScorer {

    /**
     * The formula's configuration (the {@code streams.health.*} keys of {@link TopologySettings}).
     *
     * @param warnWeight       what a WARN check counts for in the pass rate (OK 1, a failure 0)
     * @param errorRatePoints  points taken off at an error rate of 1 (all checks failed), in proportion below
     * @param saturationLine   percent of cpu, memory or disk above which the target counts as saturated
     * @param saturationPoints points taken off when the most saturated resource is at 100%, in proportion from the line
     * @param healthyLine      below this score a target is DEGRADED
     * @param criticalLine     below this score a target is CRITICAL
     */
    record Weights(double warnWeight, double errorRatePoints, double saturationLine, double saturationPoints,
                   double healthyLine, double criticalLine) {

        Weights {
            requireWithin(warnWeight, 0, 1, "warn weight");
            requireWithin(errorRatePoints, 0, 100, "error rate points");
            requireWithin(saturationLine, 0, 99, "saturation line");
            requireWithin(saturationPoints, 0, 100, "saturation points");
            requireWithin(healthyLine, 0, 100, "healthy line");
            requireWithin(criticalLine, 0, 100, "critical line");
            if (criticalLine > healthyLine) {
                throw new IllegalArgumentException("the critical line (" + Numbers.format(criticalLine)
                        + ") must not be above the healthy line (" + Numbers.format(healthyLine) + ")");
            }
        }

        private static void requireWithin(double value, double min, double max, String what) {
            if (!(value >= min && value <= max)) {
                throw new IllegalArgumentException(what + " must be from " + Numbers.format(min) + " to "
                        + Numbers.format(max) + ": " + value);
            }
        }
    }

    private final Weights weights;

    HealthScorer(Weights weights) {
        this.weights = weights;
    }

    /** How a status ranks as the {@code health_status} signal: HEALTHY 0, DEGRADED 1, CRITICAL 2, UNREACHABLE 3. */
    static int rank(HealthStatus status) {
        return switch (status) {
            case HEALTHY -> 0;
            case DEGRADED -> 1;
            case CRITICAL -> 2;
            case UNREACHABLE -> 3;
        };
    }

    /** The status of a {@link #rank}; a value between two ranks counts as the lower one. */
    static HealthStatus ofRank(double rank) {
        HealthStatus found = HealthStatus.HEALTHY;
        for (HealthStatus status : HealthStatus.values()) {
            if (rank(status) <= rank && rank(status) >= rank(found)) {
                found = status;
            }
        }
        return found;
    }

    /**
     * The health of one closed window.
     *
     * @param acc            the window's accumulator (status counts, worst status per check)
     * @param window         its final figures (checks, failures, error rate, resource maxima)
     * @param criticalChecks the target's critical check names from the inventory (empty when it is not there)
     */
    HealthScore score(WindowAccumulator acc, TargetWindow window, Collection<String> criticalChecks) {
        List<String> reasons = new ArrayList<>();
        long checks = window.getChecks();
        double passRate = 1;
        double errorRate = 0;
        if (checks > 0) {
            passRate = (acc.okChecks() + weights.warnWeight() * acc.warnChecks()) / checks;
            errorRate = window.getErrorRate();
            if (passRate < 1) {
                reasons.add("pass rate " + Numbers.format(passRate) + " (" + acc.okChecks() + " OK, " + acc.warnChecks()
                        + " WARN of " + checks + " checks)");
            }
        } else {
            reasons.add("no checks in the window");
        }
        double saturation = 0;
        saturation = saturated("cpu", window.getCpuMax(), saturation, reasons);
        saturation = saturated("memory", window.getMemoryMax(), saturation, reasons);
        saturation = saturated("disk", window.getDiskMax(), saturation, reasons);
        double raw = 100 * passRate - weights.errorRatePoints() * errorRate - weights.saturationPoints() * saturation;
        double score = Math.max(0, Math.min(100, raw));

        List<String> failing = new ArrayList<>();
        List<String> criticalFailing = new ArrayList<>();
        for (Map.Entry<String, CheckStatus> check : acc.worstByCheck().entrySet()) {
            if (SignalSample.failed(check.getValue())) {
                failing.add(check.getKey());
                if (criticalChecks.contains(check.getKey())) {
                    criticalFailing.add(check.getKey());
                    reasons.add("critical check " + check.getKey() + " " + check.getValue());
                } else {
                    reasons.add("check " + check.getKey() + " " + check.getValue());
                }
            }
        }
        HealthStatus status;
        if (checks > 0 && acc.unreachableChecks() == checks) {
            status = HealthStatus.UNREACHABLE;
            reasons.add("could not be contacted: all " + checks + " checks UNREACHABLE or TIMEOUT");
        } else if (!criticalFailing.isEmpty()) {
            status = HealthStatus.CRITICAL;
        } else if (score < weights.criticalLine()) {
            status = HealthStatus.CRITICAL;
            reasons.add("score " + Numbers.format(score) + " below the critical line " + Numbers.format(weights.criticalLine()));
        } else if (score < weights.healthyLine()) {
            status = HealthStatus.DEGRADED;
            reasons.add("score " + Numbers.format(score) + " below the healthy line " + Numbers.format(weights.healthyLine()));
        } else {
            status = HealthStatus.HEALTHY;
        }
        return HealthScore.newBuilder()
                .setTargetId(window.getTargetId())
                .setScore(score)
                .setStatus(status)
                .setFailingChecks(failing)
                .setReasons(reasons)
                .setWindowStart(window.getWindowStart())
                .setWindowEnd(window.getWindowEnd())
                .build();
    }

    /** The larger of {@code sofar} and how far {@code max} is above the saturation line (0 at the line, 1 at 100%). */
    private double saturated(String resource, Double max, double sofar, List<String> reasons) {
        if (max == null || max <= weights.saturationLine()) {
            return sofar;
        }
        reasons.add(resource + " at " + Numbers.format(max) + "% (over the saturation line "
                + Numbers.format(weights.saturationLine()) + "%)");
        return Math.max(sofar, (max - weights.saturationLine()) / (100 - weights.saturationLine()));
    }

    /**
     * The health of a target the window engine found silent: UNREACHABLE, score 0, over the time from its last
     * record's event time to the task's event time at which the silence was reported.
     */
    static HealthScore silent(String targetId, double silentSeconds, Instant lastSeen, Instant reportedAt) {
        return HealthScore.newBuilder()
                .setTargetId(targetId)
                .setScore(0)
                .setStatus(HealthStatus.UNREACHABLE)
                .setFailingChecks(List.of())
                .setReasons(List.of("sent nothing for " + Numbers.format(silentSeconds) + " s"))
                .setWindowStart(lastSeen)
                .setWindowEnd(reportedAt)
                .build();
    }
}
