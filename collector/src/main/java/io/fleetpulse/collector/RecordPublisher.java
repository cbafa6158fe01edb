package io.fleetpulse.collector;

import io.fleetpulse.runtime.DaemonThreads;
import io.fleetpulse.runtime.text.Durations;
import io.fleetpulse.schemas.Topic;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.HashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The collector's one Kafka producer. Values are encoded with each topic's own serde from the registry; the
 * record timestamp is the event time. {@link #publish} never blocks its caller (the event loop): records go into
 * a bounded {@link PendingRecords} buffer and one named sender thread hands them to the producer, because
 * {@code KafkaProducer.send} itself blocks while metadata is missing or its buffer is full.
 *
 * <p><b>Broker outage.</b> At most {@code maxUnacked} records are in the producer at once, and the producer never
 * gives up on them ({@code delivery.timeout.ms} is unbounded unless {@code kafka.client.delivery.timeout.ms} says
 * otherwise; acks=all and idempotence keep retries free of duplicates and in order). While the broker is away
 * the window fills and polling goes on into the buffer, where a target's oldest records are superseded by its
 * newer ones (counted). When the broker returns the producer delivers its window and the sender drains the
 * buffer: nothing retained is lost. The sender thread is a core loop of the collector: if it dies, {@code died}
 * is told, and the service fails rather than go on polling into a buffer nobody empties.
 */
final class RecordPublisher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RecordPublisher.class);
    /** How long the sender waits before handing a record to the producer again after {@code send} itself threw. */
    private static final long RESEND_BACKOFF_MS = 200;
    /** With records in the producer and none acknowledged for this long, the broker is not taking them. */
    private static final long STALL_NANOS = TimeUnit.SECONDS.toNanos(10);

    /** Told about every record's fate; called on the producer's threads. */
    interface Outcomes {
        void completed(Topic<?, ?> topic, Exception errorOrNull);
    }

    /** A record encoded and ready for the producer, with its topic for the outcome. */
    private record Encoded(Topic<?, ?> topic, ProducerRecord<String, byte[]> record) {
    }

    private final KafkaProducer<String, byte[]> producer;
    private final PendingRecords<Encoded> pending;
    private final Semaphore window;
    private final Outcomes outcomes;
    private final Consumer<Throwable> died;
    private final Thread sender;
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicInteger unacked = new AtomicInteger();
    private final AtomicLong givenBack = new AtomicLong();
    /** When the producer last made progress: an acknowledgement, or a record sent into an empty window. */
    private volatile long lastProgressNanos = System.nanoTime();
    private volatile boolean closing;
    /** Set when the producer gave a record back: the sender pauses before the next. */
    private volatile boolean retryLater;

    RecordPublisher(Map<String, Object> producerProps, Outcomes outcomes, Consumer<Throwable> died) {
        this(producerProps, OutageBuffer.DEFAULTS, outcomes, died);
    }

    RecordPublisher(Map<String, Object> producerProps, OutageBuffer buffer, Outcomes outcomes, Consumer<Throwable> died) {
        Map<String, Object> props = new HashMap<>(producerProps);
        props.putIfAbsent(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Integer.MAX_VALUE);
        this.producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
        this.pending = new PendingRecords<>(buffer.maxRecords(), buffer.maxPerSeries());
        this.window = new Semaphore(buffer.maxUnacked());
        this.outcomes = outcomes;
        this.died = died;
        this.sender = DaemonThreads.named("collector-producer").newThread(this::sendLoop);
        sender.start();
    }

    /** The caps on what waits for the broker; {@code maxUnacked} bounds what sits in the producer itself. */
    record OutageBuffer(int maxRecords, int maxPerSeries, int maxUnacked) {
        static final OutageBuffer DEFAULTS = new OutageBuffer(200_000, 1_000, 5_000);
    }

    /** The producer itself, for binding its client metrics; sending goes through {@link #publish}. */
    Producer<String, byte[]> producer() {
        return producer;
    }

    /** Partitions of {@code topic}; blocks up to the producer's {@code max.block.ms} for metadata. */
    List<PartitionInfo> partitionsFor(Topic<?, ?> topic) {
        return producer.partitionsFor(topic.name());
    }

    /**
     * Buffers a record for sending without blocking the caller; {@code series} names what a newer record of the
     * same series supersedes while the broker is away (a target's one check, its metrics). Failures reach
     * {@link Outcomes}.
     */
    <V> void publish(Topic<String, V> topic, String key, String series, V value, Instant eventTime) {
        byte[] bytes;
        try {
            bytes = topic.valueSerde().serializer().serialize(topic.name(), value);
        } catch (RuntimeException e) {
            // A record our own code built but the schema rejects: a bug worth a counter, never a dead poll loop.
            outcomes.completed(topic, e);
            return;
        }
        accepted.incrementAndGet();
        pending.add(topic.name() + "/" + series, new Encoded(topic, new ProducerRecord<>(topic.name(), null,
                eventTime.toEpochMilli(), key, bytes)));
    }

    /** Records given to {@link #publish} and encoded, since the start. */
    long accepted() {
        return accepted.get();
    }

    /** Records waiting in the buffer, not yet given to the producer. */
    int buffered() {
        return pending.size();
    }

    /** Records given to the producer and not yet acknowledged or failed. */
    int unacked() {
        return unacked.get();
    }

    /** Records superseded in the buffer by newer records of their series while the broker was away. */
    long superseded() {
        return pending.superseded();
    }

    /** Times the producer gave a record back to be sent again (no metadata in time, its buffer full). */
    long givenBack() {
        return givenBack.get();
    }

    /** False while records sit in the producer and none has been acknowledged for a while: the broker is away. */
    boolean delivering() {
        return unacked.get() == 0 || System.nanoTime() - lastProgressNanos < STALL_NANOS;
    }

    private void sendLoop() {
        try {
            while (!closing || pending.size() > 0) {
                if (!window.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                    continue;
                }
                PendingRecords.Slot<Encoded> slot = pending.take(100);
                if (slot == null) {
                    window.release();
                    continue;
                }
                handToProducer(slot);
                if (retryLater) {
                    retryLater = false;
                    Thread.sleep(RESEND_BACKOFF_MS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            died.accept(e); // logged once there; rethrowing would only print it again
        }
    }

    /**
     * Gives one record to the producer; a retriable failure (no metadata within {@code max.block.ms}, a full
     * producer buffer, or a delivery timeout someone configured) puts it back at the head of the buffer.
     */
    private void handToProducer(PendingRecords.Slot<Encoded> slot) {
        Encoded encoded = slot.item;
        if (unacked.getAndIncrement() == 0) {
            lastProgressNanos = System.nanoTime();
        }
        try {
            producer.send(encoded.record(), (metadata, error) -> {
                unacked.decrementAndGet();
                window.release();
                if (error instanceof RetriableException && !closing) {
                    LOG.debug("the producer gave a record to {} back, retrying: {}", encoded.topic().name(), error.toString());
                    pending.putBack(slot);
                    givenBack.incrementAndGet();
                    retryLater = true;
                    return;
                }
                lastProgressNanos = System.nanoTime();
                outcomes.completed(encoded.topic(), error);
            });
        } catch (KafkaException e) {
            // Interrupted while closing, or a record the producer refuses outright: counted, not retried for ever.
            unacked.decrementAndGet();
            window.release();
            outcomes.completed(encoded.topic(), e);
        }
    }

    /**
     * Sends from the calling thread, past the outage buffer, and completes once the broker acknowledged the record
     * (the push API answers 202 only then); may block up to {@code max.block.ms} for metadata.
     */
    <V> CompletableFuture<Void> sendAcknowledged(Topic<String, V> topic, String key, V value, Instant eventTime) {
        CompletableFuture<Void> acked = new CompletableFuture<>();
        byte[] bytes;
        try {
            bytes = topic.valueSerde().serializer().serialize(topic.name(), value);
        } catch (RuntimeException e) {
            outcomes.completed(topic, e);
            return CompletableFuture.failedFuture(e);
        }
        try {
            producer.send(new ProducerRecord<>(topic.name(), null, eventTime.toEpochMilli(), key, bytes), (metadata, error) -> {
                outcomes.completed(topic, error);
                if (error == null) {
                    acked.complete(null);
                } else {
                    acked.completeExceptionally(error);
                }
            });
        } catch (RuntimeException e) {
            outcomes.completed(topic, e);
            acked.completeExceptionally(e);
        }
        return acked;
    }

    /** Sends from the calling thread; a null value is a tombstone. */
    <V> Future<RecordMetadata> sendNow(Topic<String, V> topic, String key, V value, Instant eventTime, List<Header> headers) {
        byte[] bytes;
        try {
            bytes = value == null ? null : topic.valueSerde().serializer().serialize(topic.name(), value);
        } catch (RuntimeException e) {
            // A record our own code built but the schema rejects: a bug worth a counter, never a dead producer thread.
            outcomes.completed(topic, e);
            return CompletableFuture.failedFuture(e);
        }
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic.name(), null, eventTime.toEpochMilli(), key,
                bytes, headers);
        try {
            return producer.send(record, (metadata, error) -> outcomes.completed(topic, error));
        } catch (RuntimeException e) {
            outcomes.completed(topic, e);
            return CompletableFuture.failedFuture(e);
        }
    }

    void flush() {
        producer.flush();
    }

    /**
     * Sends what is buffered and flushes, within {@code timeout} together, then closes the producer. What is still
     * buffered then is lost, and said so.
     */
    @Override
    public void close() {
        close(Duration.ofSeconds(10));
    }

    void close(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        closing = true;
        try {
            sender.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sender.interrupt();
        try {
            sender.join(1_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        int left = pending.size();
        if (left > 0) {
            LOG.warn("{} records were still waiting for the broker after {}; they are lost", left, Durations.format(timeout));
        }
        try {
            producer.flush();
        } finally {
            producer.close(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        }
    }
}
