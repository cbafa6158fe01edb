package io.fleetpulse.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.collector.CollectorService;
import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.simulator.FleetSpec;
import io.fleetpulse.simulator.SimulatedFleet;
import io.fleetpulse.testkit.Await;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.TopicProbe;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo's pushing agent against a real collector's push API (real HTTP, real broker), with the tokens file the
 * demo writes. The collector's rate limit is set low enough that the agent's beats are turned away with 429, so the
 * test sees it honour {@code Retry-After} and get every beat through.
 */
class PushingAgentIT {

    private static final Duration WAIT = Duration.ofSeconds(20);
    /** Never silent within a test. */
    private static final Duration NEVER = Duration.ofHours(1);

    @TempDir
    static Path dir;

    private static KafkaFixture kafka;
    private static SimulatedFleet fleet;
    private static CollectorService collector;
    private static PushingAgent.Credentials credentials;
    private static URI pushApi;

    @BeforeAll
    static void startCollector() throws Exception {
        kafka = KafkaFixture.start();
        kafka.createContractTopics(2);
        // The collector needs something to poll; the agent's target is not in its inventory.
        fleet = SimulatedFleet.start(FleetSpec.of(1));
        Path inventory = dir.resolve("inventory.yaml");
        fleet.writeInventory(inventory, Duration.ofSeconds(5), Duration.ofSeconds(1));
        credentials = PushingAgent.Credentials.generate();
        Path tokens = dir.resolve("push-tokens.yaml");
        credentials.writeTokensFile(tokens);
        collector = new CollectorService(Settings.of(Map.of(
                "collector.inventory", inventory.toString(),
                "collector.id", "push-collector",
                "collector.push.tokens", tokens.toString(),
                "collector.push.port", "0",
                // Two requests a second, no burst: an agent beating every 100 ms is mostly answered 429.
                "collector.push.agent.rate", "2",
                "collector.push.agent.burst", "1",
                "kafka.bootstrap.servers", kafka.bootstrapServers(),
                "kafka.topic.partitions", "2"), CollectorService.KEYS));
        collector.start();
        pushApi = URI.create("http://127.0.0.1:" + collector.pushPort());
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {collector, fleet, kafka}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    void shouldGetEveryBeatThroughThePushApiRetryingWhatTheRateLimitTurnsAway() throws Exception {
        PushingAgent agent = PushingAgent.start(pushApi, credentials.token(), Duration.ofMillis(100), NEVER, NEVER);
        try {
            TopicProbe.readUntil(kafka.bootstrapServers(), Topics.CHECKS, seen -> heartbeats(seen).size() >= 3
                    && agent.counts().retried() >= 1, WAIT);
        } finally {
            agent.close();
        }
        PushingAgent.Counts counts = agent.counts();

        assertTrue(counts.accepted() >= 3, counts::toString);
        assertTrue(counts.retried() >= 1, () -> "429s were answered and retried: " + counts);
        assertEquals(0, counts.refused(), counts::toString);
        assertTrue(counts.sent() >= counts.accepted() + counts.retried(), counts::toString);
        // Nothing answered 202 is missing from the topic (at least once: a retried beat may be there twice).
        List<CheckResult> beats = heartbeats(TopicProbe.readUntil(kafka.bootstrapServers(), Topics.CHECKS,
                seen -> heartbeats(seen).size() >= counts.accepted(), WAIT));
        CheckResult beat = beats.get(0);
        assertEquals("heartbeat", beat.getCheckName());
        assertEquals(CheckStatus.OK, beat.getStatus());
        assertEquals("push-collector", beat.getCollectorId());
    }

    @Test
    void shouldCountATokenTheCollectorDoesNotKnowAsRefusedAndNotRetryIt() throws Exception {
        String unknownToken = PushingAgent.Credentials.generate().token();
        PushingAgent agent = PushingAgent.start(pushApi, unknownToken, NEVER, NEVER, NEVER);
        try {
            awaitUntil(() -> agent.counts().refused() == 1, "the 401 to be counted as refused");
        } finally {
            agent.close();
        }

        assertEquals(new PushingAgent.Counts(1, 0, 0, 1, 0), agent.counts());
    }

    private static List<CheckResult> heartbeats(List<ConsumerRecord<String, CheckResult>> records) {
        return records.stream().filter(r -> r.key().equals(PushingAgent.TARGET_ID)).map(ConsumerRecord::value).toList();
    }

    private static void awaitUntil(BooleanSupplier condition, String what) throws InterruptedException {
        Await.until(condition, WAIT, what);
    }
}
