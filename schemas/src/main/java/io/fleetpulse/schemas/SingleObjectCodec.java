package io.fleetpulse.schemas;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Avro single-object encoding: {@code C3 01}, the writer schema's 8-byte CRC-64-AVRO fingerprint, then the
 * binary body. Every message names its writer schema, so a reader resolves any schema version it knows
 * (the current one plus the history shipped under {@code fleetpulse/schema-history/}) to its own.
 */
public final class SingleObjectCodec<T extends SpecificRecord> implements RecordCodec<T> {

    private static final String HISTORY_ROOT = "fleetpulse/schema-history/";

    private final Class<T> type;
    private final Schema schema;
    private final BinaryMessageEncoder<T> encoder;
    private final BinaryMessageDecoder<T> decoder;

    private SingleObjectCodec(Class<T> type, List<Schema> olderWriterSchemas) {
        this.type = type;
        SpecificData model = SpecificData.getForClass(type);
        this.schema = model.getSchema(type);
        this.encoder = new BinaryMessageEncoder<>(model, schema);
        this.decoder = new BinaryMessageDecoder<>(model, schema);
        olderWriterSchemas.forEach(decoder::addSchema);
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
            return encoder.encode(value).array();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode " + type.getSimpleName(), e);
        }
    }

    @Override
    public T decode(byte[] bytes) {
        if (bytes == null) {
            return null;
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
            throw new UndecodableRecordException("corrupt-body",
                    "corrupt " + type.getSimpleName() + " body (" + bytes.length + " bytes): " + e, e);
        }
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
