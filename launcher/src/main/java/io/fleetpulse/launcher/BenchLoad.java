package io.fleetpulse.launcher;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.schemas.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The benchmark's synthetic fleet on the wire: every poll of a target is one {@code http} CheckResult and one
 * MetricSample, {@link #POLL_INTERVAL} apart in event time, all healthy, so the bulk fires no alert. The record
 * timestamp is the event's observedAt (as the collector's are), so nothing is refused as too far ahead.
 */
final class BenchLoad implements AutoCloseable {

    static final Duration POLL_INTERVAL = Duration.ofSeconds(5);
    /** The failing checks of an alert burst, this far apart in event time; the last one completes target-down's 15 s. */
    static final Duration BURST_STEP = Duration.ofSeconds(5);
    static final int BURST_CHECKS = 4;

    private final KafkaProducer<byte[], byte[]> producer;
    private final AtomicLong acked = new AtomicLong();
    private final AtomicReference<Exception> failure = new AtomicReference<>();

    BenchLoad(Map<String, Object> producerProps) {
        this.producer = new KafkaProducer<>(producerProps, new ByteArraySerializer(), new ByteArraySerializer());
    }

    static String targetId(int index) {
        return String.format("bench-%05d", index);
    }

    /** How far back the bulk's event time starts, so its last poll is {@code margin} before now. */
    static Instant bulkStart(long events, int targets, Instant now, Duration margin) {
        long polls = (events / 2 + targets - 1) / targets;
        return now.minus(POLL_INTERVAL.multipliedBy(polls)).minus(margin);
    }

    /**
     * Sends {@code events} records (alternately a check and a sample of the same poll) round-robin over
     * {@code targets} targets, reporting progress every tenth; returns once every record is acknowledged.
     */
    void sendBulk(long events, int targets, Instant start, java.util.function.LongConsumer progress) {
        long step = Math.max(1, events / 10);
        String[] ids = new String[targets];
        Arrays.setAll(ids, BenchLoad::targetId);
        for (long i = 0; i < events; i++) {
            long poll = i / 2;
            String target = ids[(int) (poll % targets)];
            Instant observedAt = start.plus(POLL_INTERVAL.multipliedBy(poll / targets));
            if (i % 2 == 0) {
                sendCheck(target, observedAt, CheckStatus.OK, 12.0 + (i % 7));
            } else {
                sendSample(target, observedAt, 20.0 + (i % 50));
            }
            if ((i + 1) % step == 0) {
                progress.accept(i + 1);
            }
        }
        producer.flush();
        throwIfFailed();
    }

    /** A burst of failing checks for one target, ending at {@code end}; flushed, so it is on the broker now. */
    void sendFailingBurst(String target, Instant end) {
        for (int k = BURST_CHECKS - 1; k >= 0; k--) {
            sendCheck(target, end.minus(BURST_STEP.multipliedBy(k)), CheckStatus.CRITICAL, null);
        }
    }

    void flush() {
        producer.flush();
        throwIfFailed();
    }

    long acked() {
        return acked.get();
    }

    private void sendCheck(String target, Instant observedAt, CheckStatus status, Double latencyMs) {
        CheckResult check = CheckResult.newBuilder().setTargetId(target).setCheckName("http").setStatus(status)
                .setLatencyMs(latencyMs).setMessage(status == CheckStatus.OK ? null : "bench: injected failure")
                .setObservedAt(observedAt).setCollectorId("bench").build();
        send(Topics.CHECKS.name(), target, observedAt, Topics.CHECKS.valueSerde().serializer().serialize(Topics.CHECKS.name(), check));
    }

    private void sendSample(String target, Instant observedAt, double cpu) {
        MetricSample sample = MetricSample.newBuilder().setTargetId(target).setObservedAt(observedAt)
                .setCpuPercent(cpu).setMemoryPercent(40.0).setDiskPercent(50.0).setCollectorId("bench").build();
        send(Topics.METRICS.name(), target, observedAt, Topics.METRICS.valueSerde().serializer().serialize(Topics.METRICS.name(), sample));
    }

    private void send(String topic, String target, Instant observedAt, byte[] value) {
        byte[] key = Topics.CHECKS.keySerde().serializer().serialize(topic, target);
        producer.send(new ProducerRecord<>(topic, null, observedAt.toEpochMilli(), key, value), (metadata, e) -> {
            if (e != null) {
                failure.compareAndSet(null, e);
            } else {
                acked.incrementAndGet();
            }
        });
    }

    private void throwIfFailed() {
        Exception e = failure.get();
        if (e != null) {
            throw new IllegalStateException("the broker refused a benchmark record: " + e, e);
        }
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
