package io.fleetpulse.stream;

import java.util.Map;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.WriteBufferManager;

/**
 * Bounds the off-heap memory of every RocksDB store in this process (Streams' {@code rocksdb.config.setter}): one
 * LRU block cache shared by all stores, which also holds their index and filter blocks and is charged for their
 * memtables (through a shared {@link WriteBufferManager}), so the total stays near {@code streams.rocksdb.memory}
 * however many stores and tasks there are. Without it each store has its own 50 MiB cache and up to three 16 MiB
 * memtables, i.e. memory grows with the number of tasks.
 *
 * <p>Streams instantiates this class once per store; the cache is static, so the first store's configured size
 * applies to the process.
 */
public final class BoundedRocksDbMemory implements RocksDBConfigSetter {

    /** Streams passes its whole configuration to {@link #setConfig}; {@link StreamsProps} puts the bound under this key. */
    static final String MEMORY_BYTES_CONFIG = "fleetpulse.rocksdb.memory.bytes";
    /** Share of the memory that memtables may take; the rest caches data, index and filter blocks. */
    static final double WRITE_BUFFER_SHARE = 0.5;
    static final int MAX_WRITE_BUFFERS = 2;
    /**
     * The unit a memtable grows by. RocksDB's default is an eighth of the write buffer (1 MiB at Streams' 16 MiB, at
     * most), and every store's memtable holds at least one block as soon as it has a write: ten stores of six tasks
     * then take 60 MiB before holding any data, above the whole write-buffer budget, and the manager asks for a flush
     * on every write. Each of those is a tiny file and a compaction, and the stream thread spent most of its time
     * in stalled puts (5,000 events/s in the benchmark instead of 45,000).
     */
    static final long ARENA_BLOCK_BYTES = 64 * 1024;

    private static Cache cache;
    private static WriteBufferManager writeBufferManager;
    private static long capacityBytes;

    @Override
    public void setConfig(String storeName, Options options, Map<String, Object> configs) {
        Object configured = configs.get(MEMORY_BYTES_CONFIG);
        long bytes = configured == null ? StreamsProps.ROCKSDB_MEMORY.defaultValue() * 1024L * 1024L
                : Long.parseLong(configured.toString());
        BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
        synchronized (BoundedRocksDbMemory.class) {
            if (cache == null) {
                capacityBytes = bytes;
                cache = new LRUCache(bytes, -1, false, 0.1); // 10% kept for index and filter blocks (high priority)
                writeBufferManager = new WriteBufferManager((long) (bytes * WRITE_BUFFER_SHARE), cache);
            }
            table.setBlockCache(cache);
            options.setWriteBufferManager(writeBufferManager);
        }
        table.setCacheIndexAndFilterBlocks(true);
        table.setCacheIndexAndFilterBlocksWithHighPriority(true);
        table.setPinTopLevelIndexAndFilter(true);
        options.setTableFormatConfig(table);
        options.setMaxWriteBufferNumber(MAX_WRITE_BUFFERS);
        options.setArenaBlockSize(ARENA_BLOCK_BYTES);
    }

    /** The shared cache and memtables belong to the process, not to one store: nothing to close here. */
    @Override
    public void close(String storeName, Options options) {
    }

    /** Bytes of the shared cache, once a store has been configured (0 before). */
    static synchronized long capacityBytes() {
        return capacityBytes;
    }
}
