package io.fleetpulse.stream;

import static io.fleetpulse.stream.TopologyHarness.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.schemas.Topics;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deferred-write stores (window-targets, windows-1m, target-latest-metrics) hold their values as objects between
 * commits: by each commit the changes must be in the store and its changelog, and other threads read the store.
 */
class DeferredWriteStoreTopologyTest {

    @TempDir
    Path stateDir;

    /**
     * What a restart restores is the changelogs: each changed entry is there by the commit, with the final value (a
     * tombstone for a closed minute) and the Kafka timestamp of the input record that changed it (the changelogs of
     * window stores expire by it). The driver wipes its state dir on close, so a restart itself is shown on a real
     * broker ({@code StreamProcessorCrashIT}, {@code StreamProcessorIT}).
     */
    @Test
    void shouldWriteEveryChangeToTheChangelogsByTheCommitWithTheInputRecordsTimestamp() {
        try (TopologyHarness topology = TopologyHarness.withDefaults(stateDir)) {
            long minute = TopologyHarness.T0.toEpochMilli();
            topology.checks.pipeInput("a", TopologyHarness.check("a", CheckStatus.OK, 10.0, at(5)), at(7));
            topology.checks.pipeInput("a", TopologyHarness.check("a", CheckStatus.CRITICAL, 10.0, at(30)), at(33));
            topology.metrics.pipeInput("a", TopologyHarness.metrics("a", 42.0, null, null, at(31)), at(34));

            Map<String, TestRecord<String, WindowAccumulator>> minutes = last(changelog(topology,
                    HealthTopology.WINDOW_STORE, WindowAccumulator.SERDE));
            TestRecord<String, WindowAccumulator> open = minutes.get(WindowEngine.windowKey(minute, "a"));
            assertEquals(2, open.value().toTargetWindow("a", at(0), at(60)).getChecks());
            assertEquals(at(34), open.getRecordTime(), "the timestamp of the record that changed it last (the sample)");
            Map<String, TestRecord<String, MetricSample>> samples = last(changelog(topology,
                    ReadModel.LATEST_METRICS_STORE, Topics.METRICS.valueSerde()));
            assertEquals(42.0, samples.get("a").value().getCpuPercent());
            assertEquals(at(31), samples.get("a").getRecordTime(), "the window engine forwards it at its observedAt");

            // 70 s = end of [0 s, 60 s) + grace: the minute closes and its entry is deleted.
            topology.checks.pipeInput("a", TopologyHarness.check("a", CheckStatus.OK, 10.0, at(70)), at(71));
            assertEquals(2, topology.readWindows().get(0).getChecks());
            Map<String, TestRecord<String, WindowAccumulator>> after = last(changelog(topology,
                    HealthTopology.WINDOW_STORE, WindowAccumulator.SERDE));
            assertTrue(after.containsKey(WindowEngine.windowKey(minute, "a")));
            assertNull(after.get(WindowEngine.windowKey(minute, "a")).value(), "a tombstone for the closed minute");
            Map<String, TestRecord<String, TargetClock>> clocks = last(changelog(topology,
                    HealthTopology.TARGET_STORE, TargetClock.SERDE));
            assertEquals(at(70).toEpochMilli(), clocks.get("a").value().eventTimeMs());
            assertEquals(clocks.get("a").value().eventTimeMs(), topology.driver.<String, TargetClock>getKeyValueStore(
                    HealthTopology.TARGET_STORE).get("a").eventTimeMs(), "the store and its changelog agree");
        }
    }

    private static <V> List<TestRecord<String, V>> changelog(TopologyHarness topology, String store, Serde<V> serde) {
        return topology.driver.createOutputTopic("topology-test-" + store + "-changelog", new StringDeserializer(),
                serde.deserializer()).readRecordsToList();
    }

    private static <V> Map<String, TestRecord<String, V>> last(List<TestRecord<String, V>> records) {
        Map<String, TestRecord<String, V>> last = new HashMap<>();
        records.forEach(record -> last.put(record.key(), record));
        return last;
    }

    @Test
    void shouldServeAnotherThreadWhatTheTaskCommitted() throws Exception {
        try (TopologyHarness topology = TopologyHarness.withDefaults(stateDir)) {
            topology.sendCpu("a", 10.0, at(5));
            topology.sendCpu("a", 20.0, at(6)); // the driver commits after each record
            KeyValueStore<String, MetricSample> latest = topology.driver.getKeyValueStore(ReadModel.LATEST_METRICS_STORE);
            Double seenElsewhere = CompletableFuture.supplyAsync(() -> latest.get("a").getCpuPercent())
                    .get(10, TimeUnit.SECONDS);
            assertEquals(20.0, seenElsewhere);
            assertEquals(20.0, latest.get("a").getCpuPercent());
        }
    }
}
