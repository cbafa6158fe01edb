package io.fleetpulse.stream;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.events.Target;
import io.fleetpulse.events.TargetWindow;
import io.fleetpulse.runtime.KafkaSettings;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topic;
import io.fleetpulse.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;

/** The real topology and props factory under a TopologyTestDriver, with the topics as typed test topics. */
final class TopologyHarness implements AutoCloseable {

    /** A minute boundary, so window arithmetic in the tests reads plainly. */
    static final Instant T0 = Instant.parse("2024-05-01T10:00:00Z");

    final TopologySettings settings;
    final TopologyTestDriver driver;
    final TestInputTopic<String, CheckResult> checks;
    final TestInputTopic<String, MetricSample> metrics;
    final TestInputTopic<String, Target> targets;
    final TestInputTopic<byte[], byte[]> rawChecks;
    final TestInputTopic<byte[], byte[]> rawMetrics;
    final TestInputTopic<byte[], byte[]> rawTargets;
    final TestOutputTopic<String, TargetWindow> windows;
    final TestOutputTopic<String, TargetWindow> hourWindows;
    final TestOutputTopic<String, AlertEvent> alerts;
    final TestOutputTopic<Bytes, DeadLetter> deadLetters;

    private final Properties props;

    TopologyHarness(TopologySettings settings, Path stateDir) {
        this.settings = settings;
        Settings given = Settings.of(Map.of(
                "streams.state.dir", stateDir.toString(),
                "streams.application.id", "topology-test"), StreamProcessorService.KEYS);
        props = StreamsProps.from(given).properties(KafkaSettings.from(given));
        driver = new TopologyTestDriver(HealthTopology.build(new StreamsBuilder(), settings), props,
                T0.plus(Duration.ofHours(1)));
        checks = input(Topics.CHECKS);
        metrics = input(Topics.METRICS);
        targets = input(Topics.TARGETS);
        rawChecks = driver.createInputTopic(Topics.CHECKS.name(), new ByteArraySerializer(), new ByteArraySerializer());
        rawMetrics = driver.createInputTopic(Topics.METRICS.name(), new ByteArraySerializer(), new ByteArraySerializer());
        rawTargets = driver.createInputTopic(Topics.TARGETS.name(), new ByteArraySerializer(), new ByteArraySerializer());
        windows = output(Topics.AGGREGATES_1M);
        hourWindows = output(Topics.AGGREGATES_1H);
        alerts = output(Topics.ALERTS);
        deadLetters = output(Topics.DLQ);
    }

    /** The Streams properties the driver runs with (the service's own factory). */
    Properties driverProps() {
        return props;
    }

    static TopologyHarness withDefaults(Path stateDir) {
        return new TopologyHarness(TopologySettings.defaults(), stateDir);
    }

    private <K, V> TestInputTopic<K, V> input(Topic<K, V> topic) {
        return driver.createInputTopic(topic.name(), topic.keySerde().serializer(), topic.valueSerde().serializer());
    }

    private <K, V> TestOutputTopic<K, V> output(Topic<K, V> topic) {
        return driver.createOutputTopic(topic.name(), topic.keySerde().deserializer(), topic.valueSerde().deserializer());
    }

    static Instant at(int seconds) {
        return T0.plusSeconds(seconds);
    }

    static CheckResult check(String target, CheckStatus status, Double latencyMs, Instant observedAt) {
        return CheckResult.newBuilder().setTargetId(target).setCheckName("http").setStatus(status)
                .setLatencyMs(latencyMs).setObservedAt(observedAt).build();
    }

    static MetricSample metrics(String target, Double cpu, Double memory, Double disk, Instant observedAt) {
        return MetricSample.newBuilder().setTargetId(target).setObservedAt(observedAt)
                .setCpuPercent(cpu).setMemoryPercent(memory).setDiskPercent(disk).build();
    }

    /** A check that arrives when it was observed, as from a prompt collector. */
    void sendCheck(String target, CheckStatus status, Double latencyMs, Instant observedAt) {
        checks.pipeInput(target, check(target, status, latencyMs, observedAt), observedAt);
    }

    void sendCheck(String target, CheckStatus status, Instant observedAt) {
        sendCheck(target, status, 10.0, observedAt);
    }

    void sendMetrics(String target, Double cpu, Double memory, Double disk, Instant observedAt) {
        metrics.pipeInput(target, metrics(target, cpu, memory, disk, observedAt), observedAt);
    }

    void sendCpu(String target, double cpu, Instant observedAt) {
        sendMetrics(target, cpu, null, null, observedAt);
    }

    /** An inventory entry for {@code target}, published at {@code at}. */
    void sendTarget(String target, String group, Map<String, String> labels, Instant at) {
        targets.pipeInput(target, Target.newBuilder().setTargetId(target).setHealthUrl("http://" + target + "/health")
                .setGroup(group).setLabels(labels).setUpdatedAt(at).build(), at);
    }

    /** The inventory's tombstone for {@code target}: decommissioned at {@code at}. */
    void removeTarget(String target, Instant at) {
        targets.pipeInput(target, null, at);
    }

    KeyValueStore<String, AlertRecord> alertStore() {
        return driver.getKeyValueStore(HealthTopology.ALERT_STORE);
    }

    List<TargetWindow> readWindows() {
        return windows.readValuesToList();
    }

    /** Moves the driver's wall clock on, firing the wall-clock punctuation once. */
    void advanceWallClock(Duration by) {
        driver.advanceWallClockTime(by);
    }

    List<AlertEvent> readAlerts() {
        return alerts.readValuesToList();
    }

    @Override
    public void close() {
        driver.close();
    }
}
