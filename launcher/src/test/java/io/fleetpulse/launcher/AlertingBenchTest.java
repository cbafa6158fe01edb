package io.fleetpulse.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.launcher.BenchReceiver.Fault;
import io.fleetpulse.launcher.BenchReceiver.Kind;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fleetpulse bench alerting}'s options and arithmetic; the run itself is {@code AlertingBenchIT}. */
class AlertingBenchTest {

    @Test
    void shouldReadAFaultAsReceiverAndMode() {
        assertEquals(new Fault(Kind.PAGERDUTY, Fault.Mode.ERRORS), Fault.parse("pagerduty:errors"));
        assertEquals(new Fault(Kind.SLACK, Fault.Mode.DOWN), Fault.parse("Slack:DOWN"));
        assertEquals("webhook:slow", Fault.parse("webhook:slow").toString());
        for (String bad : new String[] {"pagerduty", "pagerduty:", "opsgenie:errors", "slack:flaky", "slack:down:1"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Fault.parse(bad), bad);
            assertTrue(e.getMessage().contains("slack, pagerduty, webhook"), e.getMessage());
        }
    }

    @Test
    void shouldRefuseBadOptionsBeforeStartingAnything(@TempDir Path dir) {
        String json = dir.resolve("bench.json").toString();

        CliRun badFault = CliRun.execute("bench", "alerting", "--alerts", "10", "--fault", "pagerduty:flaky", "--json", json);
        CliRun noAlerts = CliRun.execute("bench", "alerting", "--alerts", "0", "--json", json);
        CliRun noFolder = CliRun.execute("bench", "alerting", "--alerts", "10", "--json", dir.resolve("no/such.json").toString());
        CliRun noJson = CliRun.execute("bench", "alerting", "--alerts", "10");
        CliRun negativeWarmup = CliRun.execute("bench", "alerting", "--alerts", "10", "--warmup", "-1", "--json", json);

        assertEquals(2, badFault.exit());
        assertTrue(badFault.err().contains("'--fault'") && badFault.err().contains("pagerduty:flaky"), badFault.err());
        assertEquals(2, noAlerts.exit());
        assertTrue(noAlerts.err().contains("'--alerts'"), noAlerts.err());
        assertEquals(2, noFolder.exit());
        assertTrue(noFolder.err().contains("'--json'"), noFolder.err());
        assertEquals(2, noJson.exit());
        assertTrue(noJson.err().contains("--json"), noJson.err());
        assertEquals(2, negativeWarmup.exit());
        assertTrue(negativeWarmup.err().contains("'--warmup'"), negativeWarmup.err());
    }

    @Test
    void shouldTakeNearestRankPercentiles() {
        long[] hundred = new long[100];
        for (int i = 0; i < 100; i++) {
            hundred[i] = i + 1;
        }
        assertEquals(50, AlertingBenchReport.percentile(hundred, 50));
        assertEquals(99, AlertingBenchReport.percentile(hundred, 99));
        assertEquals(100, AlertingBenchReport.percentile(hundred, 100));
        assertEquals(7, AlertingBenchReport.percentile(new long[] {7}, 99));
        assertEquals(-1, AlertingBenchReport.percentile(new long[0], 50));
    }
}
