package io.fleetpulse.simulator;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one virtual server's metrics endpoint reports at one instant. The snake_case names of {@link #toJson()}
 * are the ones the collector maps onto {@code MetricSample}; {@code queue_depth}, {@code load_avg_1m} and
 * {@code disk_total_bytes} are extra gauges.
 */
public record MetricReading(double cpuPercent, double memoryPercent, double diskPercent, long diskTotalBytes,
                            long netRxBytes, long netTxBytes, int servicesActive, int servicesFailed, int servicesTotal,
                            long tasksCompleted, long tasksFailed, double taskLatencyMs, double gpuPercent,
                            long llmRequests, double llmCostUsd, int users, double queueDepth, double loadAvg1m) {

    public static final double DISK_WARN_PERCENT = 80;
    public static final double DISK_CRITICAL_PERCENT = 90;
    /** Where a filling disk ends up: nearly full, not quite, as real disks with reserved blocks do. */
    public static final double DISK_FILL_TARGET_PERCENT = 99;
    /** Where a leaking disk ends up: clear of the warning line, so no static threshold ever sees the leak. */
    public static final double DISK_LEAK_TARGET_PERCENT = 75;
    /** How much slower tasks run during a latency shift. */
    public static final double LATENCY_SHIFT_FACTOR = 3;

    public long diskFreeBytes() {
        return Math.round(diskTotalBytes * (100 - diskPercent) / 100);
    }

    /** CPU pinned between 95 and 100 percent; the baseline walk keeps it moving within that band. */
    public MetricReading withCpuSpike() {
        double spiked = 95 + 5 * (cpuPercent / 100);
        return new MetricReading(round2(spiked), memoryPercent, diskPercent, diskTotalBytes, netRxBytes, netTxBytes,
                servicesActive, servicesFailed, servicesTotal, tasksCompleted, tasksFailed, round2(taskLatencyMs * 1.8),
                gpuPercent, llmRequests, llmCostUsd, users, queueDepth, round2(loadAvg1m * 3 + 4));
    }

    /** Disk usage moved linearly from its baseline (progress 0) to {@link #DISK_FILL_TARGET_PERCENT} (progress 1). */
    public MetricReading withDiskFill(double progress) {
        return withDiskFill(progress, DISK_FILL_TARGET_PERCENT);
    }

    /** Disk usage moved linearly from its baseline (progress 0) to {@code targetPercent} (progress 1). */
    public MetricReading withDiskFill(double progress, double targetPercent) {
        double filled = diskPercent + (targetPercent - diskPercent) * Math.max(0, Math.min(1, progress));
        return new MetricReading(cpuPercent, memoryPercent, round2(filled), diskTotalBytes, netRxBytes, netTxBytes,
                servicesActive, servicesFailed, servicesTotal, tasksCompleted, tasksFailed, taskLatencyMs,
                gpuPercent, llmRequests, llmCostUsd, users, queueDepth, loadAvg1m);
    }

    /** Task latency at {@link #LATENCY_SHIFT_FACTOR} times the baseline; the baseline's noise scales with it. */
    public MetricReading withLatencyShift() {
        return new MetricReading(cpuPercent, memoryPercent, diskPercent, diskTotalBytes, netRxBytes, netTxBytes,
                servicesActive, servicesFailed, servicesTotal, tasksCompleted, tasksFailed,
                round2(taskLatencyMs * LATENCY_SHIFT_FACTOR), gpuPercent, llmRequests, llmCostUsd, users, queueDepth,
                loadAvg1m);
    }

    /** OK, WARN above {@value #DISK_WARN_PERCENT} percent used, CRITICAL above {@value #DISK_CRITICAL_PERCENT}. */
    public String diskStatus() {
        return diskPercent > DISK_CRITICAL_PERCENT ? "CRITICAL" : diskPercent > DISK_WARN_PERCENT ? "WARN" : "OK";
    }

    public String diskMessage() {
        return String.format(java.util.Locale.ROOT, "disk %.1f%% used, %.1f GB free", diskPercent, diskFreeBytes() / 1e9);
    }

    /** OK when every service runs, WARN with one failed, CRITICAL with more. */
    public String servicesStatus() {
        return servicesFailed == 0 ? "OK" : servicesFailed == 1 ? "WARN" : "CRITICAL";
    }

    public String servicesMessage() {
        return servicesFailed == 0 ? servicesActive + "/" + servicesTotal + " services active"
                : servicesFailed + " of " + servicesTotal + " services failed";
    }

    public Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("cpu_percent", cpuPercent);
        json.put("memory_percent", memoryPercent);
        json.put("disk_percent", diskPercent);
        json.put("disk_free_bytes", diskFreeBytes());
        json.put("disk_total_bytes", diskTotalBytes);
        json.put("net_rx_bytes", netRxBytes);
        json.put("net_tx_bytes", netTxBytes);
        json.put("services_active", servicesActive);
        json.put("services_failed", servicesFailed);
        json.put("services_total", servicesTotal);
        json.put("tasks_completed", tasksCompleted);
        json.put("tasks_failed", tasksFailed);
        json.put("task_latency_ms", taskLatencyMs);
        json.put("gpu_percent", gpuPercent);
        json.put("llm_requests", llmRequests);
        json.put("llm_cost_usd", llmCostUsd);
        json.put("users", users);
        json.put("queue_depth", queueDepth);
        json.put("load_avg_1m", loadAvg1m);
        return json;
    }

    static double round2(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
