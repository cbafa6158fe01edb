package io.fleetpulse.stream;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.events.TargetWindow;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * What one target's checks and metric samples add up to within one window. Accumulators merge: a 1-hour window is the
 * merge of its closed 1-minute windows, so every figure is kept in a form that adds up (counts, sums, maxima, and the
 * latencies as an HdrHistogram).
 *
 * <p>Latency percentiles come from an HdrHistogram of microseconds with 3 significant digits, so a percentile is the
 * nearest-rank value to within 0.1% (the value reported is the top of its bucket, e.g. 100.031 ms for exactly 100 ms),
 * at any latency from 1 µs up (the histogram resizes itself); merged histograms give the percentiles of all the
 * merged values. A histogram is costly to build and to (de)serialize (about 70 µs, its counts array is ~100 KiB in
 * memory), and a 1-minute window of a target holds a few dozen latencies, rewritten to its store on every record: so
 * the accumulator keeps up to {@value #RAW_LATENCIES_MAX} raw latencies and records them into a histogram only when it
 * is merged, or when there are more; a raw window reports by sorting its values and taking the histogram's rank and
 * bucket top. The results are the same either way: the raw values are what the histogram would have recorded.
 *
 * <p>For the health score ({@link HealthScorer}) it also counts OK, WARN and unreachable (UNREACHABLE or TIMEOUT)
 * checks and keeps each check name's worst status in the window (OK, then WARN, then a failure; the first failure
 * seen stands for its check).
 */
public final class WindowAccumulator {

    /** Binary, versioned: the window stores and their changelogs hold one per open window and target. */
    public static final Serde<WindowAccumulator> SERDE = Serdes.serdeFrom(
            (topic, acc) -> acc == null ? null : acc.toBytes(),
            (topic, bytes) -> bytes == null ? null : fromBytes(bytes));

    /**
     * 1: latencies as raw doubles (the cogrouped window store before the window engine); 2: raw or a histogram;
     * 3: format 2 followed by the health figures (status counts, worst status per check).
     */
    private static final byte FORMAT_RAW_LATENCIES = 1;
    private static final byte FORMAT_NO_HEALTH = 2;
    private static final byte FORMAT = 3;
    private static final byte RAW = 0;
    private static final byte HISTOGRAM = 1;
    static final int RAW_LATENCIES_MAX = 256;
    private static final int SIGNIFICANT_DIGITS = 3;
    private static final double MICROS_PER_MS = 1000.0;

    private long checks;
    private long failures;
    private long[] rawMicros = new long[8];
    private int rawCount;
    /** Null while the latencies are few enough to keep raw. */
    private Histogram latencyMicros;
    private final Gauge cpu = new Gauge();
    private final Gauge memory = new Gauge();
    private final Gauge disk = new Gauge();
    private long samples;
    private long okChecks;
    private long warnChecks;
    private long unreachableChecks;
    /** Check name to its worst status in the window. */
    private final TreeMap<String, CheckStatus> worstByCheck = new TreeMap<>();

    /** Only for its bucket arithmetic (which values share a bucket), the same in every histogram of these digits. */
    private static final Histogram BUCKETS = newHistogram();

    private static Histogram newHistogram() {
        return new Histogram(SIGNIFICANT_DIGITS); // auto-resizing: no upper bound to guess
    }

    public WindowAccumulator add(CheckResult check) {
        checks++;
        if (SignalSample.failed(check.getStatus())) {
            failures++;
        }
        countStatus(check.getStatus());
        worstByCheck.merge(check.getCheckName(), check.getStatus(), WindowAccumulator::worse);
        addLatency(check.getLatencyMs());
        return this;
    }

    private void countStatus(CheckStatus status) {
        switch (status) {
            case OK -> okChecks++;
            case WARN -> warnChecks++;
            case UNREACHABLE, TIMEOUT -> unreachableChecks++;
            default -> { }
        }
    }

    /** The worse of two statuses of one check: a failure over WARN over OK; of two failures, the first. */
    private static CheckStatus worse(CheckStatus first, CheckStatus second) {
        return rank(second) > rank(first) ? second : first;
    }

    private static int rank(CheckStatus status) {
        return switch (status) {
            case OK -> 0;
            case WARN -> 1;
            default -> 2;
        };
    }

    private void addLatency(Double latencyMs) {
        // ValueContract rejects NaN, infinities and negatives before a record gets here; this guards the histogram.
        if (latencyMs != null && Double.isFinite(latencyMs) && latencyMs >= 0) {
            recordMicros(Math.round(latencyMs * MICROS_PER_MS));
        }
    }

    private void recordMicros(long micros) {
        if (latencyMicros != null) {
            latencyMicros.recordValue(micros);
            return;
        }
        if (rawCount == rawMicros.length) {
            if (rawCount >= RAW_LATENCIES_MAX) {
                toHistogram().recordValue(micros);
                return;
            }
            rawMicros = Arrays.copyOf(rawMicros, rawCount * 2);
        }
        rawMicros[rawCount++] = micros;
    }

    /** Moves the raw latencies into the histogram, for good. */
    private Histogram toHistogram() {
        if (latencyMicros == null) {
            latencyMicros = histogramOfRaw();
            rawMicros = new long[0];
            rawCount = 0;
        }
        return latencyMicros;
    }

    private Histogram histogramOfRaw() {
        Histogram h = newHistogram();
        for (int i = 0; i < rawCount; i++) {
            h.recordValue(rawMicros[i]);
        }
        return h;
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
        if (other.latencyMicros != null) {
            toHistogram().add(other.latencyMicros);
        } else {
            for (int i = 0; i < other.rawCount; i++) {
                recordMicros(other.rawMicros[i]);
            }
        }
        cpu.merge(other.cpu);
        memory.merge(other.memory);
        disk.merge(other.disk);
        samples += other.samples;
        okChecks += other.okChecks;
        warnChecks += other.warnChecks;
        unreachableChecks += other.unreachableChecks;
        other.worstByCheck.forEach((name, status) -> worstByCheck.merge(name, status, WindowAccumulator::worse));
        return this;
    }

    long okChecks() {
        return okChecks;
    }

    long warnChecks() {
        return warnChecks;
    }

    /** Checks whose status was UNREACHABLE or TIMEOUT: the target could not be contacted for them. */
    long unreachableChecks() {
        return unreachableChecks;
    }

    /** Each check name's worst status in the window, by name. */
    SortedMap<String, CheckStatus> worstByCheck() {
        return Collections.unmodifiableSortedMap(worstByCheck);
    }

    public TargetWindow toTargetWindow(String targetId, Instant windowStart, Instant windowEnd) {
        Percentiles latencies = percentiles();
        return TargetWindow.newBuilder()
                .setTargetId(targetId)
                .setWindowStart(windowStart)
                .setWindowEnd(windowEnd)
                .setChecks(checks)
                .setFailures(failures)
                .setErrorRate(checks == 0 ? 0.0 : (double) failures / checks)
                .setLatencyP50Ms(latencies.at(50))
                .setLatencyP95Ms(latencies.at(95))
                .setLatencyP99Ms(latencies.at(99))
                .setCpuAvg(cpu.avg()).setCpuMax(cpu.max())
                .setMemoryAvg(memory.avg()).setMemoryMax(memory.max())
                .setDiskAvg(disk.avg()).setDiskMax(disk.max())
                .setSamples(samples)
                .build();
    }

    /** Nearest rank (the smallest value with at least {@code p}% of the values at or below it), to within 0.1%. */
    Double percentile(double p) {
        return percentiles().at(p);
    }

    /** Percentiles of the latencies, in ms; null when there are none. */
    private interface Percentiles {
        Double at(double p);
    }

    private Percentiles percentiles() {
        if (latencyMicros != null) {
            return p -> latencyMicros.getTotalCount() == 0 ? null : latencyMicros.getValueAtPercentile(p) / MICROS_PER_MS;
        }
        // Raw (most closing minutes): the histogram's answer without building one, which costs more than the rest of
        // closing the window. Same rank and same bucket top as Histogram.getValueAtPercentile (HdrHistogram 2.2.2).
        long[] sorted = Arrays.copyOf(rawMicros, rawCount);
        Arrays.sort(sorted);
        return p -> {
            if (sorted.length == 0) {
                return null;
            }
            double requested = Math.min(Math.max(Math.nextAfter(p, Double.NEGATIVE_INFINITY), 0.0), 100.0);
            long rank = Math.max(1, (long) Math.ceil(requested * sorted.length / 100.0));
            long value = sorted[(int) Math.min(rank, sorted.length) - 1];
            return (p == 0.0 ? BUCKETS.lowestEquivalentValue(value) : BUCKETS.highestEquivalentValue(value)) / MICROS_PER_MS;
        };
    }

    /** Whether the latencies are still kept raw (few enough), for tests. */
    boolean latenciesRaw() {
        return latencyMicros == null;
    }

    private byte[] toBytes() {
        ByteBuffer latencies;
        if (latencyMicros == null) {
            latencies = ByteBuffer.allocate(1 + 4 + 8 * rawCount).put(RAW).putInt(rawCount);
            for (int i = 0; i < rawCount; i++) {
                latencies.putLong(rawMicros[i]);
            }
        } else {
            ByteBuffer encoded = ByteBuffer.allocate(latencyMicros.getNeededByteBufferCapacity());
            latencyMicros.encodeIntoByteBuffer(encoded); // zig-zag run-length counts: small for a sparse histogram
            encoded.flip();
            latencies = ByteBuffer.allocate(1 + 4 + encoded.remaining()).put(HISTOGRAM).putInt(encoded.remaining()).put(encoded);
        }
        latencies.flip();
        byte[][] names = new byte[worstByCheck.size()][];
        int namesBytes = 0;
        int i = 0;
        for (String name : worstByCheck.keySet()) {
            names[i] = name.getBytes(StandardCharsets.UTF_8);
            namesBytes += 4 + names[i].length + 1;
            i++;
        }
        ByteBuffer buf = ByteBuffer.allocate(1 + 8 + 8 + latencies.remaining() + 3 * Gauge.BYTES + 8 + 3 * 8 + 4 + namesBytes);
        buf.put(FORMAT).putLong(checks).putLong(failures).put(latencies);
        cpu.write(buf);
        memory.write(buf);
        disk.write(buf);
        buf.putLong(samples);
        buf.putLong(okChecks).putLong(warnChecks).putLong(unreachableChecks).putInt(names.length);
        i = 0;
        for (CheckStatus status : worstByCheck.values()) {
            buf.putInt(names[i].length).put(names[i]).put((byte) status.ordinal());
            i++;
        }
        return buf.array();
    }

    private static WindowAccumulator fromBytes(byte[] bytes) {
        try {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            byte format = buf.get();
            if (format != FORMAT && format != FORMAT_NO_HEALTH && format != FORMAT_RAW_LATENCIES) {
                throw new SerializationException("unknown window accumulator format " + format);
            }
            WindowAccumulator acc = new WindowAccumulator();
            acc.checks = buf.getLong();
            acc.failures = buf.getLong();
            if (format == FORMAT_RAW_LATENCIES) {
                int count = buf.getInt();
                for (int i = 0; i < count; i++) {
                    acc.addLatency(buf.getDouble());
                }
            } else if (buf.get() == RAW) {
                int count = buf.getInt();
                acc.rawMicros = new long[Math.max(8, count)];
                for (int i = 0; i < count; i++) {
                    acc.rawMicros[i] = buf.getLong();
                }
                acc.rawCount = count;
            } else {
                int length = buf.getInt();
                acc.latencyMicros = newHistogram();
                acc.latencyMicros.add(Histogram.decodeFromByteBuffer(buf.slice(buf.position(), length), 0));
                buf.position(buf.position() + length);
            }
            acc.cpu.read(buf);
            acc.memory.read(buf);
            acc.disk.read(buf);
            acc.samples = buf.getLong();
            if (format == FORMAT) {
                readHealth(acc, buf);
            } else {
                // Written before health: the failures are known, OK and WARN apart are not, nor the check names.
                acc.okChecks = acc.checks - acc.failures;
            }
            return acc;
        } catch (SerializationException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new SerializationException("corrupt window accumulator", e);
        }
    }

    private static void readHealth(WindowAccumulator acc, ByteBuffer buf) {
        acc.okChecks = buf.getLong();
        acc.warnChecks = buf.getLong();
        acc.unreachableChecks = buf.getLong();
        int count = buf.getInt();
        CheckStatus[] statuses = CheckStatus.values();
        for (int i = 0; i < count; i++) {
            byte[] name = new byte[buf.getInt()];
            buf.get(name);
            acc.worstByCheck.put(new String(name, StandardCharsets.UTF_8), statuses[buf.get()]);
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
