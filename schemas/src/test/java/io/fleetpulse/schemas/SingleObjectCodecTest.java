package io.fleetpulse.schemas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.MetricSample;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.junit.jupiter.api.Test;

class SingleObjectCodecTest {

    private static final Instant OBSERVED = Instant.parse("2026-11-23T10:15:30.123Z");

    private final SingleObjectCodec<CheckResult> codec = SingleObjectCodec.of(CheckResult.class);

    @Test
    void shouldFrameWithSingleObjectHeaderAndWriterFingerprint() {
        byte[] bytes = codec.encode(check());

        assertEquals((byte) 0xC3, bytes[0]);
        assertEquals((byte) 0x01, bytes[1]);
        long fingerprint = ByteBuffer.wrap(bytes, 2, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(codec.fingerprint(), fingerprint);
    }

    @Test
    void shouldKeepTombstonesNull() {
        assertNull(codec.encode(null));
        assertNull(codec.decode(null));
    }

    @Test
    void shouldReadRecordsWrittenByANewerWriter() throws IOException {
        Schema newer = evolvedCheckResult();
        GenericRecord written = new GenericData.Record(newer);
        written.put("targetId", "srv-1");
        written.put("checkName", "http");
        written.put("status", new GenericData.EnumSymbol(newer.getField("status").schema(), "DEGRADED_DEPENDENCY"));
        written.put("latencyMs", 12.5);
        written.put("observedAt", OBSERVED.toEpochMilli());
        written.put("collectorId", "c1");
        written.put("region", "eu-west");
        byte[] bytes = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), newer).encode(written).array();

        CheckResult read = SingleObjectCodec.of(CheckResult.class, List.of(newer)).decode(bytes);

        assertEquals("srv-1", read.getTargetId());
        assertEquals(CheckStatus.ERROR, read.getStatus(), "an unknown enum symbol falls back to the enum default");
        assertNull(read.getMessage(), "a field the writer lacks takes the reader default");
        assertEquals(OBSERVED, read.getObservedAt());
    }

    @Test
    void shouldLetANewerReaderReadWhatWeWrite() throws IOException {
        Schema newer = evolvedCheckResult();
        BinaryMessageDecoder<GenericRecord> newerReader = new BinaryMessageDecoder<>(GenericData.get(), newer);
        newerReader.addSchema(CheckResult.getClassSchema());

        GenericRecord read = newerReader.decode(codec.encode(check()));

        assertEquals("srv-1", read.get("targetId").toString());
        assertEquals("unknown", read.get("region").toString());
        assertEquals("CRITICAL", read.get("status").toString());
    }

    @Test
    void shouldRejectGarbageWithAClearReason() {
        UndecodableRecordException e = assertThrows(UndecodableRecordException.class,
                () -> codec.decode("this is not avro".getBytes()));
        assertEquals("bad-header", e.reason());
    }

    @Test
    void shouldRejectAnUnknownWriterSchema() {
        byte[] bytes = codec.encode(check());
        bytes[5] ^= 0x5A; // flip bits inside the fingerprint

        UndecodableRecordException e = assertThrows(UndecodableRecordException.class, () -> codec.decode(bytes));
        assertEquals("unknown-schema", e.reason());
    }

    @Test
    void shouldRejectATruncatedBody() {
        byte[] bytes = codec.encode(check());
        byte[] truncated = java.util.Arrays.copyOf(bytes, 13);

        UndecodableRecordException e = assertThrows(UndecodableRecordException.class, () -> codec.decode(truncated));
        assertEquals("corrupt-body", e.reason());
    }

    @Test
    void shouldDecodeExactlyWhatWasEncoded() {
        byte[] once = codec.encode(check());
        assertArrayEquals(once, codec.encode(codec.decode(once)));
    }

    @Test
    void shouldWriteAndReadExactlyWhatAvrosOwnSingleObjectCodersDo() throws IOException {
        MetricSample sample = MetricSample.newBuilder().setTargetId("srv-2").setObservedAt(OBSERVED).setCpuPercent(93.5)
                .setDiskFreeBytes(123_456_789L).setServicesFailed(2).setExtra(Map.of("queue_depth", 17.0, "temp_c", 61.5))
                .build();
        MetricSample bare = MetricSample.newBuilder().setTargetId("srv-3").setObservedAt(OBSERVED).build();
        SingleObjectCodec<MetricSample> metrics = SingleObjectCodec.of(MetricSample.class);
        BinaryMessageEncoder<MetricSample> avroEncoder = new BinaryMessageEncoder<>(SpecificData.getForClass(MetricSample.class),
                MetricSample.getClassSchema());
        BinaryMessageDecoder<MetricSample> avroDecoder = new BinaryMessageDecoder<>(SpecificData.getForClass(MetricSample.class),
                MetricSample.getClassSchema());

        for (MetricSample each : List.of(sample, bare)) {
            byte[] ours = metrics.encode(each);
            assertArrayEquals(avroEncoder.encode(each).array(), ours);
            assertEquals(each, avroDecoder.decode(ours));
            assertEquals(each, metrics.decode(avroEncoder.encode(each).array()));
        }
        assertArrayEquals(new BinaryMessageEncoder<>(SpecificData.getForClass(CheckResult.class), CheckResult.getClassSchema())
                .encode(check()).array(), codec.encode(check()));
    }

    @Test
    void shouldRejectACorruptBodyBehindTheCurrentSchemasHeader() {
        byte[] bytes = codec.encode(check());
        bytes[10] = (byte) 0x7F; // the targetId's length: -64, a negative string length

        UndecodableRecordException e = assertThrows(UndecodableRecordException.class, () -> codec.decode(bytes));
        assertEquals("corrupt-body", e.reason());
    }

    private static CheckResult check() {
        return CheckResult.newBuilder()
                .setTargetId("srv-1").setCheckName("http").setStatus(CheckStatus.CRITICAL)
                .setLatencyMs(42.0).setMessage("HTTP 503").setObservedAt(OBSERVED).setCollectorId("c1")
                .build();
    }

    private static Schema evolvedCheckResult() throws IOException {
        try (InputStream in = SingleObjectCodecTest.class.getResourceAsStream("/evolved/CheckResult.avsc")) {
            return new Schema.Parser().parse(in);
        }
    }
}
