package io.fleetpulse.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class FleetPulseCliTest {

    @Test
    void shouldStopAServiceWithAMessageNamingTheBadKey(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("sink.properties");
        Files.writeString(config, "sink.jdbc.url=jdbc:postgresql://127.0.0.1:1/fleetpulse\nops.port=99999\n");
        CommandLine cli = FleetPulseCli.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));

        int exit = cli.execute("sink", "--config", config.toString());

        assertEquals(2, exit);
        assertTrue(err.toString().contains("'ops.port'"), err.toString());
        assertTrue(err.toString().contains("99999"), err.toString());
    }

    @Test
    void shouldOfferOneSubcommandPerServiceAndTheTools() {
        var subcommands = FleetPulseCli.commandLine().getSubcommands().keySet();
        for (String name : new String[] {"collector", "stream-processor", "sink", "alerting", "simulate", "demo", "topics"}) {
            assertTrue(subcommands.contains(name), () -> "missing subcommand " + name + " in " + subcommands);
        }
    }

    @Test
    void shouldWriteTheSummaryWithTheDocumentedFields(@TempDir Path dir) throws Exception {
        DemoSummary summary = new DemoSummary(50, 121.5, 1000, 500, 40, 3, 2, 5, 5,
                Map.of("target_window_1m", 40L, "alert_event", 5L), 0, Map.of(), 300);
        Path file = dir.resolve("s.json");

        summary.writeJson(file);

        JsonNode json = new ObjectMapper().readTree(file.toFile());
        assertEquals(1000, json.at("/events/checks").asLong());
        assertEquals(500, json.at("/events/metrics").asLong());
        assertEquals(40, json.at("/windows").asLong());
        assertEquals(3, json.at("/alerts/fired").asLong());
        assertEquals(2, json.at("/alerts/resolved").asLong());
        assertEquals(5, json.at("/notifications/slack").asLong());
        assertEquals(5, json.at("/notifications/pagerduty").asLong());
        assertEquals(40, json.at("/postgres_rows/target_window_1m").asLong());
        assertEquals(0, json.at("/dlq").asLong());
    }
}
