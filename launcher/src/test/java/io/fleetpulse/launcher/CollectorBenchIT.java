package io.fleetpulse.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code fleetpulse bench collector} on a small fleet with a hostile share, through the in-process broker. */
class CollectorBenchIT {

    @Test
    void shouldMeasureASmallFleetAndWriteTheDocumentedFigures(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("bench.json");

        int exit = FleetPulseCli.commandLine().execute("bench", "collector", "--targets", "40", "--interval", "1s",
                "--duration", "3s", "--hostile-percent", "10", "--json", json.toString(), "--data-dir", dir.toString());

        assertEquals(0, exit);
        JsonNode figures = new ObjectMapper().readTree(json.toFile());
        for (String field : new String[] {"targets", "polls_per_sec", "lag_p50_ms", "lag_p99_ms", "errors", "cpu_cores_used"}) {
            assertTrue(figures.has(field), "missing " + field + " in " + figures);
        }
        assertEquals(40, figures.get("targets").asInt());
        assertEquals(4, figures.get("hostile_targets").asInt());
        assertTrue(figures.get("polls_per_sec").asDouble() > 0, figures.toString());
        assertTrue(figures.get("errors").asDouble() > 0, "the hostile targets time out or overflow: " + figures);
    }

    @Test
    void shouldRefuseAPercentageOverAHundred() {
        CommandLine cli = FleetPulseCli.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));

        int exit = cli.execute("bench", "collector", "--hostile-percent", "150");

        assertEquals(2, exit);
        assertTrue(err.toString().contains("Invalid value for option '--hostile-percent': 150 is not a percentage"), err.toString());
    }
}
