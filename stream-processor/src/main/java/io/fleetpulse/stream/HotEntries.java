package io.fleetpulse.stream;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The recently used entries of one store, kept as objects in front of it: a read of a hot entry (a target's clock, its
 * open minute) costs a map lookup, not a cache lookup plus a deserialisation, and a key known to be absent is not
 * looked up again.
 *
 * <p>Every write goes through to the store at once, so the store always holds the state: what the task commits is
 * exactly what it would commit without this, and nothing here has to be flushed before a commit (the Processor API has
 * no pre-commit hook, and under exactly-once the changelog must hold the state when the transaction commits). The map
 * only ever holds what the store holds, so forgetting an entry (the map is bounded) costs only a store read.
 *
 * <p>The map must see every write to the store: use it only for a store one processor alone connects, and {@link
 * #clear} it whenever the processor is initialised (a task revived after a failed transaction gets its store restored
 * from the changelog, and is initialised again).
 *
 * <p>A value put is held as that object: the caller must not change it afterwards without putting it again.
 */
final class HotEntries<V> {

    /** Stands for "the store has no entry" in the map. */
    private static final Object ABSENT = new Object();

    private final KeyValueStore<String, V> store;
    private final Map<String, Object> entries;

    HotEntries(KeyValueStore<String, V> store, int maxEntries) {
        this.store = store;
        // Access order: the least recently used entry is the one forgotten.
        this.entries = new LinkedHashMap<>(Math.min(maxEntries, 1 << 16), 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Object> eldest) {
                return size() > maxEntries;
            }
        };
    }

    @SuppressWarnings("unchecked")
    V get(String key) {
        Object held = entries.get(key);
        if (held == null) {
            V stored = store.get(key);
            entries.put(key, stored == null ? ABSENT : stored);
            return stored;
        }
        return held == ABSENT ? null : (V) held;
    }

    void put(String key, V value) {
        store.put(key, value);
        entries.put(key, value);
    }

    void delete(String key) {
        store.delete(key);
        entries.remove(key); // a deleted window's key is not used again: holding its absence would crowd out live entries
    }

    void clear() {
        entries.clear();
    }
}
