package io.fleetpulse.stream;

import static io.fleetpulse.stream.TopologyHarness.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.runtime.KafkaSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The RocksDB stores the topology opens are configured by {@link BoundedRocksDbMemory}, read back from RocksDB itself. */
class BoundedRocksDbMemoryTest {

    @TempDir
    Path stateDir;

    @Test
    void shouldOpenEveryStoreWithTheSharedBoundedCache() throws IOException {
        try (TopologyHarness topology = TopologyHarness.withDefaults(stateDir)) {
            topology.sendCheck("a", CheckStatus.OK, at(1));
            assertEquals(BoundedRocksDbMemory.class,
                    new StreamsConfig(topology.driverProps()).getClass(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG));

            // RocksDB writes the options it opened a store with to OPTIONS-* in the store's directory.
            List<Path> optionFiles = optionFiles();
            List<String> stores = optionFiles.stream().map(p -> p.getParent().getFileName().toString()).sorted().toList();
            assertEquals(List.of(HealthTopology.ALERT_STORE, HealthTopology.TARGET_STORE, HealthTopology.WINDOW_STORE,
                    HealthTopology.HOUR_WINDOW_STORE, HealthTopology.INVENTORY_STORE, HealthTopology.FIRST_SEEN_STORE,
                    HealthTopology.HEALTH_STORE, HealthTopology.DETECTOR_STORE, ReadModel.LAST_MINUTE_STORE, ReadModel.LAST_HOUR_STORE,
                    ReadModel.LATEST_METRICS_STORE)
                    .stream().sorted().toList(), stores);
            for (Path file : optionFiles) {
                String options = Files.readString(file);
                assertTrue(options.contains("arena_block_size=" + BoundedRocksDbMemory.ARENA_BLOCK_BYTES), file.toString());
                assertTrue(options.contains("max_write_buffer_number=" + BoundedRocksDbMemory.MAX_WRITE_BUFFERS), file.toString());
                assertTrue(options.contains("cache_index_and_filter_blocks=true"), file.toString());
                assertTrue(options.contains("cache_index_and_filter_blocks_with_high_priority=true"), file.toString());
            }
            assertEquals(StreamsProps.ROCKSDB_MEMORY.defaultValue() * 1024L * 1024L, BoundedRocksDbMemory.capacityBytes(),
                    "one cache of streams.rocksdb.memory.mib for the process");

            // One instance holding every task of a default deployment: the memtables' first blocks alone must leave
            // most of the write-buffer budget for data, or the write buffer manager flushes on every write.
            long writeBufferBudget = (long) (BoundedRocksDbMemory.capacityBytes() * BoundedRocksDbMemory.WRITE_BUFFER_SHARE);
            long emptyMemtables = (long) stores.size() * KafkaSettings.PARTITIONS.defaultValue()
                    * BoundedRocksDbMemory.ARENA_BLOCK_BYTES;
            assertTrue(emptyMemtables <= writeBufferBudget / 4, "the memtables of " + stores.size() + " stores x "
                    + KafkaSettings.PARTITIONS.defaultValue() + " tasks start at " + emptyMemtables + " bytes of a "
                    + writeBufferBudget + "-byte write-buffer budget");
        }
    }

    private List<Path> optionFiles() throws IOException {
        try (Stream<Path> files = Files.walk(stateDir)) {
            List<Path> all = files.filter(p -> p.getFileName().toString().startsWith("OPTIONS-")).toList();
            // RocksDB keeps the previous OPTIONS file too; one per store is enough.
            return all.stream().collect(java.util.stream.Collectors.toMap(Path::getParent, p -> p, (x, y) -> x))
                    .values().stream().toList();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
