package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.Target;
import io.fleetpulse.simulator.FleetSpec;
import io.fleetpulse.simulator.SimulatedFleet;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The scheduler against a simulated server over real HTTP: each endpoint on its own interval. */
class PollSchedulerIT {

    @Test
    void shouldPollTheMetricsEndpointOnItsOwnLongerInterval() throws Exception {
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
        try (SimulatedFleet fleet = SimulatedFleet.start(FleetSpec.of(1))) {
            HttpClient http = TargetHttpClient.createHttpClient(vertx, 4, null);
            AtomicInteger health = new AtomicInteger();
            AtomicInteger metrics = new AtomicInteger();
            CompletableFuture<Void> enough = new CompletableFuture<>();
            PollScheduler scheduler = new PollScheduler(vertx, new TargetHttpClient(vertx, http, BodyLimits.DEFAULTS.maxBodyBytes()),
                    Clock.systemUTC(), 4, 0.1, lagMs -> { }, (target, kind, at, outcome, elapsedNanos) -> {
                        if ((kind == PollScheduler.Kind.HEALTH ? health : metrics).incrementAndGet() > 0 && health.get() >= 20) {
                            enough.complete(null);
                        }
                    });
            Target target = Target.newBuilder().setTargetId("srv-001").setHealthUrl(fleet.healthUrl("srv-001"))
                    .setMetricsUrl(fleet.metricsUrl("srv-001")).setCheckIntervalMs(150).setMetricsIntervalMs(900L)
                    .setTimeoutMs(140).setUpdatedAt(Instant.now()).build();
            try {
                scheduler.start(List.of(target)).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
                enough.get(20, TimeUnit.SECONDS);
            } finally {
                scheduler.stop().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
            }

            // 20 health polls take about 3 s: two to four metrics polls at 900 ms, not twenty.
            assertTrue(metrics.get() >= 1 && metrics.get() <= 6, "health " + health + ", metrics " + metrics);
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
