package io.fleetpulse.collector;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.schemas.Topic;
import io.fleetpulse.schemas.Topics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * The push API for agents the collector cannot poll (behind NAT): {@code POST /v1/checks}, {@code /v1/metrics} and
 * {@code /v1/heartbeat}, JSON batches. A request is all or nothing: every item is checked first (400 naming each bad
 * field, 403 naming each target the agent's token does not own), then every record is sent straight to the producer
 * (not the outage buffer) and the answer is 202 only once Kafka acknowledged all of them (acks=all, idempotent).
 * While the broker does not take records the answer is 503, when too many pushed records await acknowledgement
 * 429, both with {@code Retry-After}; an agent retries, so delivery is at least once, and nothing answered 202 is
 * lost. Tokens are compared by SHA-256 and never logged.
 */
final class PushApi {

    static final String CHECKS = "/v1/checks";
    static final String METRICS = "/v1/metrics";
    static final String HEARTBEAT = "/v1/heartbeat";
    /** Seconds an agent is asked to wait: short when only saturated, longer while the broker is away. */
    private static final String RETRY_SATURATED = "1";
    private static final String RETRY_BROKER_DOWN = "5";
    private static final List<String> CHECK_FIELDS = List.of("target", "name", "status", "message", "latencyMs", "observedAt");
    private static final List<String> SAMPLE_FIELDS = List.of("target", "observedAt", "metrics");

    /**
     * The push API's settings: it listens on {@code host} (an address or a host name); {@code port} 0 takes any free port; {@code agentRate} requests a second each agent may
     * make on average (0: no limit), in bursts of up to {@code agentBurst}.
     */
    record Config(String host, int port, int maxPending, Duration ackTimeout, double agentRate, int agentBurst) {
    }

    private final Vertx vertx;
    private final PushTokens tokens;
    private final RecordPublisher publisher;
    private final String collectorId;
    private final BodyLimits limits;
    private final Config config;
    private final Clock clock;
    private final IntConsumer answered;
    private final AtomicInteger pending = new AtomicInteger();
    private final AgentRateLimit rateLimit;
    private HttpServer server;

    PushApi(Vertx vertx, PushTokens tokens, RecordPublisher publisher, String collectorId, BodyLimits limits, Config config,
            Clock clock, IntConsumer answered) {
        this.vertx = vertx;
        this.tokens = tokens;
        this.publisher = publisher;
        this.collectorId = collectorId;
        this.limits = limits;
        this.config = config;
        this.clock = clock;
        this.answered = answered;
        this.rateLimit = new AgentRateLimit(config.agentRate(), config.agentBurst());
    }

    /** Starts listening; completes with the bound port. */
    Future<Integer> listen() {
        server = vertx.createHttpServer();
        return server.requestHandler(this::handle).listen(config.port(), config.host()).map(HttpServer::actualPort);
    }

    Future<Void> close() {
        return server == null ? Future.succeededFuture() : server.close();
    }

    /** Pushed records sent and not yet acknowledged. */
    int pending() {
        return pending.get();
    }

    private void handle(HttpServerRequest request) {
        String path = request.path();
        if (!List.of(CHECKS, METRICS, HEARTBEAT).contains(path)) {
            reply(request, 404, error("no such endpoint; POST " + CHECKS + ", " + METRICS + " or " + HEARTBEAT));
            return;
        }
        if (request.method() != HttpMethod.POST) {
            request.response().putHeader("Allow", "POST");
            reply(request, 405, error("use POST"));
            return;
        }
        String authorization = request.getHeader("Authorization");
        PushTokens.Agent agent = authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7) ? null
                : tokens.agentFor(authorization.substring(7).strip()).orElse(null);
        if (agent == null) {
            request.response().putHeader("WWW-Authenticate", "Bearer");
            reply(request, 401, error("a valid bearer token is required (Authorization: Bearer <token>)"));
            return;
        }
        long waitNanos = rateLimit.acquire(agent.name(), System.nanoTime());
        if (waitNanos > 0) {
            // Before the body is read: an agent over its limit costs a header's worth of work, not a parse.
            request.response().putHeader("Retry-After", String.valueOf(AgentRateLimit.retryAfterSeconds(waitNanos)));
            reply(request, 429, error("agent '" + agent.name() + "' is over its rate limit of "
                    + io.fleetpulse.runtime.text.Numbers.format(config.agentRate()) + " requests a second (collector.push.agent.rate, bursts of collector.push.agent.burst "
                    + config.agentBurst() + "); retry later"));
            return;
        }
        String length = request.getHeader("Content-Length");
        if (length != null && parseLong(length) > limits.maxBodyBytes()) {
            reply(request, 413, error("the body is over " + limits.maxBodyBytes() + " bytes (collector.poll.max.body.bytes)"));
            return;
        }
        Buffer body = Buffer.buffer();
        request.handler(chunk -> {
            if (body.length() + chunk.length() > limits.maxBodyBytes()) {
                if (!request.response().ended()) {
                    reply(request, 413, error("the body is over " + limits.maxBodyBytes() + " bytes (collector.poll.max.body.bytes)"));
                    request.connection().close();
                }
                return;
            }
            body.appendBuffer(chunk);
        });
        request.endHandler(v -> {
            if (!request.response().ended()) {
                accept(request, path, agent, body);
            }
        });
    }

    private void accept(HttpServerRequest request, String path, PushTokens.Agent agent, Buffer body) {
        JsonNode root;
        try {
            root = BodyLimits.JSON.readTree(body.toString());
        } catch (JacksonException e) {
            reply(request, 400, errors(List.of("body: not JSON (" + HealthChecks.excerpt(e.getOriginalMessage()) + ")")));
            return;
        }
        Instant receivedAt = clock.instant();
        List<String> problems = new ArrayList<>();
        List<Outgoing<?>> records = new ArrayList<>();
        if (root == null || !root.isObject()) {
            problems.add("body: expected a JSON object");
        } else {
            switch (path) {
                case CHECKS -> items(root, "checks", problems).forEach((at, item) -> check(at, item, receivedAt, problems, records));
                case METRICS -> items(root, "samples", problems).forEach((at, item) -> sample(at, item, receivedAt, problems, records));
                default -> heartbeats(root, receivedAt, problems, records);
            }
        }
        if (!problems.isEmpty()) {
            reply(request, 400, errors(problems));
            return;
        }
        List<String> foreign = records.stream().map(Outgoing::key).distinct().filter(t -> !agent.targets().contains(t))
                .map(t -> "target '" + t + "' is not one of agent '" + agent.name() + "''s targets").toList();
        if (!foreign.isEmpty()) {
            reply(request, 403, errors(foreign));
            return;
        }
        if (!publisher.delivering()) {
            request.response().putHeader("Retry-After", RETRY_BROKER_DOWN);
            reply(request, 503, error("the broker is not taking records; retry later"));
            return;
        }
        if (pending.addAndGet(records.size()) > config.maxPending()) {
            pending.addAndGet(-records.size());
            request.response().putHeader("Retry-After", RETRY_SATURATED);
            reply(request, 429, error("too many pushed records await the broker (collector.push.max.pending "
                    + config.maxPending() + "); retry later"));
            return;
        }
        vertx.<Void>executeBlocking(() -> {
            // send() may block while metadata is missing: never on the event loop.
            CompletableFuture<?>[] acks = records.stream().map(this::send).toArray(CompletableFuture[]::new);
            try {
                CompletableFuture.allOf(acks).get(config.ackTimeout().toMillis(), TimeUnit.MILLISECONDS);
                return null;
            } finally {
                pending.addAndGet(-records.size());
            }
        }, false).onComplete(done -> {
            if (done.succeeded()) {
                ObjectNode ok = BodyLimits.JSON.createObjectNode().put("accepted", records.size());
                reply(request, 202, ok);
            } else {
                request.response().putHeader("Retry-After", RETRY_BROKER_DOWN);
                reply(request, 503, error("the broker did not acknowledge the records within "
                        + config.ackTimeout().toMillis() + " ms; retry later (some may have been written)"));
            }
        });
    }

    private record Outgoing<V>(Topic<String, V> topic, String key, V value, Instant at) {
    }

    private <V> CompletableFuture<Void> send(Outgoing<V> record) {
        return publisher.sendAcknowledged(record.topic(), record.key(), record.value(), record.at());
    }

    /** The items of {@code field}, by their path for messages ({@code checks[2]}). */
    private static java.util.Map<String, JsonNode> items(JsonNode root, String field, List<String> problems) {
        java.util.Map<String, JsonNode> items = new java.util.LinkedHashMap<>();
        JsonNode list = root.get(field);
        if (list == null || !list.isArray() || list.isEmpty()) {
            problems.add(field + ": expected a non-empty array");
            return items;
        }
        for (int i = 0; i < list.size(); i++) {
            items.put(field + "[" + i + "]", list.get(i));
        }
        return items;
    }

    private void check(String at, JsonNode item, Instant receivedAt, List<String> problems, List<Outgoing<?>> records) {
        if (!item.isObject()) {
            problems.add(at + ": expected an object");
            return;
        }
        int before = problems.size();
        unknownFields(at, item, CHECK_FIELDS, problems);
        String target = targetId(at, item, problems);
        String name = text(at, item, "name", problems);
        if (name != null && name.length() > limits.maxNameLength()) {
            problems.add(at + ".name: longer than " + limits.maxNameLength() + " characters (collector.max.name.length)");
        }
        CheckStatus status = null;
        String statusText = text(at, item, "status", problems);
        if (statusText != null) {
            try {
                status = CheckStatus.valueOf(statusText.strip().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                problems.add(at + ".status: '" + HealthChecks.excerpt(statusText) + "' is not one of "
                        + Arrays.toString(CheckStatus.values()));
            }
        }
        JsonNode message = item.get("message");
        if (message != null && !message.isTextual() && !message.isNull()) {
            problems.add(at + ".message: expected a string");
        }
        JsonNode latency = item.get("latencyMs");
        if (latency != null && !latency.isNull() && (!latency.isNumber() || latency.asDouble() < 0
                || !Double.isFinite(latency.asDouble()))) {
            problems.add(at + ".latencyMs: expected a number of milliseconds, at least 0");
        }
        Instant observedAt = observedAt(at, item, receivedAt, problems);
        if (problems.size() == before) {
            records.add(new Outgoing<>(Topics.CHECKS, target, CheckResult.newBuilder().setTargetId(target)
                    .setCheckName(name).setStatus(status)
                    .setMessage(message == null || message.isNull() ? null : HealthChecks.excerpt(message.asText()))
                    .setLatencyMs(latency == null || latency.isNull() ? null : latency.asDouble())
                    .setObservedAt(observedAt).setCollectorId(collectorId).build(), observedAt));
        }
    }

    private void sample(String at, JsonNode item, Instant receivedAt, List<String> problems, List<Outgoing<?>> records) {
        if (!item.isObject()) {
            problems.add(at + ": expected an object");
            return;
        }
        int before = problems.size();
        unknownFields(at, item, SAMPLE_FIELDS, problems);
        String target = targetId(at, item, problems);
        Instant observedAt = observedAt(at, item, receivedAt, problems);
        JsonNode metrics = item.get("metrics");
        MetricSample sample = null;
        if (metrics == null || !metrics.isObject()) {
            problems.add(at + ".metrics: expected an object of metric names to numbers");
        } else if (problems.size() == before) {
            try {
                sample = MetricsParser.parse(target, collectorId, observedAt, metrics, limits);
            } catch (MetricsParser.MalformedMetricsException e) {
                problems.add(at + ".metrics: " + e.getMessage());
            }
        }
        if (problems.size() == before && sample != null) {
            records.add(new Outgoing<>(Topics.METRICS, target, sample, observedAt));
        }
    }

    /** {@code {"targets": ["srv-101", ...]}}: each an OK check named {@code heartbeat}, at the time received. */
    private void heartbeats(JsonNode root, Instant receivedAt, List<String> problems, List<Outgoing<?>> records) {
        unknownFields("body", root, List.of("targets"), problems);
        JsonNode list = root.get("targets");
        if (list == null || !list.isArray() || list.isEmpty()) {
            problems.add("targets: expected a non-empty array of target ids");
            return;
        }
        for (int i = 0; i < list.size(); i++) {
            JsonNode id = list.get(i);
            if (!id.isTextual() || !Inventory.isValidId(id.asText())) {
                problems.add("targets[" + i + "]: expected a target id (letters, digits, . _ : -)");
                continue;
            }
            records.add(new Outgoing<>(Topics.CHECKS, id.asText(), CheckResult.newBuilder().setTargetId(id.asText())
                    .setCheckName("heartbeat").setStatus(CheckStatus.OK).setMessage("pushed by its agent")
                    .setLatencyMs(null).setObservedAt(receivedAt).setCollectorId(collectorId).build(), receivedAt));
        }
    }

    private static void unknownFields(String at, JsonNode item, List<String> known, List<String> problems) {
        item.fieldNames().forEachRemaining(f -> {
            if (!known.contains(f)) {
                problems.add(at + "." + HealthChecks.excerpt(f) + ": unknown field; expected one of " + known);
            }
        });
    }

    private static String targetId(String at, JsonNode item, List<String> problems) {
        String id = text(at, item, "target", problems);
        if (id != null && !Inventory.isValidId(id)) {
            problems.add(at + ".target: '" + HealthChecks.excerpt(id) + "' is not a target id (letters, digits, . _ : -)");
            return null;
        }
        return id;
    }

    private static String text(String at, JsonNode item, String field, List<String> problems) {
        JsonNode node = item.get(field);
        if (node == null || node.isNull()) {
            problems.add(at + "." + field + ": required");
            return null;
        }
        if (!node.isTextual() || node.asText().isBlank()) {
            problems.add(at + "." + field + ": expected a non-empty string");
            return null;
        }
        return node.asText();
    }

    private static Instant observedAt(String at, JsonNode item, Instant receivedAt, List<String> problems) {
        JsonNode node = item.get("observedAt");
        if (node == null || node.isNull()) {
            return receivedAt;
        }
        try {
            return Instant.parse(node.asText());
        } catch (DateTimeParseException e) {
            problems.add(at + ".observedAt: expected an ISO-8601 instant such as 2026-12-01T10:00:00Z");
            return receivedAt;
        }
    }

    private static long parseLong(String text) {
        try {
            return Long.parseLong(text.strip());
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }

    private static ObjectNode error(String message) {
        return BodyLimits.JSON.createObjectNode().put("error", message);
    }

    private static ObjectNode errors(List<String> problems) {
        ObjectNode node = BodyLimits.JSON.createObjectNode();
        ArrayNode list = node.putArray("errors");
        problems.forEach(list::add);
        return node;
    }

    private void reply(HttpServerRequest request, int status, ObjectNode body) {
        answered.accept(status);
        request.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.toString());
    }
}
