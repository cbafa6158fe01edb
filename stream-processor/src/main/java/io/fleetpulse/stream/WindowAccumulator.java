package io.fleetpulse.stream;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.events.TargetWindow;
import java.nio.ByteBuffer;
import java.time.Instant;
import org.HdrHistogram.Histogram;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * What one target's checks and metric samples add up to within one window. Accumulators merge: a 1-hour window is the
 * merge of its closed 1-minute windows, so every figure is kept in a form that adds up (counts, sums, maxima, and the
 * latencies as an HdrHistogram).
 *
 * <p>Latency percentiles come from the histogram, not from the raw values: it records microseconds with 3 significant
 * digits, so a percentile is the nearest-rank value to within 0.1% (the value reported is the top of its bucket,
 * e.g. 100.031 ms for exactly 100 ms), at any latency from 1 µs up (the histogram resizes itself), and it costs a few
 * hundred bytes per window instead of one double per check.
 */
public final class WindowAccumulator {

    /** Binary, versioned: the window stores and their changelogs hold one per open window and target. */
    public static final Serde<WindowAccumulator> SERDE = Serdes.serdeFrom(
            (topic, acc) -> acc == null ? null : acc.toBytes(),
            (topic, bytes) -> bytes == null ? null : fromBytes(bytes));

    /** 1: latencies as raw doubles (the cogrouped window store before the window engine); 2: latencies as a histogram. */
    private static final byte FORMAT_RAW_LATENCIES = 1;
    private static final byte FORMAT = 2;
    private static final int SIGNIFICANT_DIGITS = 3;
    private static final double MICROS_PER_MS = 1000.0;

    private long checks;
    private long failures;
    private final Histogram latencyMicros = newHistogram();
    private final Gauge cpu = new Gauge();
    private final Gauge memory = new Gauge();
    private final Gauge disk = new Gauge();
    private long samples;

    private static Histogram newHistogram() {
        return new Histogram(SIGNIFICANT_DIGITS); // auto-resizing: no upper bound to guess
    }

    public WindowAccumulator add(CheckResult check) {
        checks++;
        if (SignalSample.failed(check.getStatus())) {
            failures++;
        }
        addLatency(check.getLatencyMs());
        return this;
    }

    private void addLatency(Double latencyMs) {
        // ValueContract rejects NaN, infinities and negatives before a record gets here; this guards the histogram.
        if (latencyMs != null && Double.isFinite(latencyMs) && latencyMs >= 0) {
            latencyMicros.recordValue(Math.round(latencyMs * MICROS_PER_MS));
        }
    }

    public WindowAccumulator add(MetricSample sample) {
        samples++;
        cpu.add(sample.getCpuPercent());
        memory.add(sample.getMemoryPercent());
        disk.add(sample.getDiskPercent());
        return this;
    }

    /** Adds everything {@code other} holds to this one (how a 1-hour window is made of its minutes). */
    public WindowAccumulator merge(WindowAccumulator other) {
        checks += other.checks;
        failures += other.failures;
        latencyMicros.add(other.latencyMicros);
        cpu.merge(other.cpu);
        memory.merge(other.memory);
        disk.merge(other.disk);
        samples += other.samples;
        return this;
    }

    public TargetWindow toTargetWindow(String targetId, Instant windowStart, Instant windowEnd) {
        return TargetWindow.newBuilder()
                .setTargetId(targetId)
                .setWindowStart(windowStart)
                .setWindowEnd(windowEnd)
                .setChecks(checks)
                .setFailures(failures)
                .setErrorRate(checks == 0 ? 0.0 : (double) failures / checks)
                .setLatencyP50Ms(percentile(50))
                .setLatencyP95Ms(percentile(95))
                .setLatencyP99Ms(percentile(99))
                .setCpuAvg(cpu.avg()).setCpuMax(cpu.max())
                .setMemoryAvg(memory.avg()).setMemoryMax(memory.max())
                .setDiskAvg(disk.avg()).setDiskMax(disk.max())
                .setSamples(samples)
                .build();
    }

    /** Nearest rank (the smallest value with at least {@code p}% of the values at or below it), to within 0.1%. */
    Double percentile(double p) {
        if (latencyMicros.getTotalCount() == 0) {
            return null;
        }
        return latencyMicros.getValueAtPercentile(p) / MICROS_PER_MS;
    }

    private byte[] toBytes() {
        ByteBuffer histogram = ByteBuffer.allocate(latencyMicros.getNeededByteBufferCapacity());
        latencyMicros.encodeIntoByteBuffer(histogram); // zig-zag run-length counts: small for a sparse histogram
        histogram.flip();
        ByteBuffer buf = ByteBuffer.allocate(1 + 8 + 8 + 4 + histogram.remaining() + 3 * Gauge.BYTES + 8);
        buf.put(FORMAT).putLong(checks).putLong(failures).putInt(histogram.remaining()).put(histogram);
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
            if (format != FORMAT && format != FORMAT_RAW_LATENCIES) {
                throw new SerializationException("unknown window accumulator format " + format);
            }
            WindowAccumulator acc = new WindowAccumulator();
            acc.checks = buf.getLong();
            acc.failures = buf.getLong();
            int length = buf.getInt();
            if (format == FORMAT_RAW_LATENCIES) {
                for (int i = 0; i < length; i++) {
                    acc.addLatency(buf.getDouble());
                }
            } else {
                ByteBuffer histogram = buf.slice(buf.position(), length);
                acc.latencyMicros.add(Histogram.decodeFromByteBuffer(histogram, 0));
                buf.position(buf.position() + length);
            }
            acc.cpu.read(buf);
            acc.memory.read(buf);
            acc.disk.read(buf);
            acc.samples = buf.getLong();
            return acc;
        } catch (SerializationException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new SerializationException("corrupt window accumulator", e);
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

        void merge(Gauge other) {
            count += other.count;
            sum += other.sum;
            max = Math.max(max, other.max);
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
