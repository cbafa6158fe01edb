package io.fleetpulse.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.events.Evidence;
import io.fleetpulse.events.HealthScore;
import io.fleetpulse.events.HealthStatus;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.events.OutboxRecord;
import io.fleetpulse.events.Severity;
import io.fleetpulse.events.Silence;
import io.fleetpulse.events.WeeklySchedule;
import io.fleetpulse.events.WeeklyWindow;
import io.fleetpulse.events.Target;
import io.fleetpulse.events.TargetWindow;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** Every topic's value round-trips, and every schema stays compatible both ways with its published versions. */
class SchemaContractTest {

    private static final Instant T0 = Instant.parse("2026-11-23T10:00:00Z");

    static Stream<SpecificRecord> samples() {
        Evidence evidence = Evidence.newBuilder().setSignal("error_rate_1m").setValue(0.8).setOperator(">")
                .setThreshold(0.5).setWindowStart(T0).setWindowEnd(T0.plusSeconds(60)).setSamples(6).build();
        return Stream.of(
                Target.newBuilder().setTargetId("srv-1").setHealthUrl("http://127.0.0.1:1/health")
                        .setMetricsUrl("http://127.0.0.1:1/metrics").setLabels(Map.of("role", "api"))
                        .setCriticalChecks(List.of("http")).setUpdatedAt(T0).build(),
                CheckResult.newBuilder().setTargetId("srv-1").setCheckName("http").setStatus(CheckStatus.OK)
                        .setLatencyMs(3.5).setObservedAt(T0).build(),
                MetricSample.newBuilder().setTargetId("srv-1").setObservedAt(T0).setCpuPercent(55.0)
                        .setDiskFreeBytes(1L << 40).setExtra(Map.of("queue_depth", 7.0)).build(),
                TargetWindow.newBuilder().setTargetId("srv-1").setWindowStart(T0).setWindowEnd(T0.plusSeconds(60))
                        .setChecks(6).setFailures(3).setErrorRate(0.5).setLatencyP95Ms(80.0).setSamples(6).build(),
                HealthScore.newBuilder().setTargetId("srv-1").setScore(42).setStatus(HealthStatus.DEGRADED)
                        .setFailingChecks(List.of("http")).setReasons(List.of("error rate 50%"))
                        .setWindowStart(T0).setWindowEnd(T0.plusSeconds(60)).build(),
                AlertEvent.newBuilder().setFingerprint("abc").setRuleId("high-error-rate").setTargetId("srv-1")
                        .setState(AlertState.FIRING).setSeverity(Severity.CRITICAL).setSummary("srv-1 failing")
                        .setEvidence(evidence).setStartsAt(T0).setOccurredAt(T0).build(),
                NotificationRecord.newBuilder().setNotificationId("n1").setFingerprint("abc").setRuleId("r")
                        .setTargetId("srv-1").setReceiver("pagerduty").setReceiverType("pagerduty")
                        .setAlertState(AlertState.FIRING).setOutcome(NotificationOutcome.SENT).setAttempt(1)
                        .setHttpStatus(202).setDecidedAt(T0).build(),
                OutboxRecord.newBuilder().setNotificationId("slack|root{}|1").setDeployment("fleetpulse-alerting").setReceiver("slack").setRouteId("root")
                        .setGroupKey("root{}").setAlerts(List.of(AlertEvent.newBuilder().setFingerprint("abc")
                                .setRuleId("r").setTargetId("srv-1").setState(AlertState.FIRING)
                                .setSeverity(Severity.CRITICAL).setSummary("s").setEvidence(evidence).setStartsAt(T0)
                                .setOccurredAt(T0).build())).setDecidedAt(T0).build(),
                Silence.newBuilder().setId("5f0c").setMatchers(List.of("target=\"web-1\"")).setStartsAt(T0)
                        .setWeekly(WeeklySchedule.newBuilder().setZone("Europe/Berlin").setWindows(List.of(
                                WeeklyWindow.newBuilder().setStartDay("SATURDAY").setStartTime("22:00")
                                        .setEndDay("SUNDAY").setEndTime("02:00").build())).build())
                        .setCreatedBy("alice").setComment("patching").setUpdatedAt(T0).build(),
                DeadLetter.newBuilder().setSourceTopic("fleet.checks").setSourcePartition(0).setSourceOffset(7)
                        .setOriginalValue(ByteBuffer.wrap(new byte[] {1, 2, 3})).setReason("undecodable")
                        .setError("bad-header").setService("stream-processor").setFailedAt(T0).build());
    }

    @ParameterizedTest
    @MethodSource("samples")
    @SuppressWarnings("unchecked")
    void shouldRoundTripEveryTopicValue(SpecificRecord value) {
        SingleObjectCodec<SpecificRecord> codec = SingleObjectCodec.of((Class<SpecificRecord>) value.getClass());
        assertEquals(value, codec.decode(codec.encode(value)));
    }

    @Test
    void shouldHaveATopicForEveryContractRecord() {
        assertEquals(11, Topics.ALL.size());
        samples().forEach(sample -> assertTrue(
                Topics.ALL.stream().anyMatch(t -> t.valueType().equals(sample.getClass())),
                () -> "no topic carries " + sample.getClass().getSimpleName()));
    }

    @Test
    void shouldKeepPerTargetTopicsKeyedByTargetIdAndCompactedWhereTheContractSays() {
        assertTrue(Topics.TARGETS.compacted());
        assertTrue(Topics.HEALTH.compacted());
        assertTrue(Topics.SILENCES.compacted());
        assertFalse(Topics.SILENCES.perTarget(), "silences are keyed by silence id");
        assertFalse(Topics.CHECKS.compacted());
        assertEquals("604800000", Topics.CHECKS.configs().get("retention.ms"));
        assertTrue(Topics.CHECKS.perTarget());
        assertFalse(Topics.ALERTS.perTarget(), "alerts are keyed by fingerprint");
    }

    @ParameterizedTest
    @MethodSource("samples")
    void shouldStayCompatibleBothWaysWithEveryPublishedVersion(SpecificRecord value) {
        Schema current = value.getSchema();
        List<Schema> history = SingleObjectCodec.historicalSchemas(current.getName());
        assertFalse(history.isEmpty(), () -> "publish " + current.getName() + " under schema-history/");
        for (Schema published : history) {
            assertCompatible(current, published, "the current reader cannot read data written with a published version");
            assertCompatible(published, current, "a published reader cannot read data written with the current version");
        }
    }

    @Test
    void shouldShipEveryAvscInTheJar() {
        samples().forEach(sample -> assertNotNull(
                getClass().getResource("/fleetpulse/avro/" + sample.getSchema().getName() + ".avsc")));
    }

    private static void assertCompatible(Schema reader, Schema writer, String message) {
        var result = SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
        assertEquals(SchemaCompatibilityType.COMPATIBLE, result.getType(),
                () -> message + " (" + reader.getName() + "): " + result.getResult().getIncompatibilities());
    }
}
