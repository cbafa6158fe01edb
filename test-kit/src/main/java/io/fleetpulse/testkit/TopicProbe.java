package io.fleetpulse.testkit;

import io.fleetpulse.schemas.Topic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Reads and writes contract topics from tests, the way a downstream consumer would. */
public final class TopicProbe {

    private TopicProbe() {
    }

    /**
     * Reads {@code topic} from the beginning until what was read satisfies {@code until}, or fails after {@code timeout}.
     * Reads only committed records, as downstream consumers of a transactional pipeline should.
     */
    public static <K, V> List<ConsumerRecord<K, V>> readUntil(String bootstrapServers, Topic<K, V> topic,
                                                             Predicate<List<ConsumerRecord<K, V>>> until,
                                                             Duration timeout) {
        List<ConsumerRecord<K, V>> seen = new ArrayList<>();
        try (KafkaConsumer<K, V> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.GROUP_ID_CONFIG, "probe-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
                topic.keySerde().deserializer(), topic.valueSerde().deserializer())) {
            consumer.subscribe(List.of(topic.name()));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
                if (until.test(seen)) {
                    return seen;
                }
            }
        }
        throw new AssertionError("timed out after " + timeout + " waiting on " + topic.name() + "; read " + seen.size()
                + " records: " + seen.stream().limit(20).map(ConsumerRecord::value).toList());
    }

    public static <K, V> void send(String bootstrapServers, Topic<K, V> topic, K key, V value) {
        try (KafkaProducer<K, V> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers),
                topic.keySerde().serializer(), topic.valueSerde().serializer())) {
            producer.send(new ProducerRecord<>(topic.name(), key, value));
        }
    }

    /** Writes raw bytes, as a broken or hostile producer would. */
    public static void sendRaw(String bootstrapServers, String topic, byte[] key, byte[] value) {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, key, value));
        }
    }
}
