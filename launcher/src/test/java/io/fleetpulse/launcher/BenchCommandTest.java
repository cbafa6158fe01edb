package io.fleetpulse.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fleetpulse bench processor}'s options are checked before any broker starts. */
class BenchCommandTest {

    @Test
    void shouldRejectABadOptionWithOneLineNamingIt(@TempDir Path dir) {
        Map<String, String[]> cases = Map.of(
                "--events", new String[] {"bench", "processor", "--events", "1"},
                "--targets", new String[] {"bench", "processor", "--targets", "0"},
                "--warmup-events", new String[] {"bench", "processor", "--warmup-events", "-1"},
                "--alert-rounds", new String[] {"bench", "processor", "--alert-rounds", "0"},
                "--set", new String[] {"bench", "processor", "--set", "streams.commit.intervall=500ms"},
                "--json", new String[] {"bench", "processor", "--json", dir.resolve("no/such/folder/b.json").toString()});
        cases.forEach((option, args) -> {
            CliRun run = CliRun.execute(args);
            assertEquals(2, run.exit(), () -> String.join(" ", args) + ": " + run.err());
            assertEquals(1, run.err().strip().lines().count(), run.err());
            assertTrue(run.err().contains("'" + option + "'"), run.err());
        });
    }

    @Test
    void shouldRefuseToSetWhatEachRunSetsItself() {
        for (String own : BenchProcessor.OWN_SETTINGS) {
            CliRun run = CliRun.execute("bench", "processor", "--set", own + "=x");
            assertEquals(2, run.exit(), run.err());
            assertTrue(run.err().contains("'--set'") && run.err().contains(own), run.err());
        }
    }

    @Test
    void shouldTreatBenchWithoutWhatToMeasureAsAUsageError() {
        CliRun run = CliRun.execute("bench");

        assertEquals(2, run.exit());
        assertTrue(run.err().contains("processor"), run.err());
    }

    @Test
    void shouldSayInItsHelpHowEachRateIsMeasured() {
        CliRun run = CliRun.execute("bench", "processor", "--help");

        assertEquals(0, run.exit(), run.err());
        for (String said : List.of("--events", "--warmup-events", "--targets", "--json", "read_committed", "committed offsets")) {
            assertTrue(run.out().replaceAll("\\s+", " ").contains(said), said + " in:\n" + run.out());
        }
    }

    @Test
    void shouldTakeTheNearestRankPercentile() {
        List<Double> sorted = List.of(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0);

        assertEquals(5.0, BenchProcessor.percentile(sorted, 0.5));
        assertEquals(10.0, BenchProcessor.percentile(sorted, 0.99));
        assertEquals(1.0, BenchProcessor.percentile(sorted, 0.0));
        assertTrue(Double.isNaN(BenchProcessor.percentile(List.of(), 0.99)));
    }
}
