package io.fleetpulse.collector;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.runtime.text.Numbers;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns a metrics endpoint's JSON object into a {@link MetricSample}: the snake_case keys below become its fields,
 * any other numeric key goes to {@code extra}, and non-numeric values (a version string, nested objects) are ignored.
 * A known key with a value that is not a number of the right kind rejects the whole sample, so a broken exporter is
 * noticed rather than half-read. {@code extra} keeps at most {@link BodyLimits#maxExtraMetrics()} entries (the first
 * in the body) and no name longer than {@link BodyLimits#maxNameLength()}, so one exporter cannot blow up a record.
 */
final class MetricsParser {

    /** A metrics body that cannot become a sample; the message says why. */
    static final class MalformedMetricsException extends RuntimeException {
        MalformedMetricsException(String message) {
            super(message);
        }
    }

    private MetricsParser() {
    }

    static MetricSample parse(String targetId, String collectorId, Instant observedAt, String body, BodyLimits limits) {
        JsonNode root;
        try {
            root = body == null || body.isBlank() ? null : BodyLimits.JSON.readTree(body);
        } catch (JacksonException e) {
            throw new MalformedMetricsException("the body is not JSON: " + HealthChecks.excerpt(body));
        }
        if (root == null || !root.isObject()) {
            throw new MalformedMetricsException("the body is not a JSON object");
        }
        MetricSample.Builder sample = MetricSample.newBuilder()
                .setTargetId(targetId)
                .setObservedAt(observedAt)
                .setCollectorId(collectorId);
        Map<String, Double> extra = new LinkedHashMap<>();
        root.properties().forEach(field -> {
            String key = field.getKey();
            JsonNode value = field.getValue();
            switch (key) {
                case "cpu_percent" -> sample.setCpuPercent(decimal(key, value));
                case "memory_percent" -> sample.setMemoryPercent(decimal(key, value));
                case "disk_percent" -> sample.setDiskPercent(decimal(key, value));
                case "disk_free_bytes" -> sample.setDiskFreeBytes(whole(key, value));
                case "net_rx_bytes" -> sample.setNetRxBytes(whole(key, value));
                case "net_tx_bytes" -> sample.setNetTxBytes(whole(key, value));
                case "services_active" -> sample.setServicesActive(count(key, value));
                case "services_failed" -> sample.setServicesFailed(count(key, value));
                case "services_total" -> sample.setServicesTotal(count(key, value));
                case "tasks_completed" -> sample.setTasksCompleted(whole(key, value));
                case "tasks_failed" -> sample.setTasksFailed(whole(key, value));
                case "task_latency_ms" -> sample.setTaskLatencyMs(decimal(key, value));
                case "gpu_percent" -> sample.setGpuPercent(decimal(key, value));
                case "llm_requests" -> sample.setLlmRequests(whole(key, value));
                case "llm_cost_usd" -> sample.setLlmCostUsd(decimal(key, value));
                case "users" -> sample.setUsers(count(key, value));
                default -> {
                    if (value.isNumber() && Double.isFinite(value.asDouble()) && extra.size() < limits.maxExtraMetrics()
                            && key.length() <= limits.maxNameLength()) {
                        extra.put(key, value.asDouble());
                    }
                }
            }
        });
        return sample.setExtra(extra).build();
    }

    private static Double decimal(String key, JsonNode value) {
        if (value.isNull()) {
            return null; // an exporter saying "no value" explicitly
        }
        if (!value.isNumber() || !Double.isFinite(value.asDouble())) {
            throw new MalformedMetricsException("'" + key + "' is not a number: " + HealthChecks.excerpt(value.toString()));
        }
        return value.asDouble();
    }

    private static Long whole(String key, JsonNode value) {
        Double d = decimal(key, value);
        if (d == null) {
            return null;
        }
        if (Math.abs(d) >= 9.0e18) {
            throw new MalformedMetricsException("'" + key + "' is out of range: " + Numbers.format(d));
        }
        return value.isIntegralNumber() ? value.asLong() : Math.round(d);
    }

    private static Integer count(String key, JsonNode value) {
        Long l = whole(key, value);
        if (l == null) {
            return null;
        }
        if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
            throw new MalformedMetricsException("'" + key + "' is out of range: " + l);
        }
        return l.intValue();
    }
}
