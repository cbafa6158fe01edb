package io.fleetpulse.collector;

import io.fleetpulse.events.MetricSample;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A node_exporter scrape (Prometheus text) as a {@link MetricSample}. Gauges give memory % ({@code 1 -
 * MemAvailable / MemTotal}), disk % and free bytes (the filesystem mounted at {@code /}, else the largest one);
 * counters give cpu % (busy seconds over all seconds of every cpu since the previous scrape, busy being all modes
 * but idle and iowait) and network rates ({@code extra.net_rx_bytes_per_sec}, {@code net_tx_bytes_per_sec}, every
 * device but {@code lo}), while {@code netRxBytes}/{@code netTxBytes} carry the summed counters. A counter that went
 * down was reset (a reboot, a device re-created): its increase is its new value, as Prometheus' {@code rate} reads
 * it. The first scrape of a target has no previous one, so no cpu % or rates yet. Every other series goes to
 * {@code extra} as {@code name} or {@code name{label="value",...}}, in order, up to the extra-metrics cap, except
 * the exporter's own {@code go_*}, {@code process_*} and {@code promhttp_*} series.
 *
 * <p>Keeps each target's previous counters; one instance per collector, used only on the poll event loop.
 */
final class NodeExporterMetrics {

    private static final Set<String> IDLE_MODES = Set.of("idle", "iowait");
    /** Prefixes of the series describing the exporter process itself; never worth a slot of {@code extra}. */
    private static final List<String> EXPORTER_OWN = List.of("go_", "process_", "promhttp_");

    /** A target's counters at its previous scrape, by series ({@code cpu/0/idle}, {@code rx/eth0}). */
    private record Previous(Instant at, Map<String, Double> counters) {
    }

    private final Map<String, Previous> previous = new HashMap<>();

    /** Forgets a target, so its next scrape starts afresh. */
    void forget(String targetId) {
        previous.remove(targetId);
    }

    MetricSample parse(String targetId, String collectorId, Instant observedAt, String body, BodyLimits limits) {
        List<PrometheusText.Series> series = PrometheusText.parse(body);
        if (series.isEmpty()) {
            throw new MetricsParser.MalformedMetricsException("Prometheus text with no samples");
        }
        MetricSample.Builder sample = MetricSample.newBuilder().setTargetId(targetId).setObservedAt(observedAt)
                .setCollectorId(collectorId);
        Map<String, Double> counters = new HashMap<>();
        Map<String, Double> gauges = new HashMap<>();
        Map<String, double[]> filesystems = new LinkedHashMap<>(); // mountpoint -> {avail, size}
        Map<String, Double> extra = new LinkedHashMap<>();
        for (PrometheusText.Series s : series) {
            Map<String, String> labels = s.labels();
            switch (s.name()) {
                case "node_cpu_seconds_total" -> counters.put("cpu/" + labels.get("cpu") + "/" + labels.get("mode"), s.value());
                case "node_network_receive_bytes_total" -> device(counters, "rx/", labels, s.value());
                case "node_network_transmit_bytes_total" -> device(counters, "tx/", labels, s.value());
                case "node_memory_MemAvailable_bytes", "node_memory_MemTotal_bytes" -> gauges.put(s.name(), s.value());
                case "node_filesystem_avail_bytes" -> filesystems.computeIfAbsent(mount(labels), m -> new double[]{-1, -1})[0] = s.value();
                case "node_filesystem_size_bytes" -> filesystems.computeIfAbsent(mount(labels), m -> new double[]{-1, -1})[1] = s.value();
                default -> {
                    if (EXPORTER_OWN.stream().anyMatch(s.name()::startsWith)) {
                        continue; // the exporter process's own runtime, not the node's
                    }
                    String key = labels.isEmpty() ? s.name() : s.name() + labels.entrySet().stream()
                            .map(e -> e.getKey() + "=\"" + e.getValue() + "\"").collect(Collectors.joining(",", "{", "}"));
                    // Two slots stay free for the network rates.
                    if (Double.isFinite(s.value()) && extra.size() < limits.maxExtraMetrics() - 2
                            && key.length() <= limits.maxNameLength()) {
                        extra.putIfAbsent(key, s.value());
                    }
                }
            }
        }
        Double total = gauges.get("node_memory_MemTotal_bytes");
        Double available = gauges.get("node_memory_MemAvailable_bytes");
        if (total != null && available != null && total > 0) {
            sample.setMemoryPercent(percent(1 - available / total));
        }
        double[] disk = rootFilesystem(filesystems);
        if (disk != null) {
            sample.setDiskFreeBytes((long) disk[0]);
            sample.setDiskPercent(percent(1 - disk[0] / disk[1]));
        }
        long rx = Math.round(sum(counters, "rx/"));
        long tx = Math.round(sum(counters, "tx/"));
        if (counters.keySet().stream().anyMatch(k -> k.startsWith("rx/"))) {
            sample.setNetRxBytes(rx);
            sample.setNetTxBytes(tx);
        }

        Previous before = previous.put(targetId, new Previous(observedAt, Map.copyOf(counters)));
        if (before != null && observedAt.isAfter(before.at())) {
            double seconds = Duration.between(before.at(), observedAt).toNanos() / 1e9;
            double busy = 0;
            double all = 0;
            for (Map.Entry<String, Double> e : counters.entrySet()) {
                if (e.getKey().startsWith("cpu/")) {
                    double increase = increase(before.counters().get(e.getKey()), e.getValue());
                    all += increase;
                    if (!IDLE_MODES.contains(e.getKey().substring(e.getKey().lastIndexOf('/') + 1))) {
                        busy += increase;
                    }
                }
            }
            if (all > 0) {
                sample.setCpuPercent(percent(busy / all));
            }
            if (limits.maxExtraMetrics() >= 2) {
                extra.put("net_rx_bytes_per_sec", rate(before.counters(), counters, "rx/", seconds));
                extra.put("net_tx_bytes_per_sec", rate(before.counters(), counters, "tx/", seconds));
            }
        }
        return sample.setExtra(extra).build();
    }

    private static void device(Map<String, Double> counters, String prefix, Map<String, String> labels, double value) {
        String device = labels.getOrDefault("device", "");
        if (!device.equals("lo")) {
            counters.put(prefix + device, value);
        }
    }

    private static String mount(Map<String, String> labels) {
        return labels.getOrDefault("mountpoint", "");
    }

    /** The filesystem at {@code /}, else the largest; null when none has both numbers. */
    private static double[] rootFilesystem(Map<String, double[]> filesystems) {
        double[] root = filesystems.get("/");
        if (root != null && root[0] >= 0 && root[1] > 0) {
            return root;
        }
        return filesystems.values().stream().filter(f -> f[0] >= 0 && f[1] > 0)
                .max((a, b) -> Double.compare(a[1], b[1])).orElse(null);
    }

    /** How much a counter grew; a counter that went down was reset and grew by its new value. */
    private static double increase(Double before, double now) {
        if (before == null) {
            return 0; // a series new since the last scrape: no baseline yet
        }
        return now >= before ? now - before : now;
    }

    private static double rate(Map<String, Double> before, Map<String, Double> now, String prefix, double seconds) {
        double grown = 0;
        for (Map.Entry<String, Double> e : now.entrySet()) {
            if (e.getKey().startsWith(prefix)) {
                grown += increase(before.get(e.getKey()), e.getValue());
            }
        }
        return grown / seconds;
    }

    private static double sum(Map<String, Double> counters, String prefix) {
        return counters.entrySet().stream().filter(e -> e.getKey().startsWith(prefix)).mapToDouble(Map.Entry::getValue).sum();
    }

    private static double percent(double fraction) {
        return Math.max(0, Math.min(100, fraction * 100));
    }
}
