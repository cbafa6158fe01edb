package io.fleetpulse.stream.detect;

import java.nio.ByteBuffer;

/**
 * The anomaly detector of one series (one target's metric, or one CSV file): it sees the series' samples in order, one
 * at a time, and says how unlike the series' own past each one is. Online and causal: the score of a sample uses only
 * that sample and earlier ones; then the sample is learnt. Memory is fixed per series ({@link #serializedSize()}) and
 * each sample costs constant time, so a detector per target and metric fits in a state store.
 *
 * <p>Plain Java over {@code (timestamp, value)}, free of Kafka: the same code runs in the topology and behind
 * {@code fleetpulse detect}. Create one with {@link Detectors#create}; keep it with {@link Detectors#encode}.
 */
public interface SeriesDetector {

    /**
     * Scores {@code value} observed at {@code atMillis}, then learns it.
     *
     * @return the anomaly score in [0, 1]: 1 minus the probability that the series, behaving as it has, gives a sample
     *         at least this surprising; 0 during the warm-up. The same threshold means about the same false-alarm rate
     *         on any series.
     */
    double observe(long atMillis, double value);

    /** The value expected for the last observed sample (before it was learnt); NaN before the first. */
    double expected();

    /** The typical distance of a sample from what is expected (about one standard deviation); NaN before the first. */
    double spread();

    /** How many samples it has learnt. */
    long samples();

    /** Its name in {@link Detectors}. */
    String name();

    /** Bytes {@link #write} takes: the state of one series. */
    int serializedSize();

    /** Writes the state (without the name; {@link Detectors#encode} adds it). */
    void write(ByteBuffer out);
}
