package io.fleetpulse.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.MetricSample;
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
            Instant t0 = startWithinOneHour(Instant.now().truncatedTo(ChronoUnit.MINUTES).minus(Duration.ofMinutes(3)));
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
            int localA = awaitSettled(a.apiUrl() + "targets/api-1?scope=local");
            int localB = awaitSettled(b.apiUrl() + "targets/api-1?scope=local");
            assertEquals(List.of(200, 404), List.of(Math.min(localA, localB), Math.max(localA, localB)),
                    "one instance holds api-1: " + localA + " " + localB);

            JsonNode firing = awaitJson(b.apiUrl() + "alerts?state=firing", json -> json.at("/alerts").size() == 2);
            assertEquals("api-1", firing.at("/alerts/1/targetId").asText());
            assertEquals(targetDown.at("/fingerprint"), firing.at("/alerts/1/fingerprint"));

            JsonNode targets = awaitJson(a.apiUrl() + "targets", json -> json.at("/targets").size() == TARGETS.size());
            assertEquals(TARGETS, ids(targets.at("/targets")));
            assertEquals(2, targets.at("/targets/0/firingAlerts").asInt());

            JsonNode groups = awaitJson(b.apiUrl() + "groups", json -> json.at("/groups/edge/count").asInt() == 3);
            assertEquals(3, groups.at("/groups/core/count").asInt());
            assertEquals("[\"api-1\",\"api-3\",\"api-5\"]", groups.at("/groups/edge/targets").toString());

            // Health, last windows and the fleet views, once the first minute has closed and been scored.
            JsonNode scored = awaitJson(b.apiUrl() + "targets/api-1", json -> !json.at("/health").isNull()
                    && !json.at("/health").isMissingNode());
            assertEquals("CRITICAL", scored.at("/health/status").asText());
            assertEquals(0.0, scored.at("/health/score").asDouble());
            assertEquals("[\"http\"]", scored.at("/health/failingChecks").toString());
            assertTrue(scored.at("/health/reasons").size() > 0, scored.toString());
            assertEquals(t0.toString(), scored.at("/lastWindow/windowStart").asText());
            assertEquals(12, scored.at("/lastWindow/checks").asInt());
            assertTrue(scored.at("/lastHourWindow").isNull(), "the hour is still open");
            JsonNode withMetrics = awaitJson(a.apiUrl() + "targets/api-2", json -> !json.at("/latestMetrics").isNull());
            assertEquals(40, withMetrics.at("/latestMetrics/tasksCompleted").asInt());

            JsonNode scoredGroups = awaitJson(a.apiUrl() + "groups",
                    json -> json.at("/groups/core/health/HEALTHY").asInt() == 3);
            assertEquals("{\"HEALTHY\":2,\"DEGRADED\":0,\"CRITICAL\":1,\"UNREACHABLE\":0}",
                    scoredGroups.at("/groups/edge/health").toString());

            JsonNode summary = awaitJson(b.apiUrl() + "health/summary?worst=2",
                    json -> json.at("/byStatus/HEALTHY").asInt() == 5 && json.at("/firingAlerts/WARNING").asInt() >= 1);
            assertEquals(6, summary.at("/targets").asInt());
            assertEquals(0, summary.at("/unscored").asInt());
            assertEquals(1, summary.at("/byStatus/CRITICAL").asInt());
            assertEquals(1, summary.at("/groups/edge/CRITICAL").asInt());
            assertEquals(1, summary.at("/firingAlerts/CRITICAL").asInt(), "target-down");
            assertEquals(List.of("api-1", "api-2"), ids(summary.at("/worst")), "lowest score first, ties by id");
            assertEquals("CRITICAL", summary.at("/worst/0/status").asText());
            assertEquals(summary, awaitJson(a.apiUrl() + "health/summary?worst=2", summary::equals), "either instance");
            assertEquals(400, get(a.apiUrl() + "health/summary?worst=many").statusCode());

            JsonNode workers = awaitJson(a.apiUrl() + "workers", json -> json.at("/workers").size() == TARGETS.size());
            assertEquals(TARGETS, ids(workers.at("/workers")));
            JsonNode failing = workers.at("/workers/0");
            assertEquals("CRITICAL", failing.at("/status").asText());
            assertEquals(t0.plusSeconds(70).toString(), failing.at("/lastSeen").asText());
            assertEquals(12, failing.at("/checks").asInt());
            assertEquals(12, failing.at("/failedChecks").asInt());
            assertEquals(1.0, failing.at("/errorRate").asDouble());
            assertEquals(10.0, failing.at("/latencyP95Ms").asDouble(), 0.01);
            assertTrue(failing.at("/tasks").isNull(), "api-1 reports no tasks");
            JsonNode tasks = workers.at("/workers/1/tasks");
            assertEquals("{\"completed\":40,\"failed\":2,\"latencyMs\":120.0,\"observedAt\":\""
                    + t0.plusSeconds(30) + "\"}", tasks.toString());

            assertEquals(404, get(a.apiUrl() + "targets/nobody").statusCode());
            assertEquals(400, get(a.apiUrl() + "alerts?state=bogus").statusCode());
            assertTrue(String.valueOf(a.status().get("apiUrl")).startsWith("http://localhost:"));
        } finally {
            b.close();
            a.close();
        }
    }

    /**
     * The records span 70 s of event time: kept inside one hour, so that hour's window is still open when the test
     * reads it (run just after the top of the hour, the first minutes would otherwise close the hour before).
     */
    private static Instant startWithinOneHour(Instant t0) {
        boolean crossesTheHour = !t0.truncatedTo(ChronoUnit.HOURS).equals(t0.plusSeconds(120).truncatedTo(ChronoUnit.HOURS));
        return crossesTheHour ? t0.minus(Duration.ofMinutes(3)) : t0;
    }

    /** Six targets in two groups; api-1 fails its http check all along (target-down fires at 15 s), the others pass. */
    private static void record(Instant t0) {
        for (int i = 0; i < TARGETS.size(); i++) {
            String id = TARGETS.get(i);
            TopicProbe.send(kafka.bootstrapServers(), Topics.TARGETS, id, Target.newBuilder().setTargetId(id)
                    .setHealthUrl("http://" + id + "/health").setGroup(i % 2 == 0 ? "edge" : "core").setUpdatedAt(t0).build());
        }
        // Stamped with its event time like the checks: Streams takes a task's records in timestamp order across its
        // topics, so a sample stamped now would come after every check, its minute closed: late.
        try (KafkaProducer<String, MetricSample> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                Topics.METRICS.keySerde().serializer(), Topics.METRICS.valueSerde().serializer())) {
            Instant at = t0.plusSeconds(30);
            producer.send(new ProducerRecord<>(Topics.METRICS.name(), null, at.toEpochMilli(), "api-2",
                    MetricSample.newBuilder().setTargetId("api-2").setObservedAt(at).setTasksCompleted(40L)
                            .setTasksFailed(2L).setTaskLatencyMs(120.0).build()));
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

    /** The status of the first answer that is not a 503: a rebalance or a restore answers 503 for a moment. */
    private static int awaitSettled(String url) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        int status = get(url).statusCode();
        while (status == 503 && System.nanoTime() < deadline) {
            Thread.sleep(100); // the poll interval of the await, not a wait for time to pass
            status = get(url).statusCode();
        }
        return status;
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static List<String> ids(JsonNode entries) {
        List<String> ids = new ArrayList<>();
        entries.forEach(e -> ids.add(e.at("/targetId").asText()));
        return ids;
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
