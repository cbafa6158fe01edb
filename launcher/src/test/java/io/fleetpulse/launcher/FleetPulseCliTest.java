package io.fleetpulse.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
        for (String name : new String[] {"collector", "stream-processor", "sink", "alerting", "simulate", "demo", "topics",
                "replay", "notifications", "targets", "bench", "config-reference"}) {
            assertTrue(subcommands.contains(name), () -> "missing subcommand " + name + " in " + subcommands);
        }
    }

    @Test
    void shouldRefuseAReplayWhoseRangeIsEmptyBeforeTouchingKafka() {
        CliRun run = CliRun.execute("replay", "--from", "2024-05-01T10:00:00Z", "--to", "2024-05-01T10:00:00Z");

        assertEquals(2, run.exit());
        assertTrue(run.err().contains("'--to'") && run.err().contains("must be before"), run.err());
    }

    @Test
    void shouldRefuseAReplayTimeThatIsNoUtcTimeAndAnEmptyPrefix() {
        CliRun badTime = CliRun.execute("replay", "--from", "yesterday", "--to", "2024-05-01T10:00:00Z");
        CliRun noPrefix = CliRun.execute("replay", "--from", "2024-05-01T09:00:00Z", "--to", "2024-05-01T10:00:00Z",
                "--prefix", "");

        assertEquals(2, badTime.exit());
        assertTrue(badTime.err().contains("'yesterday' is not a UTC time"), badTime.err());
        assertEquals(2, noPrefix.exit());
        assertTrue(noPrefix.err().contains("'--prefix'") && noPrefix.err().contains("live topics"), noPrefix.err());
    }

    @Test
    void shouldWriteTheSummaryWithTheDocumentedFields(@TempDir Path dir) throws Exception {
        DemoSummary summary = new DemoSummary(50, 121.5, 1000, 500, 40, 3, 2,
                Map.of("threshold", 2L, "absence", 1L), 5, 5,
                Map.of("target_window_1m", 40L, "alert_event", 5L), 0, Map.of(), 300, "/data/demo", true, 3000, 1500,
                new PushingAgent.Counts(60, 55, 5, 0, 1));
        Path file = dir.resolve("s.json");

        summary.writeJson(file);

        JsonNode json = new ObjectMapper().readTree(file.toFile());
        assertEquals(1000, json.at("/events/checks").asLong());
        assertEquals(500, json.at("/events/metrics").asLong());
        assertEquals(40, json.at("/windows").asLong());
        assertEquals(3, json.at("/alerts/fired").asLong());
        assertEquals(2, json.at("/alerts/resolved").asLong());
        assertEquals(2, json.at("/alerts/fired_by_kind/threshold").asLong());
        assertEquals(1, json.at("/alerts/fired_by_kind/absence").asLong());
        assertEquals(5, json.at("/notifications/slack").asLong());
        assertEquals(5, json.at("/notifications/pagerduty").asLong());
        assertEquals(40, json.at("/postgres_rows/target_window_1m").asLong());
        assertEquals(0, json.at("/dlq").asLong());
        assertEquals("/data/demo", json.at("/data_dir").asText());
        assertTrue(json.at("/resumed").asBoolean());
        assertEquals(3000, json.at("/events_in_topics/checks").asLong());
        assertEquals(1500, json.at("/events_in_topics/metrics").asLong());
        assertEquals(60, json.at("/push/sent").asLong());
        assertEquals(55, json.at("/push/accepted").asLong());
        assertEquals(5, json.at("/push/retried").asLong());
        assertEquals(0, json.at("/push/refused").asLong());
        assertEquals(1, json.at("/push/abandoned").asLong());
    }

    @Test
    void shouldExitWithUsageOnStderrWhenNoSubcommandIsGiven() {
        CliRun run = CliRun.execute();

        assertEquals(2, run.exit());
        assertTrue(run.err().contains("Usage: fleetpulse"), run.err());
        assertEquals("", run.out());
    }

    @Test
    void shouldTreatTopicsWithoutASubcommandAsAUsageError() {
        CliRun run = CliRun.execute("topics");

        assertEquals(2, run.exit());
        assertTrue(run.err().contains("Usage: fleetpulse topics"), run.err());
    }

    @Test
    void shouldShowTheDemoDescriptionAsAWholeSentenceInTheTopLevelHelp() {
        String firstLine = FleetPulseCli.commandLine().getSubcommands().get("demo").getCommandSpec().usageMessage().description()[0];
        assertTrue(firstLine.endsWith("."), () -> "picocli lists only the first description line: " + firstLine);

        StringWriter usage = new StringWriter();
        FleetPulseCli.commandLine().usage(new PrintWriter(usage));

        // The listing wraps long lines; what matters is that the whole sentence is there.
        assertTrue(usage.toString().replaceAll("\\s+", " ").contains(firstLine), usage.toString());
    }

    @Test
    void shouldSayInTheDemoHelpWhatIsKeptWhereAndWhatTheSummaryCounts() {
        String help = FleetPulseCli.commandLine().getSubcommands().get("demo").getUsageMessage().replaceAll("\\s+", " ");

        for (String expected : new String[] {"kafka/", "streams/", "postgres/", "--fresh", "resumes", "psql",
                "counts what this run produced", "earlier runs included", "exits 0"}) {
            assertTrue(help.contains(expected), () -> "demo help lacks '" + expected + "': " + help);
        }
    }

    @Test
    void shouldRejectABadIncidentScriptBeforeStartingAnything(@TempDir Path dir) {
        Path dataDir = dir.resolve("demo");
        long started = System.nanoTime();

        CliRun run = CliRun.execute("demo", "--incidents", "meltdown:srv-001", "--data-dir", dataDir.toString());

        assertEquals(2, run.exit());
        assertOneLineNaming(run.err(), "--incidents");
        assertTrue(run.err().contains("meltdown"), run.err());
        assertFalse(Files.exists(dataDir), "nothing started, so no data folder");
        assertTrue(System.nanoTime() - started < 5_000_000_000L, "no broker or database was started");
    }

    @Test
    void shouldRejectAnIncidentOnAServerOutsideTheFleet(@TempDir Path dir) {
        CliRun run = CliRun.execute("demo", "--servers", "3", "--incidents", "outage:srv-009@5s+10s", "--data-dir", dir.resolve("d").toString());

        assertEquals(2, run.exit());
        assertOneLineNaming(run.err(), "--incidents");
    }

    @Test
    void shouldRejectNonPositiveSizesAndDurations(@TempDir Path dir) {
        String dataDir = dir.resolve("d").toString();
        Map<String, String[]> cases = Map.of(
                "--servers", new String[] {"demo", "--servers", "0", "--data-dir", dataDir},
                "--duration", new String[] {"demo", "--duration", "0s", "--data-dir", dataDir},
                "--interval", new String[] {"demo", "--interval", "soon", "--data-dir", dataDir},
                "--summary-json", new String[] {"demo", "--summary-json", dir.resolve("no/such/folder/s.json").toString(), "--data-dir", dataDir});
        cases.forEach((option, args) -> {
            CliRun run = CliRun.execute(args);
            assertEquals(2, run.exit(), () -> String.join(" ", args) + ": " + run.err());
            assertOneLineNaming(run.err(), option);
        });
        assertFalse(Files.exists(dir.resolve("d")));
    }

    @Test
    void shouldRejectANonPositiveDurationNamingTheOption() {
        CliRun run = CliRun.execute("simulate", "--interval", "0s");

        assertEquals(2, run.exit());
        assertOneLineNaming(run.err(), "--interval");
        assertTrue(run.err().contains("positive duration"), run.err());
    }

    @Test
    void shouldRejectAnEmptySimulatedFleet() {
        CliRun run = CliRun.execute("simulate", "--servers", "0");

        assertEquals(2, run.exit());
        assertOneLineNaming(run.err(), "--servers");
    }

    @Test
    void shouldSuggestTheOptionMeantWhenOneIsMisspelled() {
        CliRun run = CliRun.execute("demo", "--sevrers", "3");

        assertEquals(2, run.exit());
        assertOneLineNaming(run.err(), "--sevrers");
        assertTrue(run.err().contains("--servers"), run.err());
    }

    @Test
    void shouldRejectANotificationsRetrySinceThatIsNeitherAnInstantNorADuration() {
        CliRun run = CliRun.execute("notifications", "retry", "--since", "yesterday");

        assertEquals(2, run.exit());
        assertOneLineNaming(run.err(), "--since");
        assertTrue(run.err().contains("2024-05-01T12:00:00Z"), run.err());
    }

    @Test
    void shouldRejectRetryingAReceiverThatIsNotConfiguredBeforeReadingAnything() {
        CliRun run = CliRun.execute("notifications", "retry", "--receiver", "opsgenie", "--since", "2h");

        assertEquals(2, run.exit());
        assertOneLineNaming(run.err(), "--receiver");
        assertTrue(run.err().contains("no receiver named opsgenie"), run.err());
    }

    private static void assertOneLineNaming(String err, String option) {
        assertEquals(1, err.strip().lines().count(), () -> "one line expected: " + err);
        assertTrue(err.contains(option), () -> "the error names " + option + ": " + err);
    }
}
