package io.fleetpulse.collector;

import io.fleetpulse.events.CheckStatus;
import java.time.Instant;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the health polls did, per target and in total, as a worker's status page shows it: checks performed,
 * successful (the {@code http} check OK) and failed, the success rate, when the last ran and how long it took, and
 * how many targets are in each status now. Written on the poll event loop, read by {@code /status} and the gauges:
 * synchronized, as one poll's update is a handful of field writes.
 */
final class PollStats {

    /** One target's, or the total's, figures. */
    private static final class Figures {
        long performed;
        long successful;
        Instant lastRun;
        long lastDurationMs;
        CheckStatus lastStatus;

        void record(CheckStatus status, Instant at, long durationMs) {
            performed++;
            if (status == CheckStatus.OK) {
                successful++;
            }
            lastRun = at;
            lastDurationMs = durationMs;
            lastStatus = status;
        }

        Map<String, Object> toMap() {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("performed", performed);
            out.put("successful", successful);
            out.put("failed", performed - successful);
            out.put("successRate", performed == 0 ? null : (double) successful / performed);
            out.put("lastRun", lastRun == null ? null : lastRun.toString());
            out.put("lastDurationMs", lastRun == null ? null : lastDurationMs);
            return out;
        }
    }

    private final Map<String, Figures> byTarget = new TreeMap<>();
    private final Figures total = new Figures();

    /**
     * One finished health poll of {@code targetId}: its {@code http} check's status, started at {@code at}.
     *
     * @return the status of the target's previous health poll, or null for its first
     */
    synchronized CheckStatus record(String targetId, CheckStatus status, Instant at, long durationMs) {
        Figures figures = byTarget.computeIfAbsent(targetId, id -> new Figures());
        CheckStatus previous = figures.lastStatus;
        figures.record(status, at, durationMs);
        total.record(status, at, durationMs);
        return previous;
    }

    /** A target no longer polled leaves the per-target figures and the count by status; the total keeps its polls. */
    synchronized void forget(String targetId) {
        byTarget.remove(targetId);
    }

    /** Targets by the status of their last health poll. */
    synchronized Map<CheckStatus, Integer> targetsByStatus() {
        Map<CheckStatus, Integer> counts = new EnumMap<>(CheckStatus.class);
        byTarget.values().forEach(f -> counts.merge(f.lastStatus, 1, Integer::sum));
        return counts;
    }

    /** The share of health polls whose {@code http} check was OK, or NaN before the first. */
    synchronized double successRate() {
        return total.performed == 0 ? Double.NaN : (double) total.successful / total.performed;
    }

    /** Seconds since the epoch of the last health poll's start, or NaN before the first. */
    synchronized double lastRunEpochSeconds() {
        return total.lastRun == null ? Double.NaN : total.lastRun.toEpochMilli() / 1000.0;
    }

    /** The totals with the targets by status, and every target's own figures with its status, for {@code /status}. */
    synchronized Map<String, Object> toStatus() {
        Map<String, Object> out = total.toMap();
        Map<String, Integer> byStatus = new LinkedHashMap<>();
        targetsByStatus().forEach((s, n) -> byStatus.put(s.name(), n));
        out.put("targetsByStatus", byStatus);
        Map<String, Object> targets = new LinkedHashMap<>();
        byTarget.forEach((id, f) -> {
            Map<String, Object> one = f.toMap();
            one.put("status", f.lastStatus.name());
            targets.put(id, one);
        });
        out.put("targets", targets);
        return out;
    }
}
