package io.fleetpulse.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A small {@code fleetpulse bench processor} run, end to end on its own in-process broker. */
class BenchProcessorIT {

    @Test
    void shouldMeasureBothRatesAndEveryInjectedAlertAndWriteTheDocumentedKeys(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("bench.json");

        // One stream thread: with two, each commits its own tasks, so in a run this small one thread's commit can pass
        // the warm-up after the other has already processed everything, and the measured interval holds no processing
        // (CPU per event 0; CI saw it once).
        CliRun run = CliRun.execute("bench", "processor", "--events", "4000", "--warmup-events", "2000", "--targets", "200",
                "--alert-rounds", "2", "--alert-targets", "3", "--threads", "1", "--set", "streams.commit.interval=500ms",
                "--json", json.toString());

        assertEquals(0, run.exit(), run.err());
        JsonNode result = new ObjectMapper().readTree(json.toFile());
        assertEquals(4000, result.get("events").asLong());
        assertEquals(2000, result.get("warmup_events").asLong());
        assertEquals("500ms", result.path("processor_settings").path("streams.commit.interval").asText(), result.toString());
        for (String key : List.of("raw_consume_events_per_sec", "raw_decode_events_per_sec", "processor_events_per_sec",
                "ratio", "alert_latency_p99_ms", "processor_stream_threads_cpu_ns_per_event", "processor_stream_threads_busy",
                "process_cpu_cores_used")) {
            assertTrue(result.hasNonNull(key) && result.get(key).asDouble() > 0, key + " in " + result);
        }
        assertEquals(result.get("processor_events_per_sec").asDouble() / result.get("raw_consume_events_per_sec").asDouble(),
                result.get("ratio").asDouble(), 0.001);
        // 6,000 records may all be in the processor's first commit; then it is measured from Streams RUNNING, and says so.
        assertEquals(result.has("processor_warmup_events_per_sec") ? "first commit past the warm-up" : "Streams RUNNING",
                result.path("processor_measured_from").asText(), result.toString());
        assertEquals(6, result.get("alert_samples").asInt(), "one FIRING per injected target: " + result);
        assertEquals(0, result.get("alerts_missing").asInt());
        assertTrue(result.get("alert_latency_p99_ms").asDouble() >= result.get("alert_latency_p50_ms").asDouble());
    }
}
