package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.simulator.MetricReading;
import java.time.Instant;
import java.util.Map;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

class MetricsParserTest {

    private static final Instant AT = Instant.parse("2025-03-01T12:00:00Z");

    private static MetricSample parse(String body) {
        return MetricsParser.parse("srv-001", "c1", AT, body, BodyLimits.DEFAULTS);
    }

    @Test
    void shouldMapKnownKeysOntoFieldsAndOtherNumbersOntoExtra() {
        MetricSample sample = parse("""
                {"cpu_percent": 42.5, "memory_percent": 61, "disk_percent": 70.25, "disk_free_bytes": 150000000000,
                 "net_rx_bytes": 123456789012, "net_tx_bytes": 5, "services_active": 11, "services_failed": 1,
                 "services_total": 12, "tasks_completed": 1000, "tasks_failed": 3, "task_latency_ms": 88.8,
                 "gpu_percent": 0, "llm_requests": 77, "llm_cost_usd": 0.153, "users": 240,
                 "queue_depth": 7.5, "load_avg_1m": 1.25, "server": "srv-001", "build": {"version": "1.2"}}""");

        assertEquals("srv-001", sample.getTargetId());
        assertEquals(AT, sample.getObservedAt());
        assertEquals("c1", sample.getCollectorId());
        assertEquals(42.5, sample.getCpuPercent());
        assertEquals(61.0, sample.getMemoryPercent());
        assertEquals(70.25, sample.getDiskPercent());
        assertEquals(150_000_000_000L, sample.getDiskFreeBytes());
        assertEquals(123_456_789_012L, sample.getNetRxBytes());
        assertEquals(5L, sample.getNetTxBytes());
        assertEquals(11, sample.getServicesActive());
        assertEquals(1, sample.getServicesFailed());
        assertEquals(12, sample.getServicesTotal());
        assertEquals(1000L, sample.getTasksCompleted());
        assertEquals(3L, sample.getTasksFailed());
        assertEquals(88.8, sample.getTaskLatencyMs());
        assertEquals(0.0, sample.getGpuPercent());
        assertEquals(77L, sample.getLlmRequests());
        assertEquals(0.153, sample.getLlmCostUsd());
        assertEquals(240, sample.getUsers());
        assertEquals(Map.of("queue_depth", 7.5, "load_avg_1m", 1.25), sample.getExtra(), "strings and objects are ignored");
    }

    @Test
    void shouldKeepAtMostTheCappedNumberOfExtraMetricsAndNoHugeNames() {
        StringBuilder body = new StringBuilder("{\"cpu_percent\": 1, \"" + "x".repeat(50) + "\": 1");
        for (int i = 0; i < 10_000; i++) {
            body.append(", \"m").append(i).append("\": ").append(i);
        }
        body.append("}");

        MetricSample sample = MetricsParser.parse("srv-001", "c1", AT, body.toString(), new BodyLimits(1 << 20, 10, 20, 3));

        assertEquals(Map.of("m0", 0.0, "m1", 1.0, "m2", 2.0), sample.getExtra(), "the first three, the 50-char name dropped");
        assertEquals(1.0, sample.getCpuPercent(), "the named fields are never capped");
    }

    @Test
    void shouldRejectNumbersThatAreNotNumbers() {
        assertThrows(MetricsParser.MalformedMetricsException.class, () -> parse("{\"cpu_percent\": \"high\"}"));
        assertThrows(MetricsParser.MalformedMetricsException.class, () -> parse("{\"cpu_percent\": 1e999}"));
        assertThrows(MetricsParser.MalformedMetricsException.class, () -> parse("{\"cpu_percent\": NaN}"));
        assertThrows(MetricsParser.MalformedMetricsException.class, () -> parse("{\"disk_free_bytes\": 1" + "0".repeat(500) + "}"));
    }

    @Test
    void shouldLeaveAbsentAndNullGaugesNull() {
        MetricSample sample = parse("{\"cpu_percent\": 3, \"gpu_percent\": null}");

        assertEquals(3.0, sample.getCpuPercent());
        assertNull(sample.getGpuPercent());
        assertNull(sample.getDiskFreeBytes());
        assertTrue(sample.getExtra().isEmpty());
    }

    @Test
    void shouldRoundFractionalCounts() {
        assertEquals(12, parse("{\"users\": 11.6}").getUsers());
        assertEquals(3L, parse("{\"tasks_failed\": 3.0}").getTasksFailed());
    }

    @Test
    void shouldRejectBodiesThatAreNotAJsonObject() {
        assertThrows(MetricsParser.MalformedMetricsException.class, () -> parse("cpu=5"));
        assertThrows(MetricsParser.MalformedMetricsException.class, () -> parse("[1,2,3]"));
        assertThrows(MetricsParser.MalformedMetricsException.class, () -> parse(""));
    }

    @Test
    void shouldRejectAKnownKeyOfTheWrongKind() {
        var e = assertThrows(MetricsParser.MalformedMetricsException.class, () -> parse("{\"cpu_percent\": \"high\"}"));
        assertEquals("'cpu_percent' is not a number: \"high\"", e.getMessage());
        assertThrows(MetricsParser.MalformedMetricsException.class, () -> parse("{\"users\": 1e12}"));
        assertThrows(MetricsParser.MalformedMetricsException.class, () -> parse("{\"net_rx_bytes\": 1e30}"));
    }

    @Test
    void shouldFillEveryFieldFromWhatTheSimulatorServes() throws Exception {
        MetricReading reading = new MetricReading(10, 20, 30, 1000, 1, 2, 3, 0, 3, 4, 0, 5, 6, 7,
                0.5, 8, 9, 1.5);
        MetricSample sample = parse(new ObjectMapper().writeValueAsString(reading.toJson()));

        for (Schema.Field field : MetricSample.getClassSchema().getFields()) {
            assertNotNull(sample.get(field.pos()), "the simulator does not feed " + field.name());
        }
        assertEquals(700L, sample.getDiskFreeBytes());
        assertTrue(sample.getExtra().containsKey("queue_depth"));
    }
}
