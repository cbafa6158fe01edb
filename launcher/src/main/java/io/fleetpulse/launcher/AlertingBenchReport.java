package io.fleetpulse.launcher;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.fleetpulse.launcher.BenchReceiver.Kind;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one {@code fleetpulse bench alerting} run measured. A delivery is one (receiver, fingerprint, state) that the
 * receiver accepted; every produced transition is expected once at each of the three receivers. Latency is from
 * the event being handed to the producer to the arrival of the request the receiver accepted (for a retried
 * notification: its successful attempt). The warm-up's deliveries are not in any figure but its own p99.
 * {@code lost}: expected deliveries never accepted by the end;
 * {@code duplicates}: expected deliveries accepted more than once (the extra acceptances counted).
 */
record AlertingBenchReport(int alerts, String fault, double ratePerSecond, double produceSeconds, double seconds,
                           double loadAverage, int expected, Map<Kind, ReceiverFigures> receivers,
                           long[] allLatenciesMs, int warmup, long[] warmupLatenciesMs) {

    /** One receiver's share. Latencies are sorted, in milliseconds. */
    record ReceiverFigures(int delivered, int lost, long duplicates, long rejected, long otherRequests,
                           long[] latenciesMs, List<String> lostSample) {
    }

    static AlertingBenchReport of(AlertingBench.Options options, Map<Kind, BenchReceiver> receivers,
                                  Map<String, Long> producedAt, double produceSeconds, double seconds,
                                  double loadAverage, long[] warmupLatenciesMs) {
        Map<Kind, ReceiverFigures> figures = new LinkedHashMap<>();
        List<Long> all = new ArrayList<>();
        for (BenchReceiver receiver : receivers.values()) {
            List<Long> latencies = new ArrayList<>();
            List<String> lost = new ArrayList<>();
            producedAt.forEach((transition, produced) -> {
                Long accepted = receiver.acceptedAt(transition);
                if (accepted == null) {
                    lost.add(transition);
                } else {
                    latencies.add(Math.max(0, (accepted - produced) / 1_000_000));
                }
            });
            long duplicates = receiver.duplicates().entrySet().stream()
                    .filter(e -> producedAt.containsKey(e.getKey())).mapToLong(e -> e.getValue() - 1).sum();
            all.addAll(latencies);
            figures.put(receiver.kind(), new ReceiverFigures(latencies.size(), lost.size(), duplicates,
                    receiver.rejected(), receiver.unexpected(t -> producedAt.containsKey(t)
                            || t.startsWith(AlertingBench.WARMUP_PREFIX)), sorted(latencies),
                    List.copyOf(lost.subList(0, Math.min(10, lost.size())))));
        }
        return new AlertingBenchReport(options.alerts(), options.fault() == null ? "none" : options.fault().toString(),
                options.ratePerSecond(), produceSeconds, seconds, loadAverage, producedAt.size() * receivers.size(),
                figures, sorted(all), options.warmup(), warmupLatenciesMs);
    }

    int delivered() {
        return receivers.values().stream().mapToInt(ReceiverFigures::delivered).sum();
    }

    int lost() {
        return receivers.values().stream().mapToInt(ReceiverFigures::lost).sum();
    }

    long duplicates() {
        return receivers.values().stream().mapToLong(ReceiverFigures::duplicates).sum();
    }

    /** Nearest-rank percentile of sorted values; -1 when there are none (nothing was delivered). */
    static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return -1;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    Map<String, Object> asJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("alerts", alerts);
        json.put("fault", fault);
        json.put("expected_deliveries", expected);
        json.put("delivered", delivered());
        json.put("lost", lost());
        json.put("duplicates", duplicates());
        json.put("delivery_p50_ms", percentile(allLatenciesMs, 50));
        json.put("delivery_p99_ms", percentile(allLatenciesMs, 99));
        json.put("delivery_max_ms", percentile(allLatenciesMs, 100));
        receivers.forEach((kind, r) -> {
            json.put(kind.id + "_delivery_p50_ms", percentile(r.latenciesMs(), 50));
            json.put(kind.id + "_delivery_p99_ms", percentile(r.latenciesMs(), 99));
        });
        Map<String, Object> perReceiver = new LinkedHashMap<>();
        receivers.forEach((kind, r) -> {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("delivered", r.delivered());
            one.put("lost", r.lost());
            one.put("duplicates", r.duplicates());
            one.put("rejected_requests", r.rejected());
            one.put("other_notifications", r.otherRequests());
            one.put("delivery_p50_ms", percentile(r.latenciesMs(), 50));
            one.put("delivery_p99_ms", percentile(r.latenciesMs(), 99));
            one.put("delivery_max_ms", percentile(r.latenciesMs(), 100));
            one.put("lost_sample", r.lostSample());
            perReceiver.put(kind.id, one);
        });
        json.put("receivers", perReceiver);
        json.put("warmup_alerts", warmup);
        json.put("warmup_delivery_p99_ms", percentile(warmupLatenciesMs, 99));
        json.put("rate_per_second", ratePerSecond);
        json.put("produce_seconds", round(produceSeconds));
        json.put("duration_seconds", round(seconds));
        json.put("load_average", round(loadAverage));
        json.put("cpus", Runtime.getRuntime().availableProcessors());
        return json;
    }

    void writeJson(Path file) throws IOException {
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), asJson());
    }

    String describe() {
        StringBuilder text = new StringBuilder(String.format(
                "FleetPulse alerting bench: %d alert events at %.0f/s, fault %s, %.1f s (load average %.2f)%n"
                        + "  deliveries  %d of %d expected, lost %d, duplicates %d%n"
                        + "  latency     p50 %d ms, p99 %d ms, max %d ms (produced -> receiver got the request)%n",
                alerts, ratePerSecond, fault, seconds, loadAverage, delivered(), expected, lost(), duplicates(),
                percentile(allLatenciesMs, 50), percentile(allLatenciesMs, 99), percentile(allLatenciesMs, 100)));
        if (warmup > 0) {
            text.append(String.format("  warm-up     %d alert events before the run, not counted: p99 %d ms%n", warmup,
                    percentile(warmupLatenciesMs, 99)));
        }
        receivers.forEach((kind, r) -> text.append(String.format(
                "  %-10s  delivered %d, lost %d, duplicates %d, answered 500 %d; p50 %d ms, p99 %d ms, max %d ms%s%n",
                kind.id, r.delivered(), r.lost(), r.duplicates(), r.rejected(), percentile(r.latenciesMs(), 50),
                percentile(r.latenciesMs(), 99), percentile(r.latenciesMs(), 100),
                r.lostSample().isEmpty() ? "" : "; lost e.g. " + r.lostSample())));
        return text.toString();
    }

    private static long[] sorted(List<Long> values) {
        long[] array = values.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(array);
        return array;
    }

    private static double round(double value) {
        return Math.round(value * 100) / 100.0;
    }
}
