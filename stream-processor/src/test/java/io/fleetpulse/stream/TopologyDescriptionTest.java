package io.fleetpulse.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.kafka.streams.StreamsBuilder;
import org.junit.jupiter.api.Test;

/**
 * Pins the topology's node, store and topic names. A rename changes changelog and internal topic names and would
 * orphan the state of a running deployment, so it must show up as a diff here and be made on purpose.
 *
 * <p>To accept a deliberate change: copy {@code target/topology-description.actual.txt} over
 * {@code src/test/resources/topology-description.txt} and say in the change how deployed state migrates.
 */
class TopologyDescriptionTest {

    @Test
    void shouldMatchTheCommittedTopologySnapshot() throws IOException {
        String actual = HealthTopology.build(new StreamsBuilder(), TopologySettings.defaults()).describe().toString();
        Files.writeString(Path.of("target", "topology-description.actual.txt"), actual);

        String expected;
        try (InputStream in = getClass().getResourceAsStream("/topology-description.txt")) {
            expected = in == null ? "(no snapshot committed)" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertEquals(expected, actual, "the topology changed; see target/topology-description.actual.txt and this test's doc");
    }

    @Test
    void shouldNotDependOnTheRules() {
        String withDefaults = HealthTopology.build(new StreamsBuilder(), TopologySettings.defaults()).describe().toString();
        String withNoRules = HealthTopology.build(new StreamsBuilder(),
                TopologySettings.defaults().withRules(RuleBook.of(java.util.List.of()))).describe().toString();
        assertEquals(withDefaults, withNoRules, "editing the rules file must never change state stores or topics");
    }
}
