package io.fleetpulse.alerting.decide;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fleetpulse.alerting.route.RoutingTree;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The decide topology's names are its changelog and repartition topics: a renamed step orphans the groups' timers.
 * When a change is meant, copy target/decide-topology.actual.txt over src/test/resources/decide-topology.txt.
 */
class DecideTopologyDescriptionTest {

    @Test
    void shouldMatchTheCommittedTopologySnapshot() throws IOException {
        String actual = DecideTopology.build(RoutingTree.everyReceiver(List.of("slack")), Duration.ofSeconds(1), "team-a")
                .describe().toString();
        Files.writeString(Path.of("target", "decide-topology.actual.txt"), actual);
        String expected;
        try (InputStream in = getClass().getResourceAsStream("/decide-topology.txt")) {
            expected = in == null ? "(no snapshot committed)" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertEquals(expected, actual, "the decide topology changed; see target/decide-topology.actual.txt");
    }
}
