package io.fleetpulse.schemas;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * Avro single-object encoding: {@code C3 01}, the writer schema's 8-byte CRC-64-AVRO fingerprint, then the
 * binary body. Every message names its writer schema, so a reader resolves any schema version it knows
 * (the current one plus the history shipped under {@code fleetpulse/schema-history/}) to its own.
 *
 * <p>The hot path: bytes written with the current schema (nearly all of them) are read by the generated class's
 * own decoder over a buffered, per-thread reused {@link BinaryDecoder} on the array, with no schema resolution and
 * no reflection; Avro's {@link BinaryMessageDecoder} (an unbuffered stream decoder, about twice as slow) is kept for
 * older writer schemas and for bytes that are not ours. Encoding likewise writes the header and the generated
 * encoder's output into one array. The bytes are exactly what {@link BinaryMessageEncoder} writes.
 */
public final class SingleObjectCodec<T extends SpecificRecord> implements RecordCodec<T> {

    private static final String HISTORY_ROOT = "fleetpulse/schema-history/";
    private static final int HEADER_LENGTH = 10;
    /** Reused per thread: a codec is shared by every client of its topic. Decoders and encoders fit any schema. */
    private static final ThreadLocal<BinaryDecoder> DECODERS = new ThreadLocal<>();
    private static final ThreadLocal<BinaryEncoder> ENCODERS = new ThreadLocal<>();

    private final Class<T> type;
    private final Schema schema;
    private final BinaryMessageDecoder<T> decoder;
    /** {@code C3 01} and the current schema's fingerprint: bytes that start so take the fast path. */
    private final byte[] header;
    private final DatumReader<T> reader;
    private final DatumWriter<T> writer;

    private SingleObjectCodec(Class<T> type, List<Schema> olderWriterSchemas) {
        this.type = type;
        SpecificData model = SpecificData.getForClass(type);
        this.schema = model.getSchema(type);
        this.decoder = new BinaryMessageDecoder<>(model, schema);
        olderWriterSchemas.forEach(decoder::addSchema);
        this.header = ByteBuffer.allocate(HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN)
                .put((byte) 0xC3).put((byte) 0x01).putLong(SchemaNormalization.parsingFingerprint64(schema)).array();
        // The generated classes' customEncode/customDecode: straight field by field, no reflection, no resolver.
        SpecificData direct = new SpecificData(type.getClassLoader());
        model.getConversions().forEach(direct::addLogicalTypeConversion);
        direct.setCustomCoders(true);
        this.reader = new SpecificDatumReader<>(schema, schema, direct);
        this.writer = new SpecificDatumWriter<>(schema, direct);
    }

    /** A codec for {@code type} that also reads every historical writer schema shipped for it. */
    public static <T extends SpecificRecord> SingleObjectCodec<T> of(Class<T> type) {
        return new SingleObjectCodec<>(type, historicalSchemas(type.getSimpleName()));
    }

    /** A codec that also reads the given older writer schemas (tests, and consumers with their own history). */
    public static <T extends SpecificRecord> SingleObjectCodec<T> of(Class<T> type, List<Schema> olderWriterSchemas) {
        return new SingleObjectCodec<>(type, olderWriterSchemas);
    }

    public Schema schema() {
        return schema;
    }

    /** The 64-bit fingerprint this codec's writer schema is published under. */
    public long fingerprint() {
        return SchemaNormalization.parsingFingerprint64(schema);
    }

    @Override
    public byte[] encode(T value) {
        if (value == null) {
            return null;
        }
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(128);
            out.write(header);
            BinaryEncoder body = EncoderFactory.get().binaryEncoder(out, ENCODERS.get());
            ENCODERS.set(body);
            writer.write(value, body);
            body.flush();
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode " + type.getSimpleName(), e);
        }
    }

    @Override
    public T decode(byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        if (bytes.length >= HEADER_LENGTH && Arrays.equals(bytes, 0, HEADER_LENGTH, header, 0, HEADER_LENGTH)) {
            return decodeCurrent(bytes);
        }
        try {
            return decoder.decode(bytes);
        } catch (BadHeaderException e) {
            throw new UndecodableRecordException("bad-header",
                    "not Avro single-object encoded " + type.getSimpleName() + " (" + bytes.length + " bytes): " + e.getMessage(), e);
        } catch (MissingSchemaException e) {
            throw new UndecodableRecordException("unknown-schema",
                    "no known " + type.getSimpleName() + " schema matches the writer fingerprint: " + e.getMessage(), e);
        } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | ClassCastException e) {
            throw corrupt(bytes, e);
        }
    }

    private T decodeCurrent(byte[] bytes) {
        try {
            BinaryDecoder body = DecoderFactory.get().binaryDecoder(bytes, HEADER_LENGTH, bytes.length - HEADER_LENGTH,
                    DECODERS.get());
            DECODERS.set(body);
            return reader.read(null, body);
        } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | ClassCastException e) {
            throw corrupt(bytes, e);
        }
    }

    private UndecodableRecordException corrupt(byte[] bytes, Exception e) {
        return new UndecodableRecordException("corrupt-body",
                "corrupt " + type.getSimpleName() + " body (" + bytes.length + " bytes): " + e, e);
    }

    /** Older versions of a schema, listed in {@code schema-history/<Name>/index} and kept as .avsc files beside it. */
    static List<Schema> historicalSchemas(String recordName) {
        String folder = HISTORY_ROOT + recordName + "/";
        ClassLoader loader = SingleObjectCodec.class.getClassLoader();
        List<Schema> schemas = new ArrayList<>();
        try (InputStream index = loader.getResourceAsStream(folder + "index")) {
            if (index == null) {
                return schemas;
            }
            for (String line : new String(index.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
                String file = line.strip();
                if (file.isEmpty() || file.startsWith("#")) {
                    continue;
                }
                try (InputStream avsc = Objects.requireNonNull(loader.getResourceAsStream(folder + file),
                        () -> "schema history lists a missing file: " + folder + file)) {
                    schemas.add(new Schema.Parser().parse(avsc));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read schema history of " + recordName, e);
        }
        return schemas;
    }
}
