package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.events.Target;
import io.fleetpulse.simulator.FleetSpec;
import io.fleetpulse.simulator.Hostility;
import io.fleetpulse.simulator.SimulatedFleet;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The collector's HTTP side against the simulator's hostile servers over real HTTP (no broker: what reaches the
 * topics is the check results asserted here). srv-001 to srv-010 trickle one byte a second; srv-011 to srv-017 are
 * one hostile kind each; srv-018 to srv-020 are healthy. Everything runs on one event loop, as in the service, and
 * a timer on that loop measures the longest it was held up.
 */
class HostileTargetsIT {

    private static final Duration DEADLINE = Duration.ofMillis(1500);
    /** How late past its deadline a poll may end on a loaded two-core machine. */
    private static final long MARGIN_MS = 700;
    private static final List<String> TRICKLERS = IntStream.rangeClosed(1, 10).mapToObj(i -> SimulatedFleet.serverId(i, 20)).toList();
    private static final List<String> HEALTHY = List.of("srv-018", "srv-019", "srv-020");
    private static final Map<Hostility, String> HOSTILE = Map.of(
            Hostility.HUGE_BODY, "srv-011", Hostility.HTML, "srv-012", Hostility.SERVER_ERROR, "srv-013",
            Hostility.REDIRECT_LOOP, "srv-014", Hostility.MANY_COMPONENTS, "srv-015", Hostility.HUGE_NAMES, "srv-016",
            Hostility.INVALID_NUMBERS, "srv-017");

    private static SimulatedFleet fleet;
    private static Vertx vertx;

    @BeforeAll
    static void startAHostileFleet() {
        fleet = SimulatedFleet.start(FleetSpec.of(20));
        TRICKLERS.forEach(id -> fleet.setHostile(id, Hostility.SLOW_BODY));
        HOSTILE.forEach((how, id) -> fleet.setHostile(id, how));
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    }

    @AfterAll
    static void stop() {
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().join();
        }
        if (fleet != null) {
            fleet.close();
        }
    }

    @Test
    void shouldEndATricklingPollAsTimeoutAtItsDeadlineAndGiveItsConnectionBack() throws Exception {
        // One connection for the whole fleet (one host:port): the healthy poll after it can only succeed if the
        // trickler's connection was closed and its pool slot freed.
        HttpClient http = TargetHttpClient.createHttpClient(vertx, 1, null);
        TargetHttpClient client = new TargetHttpClient(vertx, http, BodyLimits.DEFAULTS.maxBodyBytes());
        try {
            long started = System.nanoTime();
            HttpOutcome trickled = onLoop(() -> client.get(fleet.healthUrl("srv-001"), DEADLINE.toMillis()));
            long tookMs = (System.nanoTime() - started) / 1_000_000;

            HttpOutcome.Failure timeout = assertInstanceOf(HttpOutcome.Failure.class, trickled);
            assertEquals(CheckStatus.TIMEOUT, timeout.status());
            assertTrue(timeout.message().startsWith("no complete response within 1500 ms (reading the body, "),
                    timeout.message());
            assertTrue(tookMs >= DEADLINE.toMillis() - 50 && tookMs < DEADLINE.toMillis() + MARGIN_MS, "took " + tookMs + " ms");

            HttpOutcome healthy = onLoop(() -> client.get(fleet.healthUrl("srv-018"), DEADLINE.toMillis()));
            assertEquals(200, assertInstanceOf(HttpOutcome.Response.class, healthy).statusCode());
        } finally {
            http.close();
        }
    }

    @Test
    void shouldKeepPollingHealthyTargetsWhileMoreTargetsTrickleThanThereAreSlots() throws Exception {
        HttpClient http = TargetHttpClient.createHttpClient(vertx, 4, null);
        Map<String, List<CheckStatus>> seen = new ConcurrentHashMap<>();
        AtomicLong slowestTimeoutMs = new AtomicLong();
        CompletableFuture<Void> healthyPolledTwice = new CompletableFuture<>();
        PollScheduler scheduler = new PollScheduler(vertx, new TargetHttpClient(vertx, http, BodyLimits.DEFAULTS.maxBodyBytes()),
                Clock.systemUTC(), 4, 0.1, lagMs -> { }, (target, kind, at, outcome, elapsedNanos) -> {
                    CheckStatus status = outcome instanceof HttpOutcome.Failure f ? f.status() : CheckStatus.OK;
                    seen.computeIfAbsent(target.getTargetId(), k -> new CopyOnWriteArrayList<>()).add(status);
                    if (status == CheckStatus.TIMEOUT) {
                        slowestTimeoutMs.accumulateAndGet(elapsedNanos / 1_000_000, Math::max);
                    }
                    if (HEALTHY.stream().allMatch(id -> seen.getOrDefault(id, List.of()).stream()
                            .filter(s -> s == CheckStatus.OK).count() >= 2)) {
                        healthyPolledTwice.complete(null);
                    }
                });
        List<Target> targets = new java.util.ArrayList<>();
        TRICKLERS.forEach(id -> targets.add(target(id)));
        HEALTHY.forEach(id -> targets.add(target(id)));
        try {
            scheduler.start(targets).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);

            // Ten tricklers, four slots: without a hard deadline the first four would hold every slot for ever.
            healthyPolledTwice.get(20, TimeUnit.SECONDS);

            assertTrue(slowestTimeoutMs.get() < DEADLINE.toMillis() + MARGIN_MS, "slowest " + slowestTimeoutMs + " ms");
            TRICKLERS.stream().filter(seen::containsKey).forEach(id ->
                    assertTrue(seen.get(id).stream().allMatch(s -> s == CheckStatus.TIMEOUT), id + ": " + seen.get(id)));
            assertTrue(scheduler.inFlight() <= 4, "in flight " + scheduler.inFlight());
        } finally {
            scheduler.stop().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
            http.close();
        }
        assertEquals(0, scheduler.inFlight(), "every slot is given back");
    }

    @Test
    void shouldStopReadingA50MegabyteBodyAtTheCapWithOneClearError() throws Exception {
        long writtenBefore = fleet.hostileBodyBytesWritten();

        List<CheckResult> results = health(Hostility.HUGE_BODY);

        assertEquals(1, results.size());
        assertEquals(CheckStatus.ERROR, results.get(0).getStatus());
        assertEquals("HTTP 200 with a body that passed 262144 bytes, over the cap of 262144 bytes "
                + "(collector.poll.max.body.bytes); stopped reading", results.get(0).getMessage());
        long written = fleet.hostileBodyBytesWritten() - writtenBefore;
        assertTrue(written < SimulatedFleet.HUGE_BODY_BYTES / 5, "the server got to write " + written + " bytes");
    }

    @Test
    void shouldReportHtmlA500AndARedirectLoopAsOneCheckEach() throws Exception {
        List<CheckResult> html = health(Hostility.HTML);
        List<CheckResult> serverError = health(Hostility.SERVER_ERROR);
        List<CheckResult> redirect = health(Hostility.REDIRECT_LOOP);

        assertEquals(1, html.size());
        assertEquals(CheckStatus.ERROR, html.get(0).getStatus());
        assertTrue(html.get(0).getMessage().startsWith("HTTP 200 but the body is not JSON: <!DOCTYPE html>"), html.get(0).getMessage());
        assertEquals(1, serverError.size());
        assertEquals(CheckStatus.CRITICAL, serverError.get(0).getStatus());
        assertEquals(1, redirect.size());
        assertEquals(CheckStatus.ERROR, redirect.get(0).getStatus());
        assertEquals("HTTP 302 is a redirect to " + fleet.healthUrl("srv-014") + ", not followed", redirect.get(0).getMessage());
    }

    @Test
    void shouldPublishABoundedNumberOfChecksWithBoundedNamesFromHugeBodies() throws Exception {
        List<CheckResult> many = health(Hostility.MANY_COMPONENTS);
        List<CheckResult> hugeNames = health(Hostility.HUGE_NAMES);

        assertEquals(1 + BodyLimits.DEFAULTS.maxChecks() + 1, many.size());
        assertEquals(CheckStatus.OK, many.get(0).getStatus());
        assertEquals("component-0", many.get(1).getCheckName());
        assertEquals("the body lists 5000 checks and components; published the first 64 (collector.health.max.checks)",
                many.get(many.size() - 1).getMessage());
        assertEquals(3, hugeNames.size());
        hugeNames.forEach(c -> assertTrue(c.getCheckName().length() <= BodyLimits.DEFAULTS.maxNameLength(), c.getCheckName()));
    }

    @Test
    void shouldReportInvalidNumbersAndStatusesClearly() throws Exception {
        List<CheckResult> results = health(Hostility.INVALID_NUMBERS);
        HttpOutcome.Response metrics = assertInstanceOf(HttpOutcome.Response.class,
                poll(fleet.metricsUrl(HOSTILE.get(Hostility.INVALID_NUMBERS))));

        assertEquals(List.of(CheckStatus.OK, CheckStatus.ERROR, CheckStatus.ERROR),
                results.stream().map(CheckResult::getStatus).toList());
        assertEquals("unknown status '42'", results.get(1).getMessage());
        MetricsParser.MalformedMetricsException e = assertThrows(MetricsParser.MalformedMetricsException.class,
                () -> MetricsParser.parse("srv-017", "c1", Instant.now(), metrics.body(), BodyLimits.DEFAULTS));
        assertTrue(e.getMessage().contains("is not a number"), e.getMessage());
    }

    @Test
    void shouldCapTheExtraMetricsOfAMetricsBodyWithThousandsOfSeries() throws Exception {
        HttpOutcome.Response metrics = assertInstanceOf(HttpOutcome.Response.class,
                poll(fleet.metricsUrl(HOSTILE.get(Hostility.MANY_COMPONENTS))));

        MetricSample sample = MetricsParser.parse("srv-015", "c1", Instant.now(), metrics.body(), BodyLimits.DEFAULTS);

        assertEquals(BodyLimits.DEFAULTS.maxExtraMetrics(), sample.getExtra().size());
    }

    /** One health poll of the server that is hostile {@code how}, mapped on the event loop as the service does. */
    private static List<CheckResult> health(Hostility how) throws Exception {
        HealthChecks checks = new HealthChecks(BodyLimits.DEFAULTS, HealthChecks.CertificateLines.DEFAULTS);
        HttpOutcome outcome = poll(fleet.healthUrl(HOSTILE.get(how)));
        return onLoop(() -> io.vertx.core.Future.succeededFuture(
                checks.toCheckResults(HOSTILE.get(how), "c1", Instant.now(), outcome)));
    }

    private static HttpOutcome poll(String url) throws Exception {
        HttpClient http = TargetHttpClient.createHttpClient(vertx, 2, null);
        try {
            return onLoop(() -> new TargetHttpClient(vertx, http, BodyLimits.DEFAULTS.maxBodyBytes()).get(url, 5_000));
        } finally {
            http.close();
        }
    }

    /**
     * Runs {@code call} on the event loop and waits for its future, while a 10 ms timer on the same loop measures the
     * longest gap between its ticks: a blocked loop would show as a long gap.
     */
    private static <T> T onLoop(Supplier<io.vertx.core.Future<T>> call) throws Exception {
        Context context = vertx.getOrCreateContext();
        AtomicLong last = new AtomicLong(System.nanoTime());
        AtomicLong longestGapMs = new AtomicLong();
        CompletableFuture<T> result = new CompletableFuture<>();
        long[] meter = new long[1];
        context.runOnContext(v -> {
            meter[0] = vertx.setPeriodic(10, id -> {
                long now = System.nanoTime();
                longestGapMs.accumulateAndGet((now - last.getAndSet(now)) / 1_000_000, Math::max);
            });
            call.get().onComplete(r -> {
                vertx.cancelTimer(meter[0]);
                if (r.succeeded()) {
                    result.complete(r.result());
                } else {
                    result.completeExceptionally(r.cause());
                }
            });
        });
        T value = result.get(30, TimeUnit.SECONDS);
        // Generous for a loaded two-core machine (a GC pause, a starved thread); reading a 50 MB body or parsing
        // an unbounded one would hold the loop for seconds.
        assertTrue(longestGapMs.get() < 750, "the event loop was held up for " + longestGapMs + " ms");
        return value;
    }

    private static Target target(String id) {
        return Target.newBuilder().setTargetId(id).setHealthUrl(fleet.healthUrl(id)).setCheckIntervalMs(DEADLINE.toMillis() + 100)
                .setTimeoutMs(DEADLINE.toMillis()).setUpdatedAt(Instant.now()).build();
    }

    private static <T> T assertInstanceOf(Class<T> type, Object value) {
        return org.junit.jupiter.api.Assertions.assertInstanceOf(type, value, String.valueOf(value));
    }
}
