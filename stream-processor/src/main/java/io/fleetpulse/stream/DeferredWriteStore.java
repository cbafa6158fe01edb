package io.fleetpulse.stream;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.processor.internals.InternalProcessorContext;
import org.apache.kafka.streams.processor.internals.ProcessorContextUtils;
import org.apache.kafka.streams.processor.internals.ProcessorRecordContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.internals.WrappedStateStore;

/**
 * A key-value store that holds the values its processor reads and writes as objects and writes them to the store it
 * wraps only when the task commits: a put costs a map entry, not a serialisation, a record-cache insert (a sorted map
 * of byte arrays) and, at the commit, the cache's flush. For the stores one processor reads and rewrites on every
 * record (the window engine's clocks and open minutes), and for those read on every record for keys that are mostly
 * absent (the alert states): an absent key is held too, so it costs RocksDB one read per task assignment, not one per
 * record (RocksJava's {@code get} of an absent key throws and catches a C++ exception inside RocksDB); a {@link
 * #sparse} store knows its keys instead and holds only those. Build
 * the wrapped store with its record cache disabled.
 *
 * <p><b>Why it is safe under exactly-once.</b> It is the outermost layer of its store, so the task's state manager
 * calls its {@link #flushCache} at every commit, before the task's producer is flushed and its transaction committed:
 * the changed entries are written there (each with the record context it was put under, so the changelog record
 * carries the input record's timestamp, as through the record cache), so the transaction holds them. {@link #commit}
 * writes them too, for a caller that commits without flushing. A dirty close (the transaction is aborted) and {@link
 * #init} (a revived task, its store restored from the changelog) drop what was not written, like the record cache.
 *
 * <p><b>Threads.</b> Only the stream thread that owns the task (it initialises the store, and writes) sees the objects;
 * interactive queries come from other threads and read the wrapped store, so they see the state as of the last commit.
 *
 * <p>A value put is held as that object: the caller must not change it afterwards without putting it again. Clean
 * entries beyond {@code maxEntries} (least recently used first) are forgotten after each write-out; a forgotten entry
 * costs one read of the wrapped store.
 */
final class DeferredWriteStore<V> extends WrappedStateStore<KeyValueStore<String, V>, String, V>
        implements KeyValueStore<String, V> {

    /** Stands for "the wrapped store has (or will have, once written) no entry". */
    private static final Object ABSENT = new Object();

    /**
     * What the store holds for one key: its value (or {@link #ABSENT}) and, until it is written out, the record context
     * of its last change. One map entry per key carries both, so a read and the write after it cost one map lookup
     * (see {@link #slot}), not three.
     */
    private static final class Slot {
        final String key;
        Object value;
        /** Null when the wrapped store already has {@link #value}. */
        ProcessorRecordContext changedIn;
        /** Deleted by the processor: once written out, the key is forgotten (a closed window is not read again). */
        boolean deleted;
        /** Wall-clock time of the first change not yet written out. */
        long dirtySinceMs;

        Slot(String key, Object value) {
            this.key = key;
            this.value = value;
        }
    }

    private final int maxEntries;
    /**
     * How long a changed entry may stay unwritten: 0 writes every change at the next commit (exactly-once state);
     * more writes each entry about once per that interval, for state that may restart from a recent checkpoint (a
     * series model that learns from every value: writing it at every commit would cost a changelog record per series
     * and second).
     */
    private final long checkpointMs;
    /**
     * For a sparse store (most keys read are absent: the alert states of a fleet that is mostly healthy), every key
     * the wrapped store has or will have once written, so a read of any other key is answered without a map entry:
     * held as absent, every (target, rule, check) read would fill the map with hundreds of thousands of entries and
     * each read would miss the CPU's cache. Built by a scan at the owner's first read after {@link #init} (the store
     * is restored by then), null until then and for a store that is not sparse.
     */
    private Set<String> present;
    private final boolean sparse;
    /** Access order, so the least recently used clean entries are the ones forgotten. */
    private final LinkedHashMap<String, Slot> entries;
    /** The slots changed since the last write-out, in the order of their first change. */
    private final List<Slot> dirty = new ArrayList<>();
    /**
     * The slot of the last key looked up: the processors read a key and then write it, with the same String, so the
     * write finds it without hashing the key again.
     */
    private Slot last;
    private InternalProcessorContext<?, ?> context;
    /**
     * The thread that reads and writes through the held objects: the one that initialised the store (the stream thread
     * initialises its task's stores) or, failing that, the last one that wrote. Any other thread (an interactive query)
     * reads the wrapped store. Known from {@link #init}, so a store that is read on every record but seldom written
     * (the alert states of healthy targets) holds its absent keys from the start instead of reading RocksDB each time.
     * Read by query threads, hence volatile.
     */
    private volatile Thread owner;
    /**
     * Wall-clock time of the last write-out under a checkpoint interval, to pace the writes (see {@link
     * #checkpointDue}); -1 before the first.
     */
    private long lastWriteOutMs = -1;

    private DeferredWriteStore(KeyValueStore<String, V> inner, int maxEntries, long checkpointMs, boolean sparse) {
        super(inner);
        this.sparse = sparse;
        this.maxEntries = maxEntries;
        this.checkpointMs = checkpointMs;
        this.entries = new LinkedHashMap<>(Math.min(maxEntries, 1 << 16), 0.75f, true);
    }

    /**
     * Wraps the stores {@code inner} builds; build {@code inner} with caching disabled (this layer replaces the record
     * cache). Name, changelog and its configuration are {@code inner}'s, so nothing deployed changes.
     */
    static <V> StoreBuilder<KeyValueStore<String, V>> builder(StoreBuilder<KeyValueStore<String, V>> inner, int maxEntries) {
        return new Builder<>(inner, maxEntries, 0, false);
    }

    /**
     * Like {@link #builder(StoreBuilder, int)}, for a store whose reads are mostly of absent keys: it keeps the set of
     * its keys in memory (one scan of the wrapped store per task assignment) and holds only those, so an absent key
     * costs a lookup in a small set instead of an entry in a large map. For stores with few entries.
     */
    static <V> StoreBuilder<KeyValueStore<String, V>> sparse(StoreBuilder<KeyValueStore<String, V>> inner,
                                                             int maxEntries) {
        return new Builder<>(inner, maxEntries, 0, true);
    }

    /**
     * Like {@link #builder(StoreBuilder, int)}, but a changed entry is written about once per {@code checkpoint}, the
     * writes paced evenly over it (see {@link #checkpointDue}): what the changelog has may be up to that old (and a
     * clean shutdown or a crash loses what was not written), in exchange for one write per entry and checkpoint instead
     * of one per entry and commit.
     */
    static <V> StoreBuilder<KeyValueStore<String, V>> checkpointing(StoreBuilder<KeyValueStore<String, V>> inner,
                                                                    int maxEntries, Duration checkpoint) {
        return new Builder<>(inner, maxEntries, checkpoint.toMillis(), false);
    }

    @Override
    public void init(StateStoreContext stateStoreContext, StateStore root) {
        drop();
        this.context = ProcessorContextUtils.asInternalProcessorContext(stateStoreContext);
        super.init(stateStoreContext, root);
        owner = Thread.currentThread();
    }

    @Override
    @SuppressWarnings("unchecked")
    public V get(String key) {
        if (Thread.currentThread() != owner) {
            return wrapped().get(key);
        }
        Slot slot = slot(key);
        Object held = slot == null ? ABSENT : slot.value;
        return held == ABSENT ? null : (V) held;
    }

    @Override
    public void put(String key, V value) {
        change(key, value == null ? ABSENT : value, false);
    }

    @Override
    public V putIfAbsent(String key, V value) {
        V old = ownedGet(key);
        if (old == null) {
            put(key, value);
        }
        return old;
    }

    @Override
    public void putAll(List<KeyValue<String, V>> changes) {
        for (KeyValue<String, V> change : changes) {
            put(change.key, change.value);
        }
    }

    @Override
    public V delete(String key) {
        V old = ownedGet(key);
        change(key, ABSENT, true);
        return old;
    }

    private V ownedGet(String key) {
        owner = Thread.currentThread();
        return get(key);
    }

    /** The key's slot, read from the wrapped store if it is not held; for a sparse store, null for an absent key. */
    private Slot slot(String key) {
        Slot slot = held(key);
        if (slot == null) {
            if (sparse && !present().contains(key)) {
                return null;
            }
            V stored = wrapped().get(key);
            slot = hold(key, stored == null ? ABSENT : stored);
        }
        return slot;
    }

    private Set<String> present() {
        if (present == null) {
            present = new HashSet<>();
            try (KeyValueIterator<String, V> all = wrapped().all()) {
                all.forEachRemaining(entry -> present.add(entry.key));
            }
        }
        return present;
    }

    /** The key's slot if it is held (the last one looked up first), else null. */
    private Slot held(String key) {
        Slot slot = last;
        if (slot == null || (slot.key != key && !slot.key.equals(key))) {
            slot = entries.get(key);
            if (slot != null) {
                last = slot;
            }
        }
        return slot;
    }

    private Slot hold(String key, Object value) {
        Slot slot = new Slot(key, value);
        entries.put(key, slot);
        last = slot;
        return slot;
    }

    private void change(String key, Object value, boolean deleted) {
        owner = Thread.currentThread();
        if (sparse) {
            if (value == ABSENT) {
                present().remove(key);
            } else {
                present().add(key);
            }
        }
        Slot slot = held(key);
        if (slot == null) {
            // Written blind: what the wrapped store had does not matter, this value replaces it.
            slot = hold(key, value);
        }
        slot.value = value;
        slot.deleted = deleted;
        if (slot.changedIn == null) {
            dirty.add(slot);
            slot.dirtySinceMs = checkpointMs == 0 ? 0 : context.currentSystemTimeMs();
        }
        slot.changedIn = context.recordContext();
    }

    private void writeDirty() {
        writeDirty(false);
    }

    /**
     * Writes what changed into the wrapped store, under the record context of each change, then trims the map: all of
     * it, or with a checkpoint interval ({@code all} false) the entries first changed at least that long ago.
     */
    @SuppressWarnings("unchecked")
    private void writeDirty(boolean all) {
        if (!dirty.isEmpty()) {
            ProcessorRecordContext current = context.recordContext();
            int due = all || checkpointMs == 0 ? dirty.size() : checkpointDue();
            List<Slot> written = dirty.subList(0, due);
            try {
                for (Slot slot : written) {
                    context.setRecordContext(slot.changedIn);
                    slot.changedIn = null;
                    if (slot.value == ABSENT) {
                        wrapped().delete(slot.key);
                    } else {
                        wrapped().put(slot.key, (V) slot.value);
                    }
                    if (slot.deleted) {
                        // A deleted key (a closed window) is not read again: holding its absence would crowd out live entries.
                        entries.remove(slot.key);
                    }
                }
            } finally {
                context.setRecordContext(current);
            }
            written.clear();
            last = null;
        }
        Iterator<Slot> eldest = entries.values().iterator();
        for (int excess = entries.size() - maxEntries; excess > 0 && eldest.hasNext(); ) {
            if (eldest.next().changedIn == null) { // an entry not yet written stays held
                eldest.remove();
                excess--;
                last = null;
            }
        }
    }

    /**
     * How many of the oldest changed entries this write-out writes under a checkpoint interval: those first changed at
     * least the interval ago (the dirty list is in the order of first change, so they are a prefix of it), and at
     * least the share of all changed entries that the time since the last write-out is of the interval. Without the
     * pacing, every entry of a task changed in its first second (every series model) would come due in the same
     * commit, and that commit would write them all at once: tens of megabytes into RocksDB and the changelog, a stall
     * of seconds, once per interval. Paced, the writes spread evenly over the interval and an entry still waits about
     * one interval, never more, between two writes.
     */
    private int checkpointDue() {
        long now = context.currentSystemTimeMs();
        // The first write-out paces from the oldest change: before it, the task had nothing to write.
        long from = lastWriteOutMs < 0 ? dirty.get(0).dirtySinceMs : lastWriteOutMs;
        long sinceLast = Math.max(0, Math.min(checkpointMs, now - from));
        lastWriteOutMs = now;
        int due = (int) Math.ceil((double) dirty.size() * sinceLast / checkpointMs);
        long dueBefore = now - checkpointMs;
        while (due < dirty.size() && dirty.get(due).dirtySinceMs <= dueBefore) {
            due++;
        }
        return due;
    }

    /** Forgets what was not written (a dirty close, a revived task) and every held object. */
    private void drop() {
        dirty.clear();
        entries.clear();
        last = null;
        owner = null;
        lastWriteOutMs = -1;
        present = null;
    }

    @Override
    public void flushCache() {
        writeDirty();
        super.flushCache();
    }

    @Override
    public void commit(Map<TopicPartition, Long> changelogOffsets) {
        writeDirty();
        super.commit(changelogOffsets);
    }

    @Override
    public void clearCache() {
        drop();
        super.clearCache();
    }

    @Override
    public void close() {
        drop();
        super.close();
    }

    /** Scans read the wrapped store; the owner's own changes are written into it first, so it sees them. */
    private KeyValueStore<String, V> forScan() {
        if (Thread.currentThread() == owner) {
            writeDirty(true);
        }
        return wrapped();
    }

    @Override
    public KeyValueIterator<String, V> range(String from, String to) {
        return forScan().range(from, to);
    }

    @Override
    public KeyValueIterator<String, V> reverseRange(String from, String to) {
        return forScan().reverseRange(from, to);
    }

    @Override
    public KeyValueIterator<String, V> all() {
        return forScan().all();
    }

    @Override
    public KeyValueIterator<String, V> reverseAll() {
        return forScan().reverseAll();
    }

    @Override
    public <PS extends Serializer<P>, P> KeyValueIterator<String, V> prefixScan(P prefix, PS prefixKeySerializer) {
        return forScan().prefixScan(prefix, prefixKeySerializer);
    }

    @Override
    public long approximateNumEntries() {
        return wrapped().approximateNumEntries();
    }

    private static final class Builder<V> implements StoreBuilder<KeyValueStore<String, V>> {
        private final StoreBuilder<KeyValueStore<String, V>> inner;
        private final int maxEntries;
        private final long checkpointMs;
        private final boolean sparse;

        Builder(StoreBuilder<KeyValueStore<String, V>> inner, int maxEntries, long checkpointMs, boolean sparse) {
            this.sparse = sparse;
            this.inner = inner;
            this.maxEntries = maxEntries;
            this.checkpointMs = checkpointMs;
        }

        @Override
        public StoreBuilder<KeyValueStore<String, V>> withCachingEnabled() {
            throw new UnsupportedOperationException("a deferred-write store replaces the record cache");
        }

        @Override
        public StoreBuilder<KeyValueStore<String, V>> withCachingDisabled() {
            inner.withCachingDisabled();
            return this;
        }

        @Override
        public StoreBuilder<KeyValueStore<String, V>> withLoggingEnabled(Map<String, String> config) {
            inner.withLoggingEnabled(config);
            return this;
        }

        @Override
        public StoreBuilder<KeyValueStore<String, V>> withLoggingDisabled() {
            inner.withLoggingDisabled();
            return this;
        }

        @Override
        public KeyValueStore<String, V> build() {
            return new DeferredWriteStore<>(inner.build(), maxEntries, checkpointMs, sparse);
        }

        @Override
        public Map<String, String> logConfig() {
            return inner.logConfig();
        }

        @Override
        public boolean loggingEnabled() {
            return inner.loggingEnabled();
        }

        @Override
        public String name() {
            return inner.name();
        }
    }
}
