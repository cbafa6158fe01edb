package io.fleetpulse.sink;

import io.fleetpulse.events.AlertState;
import io.fleetpulse.schemas.Topic;
import io.fleetpulse.schemas.Topics;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A steady stream of windows, alert events and health scores, each with a key of its own (so every record is one
 * row), sent on a schedule until closed; {@link #acked()} counts what the broker has.
 */
final class SinkLoad implements AutoCloseable {

    private final KafkaProducer<byte[], byte[]> producer;
    private final ScheduledExecutorService ticks;
    private final String prefix;
    private final Instant base = Instant.now().truncatedTo(ChronoUnit.HOURS).minus(Duration.ofHours(1));
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong acked = new AtomicLong();
    private final AtomicReference<Exception> failure = new AtomicReference<>();

    private SinkLoad(String bootstrapServers, String prefix) {
        this.producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.LINGER_MS_CONFIG, 5),
                new org.apache.kafka.common.serialization.ByteArraySerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer());
        this.prefix = prefix;
        this.ticks = Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "sink-load-" + prefix));
    }

    /** Every {@code every}, {@code perTopic} new records on each of the three topics. */
    static SinkLoad start(String bootstrapServers, String prefix, int perTopic, Duration every) {
        SinkLoad load = new SinkLoad(bootstrapServers, prefix);
        load.ticks.scheduleAtFixedRate(() -> {
            for (int i = 0; i < perTopic; i++) {
                load.sendOne();
            }
        }, 0, every.toMillis(), TimeUnit.MILLISECONDS);
        return load;
    }

    /** Sends {@code count} records of each topic now and returns once the broker has them all. */
    static long sendAll(String bootstrapServers, String prefix, int count) {
        try (SinkLoad load = new SinkLoad(bootstrapServers, prefix)) {
            for (int i = 0; i < count; i++) {
                load.sendOne();
            }
            load.producer.flush();
            return load.acked();
        }
    }

    private void sendOne() {
        long n = sent.getAndIncrement();
        // 50 targets, one new minute each per round: keys (target, minute) and (fingerprint, time) never repeat.
        String target = prefix + "-" + (n % 50);
        Instant minute = base.plus(Duration.ofMinutes(n / 50));
        send(Topics.AGGREGATES_1M, target, Records.window(target, minute, n % 7 + 1));
        send(Topics.ALERTS, prefix + "-fp-" + (n % 50),
                Records.alert(prefix + "-fp-" + (n % 50), target, n % 2 == 0 ? AlertState.FIRING : AlertState.RESOLVED,
                        minute.plusMillis(n)));
        send(Topics.HEALTH, target, Records.health(target, minute, 50 + n % 50));
    }

    private <V> void send(Topic<String, V> topic, String key, V value) {
        Serializer<String> keys = topic.keySerde().serializer();
        Serializer<V> values = topic.valueSerde().serializer();
        producer.send(new ProducerRecord<>(topic.name(), keys.serialize(topic.name(), key),
                values.serialize(topic.name(), value)), (metadata, e) -> {
                    if (e != null) {
                        failure.compareAndSet(null, e);
                    } else {
                        acked.incrementAndGet();
                    }
                });
    }

    /** Records the broker has acknowledged. */
    long acked() {
        Exception e = failure.get();
        if (e != null) {
            throw new IllegalStateException("the broker refused a load record", e);
        }
        return acked.get();
    }

    /** Stops sending and waits until everything sent is acknowledged. */
    @Override
    public void close() {
        ticks.shutdown();
        try {
            ticks.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.close(Duration.ofSeconds(10));
    }
}
