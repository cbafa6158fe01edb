package io.fleetpulse.schemas;

/**
 * Turns one record type into bytes on the wire and back.
 *
 * <p>Services never see the framing: they get a {@link org.apache.kafka.common.serialization.Serde}
 * from the {@link Topics} registry, which is built on a codec. Today the framing is Avro single-object
 * encoding ({@link SingleObjectCodec}); a registry-backed framing can be added behind this interface
 * without touching a service.
 */
public interface RecordCodec<T> {

    /** The bytes for {@code value}; {@code null} (a tombstone) stays {@code null}. */
    byte[] encode(T value);

    /**
     * The record in {@code bytes}, resolved from whatever writer schema the bytes name to this
     * reader's schema; {@code null} stays {@code null}.
     *
     * @throws UndecodableRecordException when the bytes are not a record of this type in any schema we know
     */
    T decode(byte[] bytes);
}
