package io.fleetpulse.launcher;

import io.fleetpulse.events.TargetWindow;
import io.fleetpulse.runtime.KafkaSettings;
import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.TopicProvisioner;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.sink.SinkService;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.postgresql.PGConnection;

/**
 * {@code fleetpulse bench sink}: the sink's rate from topic to committed rows against the rate of a raw COPY of the
 * same rows into the same partitioned table, in one run, on an in-process broker and an embedded PostgreSQL 17.
 *
 * <ol>
 *   <li>Schema: a first sink start migrates and makes the partitions, and is stopped (no records yet).</li>
 *   <li>Raw COPY: N rows of {@code target_window_1m} in one {@code COPY ... FROM STDIN (FORMAT csv)} straight into
 *       the partitioned table, in one transaction: what the database takes at most. Then the table is emptied.</li>
 *   <li>Produce: the same N windows as {@code TargetWindow} records onto {@code fleet.aggregates.1m}.</li>
 *   <li>Sink: a {@link SinkService} with default settings works them off. Its rate is N over the time from its
 *       partitions being assigned to its stored offsets ({@code sink_offset}, committed with the rows) reaching
 *       the end of the topic: every row decoded, staged, upserted and committed.</li>
 * </ol>
 */
final class SinkBench {

    private static final Duration TIMEOUT = Duration.ofMinutes(15);
    private static final String GROUP = "fleetpulse-bench-sink";
    private static final String TABLE = "target_window_1m";
    private static final List<String> COLUMNS = List.of("target_id", "window_start", "window_end", "checks", "failures",
            "error_rate", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "cpu_avg", "cpu_max", "memory_avg",
            "memory_max", "disk_avg", "disk_max", "samples");
    /** Rows per target at most: the windows must stay inside the table's retention (30 days) and premade days. */
    static final long MAX_WINDOWS_PER_TARGET = Duration.ofDays(20).toMinutes();

    record Options(long rows, int targets, Path workDir) {
        Options {
            if (rows < 1 || targets < 1) {
                throw new IllegalArgumentException("rows and targets must be at least 1");
            }
            if ((rows + targets - 1) / targets > MAX_WINDOWS_PER_TARGET) {
                throw new IllegalArgumentException(rows + " rows for " + targets + " targets are more than "
                        + MAX_WINDOWS_PER_TARGET + " one-minute windows (20 days) per target; raise --targets");
            }
        }
    }

    private final Options options;
    private final PrintStream out;
    private final Instant firstWindow;

    SinkBench(Options options, PrintStream out) {
        this.options = options;
        this.out = out;
        long windowsPerTarget = (options.rows() + options.targets() - 1) / options.targets();
        // The last window ends an hour before now: nothing lands in the future, all inside premade partitions.
        this.firstWindow = Instant.now().truncatedTo(ChronoUnit.MINUTES).minus(Duration.ofMinutes(windowsPerTarget))
                .minus(Duration.ofHours(1));
    }

    Map<String, Object> run() throws Exception {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("rows", options.rows());
        result.put("targets", options.targets());
        result.put("cores", Runtime.getRuntime().availableProcessors());
        result.put("load_average_before", BenchProcessor.loadAverage());
        out.println("Starting Kafka (in-process KRaft broker) and PostgreSQL (embedded) in " + options.workDir() + " ...");
        try (EmbeddedKafka kafka = EmbeddedKafka.start(options.workDir().resolve("kafka"));
             EmbeddedDatabase db = EmbeddedDatabase.start(options.workDir().resolve("postgres"))) {
            KafkaSettings clients = KafkaSettings.from(Settings.resolve(
                    Config.of(Map.of(KafkaSettings.BOOTSTRAP_SERVERS.name(), kafka.bootstrapServers())), KafkaSettings.KEYS));
            try (Admin admin = Admin.create(clients.admin("fleetpulse-bench", 30_000))) {
                new TopicProvisioner(admin).ensureTopics(Topics.ALL, clients.partitions(), (short) 1);
            }
            Map<String, String> settings = sinkSettings(kafka, db, clients.partitions());
            out.println("Migrating the schema and making the partitions (a first sink start) ...");
            try (SinkService schema = new SinkService(Settings.of(settings, SinkService.KEYS))) {
                schema.start();
            }
            try (Connection sql = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password())) {
                rawCopy(sql, result);
                produce(clients, result);
                sink(settings, sql, result);
            }
            out.println("Stopping PostgreSQL and Kafka ...");
        }
        double copy = (double) result.get("copy_rows_per_sec");
        double sink = (double) result.get("sink_rows_per_sec");
        result.put("ratio", BenchProcessor.round(sink / copy, 3));
        result.put("load_average_after", BenchProcessor.loadAverage());
        return result;
    }

    private Map<String, String> sinkSettings(EmbeddedKafka kafka, EmbeddedDatabase db, int partitions) {
        Map<String, String> settings = new HashMap<>();
        settings.put(KafkaSettings.BOOTSTRAP_SERVERS.name(), kafka.bootstrapServers());
        settings.put(KafkaSettings.PARTITIONS.name(), String.valueOf(partitions));
        settings.put("sink.jdbc.url", db.jdbcUrl());
        settings.put("sink.jdbc.user", db.user());
        settings.put("sink.jdbc.password", db.password());
        settings.put("sink.group.id", GROUP);
        return settings;
    }

    /** One COPY of all N rows into the partitioned table, then the table emptied for the sink. */
    private void rawCopy(Connection sql, Map<String, Object> result) throws SQLException, IOException {
        out.printf("Raw COPY of %,d rows into %s (one COPY, one transaction) ...%n", options.rows(), TABLE);
        long began = System.nanoTime();
        long copied = sql.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY " + TABLE + " ("
                + String.join(", ", COLUMNS) + ") FROM STDIN WITH (FORMAT csv)", new CsvRows());
        double seconds = BenchProcessor.secondsSince(began);
        if (copied != options.rows() || countRows(sql) != options.rows()) {
            throw new IllegalStateException("COPY wrote " + copied + " rows, not " + options.rows());
        }
        result.put("copy_seconds", BenchProcessor.round(seconds, 2));
        result.put("copy_rows_per_sec", BenchProcessor.round(options.rows() / seconds, 0));
        out.printf("  %,.0f rows/s%n", options.rows() / seconds);
        try (Statement s = sql.createStatement()) {
            s.execute("TRUNCATE " + TABLE);
        }
    }

    private void produce(KafkaSettings clients, Map<String, Object> result) {
        out.printf("Producing the same %,d windows to %s ...%n", options.rows(), Topics.AGGREGATES_1M.name());
        AtomicReference<Exception> failure = new AtomicReference<>();
        AtomicLong acked = new AtomicLong();
        long began = System.nanoTime();
        long step = Math.max(1, options.rows() / 10);
        try (KafkaProducer<String, TargetWindow> producer = new KafkaProducer<>(clients.producer("fleetpulse-bench-sink"),
                Topics.AGGREGATES_1M.keySerde().serializer(), Topics.AGGREGATES_1M.valueSerde().serializer())) {
            for (long i = 0; i < options.rows(); i++) {
                TargetWindow window = window(i);
                producer.send(new ProducerRecord<>(Topics.AGGREGATES_1M.name(), null,
                        window.getWindowEnd().toEpochMilli(), window.getTargetId(), window), (metadata, e) -> {
                            if (e != null) {
                                failure.compareAndSet(null, e);
                            } else {
                                acked.incrementAndGet();
                            }
                        });
                if ((i + 1) % step == 0) {
                    out.printf("  produced %,d / %,d%n", i + 1, options.rows());
                }
            }
            producer.flush();
        }
        if (failure.get() != null || acked.get() != options.rows()) {
            throw new IllegalStateException("the broker acknowledged " + acked.get() + " of " + options.rows()
                    + " records: " + failure.get(), failure.get());
        }
        result.put("produce_rows_per_sec", BenchProcessor.round(options.rows() / BenchProcessor.secondsSince(began), 0));
    }

    /** The sink from its partitions' assignment until its stored offsets cover every record. */
    private void sink(Map<String, String> settings, Connection sql, Map<String, Object> result) throws Exception {
        out.println("Sink: topic -> staged COPY -> upsert -> offsets, committed per batch ...");
        long began = System.nanoTime();
        try (SinkService sink = new SinkService(Settings.of(settings, SinkService.KEYS))) {
            sink.start();
            await(() -> !((List<?>) sink.status().getOrDefault("assignedPartitions", List.of())).isEmpty(), sink,
                    "the sink to be assigned its partitions");
            long assigned = System.nanoTime();
            result.put("sink_startup_seconds", BenchProcessor.round((assigned - began) / 1e9, 2));
            long[] lastPrinted = {assigned};
            await(() -> {
                long committed = committed(sql);
                if (System.nanoTime() - lastPrinted[0] > 2_000_000_000L) {
                    lastPrinted[0] = System.nanoTime();
                    out.printf("  committed %,d / %,d rows (%,.0f rows/s so far)%n", committed, options.rows(),
                            committed / BenchProcessor.secondsSince(assigned));
                }
                return committed >= options.rows();
            }, sink, "the sink's stored offsets to reach the end of " + Topics.AGGREGATES_1M.name());
            double seconds = BenchProcessor.secondsSince(assigned);
            result.put("sink_seconds", BenchProcessor.round(seconds, 2));
            result.put("sink_rows_per_sec", BenchProcessor.round(options.rows() / seconds, 0));
            result.put("sink_batch_max_records", Integer.parseInt(String.valueOf(
                    settings.getOrDefault("sink.batch.max.records", "5000"))));
            out.printf("  %,.0f rows/s%n", options.rows() / seconds);
        }
        long rows = countRows(sql);
        if (rows != options.rows()) {
            throw new IllegalStateException("the sink left " + rows + " rows in " + TABLE + ", not " + options.rows());
        }
    }

    /** Records of fleet.aggregates.1m whose offsets the sink has committed with their rows. */
    private static long committed(Connection sql) {
        try (Statement s = sql.createStatement();
             ResultSet rs = s.executeQuery("SELECT coalesce(sum(next_offset), 0) FROM sink_offset WHERE consumer_group = '"
                     + GROUP + "' AND topic = '" + Topics.AGGREGATES_1M.name() + "'")) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read sink_offset: " + e.getMessage(), e);
        }
    }

    private static long countRows(Connection sql) throws SQLException {
        try (Statement s = sql.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM " + TABLE)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void await(BooleanSupplier condition, SinkService sink, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (!sink.isLive()) {
                throw new IllegalStateException("the sink failed: " + sink.status().get("failure"));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + TIMEOUT.toMinutes() + " min waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    /** Window {@code i}: target {@code i % targets}, the {@code i / targets}-th minute; values vary with i. */
    TargetWindow window(long i) {
        Instant start = firstWindow.plus(Duration.ofMinutes(i / options.targets()));
        long checks = 6 + i % 7;
        return TargetWindow.newBuilder()
                .setTargetId(String.format("bench-%05d", i % options.targets()))
                .setWindowStart(start)
                .setWindowEnd(start.plus(Duration.ofMinutes(1)))
                .setChecks(checks)
                .setFailures(i % 3)
                .setErrorRate((i % 3) / (double) checks)
                .setLatencyP50Ms(10.0 + i % 20)
                .setLatencyP95Ms(40.0 + i % 50)
                .setLatencyP99Ms(80.0 + i % 90)
                .setCpuAvg(0.2 + (i % 50) / 100.0)
                .setCpuMax(0.3 + (i % 60) / 100.0)
                .setMemoryAvg(0.4)
                .setMemoryMax(0.5)
                .setDiskAvg(0.6)
                .setDiskMax(0.7)
                .setSamples(6)
                .build();
    }

    /** The N windows as COPY's CSV, generated as COPY reads it (N rows would not fit in memory as one text). */
    private final class CsvRows extends Reader {

        private final StringBuilder chunk = new StringBuilder();
        private int position;
        private long next;
        private final long step = Math.max(1, options.rows() / 10);

        @Override
        public int read(char[] buffer, int offset, int length) {
            if (position == chunk.length()) {
                if (next == options.rows()) {
                    return -1;
                }
                chunk.setLength(0);
                position = 0;
                for (int k = 0; k < 1000 && next < options.rows(); k++, next++) {
                    appendCsv(chunk, window(next));
                    if ((next + 1) % step == 0) {
                        out.printf("  copied %,d / %,d%n", next + 1, options.rows());
                    }
                }
            }
            int n = Math.min(length, chunk.length() - position);
            chunk.getChars(position, position + n, buffer, offset);
            position += n;
            return n;
        }

        @Override
        public void close() {
        }
    }

    private static void appendCsv(StringBuilder out, TargetWindow w) {
        out.append('"').append(w.getTargetId()).append('"')
                .append(',').append(DateTimeFormatter.ISO_INSTANT.format(w.getWindowStart()))
                .append(',').append(DateTimeFormatter.ISO_INSTANT.format(w.getWindowEnd()))
                .append(',').append(w.getChecks()).append(',').append(w.getFailures())
                .append(',').append(w.getErrorRate()).append(',').append(w.getLatencyP50Ms())
                .append(',').append(w.getLatencyP95Ms()).append(',').append(w.getLatencyP99Ms())
                .append(',').append(w.getCpuAvg()).append(',').append(w.getCpuMax())
                .append(',').append(w.getMemoryAvg()).append(',').append(w.getMemoryMax())
                .append(',').append(w.getDiskAvg()).append(',').append(w.getDiskMax())
                .append(',').append(w.getSamples()).append('\n');
    }
}
