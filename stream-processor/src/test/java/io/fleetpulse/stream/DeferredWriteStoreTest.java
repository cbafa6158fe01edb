package io.fleetpulse.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.internals.WrappedStateStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store's own contract, under a processor that runs a script of operations per record: the driver commits after
 * each record, so one record's operations all fall between two write-outs, as a task's records between two commits.
 * The alert states are read, deleted and read again within one commit (an alert resolves and its target's next
 * sample comes), so a read after a delete must not see the value the wrapped store still holds.
 */
class DeferredWriteStoreTest {

    private static final String STORE = "s";
    /** Small, so that a few keys already overflow what is held. */
    private static final int MAX_HELD = 2;

    @TempDir
    Path stateDir;

    private TopologyTestDriver driver;
    private TestInputTopic<String, String> scripts;
    private TestOutputTopic<String, String> reads;

    @BeforeEach
    void start() {
        start(DeferredWriteStore.builder(innerStore(), MAX_HELD));
    }

    private static StoreBuilder<KeyValueStore<String, String>> innerStore() {
        return Stores.keyValueStoreBuilder(new CountingReads(Stores.persistentKeyValueStore(STORE)), Serdes.String(),
                Serdes.String()).withCachingDisabled();
    }

    private void start(StoreBuilder<KeyValueStore<String, String>> store) {
        Topology topology = new Topology();
        topology.addSource("scripts", new StringDeserializer(), new StringDeserializer(), "scripts");
        topology.addProcessor("run", Script::new, "scripts");
        topology.addStateStore(store, "run");
        topology.addSink("reads", "reads", new StringSerializer(), new StringSerializer(), "run");
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "deferred");
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        driver = new TopologyTestDriver(topology, props);
        scripts = driver.createInputTopic("scripts", new StringSerializer(), new StringSerializer());
        reads = driver.createOutputTopic("reads", new StringDeserializer(), new StringDeserializer());
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    /** Operations separated by spaces: {@code put:k:v}, {@code delete:k}, {@code get:k} (forwards k → value or "null"). */
    private static final class Script implements Processor<String, String, String, String> {
        private ProcessorContext<String, String> context;
        private KeyValueStore<String, String> store;

        @Override
        public void init(ProcessorContext<String, String> context) {
            this.context = context;
            this.store = context.getStateStore(STORE);
        }

        @Override
        public void process(Record<String, String> record) {
            for (String op : record.value().split(" ")) {
                String[] parts = op.split(":");
                switch (parts[0]) {
                    case "put" -> store.put(parts[1], parts[2]);
                    case "delete" -> store.delete(parts[1]);
                    case "get" -> context.forward(record.withKey(parts[1]).withValue(String.valueOf(store.get(parts[1]))));
                    default -> throw new IllegalArgumentException(op);
                }
            }
        }
    }

    /** Reads of the wrapped store, all instances (there is one task). */
    private static final AtomicInteger READS = new AtomicInteger();
    /** Whether the wrapped store starts with {@code restored -> 1}. */
    private static volatile boolean SEEDED;

    /** The wrapped bytes store, counting its point reads. */
    private record CountingReads(KeyValueBytesStoreSupplier inner) implements KeyValueBytesStoreSupplier {
        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public KeyValueStore<Bytes, byte[]> get() {
            return new CountingStore(inner.get());
        }

        @Override
        public String metricsScope() {
            return inner.metricsScope();
        }
    }

    private static final class CountingStore extends WrappedStateStore<KeyValueStore<Bytes, byte[]>, Bytes, byte[]>
            implements KeyValueStore<Bytes, byte[]> {

        CountingStore(KeyValueStore<Bytes, byte[]> inner) {
            super(inner);
        }

        /** With {@link #SEEDED}, the store has an entry the layer above never wrote, as after a restore. */
        @Override
        public void init(org.apache.kafka.streams.processor.StateStoreContext context,
                         org.apache.kafka.streams.processor.StateStore root) {
            super.init(context, root);
            if (SEEDED) {
                wrapped().put(Bytes.wrap("restored".getBytes()), new StringSerializer().serialize(null, "1"));
            }
        }

        @Override
        public byte[] get(Bytes key) {
            READS.incrementAndGet();
            return wrapped().get(key);
        }

        @Override
        public void put(Bytes key, byte[] value) {
            wrapped().put(key, value);
        }

        @Override
        public byte[] putIfAbsent(Bytes key, byte[] value) {
            return wrapped().putIfAbsent(key, value);
        }

        @Override
        public void putAll(List<KeyValue<Bytes, byte[]>> entries) {
            wrapped().putAll(entries);
        }

        @Override
        public byte[] delete(Bytes key) {
            return wrapped().delete(key);
        }

        @Override
        public KeyValueIterator<Bytes, byte[]> range(Bytes from, Bytes to) {
            return wrapped().range(from, to);
        }

        @Override
        public KeyValueIterator<Bytes, byte[]> all() {
            return wrapped().all();
        }

        @Override
        public long approximateNumEntries() {
            return wrapped().approximateNumEntries();
        }
    }

    private List<String> run(String script) {
        scripts.pipeInput("script", script);
        List<String> values = new ArrayList<>();
        reads.readRecordsToList().forEach(read -> values.add(read.value()));
        return values;
    }

    @Test
    void shouldReadNothingAfterADeleteInTheSameCommitThoughTheWrappedStoreStillHoldsTheValue() {
        run("put:a:1");
        assertEquals(List.of("null", "2", "2"), run("delete:a get:a put:a:2 get:a delete:b get:a"));
        assertEquals(List.of("2"), run("get:a"));
        assertEquals("2", driver.<String, String>getKeyValueStore(STORE).get("a"));
    }

    /** The alert states of a healthy fleet: read on every sample, never written. */
    @Test
    void shouldReadAnAbsentKeyFromTheWrappedStoreOnceThoughNothingIsEverWritten() {
        READS.set(0);
        assertEquals(List.of("null", "null"), run("get:a get:a"));
        assertEquals(List.of("null"), run("get:a"));
        assertEquals(1, READS.get(), "held as absent from the first read on");
    }

    @Test
    void shouldWriteEachChangedKeyOnceWithItsLastValueAndForgetDeletedOnes() {
        run("put:a:1 put:a:2 put:b:1 delete:b");
        Map<String, List<String>> changelog = changelog();
        assertEquals(List.of("2"), changelog.get("a"));
        assertEquals(java.util.Collections.singletonList(null), changelog.get("b"), "a tombstone, once");
        assertNull(driver.<String, String>getKeyValueStore(STORE).get("b"));
        assertEquals(List.of("null"), run("get:b"), "read again from the wrapped store, which has none");
    }

    @Test
    void shouldReadBackWhatItNoLongerHoldsFromTheWrappedStore() {
        run("put:a:1 put:b:2 put:c:3 put:d:4");
        assertEquals(List.of("1", "2", "3", "4"), run("get:a get:b get:c get:d"));
        assertEquals(List.of("5", "4"), run("put:a:5 get:a get:d"));
    }

    /** The series models: changed on every value, written once per checkpoint interval, not once per commit. */
    @Test
    void shouldWriteAChangedEntryOncePerCheckpointIntervalAndHoldItUnwrittenMeanwhile() {
        driver.close();
        start(DeferredWriteStore.checkpointing(innerStore(), MAX_HELD, Duration.ofMinutes(1)));

        run("put:a:1");
        run("put:a:2 put:b:1 put:c:1"); // more unwritten keys than are held: none may be forgotten
        assertEquals(Map.of(), changelog(), "nothing is a minute old yet");
        assertEquals(List.of("2", "1", "1"), run("get:a get:b get:c"));

        driver.advanceWallClockTime(Duration.ofSeconds(61));
        run("put:a:3");
        assertEquals(Map.of("a", List.of("3"), "b", List.of("1"), "c", List.of("1")), changelog(),
                "each written once, with its latest value");
        run("put:a:4");
        assertEquals(Map.of(), changelog(), "a was just written: its next write waits for the next checkpoint");
    }

    /**
     * Every model of a task changes in its first second; written when each came due, they would all be written in one
     * commit a minute later, a stall of seconds. Paced, each write-out writes the oldest changed entries in proportion
     * to the time since the last one.
     */
    @Test
    void shouldSpreadTheCheckpointWritesEvenlyOverTheInterval() {
        driver.close();
        start(DeferredWriteStore.checkpointing(innerStore(), MAX_HELD, Duration.ofMinutes(1)));

        run("put:a:1 put:b:1 put:c:1 put:d:1 put:e:1 put:f:1");
        driver.advanceWallClockTime(Duration.ofSeconds(10));
        run("get:a");
        assertEquals(Map.of("a", List.of("1")), changelog(),
                "a sixth of the interval: a sixth of the entries, oldest first");
        driver.advanceWallClockTime(Duration.ofSeconds(20));
        run("put:a:2");
        assertEquals(Map.of("b", List.of("1"), "c", List.of("1")), changelog(), "a third of the five still changed");
        driver.advanceWallClockTime(Duration.ofSeconds(31));
        run("get:a");
        assertEquals(Map.of("d", List.of("1"), "e", List.of("1"), "f", List.of("1")), changelog(),
                "a minute after their change, all due; a changed again 31 s ago waits");
    }

    /**
     * The alert states of a mostly healthy fleet: every (target, rule, check) is read and few exist. A sparse store
     * answers the absent ones from its key set (taken from the wrapped store at the first read, so it sees what a
     * restore wrote) without reading the wrapped store or holding them.
     */
    @Test
    void shouldAnswerAbsentKeysOfASparseStoreFromItsKeySet() {
        driver.close();
        SEEDED = true;
        try {
            start(DeferredWriteStore.sparse(innerStore(), MAX_HELD));
            READS.set(0);
            assertEquals(List.of("1", "null", "null"), run("get:restored get:a get:a"));
            assertEquals(List.of("2", "null"), run("put:a:2 get:a delete:restored get:restored"));
            assertEquals(List.of("2", "null", "null"), run("get:a get:restored get:b"));
            assertEquals(1, READS.get(), "only the restored key was read; absent ones never");
            run("put:b:1 put:c:1 put:d:1"); // more than are held: a forgotten one is read again
            assertEquals(List.of("2", "1", "1", "1"), run("get:a get:b get:c get:d"));
            assertEquals(Map.of("a", List.of("2"), "restored", java.util.Collections.singletonList(null),
                    "b", List.of("1"), "c", List.of("1"), "d", List.of("1")), changelog());
        } finally {
            SEEDED = false;
        }
    }

    private Map<String, List<String>> changelog() {
        Map<String, List<String>> byKey = new HashMap<>();
        for (TestRecord<String, String> change : driver.createOutputTopic("deferred-" + STORE + "-changelog",
                new StringDeserializer(), new StringDeserializer()).readRecordsToList()) {
            byKey.computeIfAbsent(change.key(), k -> new ArrayList<>()).add(change.value());
        }
        return byKey;
    }
}
