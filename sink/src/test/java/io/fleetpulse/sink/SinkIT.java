package io.fleetpulse.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.events.TargetWindow;
import io.fleetpulse.runtime.KafkaSettings;
import io.fleetpulse.runtime.ServiceMeters;
import io.fleetpulse.runtime.ServiceState;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.DeadLetters;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.testkit.Await;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.PostgresFixture;
import io.fleetpulse.testkit.Promtool;
import io.fleetpulse.testkit.TopicProbe;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sink against a real broker and a real PostgreSQL 17. Topics are shared by the tests, so each test uses its
 * own target ids, its own database and its own consumer group; a fresh database reads the topics from the start,
 * so it also sees the other tests' records, and assertions look only at this test's keys or at whole-table
 * figures that cannot move while the test runs.
 */
class SinkIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int PARTITIONS = 2;
    private static final String AGG = Topics.AGGREGATES_1M.name();
    private static final String ALERTS = Topics.ALERTS.name();

    private static KafkaFixture kafka;
    private static PostgresFixture postgres;
    private static KafkaProducer<String, TargetWindow> windowProducer;
    private static KafkaProducer<String, AlertEvent> alertProducer;
    private static Admin admin;

    private final List<SinkService> services = new ArrayList<>();
    private String jdbcUrl;
    private Jdbi db;
    private String group;
    private SinkService latest;

    @BeforeAll
    static void startInfrastructure() throws Exception {
        kafka = KafkaFixture.start();
        postgres = PostgresFixture.start();
        kafka.createContractTopics(PARTITIONS);
        Map<String, Object> producerProps = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.LINGER_MS_CONFIG, 5);
        windowProducer = new KafkaProducer<>(producerProps, Topics.AGGREGATES_1M.keySerde().serializer(),
                Topics.AGGREGATES_1M.valueSerde().serializer());
        alertProducer = new KafkaProducer<>(producerProps, Topics.ALERTS.keySerde().serializer(),
                Topics.ALERTS.valueSerde().serializer());
        admin = kafka.admin();
    }

    @AfterAll
    static void stopInfrastructure() throws Exception {
        admin.close();
        windowProducer.close();
        alertProducer.close();
        postgres.close();
        kafka.close();
    }

    @BeforeEach
    void freshDatabase(TestInfo test) throws Exception {
        jdbcUrl = postgres.createDatabase();
        db = Jdbi.create(jdbcUrl, postgres.user(), postgres.password());
        group = "sink-it-" + test.getTestMethod().orElseThrow().getName();
    }

    @AfterEach
    void closeServices() {
        services.forEach(SinkService::close);
    }

    @Test
    void shouldLandWindowsInTheirDailyPartitionsAndAlertsInAlertEvent() {
        Instant midnight = LocalDate.now(ZoneOffset.UTC).atStartOfDay(ZoneOffset.UTC).toInstant();
        sendWindows(List.of(
                Records.window("land-a", midnight.minus(Duration.ofMinutes(1)), 4),
                Records.window("land-a", midnight, 5),
                Records.window("land-a", midnight.plus(Duration.ofDays(1)).plus(Duration.ofMinutes(5)), 6)));
        Instant fired = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        sendAlerts(List.of(Records.alert("fp-land", "land-a", AlertState.FIRING, fired),
                Records.alert("fp-land", "land-a", AlertState.RESOLVED, fired.plusSeconds(60))));

        SinkService sink = startSink(Map.of());
        awaitCaughtUp();

        Map<String, String> partitionOf = db.withHandle(h -> h.createQuery(
                        "SELECT window_start, tableoid::regclass::text AS p FROM target_window_1m WHERE target_id = 'land-a'")
                .map((rs, ctx) -> Map.entry(rs.getObject(1, OffsetDateTime.class).toInstant().toString(), rs.getString(2)))
                .list()).stream().collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
        assertEquals(Map.of(
                midnight.minus(Duration.ofMinutes(1)).toString(), dailyPartition(midnight.minus(Duration.ofDays(1))),
                midnight.toString(), dailyPartition(midnight),
                midnight.plus(Duration.ofDays(1)).plus(Duration.ofMinutes(5)).toString(),
                dailyPartition(midnight.plus(Duration.ofDays(1)))), partitionOf);

        Map<String, Object> row = db.withHandle(h -> h.createQuery("SELECT * FROM target_window_1m"
                + " WHERE target_id = 'land-a' AND window_start = :t").bind("t", OffsetDateTime.ofInstant(midnight, ZoneOffset.UTC))
                .mapToMap().one());
        assertEquals(5L, row.get("checks"));
        assertEquals(1L, row.get("failures"));
        assertEquals(0.2, (Double) row.get("error_rate"), 1e-12);
        assertEquals(12.5, row.get("latency_p50_ms"));
        assertNull(row.get("latency_p99_ms"));
        assertEquals(0.9, row.get("disk_max"));
        assertEquals(6L, row.get("samples"));
        assertEquals(midnight.plus(Duration.ofMinutes(1)), ((java.sql.Timestamp) row.get("window_end")).toInstant());

        List<Map<String, Object>> alerts = db.withHandle(h -> h.createQuery("SELECT state, severity, labels ->> 'zone' AS zone,"
                + " summary, evidence_value, evidence_samples, ends_at, tableoid::regclass::text AS p FROM alert_event"
                + " WHERE fingerprint = 'fp-land' ORDER BY occurred_at").mapToMap().list());
        assertEquals(2, alerts.size());
        assertEquals("FIRING", alerts.get(0).get("state"));
        assertEquals("RESOLVED", alerts.get(1).get("state"));
        assertEquals("CRITICAL", alerts.get(0).get("severity"));
        assertEquals("eu-1", alerts.get(0).get("zone"));
        assertEquals("CPU above 90% on land-a, \"sustained\"", alerts.get(0).get("summary"));
        assertEquals(97.5, alerts.get(0).get("evidence_value"));
        assertEquals(30, alerts.get(0).get("evidence_samples"));
        assertNull(alerts.get(0).get("ends_at"));
        assertEquals("alert_event_p" + DateTimeFormatter.ofPattern("yyyyMM").withZone(ZoneOffset.UTC).format(fired),
                alerts.get(0).get("p"));

        assertTrue(sink.isReady());
        assertFalse(((List<?>) sink.status().get("assignedPartitions")).isEmpty());
        assertTrue(counter(sink, "fleetpulse.sink.batches") >= 1);
    }

    @Test
    void shouldLandHourlyWindowsInTargetWindow1hFromTheRegistryAlone() {
        Instant hour = Instant.now().truncatedTo(ChronoUnit.HOURS);
        TargetWindow first = Records.window("hourly-a", hour, 60);
        first.setWindowEnd(hour.plus(Duration.ofHours(1)));
        windowProducer.send(new ProducerRecord<>(Topics.AGGREGATES_1H.name(), "hourly-a", first));
        windowProducer.send(new ProducerRecord<>(Topics.AGGREGATES_1H.name(), "hourly-a", Records.window("hourly-a", hour, 61)));
        windowProducer.flush();

        SinkService sink = startSink(Map.of());
        awaitCaughtUp();
        Map<String, Object> row = db.withHandle(h -> h.createQuery("SELECT checks, tableoid::regclass::text AS p"
                + " FROM target_window_1h WHERE target_id = 'hourly-a'").mapToMap().one());
        assertEquals(61L, row.get("checks"), "the last record of a key wins");
        assertEquals("target_window_1h_p" + DateTimeFormatter.ofPattern("yyyyMM").withZone(ZoneOffset.UTC).format(hour),
                row.get("p"), "a monthly partition");
        assertEquals(0, countRows("hourly-"), "not mixed into target_window_1m");
        assertTrue(sink.meterRegistry().get("fleetpulse.sink.rows.upserted").tag("table", "target_window_1h")
                .counter().count() >= 1);
    }

    @Test
    void shouldKeepTheLatestHealthScoreOfEachTargetPerWindowInTargetHealth() {
        Instant window = Instant.now().truncatedTo(ChronoUnit.MINUTES);
        Instant before = window.minus(Duration.ofMinutes(1));
        String bootstrap = kafka.bootstrapServers();
        TopicProbe.send(bootstrap, Topics.HEALTH, "health-a", Records.health("health-a", before, 95));
        TopicProbe.send(bootstrap, Topics.HEALTH, "health-a", Records.health("health-a", window, 70));
        TopicProbe.send(bootstrap, Topics.HEALTH, "health-a", Records.health("health-a", window, 40)); // a rescore
        TopicProbe.send(bootstrap, Topics.HEALTH, "health-gone", Records.health("health-gone", window, 99));
        TopicProbe.sendRaw(bootstrap, Topics.HEALTH.name(), "health-gone".getBytes(StandardCharsets.UTF_8), null);

        SinkService sink = startSink(Map.of());
        awaitCaughtUp();
        List<Map<String, Object>> rows = db.withHandle(h -> h.createQuery("SELECT window_start, score, status,"
                + " failing_checks->>0 AS first_failing, tableoid::regclass::text AS p FROM target_health"
                + " WHERE target_id = 'health-a' ORDER BY window_start").mapToMap().list());
        assertEquals(2, rows.size(), "one row per window: " + rows);
        assertEquals(95.0, rows.get(0).get("score"));
        assertEquals(40.0, rows.get(1).get("score"), "the rescore of a window replaces it");
        assertEquals("DEGRADED", rows.get(1).get("status"));
        assertEquals("http", rows.get(1).get("first_failing"));
        assertEquals("target_health_p" + DateTimeFormatter.ofPattern("yyyyMMdd").withZone(ZoneOffset.UTC).format(window),
                rows.get(1).get("p"), "a daily partition");
        assertEquals(1L, (long) db.withHandle(h -> h.createQuery("SELECT count(*) FROM target_health"
                + " WHERE target_id = 'health-gone'").mapTo(Long.class).one()), "a tombstone keeps the history");
        assertTrue(sink.meterRegistry().get("fleetpulse.sink.records").tag("topic", Topics.HEALTH.name())
                .tag("outcome", SinkBatch.TOMBSTONE).counter().count() >= 1);
        assertEquals(0, awaitDeadLetters(l -> l.getSourceTopic().equals(Topics.HEALTH.name()), 0).size(),
                "tombstones of a compacted topic are no dead letters");
    }

    @Test
    void shouldKeepEveryTargetVersionAndMarkDecommissionedTargetsRemoved() {
        Instant t0 = Instant.now().truncatedTo(ChronoUnit.MILLIS).minus(Duration.ofHours(1));
        String bootstrap = kafka.bootstrapServers();
        byte[] goneKey = "inv-gone".getBytes(StandardCharsets.UTF_8);
        TopicProbe.send(bootstrap, Topics.TARGETS, "inv-a", Records.target("inv-a", "web", t0));
        TopicProbe.send(bootstrap, Topics.TARGETS, "inv-a", Records.target("inv-a", "api", t0.plusSeconds(60)));
        TopicProbe.send(bootstrap, Topics.TARGETS, "inv-gone", Records.target("inv-gone", "web", t0));
        TopicProbe.sendRaw(bootstrap, Topics.TARGETS.name(), goneKey, null);
        TopicProbe.send(bootstrap, Topics.TARGETS, "inv-back", Records.target("inv-back", "web", t0));
        TopicProbe.sendRaw(bootstrap, Topics.TARGETS.name(), "inv-back".getBytes(StandardCharsets.UTF_8), null);

        startSink(Map.of());
        awaitCaughtUp();
        // Back after its removal: a version newer than the tombstone is current again.
        TopicProbe.send(bootstrap, Topics.TARGETS, "inv-back", Records.target("inv-back", "db", Instant.now().plusSeconds(5)));
        awaitCaughtUp();
        assertEquals(List.of("api", "web"), db.withHandle(h -> h.createQuery("SELECT group_name FROM targets"
                + " WHERE target_id = 'inv-a' ORDER BY group_name").mapTo(String.class).list()), "every version");
        Map<String, String> current = db.withHandle(h -> h.createQuery("SELECT target_id, group_name FROM current_targets"
                + " WHERE target_id LIKE 'inv-%'").map((rs, ctx) -> Map.entry(rs.getString(1), rs.getString(2))).list())
                .stream().collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
        assertEquals(Map.of("inv-a", "api", "inv-back", "db"), current);
        Map<String, Object> gone = db.withHandle(h -> h.createQuery("SELECT labels->>'zone' AS zone,"
                + " critical_checks->>0 AS critical, removed_at FROM targets WHERE target_id = 'inv-gone'").mapToMap().one());
        assertEquals("eu-1", gone.get("zone"));
        assertEquals("db", gone.get("critical"));
        assertTrue(gone.get("removed_at") != null, "the tombstone set removed_at and kept the row");
        assertEquals(0, awaitDeadLetters(l -> l.getSourceTopic().equals(Topics.TARGETS.name()), 0).size());
    }

    @Test
    void shouldKeepTheNotificationAuditAndEveryDeadLetterInTheirTables() {
        Instant decided = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        NotificationRecord throttled = NotificationRecord.newBuilder()
                .setNotificationId("n-audit-1").setFingerprint("fp-audit").setRuleId("cpu-high").setTargetId("audit-a")
                .setReceiver("pagerduty").setReceiverType("pagerduty").setAlertState(AlertState.FIRING)
                .setOutcome(NotificationOutcome.THROTTLED).setAttempt(1).setHttpStatus(null).setError("rate limit")
                .setDecidedAt(decided).setReceiverId("pagerduty:abc").setDeployment("alerting").build();
        TopicProbe.send(kafka.bootstrapServers(), Topics.NOTIFICATIONS, "fp-audit", throttled);
        // A Slack group notification of two alerts: one record per alert, same id, attempt, outcome and time.
        for (String fingerprint : List.of("fp-group-a", "fp-group-b")) {
            TopicProbe.send(kafka.bootstrapServers(), Topics.NOTIFICATIONS, fingerprint, NotificationRecord.newBuilder(throttled)
                    .setNotificationId("n-group-1").setFingerprint(fingerprint).setReceiver("slack").setReceiverType("slack")
                    .setOutcome(NotificationOutcome.SENT).setError(null).setHttpStatus(200).build());
        }
        byte[] garbage = "audit garbage".getBytes(StandardCharsets.UTF_8);
        TopicProbe.sendRaw(kafka.bootstrapServers(), AGG, "audit-garbage".getBytes(StandardCharsets.UTF_8), garbage);
        // A dead letter that cannot be stored (NUL in its text) must not be dead-lettered again: that would loop.
        TopicProbe.send(kafka.bootstrapServers(), Topics.DLQ, null, DeadLetters.of("collector", "fleet.checks", 0, 7L,
                null, null, DeadLetters.INVALID, "bad\0text", decided));

        SinkService sink = startSink(Map.of());
        awaitCaughtUp();
        await(() -> db.withHandle(h -> h.createQuery("SELECT count(*) FROM dead_letter WHERE original_key = :k")
                .bind("k", "audit-garbage".getBytes(StandardCharsets.UTF_8)).mapTo(Long.class).one()) == 1,
                "the sink's own dead letter comes back through fleet.dlq into dead_letter");
        awaitCaughtUp();
        Map<String, Object> letter = db.withHandle(h -> h.createQuery("SELECT service, source_topic, reason, original_value,"
                + " tableoid::regclass::text AS p FROM dead_letter WHERE original_key = :k")
                .bind("k", "audit-garbage".getBytes(StandardCharsets.UTF_8)).mapToMap().one());
        assertEquals("sink", letter.get("service"));
        assertEquals(AGG, letter.get("source_topic"));
        assertEquals(DeadLetters.UNDECODABLE, letter.get("reason"));
        assertTrue(java.util.Arrays.equals(garbage, (byte[]) letter.get("original_value")));
        assertTrue(String.valueOf(letter.get("p")).startsWith("dead_letter_p"), "a monthly partition");

        Map<String, Object> audit = db.withHandle(h -> h.createQuery("SELECT receiver, outcome, attempt, http_status, error,"
                + " decided_at FROM notification WHERE notification_id = 'n-audit-1'").mapToMap().one());
        assertEquals("THROTTLED", audit.get("outcome"));
        assertEquals("rate limit", audit.get("error"));
        assertNull(audit.get("http_status"));
        assertEquals(decided, ((java.sql.Timestamp) audit.get("decided_at")).toInstant());
        assertEquals(List.of("fp-group-a", "fp-group-b"), db.withHandle(h -> h.createQuery("SELECT fingerprint FROM"
                + " notification WHERE notification_id = 'n-group-1' ORDER BY fingerprint").mapTo(String.class).list()),
                "each alert of a group notification keeps its own audit row");

        assertEquals(1.0, sink.meterRegistry().get("fleetpulse.sink.records").tag("topic", Topics.DLQ.name())
                .tag("outcome", SinkBatch.UNSTORABLE).counter().count());
        assertEquals(0, awaitDeadLetters(l -> l.getSourceTopic().equals(Topics.DLQ.name()), 0).size(),
                "nothing from fleet.dlq is dead-lettered again");
    }

    @Test
    void shouldLeaveRowsUnchangedWhenTheSameRecordsAreReplayed() {
        Instant start = Instant.now().truncatedTo(ChronoUnit.MINUTES).minus(Duration.ofHours(1));
        List<TargetWindow> originals = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            originals.add(Records.window("replay-" + (i % 4), start.plus(Duration.ofMinutes(i)), i + 1));
        }
        List<AlertEvent> alerts = List.of(Records.alert("fp-replay", "replay-0", AlertState.FIRING, start),
                Records.alert("fp-replay", "replay-0", AlertState.RESOLVED, start.plusSeconds(300)));
        sendWindows(originals);
        sendAlerts(alerts);

        SinkService first = startSink(Map.of());
        awaitCaughtUp();
        List<Map<String, Object>> before = snapshot("replay-");
        Map<String, Long> countsBefore = withoutDeadLetters(SinkQueries.rowCounts(jdbcUrl, postgres.user(), postgres.password()));
        assertEquals(20, before.stream().filter(r -> r.containsKey("window_start")).count());
        double upsertedBefore = upserted(first);

        // Duplicates on the topic: nothing changes, not even ingested_at (identical rows are not rewritten).
        sendWindows(originals);
        sendAlerts(alerts);
        awaitCaughtUp();
        assertEquals(before, snapshot("replay-"));
        assertEquals(upsertedBefore, upserted(first), "identical rows are not rewritten");

        // Offsets reset in the table and a new instance: the whole topic is written again, to the same end state.
        first.close();
        db.useHandle(h -> h.createUpdate("UPDATE sink_offset SET next_offset = 0 WHERE consumer_group = :g")
                .bind("g", group).execute());
        startSink(Map.of());
        awaitCaughtUp();
        assertEquals(before, snapshot("replay-"));
        assertEquals(countsBefore, withoutDeadLetters(SinkQueries.rowCounts(
                postgres.dataSource(jdbcUrl.substring(jdbcUrl.lastIndexOf('/') + 1)))));

        // A corrected record for an existing key replaces the row instead of adding one.
        TargetWindow corrected = Records.window("replay-0", start, 99);
        sendWindows(List.of(corrected));
        awaitCaughtUp();
        assertEquals(countsBefore, withoutDeadLetters(SinkQueries.rowCounts(jdbcUrl, postgres.user(), postgres.password())));
        assertEquals(99L, (long) db.withHandle(h -> h.createQuery("SELECT checks FROM target_window_1m"
                        + " WHERE target_id = 'replay-0' AND window_start = :t")
                .bind("t", OffsetDateTime.ofInstant(start, ZoneOffset.UTC)).mapTo(Long.class).one()));
    }

    @Test
    void shouldLoseAndDoubleCountNothingWhenClosedMidStream() throws Exception {
        Instant start = Instant.now().truncatedTo(ChronoUnit.MINUTES).minus(Duration.ofDays(1));
        AtomicInteger sent = new AtomicInteger();
        AtomicBoolean secondStarted = new AtomicBoolean();
        // Keeps producing until the second instance is up, so records arrive while the first closes and after.
        Thread producer = new Thread(() -> {
            int i = 0;
            while ((i < 1000 || !secondStarted.get()) && i < 50_000) {
                windowProducer.send(new ProducerRecord<>(AGG, "mid-" + (i % 50),
                        Records.window("mid-" + (i % 50), start.plus(Duration.ofMinutes(i / 50)), i % 7 + 1)));
                sent.set(++i);
                if (i % 50 == 0) {
                    windowProducer.flush();
                    sleep(20);
                }
            }
            windowProducer.flush();
        }, "mid-stream-producer");

        Map<String, String> smallBatches = Map.of("sink.batch.max.records", "50");
        SinkService first = startSink(smallBatches);
        producer.start();
        await(() -> countRows("mid-") > 0, "first rows written");
        first.close();
        long committedByFirst = recordsCommitted(first, AGG);
        int sentAtClose = sent.get();

        SinkService second = startSink(smallBatches);
        secondStarted.set(true);
        producer.join(WAIT.toMillis());
        awaitCaughtUp();

        int total = sent.get();
        assertTrue(sentAtClose < total, "records kept arriving after the first instance closed");
        assertTrue(committedByFirst > 0 && recordsCommitted(second, AGG) > 0, "both instances did part of the work");
        assertEquals(total, countRows("mid-"));
        long wrongValues = db.withHandle(h -> h.createQuery("SELECT count(*) FROM target_window_1m WHERE target_id LIKE 'mid-%'"
                + " AND checks <> ((extract(epoch FROM window_start - :start)::bigint / 60) * 50"
                + " + substring(target_id FROM 5)::int) % 7 + 1")
                .bind("start", OffsetDateTime.ofInstant(start, ZoneOffset.UTC)).mapTo(Long.class).one());
        assertEquals(0, wrongValues, "every row holds the value of its own record");
        // Each record of the topic was committed by exactly one of the two instances: none was processed twice.
        assertEquals(endOffsetsSum(AGG), committedByFirst + recordsCommitted(second, AGG));
    }

    @Test
    void shouldRouteWindowsFarOutsideThePremadeRangeToDefaultAndReportThem() {
        Instant longAgo = Instant.parse("2000-01-01T00:00:00Z");
        Instant farAhead = Instant.now().plus(Duration.ofDays(60)).truncatedTo(ChronoUnit.MINUTES);
        sendWindows(List.of(Records.window("far-1", longAgo, 1), Records.window("far-2", farAhead, 2)));

        SinkService sink = startSink(Map.of("sink.partitions.interval", "1s"));
        awaitCaughtUp();
        assertEquals(2.0, sink.meterRegistry().get("fleetpulse.sink.default.partition.writes")
                .tag("table", "target_window_1m").counter().count());
        // Maintenance deletes the DEFAULT row that is past retention and counts the one still ahead.
        await(() -> sink.meterRegistry().get("fleetpulse.sink.default.partition.rows").tag("table", "target_window_1m")
                .gauge().value() == 1.0, "partition maintenance expires the old DEFAULT row and counts the other");
        assertEquals(List.of("target_window_1m_default"), partitionsOf("far-"));
        sink.close();

        // When the clock reaches a range that has rows in DEFAULT, its new partition takes them over.
        PartitionManager dayBefore = new PartitionManager(SinkDatabase.jdbi(jdbcUrl, postgres.user(), postgres.password()),
                List.of(new PartitionScheme(PartitionedTable.TARGET_WINDOW_1M, Duration.ofDays(30), 3)),
                Clock.fixed(farAhead.minus(Duration.ofDays(1)), ZoneOffset.UTC), new SinkMetrics(ServiceMeters.create("sink")));
        PartitionManager.Report report = dayBefore.maintain();
        assertTrue(report.created().contains(dailyPartition(farAhead)), report.toString());
        assertEquals(0L, report.defaultRows().get(PartitionedTable.TARGET_WINDOW_1M));
        assertEquals(List.of(dailyPartition(farAhead)), partitionsOf("far-"));
    }

    @Test
    void shouldDeadLetterGarbageAndKeepWritingTheRecordsAfterIt() {
        byte[] garbage = "definitely not avro".getBytes(StandardCharsets.UTF_8);
        TopicProbe.sendRaw(kafka.bootstrapServers(), AGG, "dlq-1".getBytes(StandardCharsets.UTF_8), garbage);
        sendWindows(List.of(Records.window("dlq-1", Instant.now().truncatedTo(ChronoUnit.MINUTES), 3)));

        SinkService sink = startSink(Map.of());
        awaitCaughtUp();
        assertEquals(1, countRows("dlq-"));
        var letters = TopicProbe.readUntil(kafka.bootstrapServers(), Topics.DLQ,
                records -> records.stream().anyMatch(r -> isOurGarbage(r.value(), garbage)), WAIT);
        DeadLetter letter = letters.stream().map(r -> r.value()).filter(v -> isOurGarbage(v, garbage)).findFirst().orElseThrow();
        assertEquals(DeadLetters.UNDECODABLE, letter.getReason());
        assertEquals("sink", letter.getService());
        assertTrue(sink.meterRegistry().get("fleetpulse.sink.dead.letters").tag("reason", DeadLetters.UNDECODABLE)
                .counter().count() >= 1);
    }

    @Test
    void shouldIsolateRowsTheDatabaseRefusesAndWriteEverythingElseOnce() {
        // A rule only the database knows (a CHECK constraint) makes two rows poison: CopyRows cannot foresee it.
        SinkDatabase.migrate(jdbcUrl, postgres.user(), postgres.password(), Instant.now().plus(WAIT));
        db.useHandle(h -> h.execute("ALTER TABLE target_window_1m ADD CONSTRAINT checks_not_666 CHECK (checks <> 666)"));
        Instant t = Instant.now().truncatedTo(ChronoUnit.MINUTES);
        List<TargetWindow> windows = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            windows.add(Records.window("poison-" + i, t, i == 5 || i == 13 ? 666 : i + 1));
        }
        sendWindows(windows);
        sendAlerts(List.of(Records.alert("fp-poison", "poison-0", AlertState.FIRING, t)));

        SinkService sink = startSink(Map.of());
        awaitCaughtUp();
        assertEquals(18, countRows("poison-"), "every row but the two poison ones landed");
        assertEquals(1L, (long) db.withHandle(h -> h.createQuery("SELECT count(*) FROM alert_event"
                + " WHERE fingerprint = 'fp-poison'").mapTo(Long.class).one()), "alerts in the same batch landed too");
        assertEquals(endOffsetsSum(AGG), recordsCommitted(sink, AGG), "offsets moved past the poison rows");
        assertTrue(sink.meterRegistry().get("fleetpulse.sink.records").tag("topic", AGG)
                .tag("outcome", SinkBatch.DEAD_LETTERED).counter().count() >= 2.0, "counted as dead-lettered");

        List<DeadLetter> rejected = awaitDeadLetters(l -> SinkBatch.REJECTED.equals(l.getReason())
                && keyOf(l).startsWith("poison-"), 2);
        assertEquals(List.of("poison-13", "poison-5"), rejected.stream().map(SinkIT::keyOf).sorted().toList(),
                "each poison row dead-lettered once");
        for (DeadLetter letter : rejected) {
            assertTrue(letter.getError().contains("23514") && letter.getError().contains("checks_not_666"),
                    letter.getError());
        }
        assertTrue(sink.isReady());
    }

    @Test
    void shouldRetryFromTheStoredOffsetsWhenTheDatabaseFails() {
        SinkService sink = startSink(Map.of());
        awaitCaughtUp();
        db.useHandle(h -> h.execute("ALTER TABLE sink_offset RENAME TO sink_offset_parked"));
        List<TargetWindow> windows = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            windows.add(Records.window("retry-" + i, Instant.now().truncatedTo(ChronoUnit.MINUTES), i + 1));
        }
        // A dead letter in the failing batch: every retry re-reads it, and it must still go out only once.
        TopicProbe.sendRaw(kafka.bootstrapServers(), AGG, "retry-garbage".getBytes(StandardCharsets.UTF_8),
                "not avro either".getBytes(StandardCharsets.UTF_8));
        sendWindows(windows);
        await(() -> counter(sink, "fleetpulse.sink.db.errors") >= 3, "failed batches are counted");
        assertEquals(0, countRows("retry-"), "a failed batch leaves no rows: its rows and offsets share one transaction");
        assertFalse(sink.isReady(), "not ready while the database refuses the work");

        db.useHandle(h -> h.execute("ALTER TABLE sink_offset_parked RENAME TO sink_offset"));
        awaitCaughtUp();
        assertEquals(5, countRows("retry-"));
        assertEquals(endOffsetsSum(AGG), recordsCommitted(sink, AGG), "retried records are committed once");
        await(sink::isReady, "ready again");
        assertEquals(1, awaitDeadLetters(l -> keyOf(l).equals("retry-garbage"), 1).size(),
                "a batch retried after database failures does not re-send its dead letters");
    }

    @Test
    void shouldReportAHungDatabaseNotReadyAndRecoverWithNothingLostOrDoubled() throws Exception {
        SinkService sink = startSink(Map.of("sink.jdbc.socket.timeout", "2s", "sink.jdbc.connect.timeout", "1s",
                "sink.ready.db.timeout", "1s"));
        awaitCaughtUp();
        await(sink::isReady, "ready before the freeze");
        long committedBefore = recordsCommitted(sink, AGG);
        ch.qos.logback.classic.Logger writerLog = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(SinkWriter.class);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        writerLog.addAppender(logged);
        List<ProcessHandle> server = postgresProcesses();
        List<TargetWindow> windows = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            windows.add(Records.window("hung-" + i, Instant.now().truncatedTo(ChronoUnit.MINUTES), i + 1));
        }
        signal("STOP", server);
        try {
            sendWindows(windows);
            await(() -> !sink.isReady(), "a hung database makes the sink not ready");
            await(() -> sink.status().get("databaseProblem") != null, "/status says why");
            assertEquals(Boolean.FALSE, sink.status().get("databaseUp"), sink.status().toString());
            await(() -> counter(sink, "fleetpulse.sink.db.errors") >= 2, "the calls time out and are retried");
        } finally {
            signal("CONT", server);
            writerLog.detachAppender(logged);
        }
        assertTrue(logged.list.stream().anyMatch(e -> e.getLevel() == Level.WARN
                && e.getFormattedMessage().contains("database")), "a log line says the database does not answer");
        awaitCaughtUp();
        await(sink::isReady, "ready again once the server runs");
        assertEquals(50, countRows("hung-"), "nothing lost");
        assertEquals(endOffsetsSum(AGG), recordsCommitted(sink, AGG), "nothing committed twice");
        assertTrue(recordsCommitted(sink, AGG) - committedBefore >= 50);
    }

    @Test
    void shouldExposeHistogramsAndConsumerLagThatPromtoolAccepts() throws Exception {
        sendWindows(List.of(Records.window("metrics-1", Instant.now().truncatedTo(ChronoUnit.MINUTES), 3)));
        SinkService sink = startSink(Map.of());
        awaitCaughtUp();
        String scrape = ((PrometheusMeterRegistry) sink.meterRegistry()).scrape();

        assertTrue(scrape.contains("fleetpulse_sink_batch_latency_seconds_bucket{"), "a histogram, not a summary");
        assertFalse(scrape.contains("quantile="), "no client-side percentiles");
        assertTrue(scrape.contains("# HELP fleetpulse_sink_records_total "), "every meter has HELP");
        assertTrue(scrape.contains("kafka_consumer_fetch_manager_records_lag_max"), "consumer lag is exported");
        assertTrue(scrape.contains("kafka_producer_record_send_total"), "the DLQ producer's client series too");
        Promtool.assertNoFindings("the sink's /metrics", scrape);
    }

    @Test
    void shouldFailTheServiceWhenTheWriterDiesOnAStoredOffsetThatIsNotAKafkaOffset() throws Exception {
        // The fault: a row in sink_offset that no seek can take. Database errors are retried forever; this is not
        // a database error, so it ends the writer loop, and the sink must turn FAILED (the process then exits 1).
        SinkDatabase.migrate(jdbcUrl, postgres.user(), postgres.password(), Instant.now().plus(WAIT));
        db.useHandle(h -> h.createUpdate("INSERT INTO sink_offset (consumer_group, topic, partition, next_offset)"
                + " VALUES (:g, :t, 0, -1)").bind("g", group).bind("t", AGG).execute());
        SinkService sink = new SinkService(settings(Map.of()));
        services.add(sink);
        try {
            sink.start();
        } catch (IllegalStateException e) {
            // The writer may die before start() returns; then start() says so, and the sink is FAILED all the same.
            assertTrue(e.getMessage().contains("did not start"), e.toString());
        }

        Throwable failure = sink.failure().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(ServiceState.FAILED, sink.state());
        assertFalse(sink.isLive(), "a dead writer is not live");
        assertFalse(sink.isReady());
        assertTrue(causes(failure).contains("sink_offset holds next_offset -1 for " + AGG + "-0"), causes(failure));
        assertTrue(String.valueOf(sink.status().get("failure")).contains("writer"), sink.status().toString());
    }

    @Test
    void shouldNeverLogAPasswordWrittenIntoTheJdbcUrl() {
        String secret = "hunter2-in-the-url";
        ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
        ch.qos.logback.classic.Logger flyway = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("org.flywaydb");
        Level flywayLevel = flyway.getLevel();
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        root.addAppender(logged);
        flyway.setLevel(Level.INFO);
        try {
            // The embedded PostgreSQL trusts local connections, so any password is accepted.
            jdbcUrl = jdbcUrl + "?password=" + secret;
            SinkService sink = startSink(Map.of());
            awaitCaughtUp();
            assertFalse(sink.status().toString().contains(secret), sink.status().toString());
        } finally {
            root.detachAppender(logged);
            flyway.setLevel(flywayLevel);
        }
        assertTrue(logged.list.stream().anyMatch(e -> e.getFormattedMessage().contains("password=****")),
                "the masked URL is logged");
        for (ILoggingEvent event : logged.list) {
            String text = event.getFormattedMessage() + (event.getThrowableProxy() == null ? ""
                    : event.getThrowableProxy().getMessage());
            assertFalse(text.contains(secret), text);
        }
    }

    // ---- helpers

    /**
     * Row counts without dead_letter: re-reading a topic from reset offsets re-sends the dead letters of the other
     * tests' garbage on it (at least once), and each re-sent letter is a new row (new failed_at).
     */
    private static Map<String, Long> withoutDeadLetters(Map<String, Long> counts) {
        Map<String, Long> out = new java.util.LinkedHashMap<>(counts);
        out.remove(PartitionedTable.DEAD_LETTER.parent());
        return out;
    }

    /** The postmaster and every process it forked: what "the server" is to a client. */
    private List<ProcessHandle> postgresProcesses() {
        // Looked up while the connection is open: its backend exits when the connection closes.
        ProcessHandle postmaster = db.withHandle(h -> {
            long backend = h.createQuery("SELECT pg_backend_pid()").mapTo(Long.class).one();
            return ProcessHandle.of(backend).flatMap(ProcessHandle::parent).orElseThrow(
                    () -> new AssertionError("no parent process of backend " + backend));
        });
        List<ProcessHandle> all = new ArrayList<>(List.of(postmaster));
        all.addAll(postmaster.descendants().toList());
        return all;
    }

    private static void signal(String signal, List<ProcessHandle> processes) throws Exception {
        List<String> command = new ArrayList<>(List.of("kill", "-" + signal));
        processes.forEach(p -> command.add(String.valueOf(p.pid())));
        Process kill = new ProcessBuilder(command).redirectErrorStream(true).start();
        // A backend that ended meanwhile is no error: the rest were signalled.
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS), "kill -" + signal + " returned");
    }

    private SinkService startSink(Map<String, String> overrides) {
        SinkService sink = new SinkService(settings(overrides));
        services.add(sink);
        try {
            sink.start();
        } catch (Exception e) {
            throw new AssertionError("the sink did not start", e);
        }
        latest = sink;
        return sink;
    }

    private Settings settings(Map<String, String> overrides) {
        Map<String, String> values = new HashMap<>(Map.of(
                KafkaSettings.BOOTSTRAP_SERVERS.name(), kafka.bootstrapServers(),
                KafkaSettings.PARTITIONS.name(), String.valueOf(PARTITIONS),
                "sink.jdbc.url", jdbcUrl,
                "sink.jdbc.user", postgres.user(),
                "sink.jdbc.password", postgres.password(),
                "sink.group.id", group,
                "sink.poll.timeout", "100ms",
                "sink.retry.backoff.max", "400ms"));
        // Short, so each start does not create ten years of empty monthly targets partitions.
        values.put("sink.retention.targets", "60d");
        values.putAll(overrides);
        return Settings.of(values, SinkService.KEYS);
    }

    private static String causes(Throwable t) {
        StringBuilder out = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            out.append(c).append(" <- ");
        }
        return out.toString();
    }

    private static void sendWindows(List<TargetWindow> windows) {
        windows.forEach(w -> windowProducer.send(new ProducerRecord<>(AGG, w.getTargetId(), w)));
        windowProducer.flush();
    }

    private static void sendAlerts(List<AlertEvent> alerts) {
        alerts.forEach(a -> alertProducer.send(new ProducerRecord<>(ALERTS, a.getFingerprint(), a)));
        alertProducer.flush();
    }

    /** Waits until the database's stored offsets reach the end of both topics: everything sent so far is written. */
    private void awaitCaughtUp() {
        await(() -> {
            assertTrue(latest.isLive(), "the sink died: " + latest.status().get("failure"));
            Map<TopicPartition, Long> stored = new HashMap<>();
            db.withHandle(h -> h.createQuery("SELECT topic, partition, next_offset FROM sink_offset WHERE consumer_group = :g")
                    .bind("g", group)
                    .map((rs, ctx) -> Map.entry(new TopicPartition(rs.getString(1), rs.getInt(2)), rs.getLong(3))).list())
                    .forEach(e -> stored.put(e.getKey(), e.getValue()));
            return java.util.Arrays.stream(PartitionedTable.values()).allMatch(table -> endOffsets(table.topic())
                    .entrySet().stream().allMatch(e -> stored.getOrDefault(e.getKey(), 0L).equals(e.getValue())));
        }, "stored offsets reach the end of the topics");
    }

    private static Map<TopicPartition, Long> endOffsets(String topic) {
        return Accounting.endOffsets(admin, topic);
    }

    private static long endOffsetsSum(String topic) {
        return endOffsets(topic).values().stream().mapToLong(Long::longValue).sum();
    }

    private long countRows(String targetPrefix) {
        try {
            return db.withHandle(h -> h.createQuery("SELECT count(*) FROM target_window_1m WHERE target_id LIKE :p")
                    .bind("p", targetPrefix + "%").mapTo(Long.class).one());
        } catch (RuntimeException e) {
            return 0; // schema not migrated yet
        }
    }

    private List<String> partitionsOf(String targetPrefix) {
        return db.withHandle(h -> h.createQuery("SELECT tableoid::regclass::text FROM target_window_1m"
                        + " WHERE target_id LIKE :p ORDER BY window_start")
                .bind("p", targetPrefix + "%").mapTo(String.class).list());
    }

    /** Every column of this test's rows in both tables, ingested_at included, in a stable order. */
    private List<Map<String, Object>> snapshot(String targetPrefix) {
        return db.withHandle(h -> {
            List<Map<String, Object>> rows = new ArrayList<>(h.createQuery("SELECT * FROM target_window_1m"
                    + " WHERE target_id LIKE :p ORDER BY target_id, window_start").bind("p", targetPrefix + "%").mapToMap().list());
            rows.addAll(h.createQuery("SELECT *, labels::text AS labels_text FROM alert_event"
                    + " WHERE target_id LIKE :p ORDER BY fingerprint, occurred_at, state").bind("p", targetPrefix + "%")
                    .mapToMap().list().stream().peek(r -> r.remove("labels")).toList());
            return rows;
        });
    }

    private static String dailyPartition(Instant day) {
        return "target_window_1m_p" + DateTimeFormatter.ofPattern("yyyyMMdd").withZone(ZoneOffset.UTC).format(day);
    }

    private static double counter(SinkService sink, String name) {
        return sink.meterRegistry().find(name).counters().stream().mapToDouble(Counter::count).sum();
    }

    private static double upserted(SinkService sink) {
        return counter(sink, "fleetpulse.sink.rows.upserted");
    }

    private static long recordsCommitted(SinkService sink, String topic) {
        MeterRegistry registry = sink.meterRegistry();
        return (long) registry.find("fleetpulse.sink.records").tag("topic", topic).counters().stream()
                .mapToDouble(Counter::count).sum();
    }

    /**
     * The dead letters matching {@code which}, once at least {@code expected} are on fleet.dlq, read to its end
     * (so a duplicate sent before the wait ended is seen).
     */
    private static List<DeadLetter> awaitDeadLetters(java.util.function.Predicate<DeadLetter> which, int expected) {
        long end = endOffsetsSum(Topics.DLQ.name());
        return TopicProbe.readUntil(kafka.bootstrapServers(), Topics.DLQ, records -> records.size() >= end
                        && records.stream().filter(r -> r.value() != null && which.test(r.value())).count() >= expected,
                        WAIT).stream()
                .map(r -> r.value()).filter(v -> v != null && which.test(v)).toList();
    }

    private static String keyOf(DeadLetter letter) {
        if (letter.getOriginalKey() == null) {
            return "";
        }
        byte[] key = new byte[letter.getOriginalKey().remaining()];
        letter.getOriginalKey().duplicate().get(key);
        return new String(key, StandardCharsets.UTF_8);
    }

    private static boolean isOurGarbage(DeadLetter letter, byte[] garbage) {
        if (letter == null || letter.getOriginalValue() == null || !letter.getSourceTopic().equals(AGG)) {
            return false;
        }
        byte[] value = new byte[letter.getOriginalValue().remaining()];
        letter.getOriginalValue().duplicate().get(value);
        return java.util.Arrays.equals(value, garbage);
    }

    private static void await(BooleanSupplier condition, String what) {
        try {
            Await.until(condition, WAIT, what);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
