package io.fleetpulse.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.testkit.Await;
import io.fleetpulse.testkit.ChildJvm;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.PostgresFixture;
import io.micrometer.core.instrument.Counter;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The sink killed in the middle of a batch: it runs in a JVM of its own ({@link SinkProcess}) and is destroyed
 * (SIGKILL, no shutdown hook, nothing flushed) while its database transaction has written rows and not committed.
 * A trigger that makes every row of target_window_1m take a little time holds each batch open long enough to be
 * caught there. A new sink in the same consumer group then finishes the work: every record is a row exactly once,
 * and it committed exactly the records the killed one had not.
 */
class SinkKillIT {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String GROUP = "sink-kill-it";
    private static final int RECORDS_PER_TOPIC = 1500;

    private KafkaFixture kafka;
    private PostgresFixture postgres;
    private Admin admin;
    private String url;
    private Process child;

    @BeforeEach
    void start() throws Exception {
        kafka = KafkaFixture.start();
        kafka.createContractTopics(2);
        postgres = PostgresFixture.start();
        admin = kafka.admin();
        url = postgres.createDatabase();
    }

    @AfterEach
    void stop() throws Exception {
        if (child != null) {
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        admin.close();
        postgres.close();
        kafka.close();
    }

    @Test
    void shouldWriteEveryRowExactlyOnceAfterTheSinkIsKilledMidBatch() throws Exception {
        SinkDatabase.migrate(url, postgres.user(), postgres.password(), Instant.now().plus(WAIT));
        Jdbi db = Jdbi.create(url, postgres.user(), postgres.password());
        db.useHandle(h -> {
            h.execute("CREATE FUNCTION slow_row() RETURNS trigger LANGUAGE plpgsql AS"
                    + " $$ BEGIN PERFORM pg_sleep(0.005); RETURN NEW; END $$");
            h.execute("CREATE TRIGGER slow_row BEFORE INSERT ON target_window_1m FOR EACH ROW EXECUTE FUNCTION slow_row()");
        });
        assertEquals(3L * RECORDS_PER_TOPIC, SinkLoad.sendAll(kafka.bootstrapServers(), "kill", RECORDS_PER_TOPIC));
        Accounting accounting = new Accounting(admin, url, GROUP);

        child = ChildJvm.start(SinkProcess.class, settings(), "sink-kill-child.log");
        // Caught in the act: the sink's transaction has written (it has an xid) and is still open.
        Await.until(() -> openWritingTransactions(db) > 0 && accounting.committed() > 0, WAIT,
                "a batch in flight after some batches were committed", () -> "child alive: " + child.isAlive());
        child.destroyForcibly();
        assertTrue(child.waitFor(10, TimeUnit.SECONDS), "killed");
        // The server rolls the orphaned transaction back once it finds its client gone.
        Await.until(() -> openWritingTransactions(db) == 0, WAIT, "the killed sink's transaction to end", () -> "");
        long committedByTheKilled = accounting.committed();
        long total = accounting.records();
        assertTrue(committedByTheKilled < total, "killed before the end: " + committedByTheKilled + " of " + total);
        db.useHandle(h -> h.execute("DROP TRIGGER slow_row ON target_window_1m"));

        try (SinkService second = new SinkService(Settings.of(settings(), SinkService.KEYS))) {
            second.start();
            accounting.awaitEveryRecordExactlyOnce(WAIT, second::status);
            double committedBySecond = second.meterRegistry().find("fleetpulse.sink.records").counters().stream()
                    .mapToDouble(Counter::count).sum();
            assertEquals(total - committedByTheKilled, (long) committedBySecond,
                    "the restarted sink committed exactly what the killed one had not");
        }
    }

    /** Transactions of a sink session that have written something and are not over. */
    private static long openWritingTransactions(Jdbi db) {
        return db.withHandle(h -> h.createQuery("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fleetpulse-sink'"
                + " AND datname = current_database() AND backend_xid IS NOT NULL").mapTo(Long.class).one());
    }

    private Map<String, String> settings() {
        Map<String, String> overrides = new HashMap<>(ChildJvm.quickGroupLeave());
        overrides.put("sink.batch.max.records", "200");
        return SinkTestSettings.of(kafka.bootstrapServers(), url, GROUP, overrides);
    }

}
