package io.fleetpulse.simulator;

import java.time.Duration;
import java.util.Locale;

/**
 * One virtual server's metrics as node_exporter serves them (Prometheus text format 0.0.4): cpu as ever-growing
 * {@code node_cpu_seconds_total} per cpu and mode, accumulated from the reading's cpu % between scrapes; meminfo,
 * the root filesystem, network byte counters and the load average as node_exporter names them. A collector has to
 * derive the percentages back from these, as it would from a real node_exporter.
 */
final class NodeExporterText {

    private static final int CPUS = 2;
    private static final long MEM_TOTAL_BYTES = 16L * 1024 * 1024 * 1024;

    private long lastElapsedNanos = -1;
    private double busySeconds = 1_000;
    private double idleSeconds = 10_000;

    /** The body for a scrape at {@code elapsed}; advances the cpu counters by the time since the previous scrape. */
    synchronized String render(MetricReading reading, Duration elapsed) {
        long now = elapsed.toNanos();
        if (lastElapsedNanos >= 0 && now > lastElapsedNanos) {
            double seconds = (now - lastElapsedNanos) / 1e9;
            busySeconds += seconds * reading.cpuPercent() / 100;
            idleSeconds += seconds * (1 - reading.cpuPercent() / 100);
        }
        lastElapsedNanos = Math.max(lastElapsedNanos, now);
        StringBuilder text = new StringBuilder(2048);
        text.append("# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.\n")
                .append("# TYPE node_cpu_seconds_total counter\n");
        for (int cpu = 0; cpu < CPUS; cpu++) {
            line(text, "node_cpu_seconds_total{cpu=\"" + cpu + "\",mode=\"idle\"}", idleSeconds);
            line(text, "node_cpu_seconds_total{cpu=\"" + cpu + "\",mode=\"iowait\"}", 0);
            line(text, "node_cpu_seconds_total{cpu=\"" + cpu + "\",mode=\"system\"}", busySeconds * 0.25);
            line(text, "node_cpu_seconds_total{cpu=\"" + cpu + "\",mode=\"user\"}", busySeconds * 0.75);
        }
        text.append("# HELP node_memory_MemTotal_bytes Memory information field MemTotal_bytes.\n")
                .append("# TYPE node_memory_MemTotal_bytes gauge\n");
        line(text, "node_memory_MemTotal_bytes", MEM_TOTAL_BYTES);
        text.append("# TYPE node_memory_MemAvailable_bytes gauge\n");
        line(text, "node_memory_MemAvailable_bytes", Math.round(MEM_TOTAL_BYTES * (1 - reading.memoryPercent() / 100)));
        text.append("# TYPE node_filesystem_avail_bytes gauge\n");
        line(text, "node_filesystem_avail_bytes{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"}", reading.diskFreeBytes());
        text.append("# TYPE node_filesystem_size_bytes gauge\n");
        line(text, "node_filesystem_size_bytes{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"}", reading.diskTotalBytes());
        text.append("# TYPE node_network_receive_bytes_total counter\n");
        line(text, "node_network_receive_bytes_total{device=\"eth0\"}", reading.netRxBytes());
        line(text, "node_network_receive_bytes_total{device=\"lo\"}", 123_456);
        text.append("# TYPE node_network_transmit_bytes_total counter\n");
        line(text, "node_network_transmit_bytes_total{device=\"eth0\"}", reading.netTxBytes());
        line(text, "node_network_transmit_bytes_total{device=\"lo\"}", 123_456);
        text.append("# HELP node_load1 1m load average.\n# TYPE node_load1 gauge\n");
        line(text, "node_load1", reading.loadAvg1m());
        return text.toString();
    }

    private static void line(StringBuilder text, String series, double value) {
        // node_exporter writes Go's %g-like floats; plain decimals and e-notation are both valid.
        text.append(series).append(' ').append(value == Math.rint(value) && Math.abs(value) < 1e15
                ? String.format(Locale.ROOT, "%.0f", value) : String.format(Locale.ROOT, "%.6e", value)).append('\n');
    }
}
