package io.fleetpulse.sink;

import io.fleetpulse.runtime.ServiceMeters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The sink's meters ({@code fleetpulse_sink_*}), in one place so the writer, the partition manager and /status read
 * the same numbers. Every one has a description (its HELP line); the batch latency is a histogram in seconds.
 */
final class SinkMetrics {

    private final ServiceMeters meters;
    private final MeterRegistry registry;
    private final Map<PartitionedTable, Counter> rowsWritten = new EnumMap<>(PartitionedTable.class);
    private final Map<PartitionedTable, Counter> defaultWrites = new EnumMap<>(PartitionedTable.class);
    private final Map<PartitionedTable, AtomicLong> defaultRows = new EnumMap<>(PartitionedTable.class);
    private final Counter batches;
    private final Counter dbErrors;
    private final Timer batchLatency;

    SinkMetrics(ServiceMeters meters) {
        this.meters = meters;
        this.registry = meters.registry();
        for (PartitionedTable table : PartitionedTable.values()) {
            rowsWritten.put(table, Counter.builder(meters.name("rows.upserted"))
                    .description("rows inserted or changed by the upsert (a replay of identical values changes none)")
                    .tag("table", table.parent()).register(registry));
            defaultWrites.put(table, Counter.builder(meters.name("default.partition.writes"))
                    .description("rows the writer put into the DEFAULT partition: outside every dated partition")
                    .tag("table", table.parent()).register(registry));
            AtomicLong rows = new AtomicLong();
            defaultRows.put(table, rows);
            Gauge.builder(meters.name("default.partition.rows"), rows, AtomicLong::get)
                    .description("rows in the DEFAULT partition at the last partition maintenance; should be 0")
                    .tag("table", table.parent()).register(registry);
        }
        batches = Counter.builder(meters.name("batches")).description("batches committed to the database")
                .register(registry);
        dbErrors = Counter.builder(meters.name("db.errors"))
                .description("database operations that failed and were rolled back (retried from stored offsets)")
                .register(registry);
        // A histogram (the kernel's convention for every timer), so it aggregates across instances.
        batchLatency = Timer.builder(meters.name("batch.latency"))
                .description("time from a polled batch to its database commit")
                .register(registry);
    }

    void rowsWritten(PartitionedTable table, long rows, long inDefault) {
        rowsWritten.get(table).increment(rows);
        defaultWrites.get(table).increment(inDefault);
    }

    /** Records whose offsets were committed to the database; outcome is {@code stored} or {@code dead-lettered}. */
    void recordsCommitted(String topic, String outcome, long records) {
        Counter.builder(meters.name("records"))
                .description("records whose offsets were committed to the database, by topic and outcome "
                        + "(stored or dead-lettered)")
                .tags("topic", topic, "outcome", outcome).register(registry).increment(records);
    }

    void deadLetter(String topic, String reason) {
        Counter.builder(meters.name("dead.letters"))
                .description("records sent to fleet.dlq instead of a table, by source topic and reason")
                .tags("topic", topic, "reason", reason).register(registry).increment();
    }

    void batchCommitted(long nanos) {
        batches.increment();
        batchLatency.record(nanos, TimeUnit.NANOSECONDS);
    }

    void dbError() {
        dbErrors.increment();
    }

    void defaultPartitionRows(PartitionedTable table, long rows) {
        defaultRows.get(table).set(rows);
    }

    /** The figures /status shows. */
    Map<String, Object> snapshot() {
        Map<String, Object> out = new LinkedHashMap<>();
        Map<String, Object> perTable = new LinkedHashMap<>();
        for (PartitionedTable table : PartitionedTable.values()) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("rowsUpserted", (long) rowsWritten.get(table).count());
            t.put("defaultPartitionWrites", (long) defaultWrites.get(table).count());
            t.put("defaultPartitionRows", defaultRows.get(table).get());
            perTable.put(table.parent(), t);
        }
        out.put("tables", perTable);
        out.put("batches", (long) batches.count());
        out.put("dbErrors", (long) dbErrors.count());
        Map<String, Object> records = new LinkedHashMap<>();
        registry.find(meters.name("records")).counters().forEach(c ->
                records.put(c.getId().getTag("topic") + "/" + c.getId().getTag("outcome"), (long) c.count()));
        out.put("records", records);
        Map<String, Object> dead = new LinkedHashMap<>();
        registry.find(meters.name("dead.letters")).counters().forEach(c ->
                dead.put(c.getId().getTag("topic") + "/" + c.getId().getTag("reason"), (long) c.count()));
        out.put("deadLetters", dead);
        return out;
    }
}
