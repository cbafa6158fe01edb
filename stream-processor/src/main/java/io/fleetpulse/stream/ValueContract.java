package io.fleetpulse.stream;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.runtime.text.Numbers;
import java.util.Map;

/**
 * The values a record may carry. A record that breaks this goes to {@code fleet.dlq} as {@code invalid}, with the
 * field named, before anything else sees it: a NaN latency would count as a check yet vanish from the percentiles,
 * a negative one would pass a {@code <} rule, a CPU of 130% would fire {@code cpu-high} on a broken agent.
 *
 * <p>Absent (null) values stay allowed: an absent gauge is simply not measured.
 */
final class ValueContract {

    private ValueContract() {
    }

    /** What is wrong with the check's values, or null when nothing is. */
    static String violation(CheckResult check) {
        return nonNegative("latencyMs", check.getLatencyMs());
    }

    /** What is wrong with the sample's values (the first field found), or null when nothing is. */
    static String violation(MetricSample m) {
        String problem = firstOf(
                percent("cpuPercent", m.getCpuPercent()),
                percent("memoryPercent", m.getMemoryPercent()),
                percent("diskPercent", m.getDiskPercent()),
                percent("gpuPercent", m.getGpuPercent()),
                nonNegative("taskLatencyMs", m.getTaskLatencyMs()),
                nonNegative("llmCostUsd", m.getLlmCostUsd()),
                nonNegativeCount("diskFreeBytes", m.getDiskFreeBytes()),
                nonNegativeCount("netRxBytes", m.getNetRxBytes()),
                nonNegativeCount("netTxBytes", m.getNetTxBytes()),
                nonNegativeCount("servicesActive", m.getServicesActive()),
                nonNegativeCount("servicesFailed", m.getServicesFailed()),
                nonNegativeCount("servicesTotal", m.getServicesTotal()),
                nonNegativeCount("tasksCompleted", m.getTasksCompleted()),
                nonNegativeCount("tasksFailed", m.getTasksFailed()),
                nonNegativeCount("llmRequests", m.getLlmRequests()),
                nonNegativeCount("users", m.getUsers()));
        if (problem != null) {
            return problem;
        }
        // The open map carries gauges of any sign (a temperature, a balance), but never a non-number.
        for (Map.Entry<String, Double> e : m.getExtra().entrySet()) {
            if (e.getValue() == null || !Double.isFinite(e.getValue())) {
                return "extra[" + e.getKey() + "] is " + (e.getValue() == null ? "null" : Numbers.format(e.getValue()))
                        + ": must be a finite number";
            }
        }
        return null;
    }

    private static String percent(String field, Double value) {
        if (value == null) {
            return null;
        }
        if (!Double.isFinite(value) || value < 0 || value > 100) {
            return field + " is " + Numbers.format(value) + ": must be a percentage from 0 to 100";
        }
        return null;
    }

    private static String nonNegative(String field, Double value) {
        if (value == null) {
            return null;
        }
        if (!Double.isFinite(value)) {
            return field + " is " + Numbers.format(value) + ": must be a finite number >= 0";
        }
        return value < 0 ? field + " is " + Numbers.format(value) + ": must be >= 0" : null;
    }

    private static String nonNegativeCount(String field, Number value) {
        return value == null || value.longValue() >= 0 ? null : field + " is " + value + ": must be >= 0";
    }

    private static String firstOf(String... problems) {
        for (String p : problems) {
            if (p != null) {
                return p;
            }
        }
        return null;
    }
}
