package io.fleetpulse.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.simulator.Incident.Kind;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IncidentScriptTest {

    @Test
    void shouldSelectTheScriptACommandLineNames() {
        assertEquals(IncidentScript.demo(10).incidents(), IncidentScript.named("demo", 10).incidents());
        assertTrue(IncidentScript.named("none", 10).incidents().isEmpty());
        assertEquals(1, IncidentScript.named("outage:srv-002@20s+40s", 10).incidents().size());
        assertThrows(IllegalArgumentException.class, () -> IncidentScript.named("boom:srv-002@1s+1s", 10));
    }

    @Test
    void shouldParseEveryKindWithItsDurations() {
        IncidentScript script = IncidentScript.parse(
                "outage:srv-003@20s+40s, cpu:srv-007@10s+1m,disk:srv-001@0s+2h,flap:srv-002@500ms+30s,"
                        + "slow:srv-004@1m+15s,unreachable:srv-005@5s+5s,component:srv-006@2s+3s,leak:srv-008@15s+4m,"
                        + "latency:srv-009@110s+1m");

        assertEquals(List.of(
                new Incident(Kind.DISK_FILL, "srv-001", Duration.ZERO, Duration.ofHours(2)),
                new Incident(Kind.FLAPPING, "srv-002", Duration.ofMillis(500), Duration.ofSeconds(30)),
                new Incident(Kind.COMPONENT_DOWN, "srv-006", Duration.ofSeconds(2), Duration.ofSeconds(3)),
                new Incident(Kind.UNREACHABLE, "srv-005", Duration.ofSeconds(5), Duration.ofSeconds(5)),
                new Incident(Kind.CPU_SPIKE, "srv-007", Duration.ofSeconds(10), Duration.ofMinutes(1)),
                new Incident(Kind.DISK_LEAK, "srv-008", Duration.ofSeconds(15), Duration.ofMinutes(4)),
                new Incident(Kind.OUTAGE, "srv-003", Duration.ofSeconds(20), Duration.ofSeconds(40)),
                new Incident(Kind.SLOW, "srv-004", Duration.ofMinutes(1), Duration.ofSeconds(15)),
                new Incident(Kind.LATENCY_SHIFT, "srv-009", Duration.ofSeconds(110), Duration.ofMinutes(1))),
                script.incidents(), "sorted by start");
    }

    @Test
    void shouldAcceptKindConstantNamesInAnyCase() {
        IncidentScript script = IncidentScript.parse("CPU_SPIKE:srv-001@1s+2s,Disk_Fill:srv-002@1s+2s,flapping:srv-003@1s+2s");

        assertEquals(List.of(Kind.CPU_SPIKE, Kind.DISK_FILL, Kind.FLAPPING),
                script.incidents().stream().map(Incident::kind).toList());
    }

    @Test
    void shouldReadBackItsOwnText() {
        IncidentScript script = IncidentScript.parse("outage:srv-003@20s+40s,slow:srv-001@1500ms+2m,cpu:srv-002@1h+1h");

        assertEquals("slow:srv-001@1500ms+2m,outage:srv-003@20s+40s,cpu:srv-002@1h+1h", script.toString(), "sorted by start");
        assertEquals(script, IncidentScript.parse(script.toString()));
    }

    @Test
    void shouldTreatBlankTextAsNoIncidents() {
        assertTrue(IncidentScript.parse("").isEmpty());
        assertTrue(IncidentScript.parse("   ").isEmpty());
        assertTrue(IncidentScript.parse(null).isEmpty());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "outage:srv-001@20s+40s,boom:srv-002@1s+1s | incident 2 'boom:srv-002@1s+1s': unknown kind 'boom'",
            "outage srv-001@20s+40s                   | incident 1 'outage srv-001@20s+40s': no ':' after the kind",
            "outage:srv-001+40s                       | incident 1 'outage:srv-001+40s': no '@start' after the server",
            "outage:srv-001@20s                       | incident 1 'outage:srv-001@20s': no '+duration' after the start",
            "cpu:srv-001@20s+forty                    | incident 1 'cpu:srv-001@20s+forty': the duration 'forty' is not a duration",
            "cpu:srv-001@-5s+10s                      | incident 1 'cpu:srv-001@-5s+10s': the start '-5s' is not a duration",
            "cpu:srv-001@5s+0s                        | incident 1 'cpu:srv-001@5s+0s': the duration must be positive",
            "cpu:srv-001@5s+1s,,slow:srv-002@1s+1s    | incident 2 '' is empty",
    })
    void shouldNameTheBadPartAndWhy(String script, String expectedStart) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IncidentScript.parse(script));

        assertTrue(e.getMessage().startsWith(expectedStart), () -> "message was: " + e.getMessage());
    }

    @Test
    void shouldListEveryKindWhenAKindIsUnknown() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IncidentScript.parse("boom:srv-001@1s+1s"));

        assertTrue(e.getMessage().endsWith("kinds are outage, unreachable, cpu, disk, leak, flap, slow, component, latency"),
                e.getMessage());
    }

    @Test
    void shouldRejectIncidentsOnServersOutsideTheFleet() {
        IncidentScript script = IncidentScript.parse("outage:srv-003@1s+1s,cpu:srv-009@1s+1s");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> script.requireServersIn(Set.of("srv-001", "srv-002", "srv-003")));
        assertTrue(e.getMessage().contains("cpu:srv-009@1s+1s"), e.getMessage());
        assertFalse(e.getMessage().contains("srv-003@"), e.getMessage());
    }

    @Test
    void shouldPutTheDemoOutageOnSrv002AndSpreadTheRestOverTenServers() {
        IncidentScript demo = IncidentScript.demo(10);

        assertEquals("disk:srv-006@5s+70s,leak:srv-001@10s+4m,component:srv-003@10s+50s,cpu:srv-004@15s+50s,"
                + "outage:srv-002@20s+40s,slow:srv-010@25s+35s,flap:srv-008@30s+50s,latency:srv-009@110s+1m", demo.toString());
    }

    @Test
    void shouldPutTheLeakOnTheFirstFreeServerAndTheLatencyShiftOnTheLastOfTheDefaultFiftyServerDemo() {
        IncidentScript demo = IncidentScript.demo(50);

        assertEquals("disk:srv-022@5s+70s,leak:srv-001@10s+4m,component:srv-003@10s+50s,cpu:srv-012@15s+50s,"
                + "outage:srv-002@20s+40s,slow:srv-042@25s+35s,flap:srv-032@30s+50s,latency:srv-050@110s+1m", demo.toString());
    }

    @Test
    void shouldKeepDemoIncidentsInsideAnyFleetOnDistinctServersAndTheOlderSixOverWellWithinTwoMinutes() {
        Set<Kind> forDetectors = Set.of(Kind.DISK_LEAK, Kind.LATENCY_SHIFT);
        for (int servers : IntStream.concat(IntStream.rangeClosed(1, 30), IntStream.of(100, 999, 1000, 5000)).toArray()) {
            IncidentScript demo = IncidentScript.demo(servers);
            List<String> fleet = IntStream.rangeClosed(1, servers).mapToObj(i -> SimulatedFleet.serverId(i, servers)).toList();

            demo.requireServersIn(fleet);
            Set<String> used = new HashSet<>();
            demo.incidents().forEach(i -> assertTrue(used.add(i.serverId()), "two incidents on " + i.serverId()));
            assertEquals(Math.min(servers, 8), demo.incidents().size(), "incidents for " + servers + " servers");
            // Polled every 5 s, a rule with a 30 s recovery still resolves before the two-minute mark.
            demo.incidents().stream().filter(i -> !forDetectors.contains(i.kind())).forEach(i ->
                    assertTrue(i.endOffset().compareTo(Duration.ofSeconds(80)) <= 0, i + " ends after 80 s"));
            // The leak outlasts a three-minute demo and its start-up; then its disk is cleaned up.
            assertTrue(demo.end().compareTo(Duration.ofSeconds(250)) <= 0, "ends at " + demo.end());
            assertEquals(Kind.OUTAGE, demo.incidents().stream().filter(i -> i.kind() == Kind.OUTAGE).findFirst()
                    .orElseThrow().kind(), "every demo has an outage");
        }
    }

    @Test
    void shouldRefuseADemoForAnEmptyFleet() {
        assertThrows(IllegalArgumentException.class, () -> IncidentScript.demo(0));
    }

    @Test
    void shouldZeroPadServerIdsToThreeDigitsOrMore() {
        assertEquals("srv-007", SimulatedFleet.serverId(7, 10));
        assertEquals("srv-100", SimulatedFleet.serverId(100, 100));
        assertEquals("srv-0042", SimulatedFleet.serverId(42, 1000));
    }
}
