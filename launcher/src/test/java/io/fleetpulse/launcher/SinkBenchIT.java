package io.fleetpulse.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A small {@code fleetpulse bench sink} run, end to end on its own broker and database. */
class SinkBenchIT {

    @Test
    void shouldMeasureTheRawCopyAndTheSinkAndWriteTheDocumentedKeys(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("bench.json");

        CliRun run = CliRun.execute("bench", "sink", "--rows", "20000", "--targets", "100", "--json", json.toString());

        assertEquals(0, run.exit(), run.err());
        JsonNode result = new ObjectMapper().readTree(json.toFile());
        assertEquals(20000, result.get("rows").asLong());
        for (String key : List.of("copy_rows_per_sec", "sink_rows_per_sec", "ratio", "copy_seconds", "sink_seconds",
                "load_average_before", "load_average_after")) {
            assertTrue(result.hasNonNull(key) && result.get(key).asDouble() > 0, key + " in " + result);
        }
        assertEquals(result.get("sink_rows_per_sec").asDouble() / result.get("copy_rows_per_sec").asDouble(),
                result.get("ratio").asDouble(), 0.001);
    }

    @Test
    void shouldRefuseMoreWindowsPerTargetThanTheRetentionHolds() {
        CliRun run = CliRun.execute("bench", "sink", "--rows", "1000000", "--targets", "10");
        assertEquals(2, run.exit());
        assertTrue(run.err().contains("raise --targets"), run.err());
    }
}
