package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.schemas.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;

/** The producer's hand-off thread is a core loop: what kills a hand-off is reported, so the service fails. */
class RecordPublisherTest {

    @Test
    void shouldReportAHandOffThatDies() throws Exception {
        CompletableFuture<Throwable> died = new CompletableFuture<>();
        RuntimeException fault = new IllegalStateException("injected: the outcome handler raised");
        // No broker: the send times out after max.block.ms and reports its outcome, which raises.
        Map<String, Object> props = Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:1",
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 100);
        Instant at = Instant.parse("2025-03-01T12:00:00Z");
        CheckResult check = new HealthChecks(BodyLimits.DEFAULTS, HealthChecks.CertificateLines.DEFAULTS).toCheckResults("srv-001", "c1", at,
                new HttpOutcome.Failure(CheckStatus.TIMEOUT, "no response")).get(0);

        try (RecordPublisher publisher = new RecordPublisher(props, (topic, error) -> {
            throw fault;
        }, died::complete)) {
            publisher.publish(Topics.CHECKS, "srv-001", check, at);

            assertEquals(fault, died.get(10, TimeUnit.SECONDS));
        }
    }
}
