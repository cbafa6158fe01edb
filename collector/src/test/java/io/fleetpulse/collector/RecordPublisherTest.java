package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.schemas.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;

/** While no broker takes records, the publisher keeps them and retries; it never reports them lost. */
class RecordPublisherTest {

    @Test
    void shouldKeepRetryingARecordNoBrokerTakesWithoutReportingItLost() {
        List<Exception> outcomes = new CopyOnWriteArrayList<>();
        List<Throwable> died = new CopyOnWriteArrayList<>();
        // No broker: each send waits max.block.ms for metadata and gives the record back.
        Map<String, Object> props = Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:1",
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 50);
        Instant at = Instant.parse("2025-03-01T12:00:00Z");
        CheckResult check = new HealthChecks(BodyLimits.DEFAULTS, HealthChecks.CertificateLines.DEFAULTS).toCheckResults("srv-001", "c1", at,
                new HttpOutcome.Failure(CheckStatus.TIMEOUT, "no response")).get(0);

        try (RecordPublisher publisher = new RecordPublisher(props, new RecordPublisher.OutageBuffer(10, 2, 5),
                (topic, error) -> outcomes.add(error), died::add)) {
            for (int i = 0; i < 5; i++) {
                publisher.publish(Topics.CHECKS, "srv-001", "srv-001/http", check, at.plusSeconds(i));
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (publisher.givenBack() < 3 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }

            assertTrue(publisher.givenBack() >= 3, "given back " + publisher.givenBack());
            assertEquals(List.of(), outcomes, "nothing is reported failed while it is retried");
            assertEquals(List.of(), died);
            assertEquals(5, publisher.accepted());
            // One may be with the producer; of the rest the series keeps its newest 2 (collector.buffer.max.per.series).
            assertTrue(publisher.superseded() >= 2, "superseded " + publisher.superseded());
        }
    }
}
