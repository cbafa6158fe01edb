package io.fleetpulse.schemas;

import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/** A Kafka {@link Serde} on a {@link RecordCodec}; what the {@link Topics} registry hands to services. */
public final class CodecSerde<T> implements Serde<T>, Serializer<T>, Deserializer<T> {

    private final RecordCodec<T> codec;

    public CodecSerde(RecordCodec<T> codec) {
        this.codec = codec;
    }

    public RecordCodec<T> codec() {
        return codec;
    }

    @Override
    public byte[] serialize(String topic, T data) {
        return codec.encode(data);
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        return codec.decode(data);
    }

    @Override
    public Serializer<T> serializer() {
        return this;
    }

    @Override
    public Deserializer<T> deserializer() {
        return this;
    }

    @Override
    public void configure(java.util.Map<String, ?> configs, boolean isKey) {
        // Nothing to configure: the codec carries its schemas.
    }

    @Override
    public void close() {
        // Stateless: the same instance is shared by every client of a topic.
    }
}
