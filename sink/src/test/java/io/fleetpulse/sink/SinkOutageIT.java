package io.fleetpulse.sink;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.testkit.Await;
import io.fleetpulse.testkit.KafkaFixture;
import io.micrometer.core.instrument.Counter;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The sink writing under a steady load while its PostgreSQL server really goes away: stopped cleanly, or killed
 * (SIGKILL to the postmaster, no shutdown at all), then started again on the same folder and port. Afterwards every
 * topic's record count equals its table's row count and every offset was committed once. One broker and one
 * server for the class; each test has its own database and consumer group, so it reads the topics from the start
 * (the other test's records included, whose keys are distinct too).
 */
class SinkOutageIT {

    private static final Duration WAIT = Duration.ofSeconds(45);

    private static KafkaFixture kafka;
    private static RestartablePostgres postgres;
    private static Admin admin;

    @BeforeAll
    static void startInfrastructure() throws Exception {
        kafka = KafkaFixture.start();
        kafka.createContractTopics(2);
        postgres = RestartablePostgres.start();
        admin = kafka.admin();
    }

    @AfterAll
    static void stopInfrastructure() throws Exception {
        admin.close();
        postgres.close();
        kafka.close();
    }

    @Test
    void shouldLoseAndDoubleNothingWhenPostgresIsStoppedAndRestartedUnderLoad(TestInfo test) throws Exception {
        survive(test, "stopped", postgres::stop);
    }

    @Test
    void shouldLoseAndDoubleNothingWhenThePostmasterIsKilledUnderLoad(TestInfo test) throws Exception {
        survive(test, "killed", postgres::kill);
    }

    private void survive(TestInfo test, String prefix, Outage outage) throws Exception {
        String url = postgres.createDatabase();
        String group = "outage-" + test.getTestMethod().orElseThrow().getName();
        Accounting accounting = new Accounting(admin, url, group);
        try (SinkService sink = new SinkService(settings(url, group));
             SinkLoad load = SinkLoad.start(kafka.bootstrapServers(), prefix, 3, Duration.ofMillis(10))) {
            sink.start();
            Await.until(() -> accounting.committed() > 300, WAIT, "the sink to be writing", sink::status);

            outage.run();
            long sentAtOutage = load.acked();
            Await.until(() -> !sink.isReady(), WAIT, "the sink to notice the database is gone", sink::status);
            // The load goes on while the database is away, so the sink has a backlog to write after it.
            Await.until(() -> load.acked() > sentAtOutage + 600, WAIT, "records sent during the outage", load::acked);
            postgres.restart();

            Await.until(sink::isReady, WAIT, "the sink to be ready again", sink::status);
            Await.until(() -> load.acked() > sentAtOutage + 1200, WAIT, "records sent after the outage", load::acked);
            load.close();
            accounting.awaitEveryRecordExactlyOnce(WAIT, sink::status);
            assertTrue(dbErrors(sink) > 0, "the sink saw the outage as failed database calls: " + sink.status());
        }
    }

    private static double dbErrors(SinkService sink) {
        return sink.meterRegistry().find("fleetpulse.sink.db.errors").counters().stream().mapToDouble(Counter::count).sum();
    }

    private static Settings settings(String url, String group) {
        // Small batches, so the outage meets one in flight; short timeouts and backoff, so the test is quick.
        return Settings.of(SinkTestSettings.of(kafka.bootstrapServers(), url, group, Map.of(
                "sink.batch.max.records", "100",
                "sink.retry.backoff.max", "500ms",
                "sink.jdbc.connect.timeout", "1s",
                "sink.jdbc.socket.timeout", "3s",
                "sink.ready.db.timeout", "1s")), SinkService.KEYS);
    }

    @FunctionalInterface
    private interface Outage {
        void run() throws Exception;
    }
}
