package io.fleetpulse.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.events.TargetWindow;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class WindowAccumulatorTest {

    private static final Instant T0 = Instant.parse("2024-05-01T10:00:00Z");

    @Test
    void shouldTakeNearestRankPercentilesToWithinATenthOfAPercent() {
        assertNull(latencies().percentile(50));
        assertEquals(7.0, latencies(7).percentile(99), 7.0 * 0.001);
        assertEquals(2.0, latencies(1, 2, 3, 4).percentile(50), 2.0 * 0.001);
        assertEquals(4.0, latencies(1, 2, 3, 4).percentile(95), 4.0 * 0.001);
        assertEquals(12_345.678, latencies(0.5, 12_345.678).percentile(99), 12.4, "no upper bound to configure");
        assertEquals(0.0, latencies(0).percentile(50));
    }

    @Test
    void shouldMergeMinutesIntoAnHourAsIfTheyWereOneWindow() {
        WindowAccumulator first = latencies(10, 20, 30);
        first.add(MetricSample.newBuilder().setTargetId("a").setObservedAt(T0).setCpuPercent(10.0).build());
        WindowAccumulator second = latencies(40, 1000);
        second.add(MetricSample.newBuilder().setTargetId("a").setObservedAt(T0).setCpuPercent(30.0).build());
        WindowAccumulator whole = latencies(10, 20, 30, 40, 1000);
        whole.add(MetricSample.newBuilder().setTargetId("a").setObservedAt(T0).setCpuPercent(10.0).build());
        whole.add(MetricSample.newBuilder().setTargetId("a").setObservedAt(T0).setCpuPercent(30.0).build());

        TargetWindow merged = new WindowAccumulator().merge(first).merge(second).toTargetWindow("a", T0, T0.plusSeconds(3600));

        assertEquals(whole.toTargetWindow("a", T0, T0.plusSeconds(3600)), merged);
        assertEquals(5, merged.getChecks());
        assertEquals(30.0, merged.getLatencyP50Ms(), 0.03);
        assertEquals(1000.0, merged.getLatencyP99Ms(), 1.0);
        assertEquals(20.0, merged.getCpuAvg(), 1e-9);
        assertEquals(30.0, merged.getCpuMax());
        assertEquals(2, merged.getSamples());
    }

    @Test
    void shouldGiveTheSamePercentilesWhetherLatenciesAreKeptRawOrInTheHistogram() {
        double[] many = new double[WindowAccumulator.RAW_LATENCIES_MAX * 3];
        for (int i = 0; i < many.length; i++) {
            many[i] = (i * 7919 % many.length) * 0.37; // 0 to ~284 ms, out of order
        }
        WindowAccumulator whole = latencies(many);
        WindowAccumulator merged = new WindowAccumulator();
        for (int from = 0; from < many.length; from += 40) { // minutes of 40 latencies each, kept raw
            WindowAccumulator minute = latencies(Arrays.copyOfRange(many, from, Math.min(many.length, from + 40)));
            assertTrue(minute.latenciesRaw());
            merged.merge(roundTrip(minute));
        }

        assertFalse(whole.latenciesRaw(), "more than the raw limit: recorded in the histogram");
        assertFalse(merged.latenciesRaw());
        TargetWindow expected = whole.toTargetWindow("a", T0, T0.plusSeconds(3600));
        assertEquals(expected, roundTrip(merged).toTargetWindow("a", T0, T0.plusSeconds(3600)));
        double[] sorted = many.clone();
        Arrays.sort(sorted);
        assertEquals(sorted[(int) Math.ceil(0.95 * sorted.length) - 1], expected.getLatencyP95Ms(),
                sorted[(int) Math.ceil(0.95 * sorted.length) - 1] * 0.001, "nearest rank, within 0.1%");
    }

    private static WindowAccumulator roundTrip(WindowAccumulator acc) {
        return WindowAccumulator.SERDE.deserializer().deserialize("t", WindowAccumulator.SERDE.serializer().serialize("t", acc));
    }

    @Test
    void shouldStillReadTheFormerRawLatencyFormat() {
        ByteBuffer v1 = ByteBuffer.allocate(1 + 8 + 8 + 4 + 2 * 8 + 3 * 24 + 8);
        v1.put((byte) 1).putLong(2).putLong(1).putInt(2).putDouble(10.0).putDouble(30.0);
        for (int i = 0; i < 3; i++) {
            v1.putLong(0).putDouble(0).putDouble(Double.NEGATIVE_INFINITY);
        }
        v1.putLong(0);

        TargetWindow w = WindowAccumulator.SERDE.deserializer().deserialize("t", v1.array())
                .toTargetWindow("a", T0, T0.plusSeconds(60));

        assertEquals(2, w.getChecks());
        assertEquals(1, w.getFailures());
        assertEquals(30.0, w.getLatencyP99Ms(), 0.03);
        assertNull(w.getCpuAvg());
    }

    @Test
    void shouldGiveFromRawLatenciesExactlyTheHistogramsPercentiles() {
        java.util.Random random = new java.util.Random(42);
        for (int round = 0; round < 500; round++) {
            int n = 1 + random.nextInt(WindowAccumulator.RAW_LATENCIES_MAX);
            double[] ms = new double[n];
            org.HdrHistogram.Histogram histogram = new org.HdrHistogram.Histogram(3);
            for (int i = 0; i < n; i++) {
                // From 0 to about 10^7 ms, spread over the magnitudes, some repeated.
                ms[i] = i > 0 && random.nextInt(5) == 0 ? ms[i - 1] : Math.pow(10, random.nextDouble() * 10) / 1000.0 - 0.001;
                histogram.recordValue(Math.round(ms[i] * 1000));
            }
            WindowAccumulator acc = latencies(ms);
            assertTrue(acc.latenciesRaw());
            for (double p : new double[] {50, 95, 99, 99.9, 100, 1}) {
                assertEquals(histogram.getValueAtPercentile(p) / 1000.0, acc.percentile(p), "p" + p + " of " + n + " values");
            }
        }
    }

    private static WindowAccumulator latencies(double... ms) {
        WindowAccumulator acc = new WindowAccumulator();
        for (double latency : ms) {
            acc.add(CheckResult.newBuilder().setTargetId("a").setCheckName("http").setStatus(CheckStatus.OK)
                    .setLatencyMs(latency).setObservedAt(T0).build());
        }
        return acc;
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
        assertEquals(15.0, actual.getLatencyP50Ms(), 15.0 * 0.001);
        assertNull(actual.getMemoryAvg());
    }

    @Test
    void shouldKeepTheHealthFiguresThroughTheSerdeAndAMerge() {
        WindowAccumulator first = new WindowAccumulator();
        first.add(check("http", CheckStatus.OK)).add(check("db", CheckStatus.WARN)).add(check("cache", CheckStatus.TIMEOUT));
        WindowAccumulator second = new WindowAccumulator();
        second.add(check("db", CheckStatus.CRITICAL)).add(check("http", CheckStatus.UNREACHABLE)).add(check("http", CheckStatus.OK));

        WindowAccumulator back = WindowAccumulator.SERDE.deserializer().deserialize("t",
                WindowAccumulator.SERDE.serializer().serialize("t", first));
        back.merge(second);

        assertEquals(2, back.okChecks());
        assertEquals(1, back.warnChecks());
        assertEquals(2, back.unreachableChecks());
        assertEquals(java.util.Map.of("http", CheckStatus.UNREACHABLE, "db", CheckStatus.CRITICAL,
                "cache", CheckStatus.TIMEOUT), back.worstByCheck());
    }

    @Test
    void shouldReadTheFormatBeforeHealthAsPassesAndFailures() {
        WindowAccumulator acc = new WindowAccumulator();
        acc.add(check("http", CheckStatus.OK)).add(check("http", CheckStatus.WARN)).add(check("http", CheckStatus.ERROR));
        byte[] v3 = WindowAccumulator.SERDE.serializer().serialize("t", acc);
        // Format 2 is format 3 without what follows the samples count: 3 counts, the number of checks and one check.
        int healthBytes = 3 * 8 + 4 + 4 + "http".length() + 1;
        byte[] v2 = Arrays.copyOf(v3, v3.length - healthBytes);
        v2[0] = 2;

        WindowAccumulator back = WindowAccumulator.SERDE.deserializer().deserialize("t", v2);

        assertEquals(acc.toTargetWindow("a", T0, T0.plusSeconds(60)), back.toTargetWindow("a", T0, T0.plusSeconds(60)));
        assertEquals(2, back.okChecks(), "OK and WARN apart are unknown: every check that did not fail counts as OK");
        assertEquals(0, back.warnChecks());
        assertEquals(java.util.Map.of(), back.worstByCheck());
    }

    private static CheckResult check(String name, CheckStatus status) {
        return CheckResult.newBuilder().setTargetId("a").setCheckName(name).setStatus(status).setLatencyMs(1.0)
                .setObservedAt(T0).build();
    }

    @Test
    void shouldRefuseBytesOfAnUnknownFormat() {
        assertThrows(SerializationException.class,
                () -> WindowAccumulator.SERDE.deserializer().deserialize("t", new byte[] {9, 0, 0}));
    }
}
