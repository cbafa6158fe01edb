package io.fleetpulse.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.Target;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.TopicProbe;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The read API over real HTTP, on two instances of one application sharing a real broker's two partitions: whichever
 * instance is asked answers for every target, forwarding a target to the instance that holds it and merging lists.
 */
class ReadApiIT {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final List<String> TARGETS = List.of("api-1", "api-2", "api-3", "api-4", "api-5", "api-6");
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();

    static KafkaFixture kafka;

    @TempDir
    Path stateA;
    @TempDir
    Path stateB;

    @BeforeAll
    static void startBroker() throws Exception {
        kafka = KafkaFixture.start();
        kafka.createContractTopics(2);
    }

    @AfterAll
    static void stopBroker() throws Exception {
        kafka.close();
    }

    @Test
    void shouldAnswerForEveryTargetFromEitherInstance() throws Exception {
        // Windows stay open until event time closes them, so the open minute is there to be read.
        Map<String, String> noIdleClosing = Map.of("streams.window.idle.timeout", "10m");
        StreamProcessorService a = new StreamProcessorService(StreamProcessorIT.settings(kafka, "read-api-it", stateA, noIdleClosing));
        StreamProcessorService b = new StreamProcessorService(StreamProcessorIT.settings(kafka, "read-api-it", stateB, noIdleClosing));
        try {
            a.start();
            b.start();
            Instant t0 = Instant.now().truncatedTo(ChronoUnit.MINUTES).minus(Duration.ofMinutes(3));
            record(t0);
            TopicProbe.readUntil(kafka.bootstrapServers(), Topics.ALERTS,
                    seen -> seen.stream().anyMatch(r -> r.value().getTargetId().equals("api-1")), WAIT);

            // Each instance holds one partition: exactly one of them knows api-1 locally, yet both answer for it.
            // Two alerts fire (target-down on http, high-error-rate); target-unhealthy may be pending next to them.
            JsonNode viaA = awaitJson(a.apiUrl() + "targets/api-1", json -> firing(json.at("/alerts")).size() == 2);
            JsonNode viaB = awaitJson(b.apiUrl() + "targets/api-1", json -> firing(json.at("/alerts")).size() == 2);
            assertEquals(viaA, viaB);
            assertEquals("edge", viaA.at("/group").asText());
            assertEquals("http://api-1/health", viaA.at("/inventory/healthUrl").asText());
            JsonNode targetDown = firing(viaA.at("/alerts")).get(1);
            assertEquals("target-down", targetDown.at("/ruleId").asText());
            assertEquals("http", targetDown.at("/check").asText());
            assertEquals(t0.plusSeconds(15).toString(), targetDown.at("/startsAt").asText());
            assertEquals(1, viaA.at("/openWindows").size(), "the minute after the failures is still open");
            int localA = get(a.apiUrl() + "targets/api-1?scope=local").statusCode();
            int localB = get(b.apiUrl() + "targets/api-1?scope=local").statusCode();
            assertEquals(List.of(200, 404), List.of(Math.min(localA, localB), Math.max(localA, localB)),
                    "one instance holds api-1: " + localA + " " + localB);

            JsonNode firing = awaitJson(b.apiUrl() + "alerts?state=firing", json -> json.at("/alerts").size() == 2);
            assertEquals("api-1", firing.at("/alerts/1/targetId").asText());
            assertEquals(targetDown.at("/fingerprint"), firing.at("/alerts/1/fingerprint"));

            JsonNode targets = awaitJson(a.apiUrl() + "targets", json -> json.at("/targets").size() == TARGETS.size());
            List<String> ids = new ArrayList<>();
            targets.at("/targets").forEach(t -> ids.add(t.at("/targetId").asText()));
            assertEquals(TARGETS, ids);
            assertEquals(2, targets.at("/targets/0/firingAlerts").asInt());

            JsonNode groups = awaitJson(b.apiUrl() + "groups", json -> json.at("/groups/edge/count").asInt() == 3);
            assertEquals(3, groups.at("/groups/core/count").asInt());
            assertEquals("[\"api-1\",\"api-3\",\"api-5\"]", groups.at("/groups/edge/targets").toString());

            assertEquals(404, get(a.apiUrl() + "targets/nobody").statusCode());
            assertEquals(400, get(a.apiUrl() + "alerts?state=bogus").statusCode());
            assertTrue(String.valueOf(a.status().get("apiUrl")).startsWith("http://localhost:"));
        } finally {
            b.close();
            a.close();
        }
    }

    /** Six targets in two groups; api-1 fails its http check all along (target-down fires at 15 s), the others pass. */
    private static void record(Instant t0) {
        for (int i = 0; i < TARGETS.size(); i++) {
            String id = TARGETS.get(i);
            TopicProbe.send(kafka.bootstrapServers(), Topics.TARGETS, id, Target.newBuilder().setTargetId(id)
                    .setHealthUrl("http://" + id + "/health").setGroup(i % 2 == 0 ? "edge" : "core").setUpdatedAt(t0).build());
        }
        try (KafkaProducer<String, CheckResult> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                Topics.CHECKS.keySerde().serializer(), Topics.CHECKS.valueSerde().serializer())) {
            for (int s = 0; s <= 70; s += 5) {
                Instant at = t0.plusSeconds(s);
                for (String id : TARGETS) {
                    CheckStatus status = id.equals("api-1") ? CheckStatus.CRITICAL : CheckStatus.OK;
                    CheckResult check = CheckResult.newBuilder().setTargetId(id).setCheckName("http").setStatus(status)
                            .setLatencyMs(10.0).setObservedAt(at).build();
                    producer.send(new ProducerRecord<>(Topics.CHECKS.name(), null, at.toEpochMilli(), id, check));
                }
            }
        }
    }

    /** Asks until the answer is a 200 that satisfies {@code until}: a rebalance answers 503 for a moment. */
    private static JsonNode awaitJson(String url, Predicate<JsonNode> until) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        HttpResponse<String> last = null;
        while (System.nanoTime() < deadline) {
            last = get(url);
            if (last.statusCode() == 200 && until.test(JSON.readTree(last.body()))) {
                return JSON.readTree(last.body());
            }
            Thread.sleep(100); // the poll interval of the await, not a wait for time to pass
        }
        throw new AssertionError("no satisfying answer from " + url + " within " + WAIT + "; last: "
                + (last == null ? "none" : last.statusCode() + " " + last.body()));
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The FIRING entries of an alerts array, in its order. */
    private static List<JsonNode> firing(JsonNode alerts) {
        List<JsonNode> out = new ArrayList<>();
        alerts.forEach(alert -> {
            if (alert.at("/state").asText().equals("FIRING")) {
                out.add(alert);
            }
        });
        return out;
    }
}
