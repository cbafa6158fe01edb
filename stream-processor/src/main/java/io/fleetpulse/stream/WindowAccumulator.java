package io.fleetpulse.stream;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.events.TargetWindow;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * What one target's checks and metric samples add up to within one window, cogrouped into one accumulator.
 * Latencies are kept whole so the percentiles are exact (a minute of checks is a few dozen values).
 */
public final class WindowAccumulator {

    /** Binary, versioned: the window store and its changelog hold one per open window and target. */
    public static final Serde<WindowAccumulator> SERDE = Serdes.serdeFrom(
            (topic, acc) -> acc == null ? null : acc.toBytes(),
            (topic, bytes) -> bytes == null ? null : fromBytes(bytes));

    private static final byte FORMAT = 1;

    private long checks;
    private long failures;
    private double[] latencies = new double[8];
    private int latencyCount;
    private final Gauge cpu = new Gauge();
    private final Gauge memory = new Gauge();
    private final Gauge disk = new Gauge();
    private long samples;

    public WindowAccumulator add(CheckResult check) {
        checks++;
        if (SignalSample.failed(check.getStatus())) {
            failures++;
        }
        Double latency = check.getLatencyMs();
        if (latency != null && Double.isFinite(latency)) {
            if (latencyCount == latencies.length) {
                latencies = Arrays.copyOf(latencies, latencies.length * 2);
            }
            latencies[latencyCount++] = latency;
        }
        return this;
    }

    public WindowAccumulator add(MetricSample sample) {
        samples++;
        cpu.add(sample.getCpuPercent());
        memory.add(sample.getMemoryPercent());
        disk.add(sample.getDiskPercent());
        return this;
    }

    public TargetWindow toTargetWindow(String targetId, Instant windowStart, Instant windowEnd) {
        double[] sorted = Arrays.copyOf(latencies, latencyCount);
        Arrays.sort(sorted);
        return TargetWindow.newBuilder()
                .setTargetId(targetId)
                .setWindowStart(windowStart)
                .setWindowEnd(windowEnd)
                .setChecks(checks)
                .setFailures(failures)
                .setErrorRate(checks == 0 ? 0.0 : (double) failures / checks)
                .setLatencyP50Ms(percentile(sorted, 50))
                .setLatencyP95Ms(percentile(sorted, 95))
                .setLatencyP99Ms(percentile(sorted, 99))
                .setCpuAvg(cpu.avg()).setCpuMax(cpu.max())
                .setMemoryAvg(memory.avg()).setMemoryMax(memory.max())
                .setDiskAvg(disk.avg()).setDiskMax(disk.max())
                .setSamples(samples)
                .build();
    }

    /** Nearest-rank percentile: the smallest value with at least {@code p}% of the values at or below it. */
    static Double percentile(double[] sorted, int p) {
        if (sorted.length == 0) {
            return null;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(1, rank) - 1];
    }

    private byte[] toBytes() {
        ByteBuffer buf = ByteBuffer.allocate(1 + 8 + 8 + 4 + 8 * latencyCount + 3 * Gauge.BYTES + 8);
        buf.put(FORMAT).putLong(checks).putLong(failures).putInt(latencyCount);
        for (int i = 0; i < latencyCount; i++) {
            buf.putDouble(latencies[i]);
        }
        cpu.write(buf);
        memory.write(buf);
        disk.write(buf);
        buf.putLong(samples);
        return buf.array();
    }

    private static WindowAccumulator fromBytes(byte[] bytes) {
        try {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            byte format = buf.get();
            if (format != FORMAT) {
                throw new SerializationException("unknown window accumulator format " + format);
            }
            WindowAccumulator acc = new WindowAccumulator();
            acc.checks = buf.getLong();
            acc.failures = buf.getLong();
            acc.latencyCount = buf.getInt();
            acc.latencies = new double[Math.max(8, acc.latencyCount)];
            for (int i = 0; i < acc.latencyCount; i++) {
                acc.latencies[i] = buf.getDouble();
            }
            acc.cpu.read(buf);
            acc.memory.read(buf);
            acc.disk.read(buf);
            acc.samples = buf.getLong();
            return acc;
        } catch (RuntimeException e) {
            throw e instanceof SerializationException se ? se : new SerializationException("corrupt window accumulator", e);
        }
    }

    /** Average and maximum of one gauge over the samples that carried it. */
    private static final class Gauge {
        static final int BYTES = 8 + 8 + 8;
        long count;
        double sum;
        double max = Double.NEGATIVE_INFINITY;

        void add(Double value) {
            if (value != null && Double.isFinite(value)) {
                count++;
                sum += value;
                max = Math.max(max, value);
            }
        }

        Double avg() {
            return count == 0 ? null : sum / count;
        }

        Double max() {
            return count == 0 ? null : max;
        }

        void write(ByteBuffer buf) {
            buf.putLong(count).putDouble(sum).putDouble(max);
        }

        void read(ByteBuffer buf) {
            count = buf.getLong();
            sum = buf.getDouble();
            max = buf.getDouble();
        }
    }
}
