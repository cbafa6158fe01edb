package io.fleetpulse.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.events.TargetWindow;
import java.time.Instant;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class WindowAccumulatorTest {

    private static final Instant T0 = Instant.parse("2024-05-01T10:00:00Z");

    @Test
    void shouldTakeNearestRankPercentiles() {
        assertNull(WindowAccumulator.percentile(new double[0], 50));
        assertEquals(7.0, WindowAccumulator.percentile(new double[] {7}, 99));
        assertEquals(2.0, WindowAccumulator.percentile(new double[] {1, 2, 3, 4}, 50));
        assertEquals(4.0, WindowAccumulator.percentile(new double[] {1, 2, 3, 4}, 95));
    }

    @Test
    void shouldSurviveTheStoreSerdeWithEveryFigure() {
        WindowAccumulator acc = new WindowAccumulator();
        for (int i = 1; i <= 30; i++) { // more latencies than the initial buffer holds
            acc.add(CheckResult.newBuilder().setTargetId("a").setCheckName("http")
                    .setStatus(i % 3 == 0 ? CheckStatus.ERROR : CheckStatus.OK).setLatencyMs((double) i)
                    .setObservedAt(T0).build());
        }
        acc.add(MetricSample.newBuilder().setTargetId("a").setObservedAt(T0).setCpuPercent(10.0).setDiskPercent(91.0).build());

        byte[] bytes = WindowAccumulator.SERDE.serializer().serialize("t", acc);
        TargetWindow expected = acc.toTargetWindow("a", T0, T0.plusSeconds(60));
        TargetWindow actual = WindowAccumulator.SERDE.deserializer().deserialize("t", bytes)
                .toTargetWindow("a", T0, T0.plusSeconds(60));

        assertEquals(expected, actual);
        assertEquals(10, actual.getFailures());
        assertEquals(15.0, actual.getLatencyP50Ms());
        assertNull(actual.getMemoryAvg());
    }

    @Test
    void shouldRefuseBytesOfAnUnknownFormat() {
        assertThrows(SerializationException.class,
                () -> WindowAccumulator.SERDE.deserializer().deserialize("t", new byte[] {9, 0, 0}));
    }
}
