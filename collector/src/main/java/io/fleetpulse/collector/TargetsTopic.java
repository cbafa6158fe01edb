package io.fleetpulse.collector;

import io.fleetpulse.events.Target;
import io.fleetpulse.runtime.text.Durations;
import io.fleetpulse.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The compacted inventory topic read to its end and written to directly, for {@code fleetpulse targets}: what is
 * listed there is what collectors with the live inventory ({@code collector.inventory.live}) poll.
 */
public final class TargetsTopic {

    /**
     * One live target on the topic.
     *
     * @param owner the collector whose inventory YAML published it, or null: added by hand ({@code targets add/import}),
     *              so no collector's inventory sync ever tombstones it
     */
    public record Listed(Target target, String owner) {
    }

    private TargetsTopic() {
    }

    /** Every live target on the topic (the latest record of its id is not a tombstone), by id. */
    public static Map<String, Listed> read(Map<String, Object> consumerProps, Duration timeout) {
        Map<String, Object> props = new HashMap<>(consumerProps);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.remove(ConsumerConfig.GROUP_ID_CONFIG); // assigned, not subscribed: no group, nothing committed
        Map<String, Listed> live = new TreeMap<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.TARGETS.name(), timeout).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p, timeout) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read " + Topics.TARGETS.name() + " to its end within "
                            + Durations.format(timeout));
                }
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    if (record.key() == null) {
                        continue;
                    }
                    if (record.value() == null) {
                        live.remove(record.key());
                        continue;
                    }
                    Header header = record.headers().lastHeader(InventorySync.OWNER_HEADER);
                    live.put(record.key(), new Listed(readTarget(record), header == null ? null
                            : new String(header.value(), StandardCharsets.UTF_8)));
                }
            }
        }
        return live;
    }

    /** A record's target, or null when its value cannot be read (kept as listed: it still occupies its id). */
    private static Target readTarget(ConsumerRecord<String, byte[]> record) {
        try {
            return Topics.TARGETS.valueSerde().deserializer().deserialize(record.topic(), record.value());
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** Publishes {@code targets} without an owner, then tombstones {@code removedIds}; returns once all are acknowledged. */
    public static void write(Map<String, Object> producerProps, List<Target> targets, List<String> removedIds,
                             Duration timeout) {
        try (KafkaProducer<String, Target> producer = new KafkaProducer<>(producerProps,
                Topics.TARGETS.keySerde().serializer(), Topics.TARGETS.valueSerde().serializer())) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (Target target : targets) {
                sent.add(producer.send(new ProducerRecord<>(Topics.TARGETS.name(), target.getTargetId(), target)));
            }
            for (String id : removedIds) {
                sent.add(producer.send(new ProducerRecord<>(Topics.TARGETS.name(), id, null)));
            }
            producer.flush();
            long deadline = System.nanoTime() + timeout.toNanos();
            for (Future<RecordMetadata> f : sent) {
                f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot write to " + Topics.TARGETS.name() + ": " + e.getCause().getMessage(),
                    e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("writing to " + Topics.TARGETS.name() + " did not finish within "
                    + Durations.format(timeout), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
