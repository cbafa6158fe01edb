package io.fleetpulse.collector;

import io.fleetpulse.runtime.DaemonThreads;
import io.fleetpulse.runtime.text.Durations;
import io.fleetpulse.schemas.Topic;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The collector's one Kafka producer. Values are encoded with each topic's own serde from the registry; the
 * record timestamp is the event time. {@link #publish} never blocks its caller (the event loop): records are
 * handed to one named thread, because {@code KafkaProducer.send} itself blocks while metadata is missing or the
 * buffer is full. That thread is a core loop of the collector: if a hand-off dies, {@code died} is told, and the
 * service fails rather than go on polling into a queue nobody empties.
 */
final class RecordPublisher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RecordPublisher.class);
    /** Enough for minutes of polling at any sensible scale while the broker is briefly away. */
    private static final int HANDOFF_CAPACITY = 100_000;

    /** Told about every record's fate; called on the producer's threads. */
    interface Outcomes {
        void completed(Topic<?, ?> topic, Exception errorOrNull);
    }

    private final KafkaProducer<String, byte[]> producer;
    private final ThreadPoolExecutor handoff;
    private final Outcomes outcomes;
    private final Consumer<Throwable> died;

    RecordPublisher(Map<String, Object> producerProps, Outcomes outcomes, Consumer<Throwable> died) {
        this.producer = new KafkaProducer<>(producerProps, new StringSerializer(), new ByteArraySerializer());
        this.handoff = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(HANDOFF_CAPACITY),
                DaemonThreads.named("collector-producer"));
        this.outcomes = outcomes;
        this.died = died;
    }

    /** The producer itself, for binding its client metrics; sending goes through {@link #publish}. */
    Producer<String, byte[]> producer() {
        return producer;
    }

    /** Partitions of {@code topic}; blocks up to the producer's {@code max.block.ms} for metadata. */
    List<PartitionInfo> partitionsFor(Topic<?, ?> topic) {
        return producer.partitionsFor(topic.name());
    }

    /** Sends without blocking the caller; failures (including a full hand-off queue) reach {@link Outcomes}. */
    <V> void publish(Topic<String, V> topic, String key, V value, Instant eventTime) {
        try {
            handoff.execute(() -> {
                try {
                    sendNow(topic, key, value, eventTime, List.of());
                } catch (RuntimeException | Error e) {
                    died.accept(e); // logged once there; rethrowing would only print it again
                }
            });
        } catch (RejectedExecutionException e) {
            outcomes.completed(topic, new IllegalStateException("producer hand-off queue full or closed", e));
        }
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

    /** Sends what was handed off, flushes, and closes the producer, each within {@code timeout}. */
    @Override
    public void close() {
        close(Duration.ofSeconds(10));
    }

    void close(Duration timeout) {
        handoff.shutdown();
        try {
            if (!handoff.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                List<Runnable> dropped = handoff.shutdownNow();
                LOG.warn("{} records were still waiting for the producer after {}; they are lost", dropped.size(),
                        Durations.format(timeout));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            handoff.shutdownNow();
        }
        try {
            producer.flush();
        } finally {
            producer.close(timeout);
        }
    }
}
