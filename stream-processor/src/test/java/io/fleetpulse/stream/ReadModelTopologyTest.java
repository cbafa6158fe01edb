package io.fleetpulse.stream;

import static io.fleetpulse.stream.TopologyHarness.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.events.TargetWindow;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the read API shows beyond open state: each target's last closed windows and its latest metric sample. */
class ReadModelTopologyTest {

    @TempDir
    Path stateDir;
    TopologyHarness topology;

    @BeforeEach
    void start() {
        topology = TopologyHarness.withDefaults(stateDir);
    }

    @AfterEach
    void stop() {
        topology.close();
    }

    @Test
    void shouldKeepTheLastClosedMinuteAndHourOfEachTarget() {
        topology.sendCheck("a", CheckStatus.OK, at(5));
        topology.sendCheck("a", CheckStatus.CRITICAL, at(65));
        topology.sendCheck("a", CheckStatus.OK, at(130)); // closes [0, 60) and [60, 120)
        assertEquals(at(60), lastMinutes().get("a").getWindowStart(), "the latest closed minute, not the first");
        assertEquals(1, lastMinutes().get("a").getFailures());
        assertNull(lastHours().get("a"), "the hour is still open");

        topology.sendCheck("a", CheckStatus.OK, at(3600 + 15)); // closes the hour [0, 3600) at its end + grace
        TargetWindow hour = lastHours().get("a");
        assertEquals(at(0), hour.getWindowStart());
        assertEquals(3, hour.getChecks());
        assertEquals(topology.hourWindows.readValuesToList().get(0), hour, "what fleet.aggregates.1h said");
    }

    @Test
    void shouldKeepTheLatestSampleByEventTimeAndForgetARemovedTarget() {
        topology.sendTarget("a", "edge", Map.of(), at(0));
        topology.metrics.pipeInput("a", sample(at(20), 7L), at(20));
        topology.metrics.pipeInput("a", sample(at(15), 5L), at(21)); // later, but observed earlier (within grace)
        assertEquals(7L, latestMetrics().get("a").getTasksCompleted());
        topology.metrics.pipeInput("a", sample(at(25), 9L), at(25));
        assertEquals(9L, latestMetrics().get("a").getTasksCompleted());
        topology.sendCheck("a", CheckStatus.OK, at(75));
        assertEquals(at(0), lastMinutes().get("a").getWindowStart());

        topology.removeTarget("a", at(80));
        assertNull(latestMetrics().get("a"));
        assertNull(lastMinutes().get("a"));
    }

    private static MetricSample sample(java.time.Instant at, long tasksCompleted) {
        return MetricSample.newBuilder().setTargetId("a").setObservedAt(at).setTasksCompleted(tasksCompleted)
                .setTasksFailed(1L).setTaskLatencyMs(12.5).build();
    }

    private KeyValueStore<String, TargetWindow> lastMinutes() {
        return topology.driver.getKeyValueStore(ReadModel.LAST_MINUTE_STORE);
    }

    private KeyValueStore<String, TargetWindow> lastHours() {
        return topology.driver.getKeyValueStore(ReadModel.LAST_HOUR_STORE);
    }

    private KeyValueStore<String, MetricSample> latestMetrics() {
        return topology.driver.getKeyValueStore(ReadModel.LATEST_METRICS_STORE);
    }
}
