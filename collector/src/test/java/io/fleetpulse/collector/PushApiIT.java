package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.simulator.FleetSpec;
import io.fleetpulse.simulator.SimulatedFleet;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.TopicProbe;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The push API over real HTTP against a real broker: auth, validation, 202 after the broker acknowledged, 429. */
class PushApiIT {

    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final String TOKEN = "edge-1-s3cret-token";
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path dir;

    private static KafkaFixture kafka;
    private static SimulatedFleet fleet;
    private static CollectorService collector;

    @BeforeAll
    static void start() throws Exception {
        kafka = KafkaFixture.start();
        kafka.createContractTopics(2);
        fleet = SimulatedFleet.start(FleetSpec.of(1));
        Path inventory = dir.resolve("inventory.yaml");
        Files.writeString(inventory, fleet.inventoryYaml(Duration.ofSeconds(5), Duration.ofSeconds(1)));
        Path tokens = dir.resolve("tokens.yaml");
        Files.writeString(tokens, "agents:\n  - name: edge-1\n    token-sha256: " + PushTokens.sha256(TOKEN)
                + "\n    targets: [nat-001, nat-002]\n  - name: edge-2\n    token-sha256: " + PushTokens.sha256("other")
                + "\n    targets: [nat-900]\n");
        collector = new CollectorService(Settings.of(Map.of(
                "collector.inventory", inventory.toString(),
                "collector.id", "push-collector",
                "collector.push.tokens", tokens.toString(),
                "collector.push.host", "127.0.0.1",
                "collector.push.port", "0",
                "collector.push.max.pending", "2",
                // edge-2 floods past its bucket below; edge-1's few requests stay within theirs.
                "collector.push.agent.rate", "1",
                "collector.push.agent.burst", "12",
                "kafka.bootstrap.servers", kafka.bootstrapServers(),
                "kafka.topic.partitions", "2"), CollectorService.KEYS));
        collector.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (collector != null) {
            collector.close();
        }
        if (fleet != null) {
            fleet.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void shouldAcceptABatchOfChecksOnlyOnceTheBrokerHasThem() throws Exception {
        HttpResponse<String> response = post(PushApi.CHECKS, TOKEN, """
                {"checks": [
                  {"target": "nat-001", "name": "disk", "status": "warn", "message": "disk 91% used", "latencyMs": 3.5,
                   "observedAt": "2026-12-01T10:00:00Z"},
                  {"target": "nat-002", "name": "http", "status": "OK"}]}""");

        assertEquals(202, response.statusCode(), response.body());
        assertEquals("{\"accepted\":2}", response.body());
        // 202 means acknowledged: the records are readable now.
        List<ConsumerRecord<String, CheckResult>> checks = TopicProbe.readUntil(kafka.bootstrapServers(), Topics.CHECKS,
                seen -> seen.stream().anyMatch(r -> r.key().equals("nat-001")) && seen.stream().anyMatch(r -> r.key().equals("nat-002")),
                WAIT);
        CheckResult disk = checks.stream().map(ConsumerRecord::value).filter(c -> c.getTargetId().equals("nat-001"))
                .findFirst().orElseThrow();
        assertEquals(CheckStatus.WARN, disk.getStatus());
        assertEquals("disk", disk.getCheckName());
        assertEquals("disk 91% used", disk.getMessage());
        assertEquals(3.5, disk.getLatencyMs());
        assertEquals(Instant.parse("2026-12-01T10:00:00Z"), disk.getObservedAt());
        assertEquals("push-collector", disk.getCollectorId());
    }

    @Test
    void shouldAcceptMetricsAndHeartbeats() throws Exception {
        HttpResponse<String> metrics = post(PushApi.METRICS, TOKEN, """
                {"samples": [{"target": "nat-001", "metrics": {"cpu_percent": 12.5, "disk_free_bytes": 1000, "queue": 4}}]}""");
        HttpResponse<String> heartbeat = post(PushApi.HEARTBEAT, TOKEN, "{\"targets\": [\"nat-002\"]}");

        assertEquals(202, metrics.statusCode(), metrics.body());
        assertEquals(202, heartbeat.statusCode(), heartbeat.body());
        MetricSample sample = TopicProbe.readUntil(kafka.bootstrapServers(), Topics.METRICS,
                seen -> seen.stream().anyMatch(r -> r.key().equals("nat-001")), WAIT).stream()
                .filter(r -> r.key().equals("nat-001")).findFirst().orElseThrow().value();
        assertEquals(12.5, sample.getCpuPercent());
        assertEquals(1000L, sample.getDiskFreeBytes());
        assertEquals(4.0, sample.getExtra().get("queue"));
        assertTrue(TopicProbe.readUntil(kafka.bootstrapServers(), Topics.CHECKS, seen -> seen.stream().anyMatch(r ->
                r.key().equals("nat-002") && r.value().getCheckName().equals("heartbeat")), WAIT).size() > 0);
    }

    @Test
    void shouldNameEveryBadFieldInA400() throws Exception {
        HttpResponse<String> response = post(PushApi.CHECKS, TOKEN, """
                {"checks": [
                  {"target": "nat-001", "name": "disk", "status": "SORT_OF"},
                  {"target": "bad id!", "status": "OK", "latencyMs": -1, "colour": "red"}]}""");

        assertEquals(400, response.statusCode());
        String body = response.body();
        assertTrue(body.contains("checks[0].status: 'SORT_OF' is not one of"), body);
        assertTrue(body.contains("checks[1].target: 'bad id!' is not a target id"), body);
        assertTrue(body.contains("checks[1].name: required"), body);
        assertTrue(body.contains("checks[1].latencyMs: expected a number of milliseconds"), body);
        assertTrue(body.contains("checks[1].colour: unknown field"), body);
        HttpResponse<String> notJson = post(PushApi.METRICS, TOKEN, "<html>");
        assertEquals(400, notJson.statusCode());
        assertTrue(notJson.body().contains("body: not JSON"), notJson.body());
    }

    @Test
    void shouldRefuseAMissingOrWrongTokenAndAnotherAgentsTargets() throws Exception {
        HttpResponse<String> none = HTTP.send(HttpRequest.newBuilder(uri(PushApi.HEARTBEAT))
                .POST(HttpRequest.BodyPublishers.ofString("{\"targets\":[\"nat-001\"]}")).build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> wrong = post(PushApi.HEARTBEAT, "guess", "{\"targets\":[\"nat-001\"]}");
        HttpResponse<String> foreign = post(PushApi.HEARTBEAT, TOKEN, "{\"targets\":[\"nat-001\", \"nat-900\"]}");

        assertEquals(401, none.statusCode());
        assertEquals("Bearer", none.headers().firstValue("WWW-Authenticate").orElseThrow());
        assertEquals(401, wrong.statusCode());
        assertEquals(403, foreign.statusCode());
        assertTrue(foreign.body().contains("target 'nat-900' is not one of agent 'edge-1''s targets"), foreign.body());
        assertTrue(!foreign.body().contains("nat-001'"), "only the foreign target is named: " + foreign.body());
    }

    @Test
    void shouldAnswer429WithRetryAfterPastTheRecordsAwaitingTheBroker() throws Exception {
        HttpResponse<String> response = post(PushApi.HEARTBEAT, TOKEN, "{\"targets\":[\"nat-001\", \"nat-002\", \"nat-001\"]}");

        assertEquals(429, response.statusCode(), response.body());
        assertEquals("1", response.headers().firstValue("Retry-After").orElseThrow());
        assertTrue(response.body().contains("collector.push.max.pending 2"), response.body());
    }

    @Test
    void shouldAnswer429WithRetryAfterToAnAgentOverItsRateLimitWithoutSlowingAnother() throws Exception {
        HttpResponse<String> limited = null;
        int sent = 0;
        // 12 at once, then one a second: a quick run of requests passes the bucket within a few more.
        while (sent < 40 && limited == null) {
            HttpResponse<String> response = post(PushApi.HEARTBEAT, "other", "{\"targets\":[\"nat-900\"]}");
            sent++;
            if (response.statusCode() == 429) {
                limited = response;
            } else {
                assertEquals(202, response.statusCode(), response.body());
            }
        }

        assertTrue(limited != null && sent > 12, "limited after " + sent + " requests");
        assertEquals("1", limited.headers().firstValue("Retry-After").orElseThrow());
        assertTrue(limited.body().contains("agent 'edge-2' is over its rate limit of 1 requests a second "
                + "(collector.push.agent.rate"), limited.body());
        HttpResponse<String> other = post(PushApi.HEARTBEAT, TOKEN, "{\"targets\":[\"nat-001\"]}");
        assertEquals(202, other.statusCode(), "edge-1 has its own bucket: " + other.body());
    }

    /** {@code collector.push.host} 127.0.0.1: the API answers on loopback and on no other address of this machine. */
    @Test
    void shouldListenOnlyOnItsPushHost() throws Exception {
        assertEquals(401, post(PushApi.HEARTBEAT, "guess", "{\"targets\":[\"nat-001\"]}").statusCode(), "answers on 127.0.0.1");
        List<InetAddress> others = NetworkInterface.networkInterfaces().flatMap(NetworkInterface::inetAddresses)
                .filter(address -> address instanceof Inet4Address && !address.isLoopbackAddress()).toList();
        Assumptions.assumeFalse(others.isEmpty(), "this machine has no address but loopback");
        for (InetAddress other : others) {
            try (Socket socket = new Socket()) {
                assertThrows(ConnectException.class, () -> socket.connect(
                        new InetSocketAddress(other, collector.pushPort()), 2_000), "nothing listens on " + other);
            }
        }
    }

    @Test
    void shouldRefuseATokensFileHoldingATokenInsteadOfItsHash() {
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, () -> PushTokens.parse(
                "agents:\n  - name: a\n    token-sha256: my-plain-token\n    targets: [x]\n"));

        assertEquals("collector.push.tokens", e.key());
        assertTrue(e.getMessage().contains("expected the token's SHA-256 as 64 hex digits"), e.getMessage());
        assertTrue(!e.getMessage().contains("my-plain-token"), "the would-be secret is not echoed: " + e.getMessage());
    }

    private static HttpResponse<String> post(String path, String token, String json) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + collector.pushPort() + path);
    }
}
