package io.fleetpulse.alerting;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.runtime.ServiceMeters;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** One worker against a local HTTP receiver: how throttling and rate limits relate to the attempt budget. */
class DeliveryWorkerTest {

    private static final String PATH = "/services/T0/B0/token";
    private static final String SLOW_DOWN = "slow-down";

    private WireMockServer slack;
    private final List<NotificationRecord> audit = new CopyOnWriteArrayList<>();

    @BeforeEach
    void startReceiver() {
        slack = new WireMockServer(options().dynamicPort());
        slack.start();
    }

    @AfterEach
    void stopReceiver() {
        slack.stop();
    }

    @Test
    void shouldRetryA429WithRetryAfterWithoutUsingUpTheAttempts() throws Exception {
        // Three 429s in a row, each asking to come back at once, then accepted; the budget is one attempt.
        String state = Scenario.STARTED;
        for (int i = 1; i <= 3; i++) {
            slack.stubFor(post(urlEqualTo(PATH)).inScenario(SLOW_DOWN).whenScenarioStateIs(state)
                    .willReturn(aResponse().withStatus(429).withHeader("Retry-After", "0"))
                    .willSetStateTo("throttled-" + i));
            state = "throttled-" + i;
        }
        slack.stubFor(post(urlEqualTo(PATH)).inScenario(SLOW_DOWN).whenScenarioStateIs(state)
                .willReturn(aResponse().withStatus(200).withBody("ok")));

        try (DeliveryWorker worker = worker(1, 100)) {
            DeliveryWorker.Result result = worker.submit(notification("fp-storm")).get(10, TimeUnit.SECONDS);

            assertEquals(DeliveryWorker.Result.SENT, result);
            assertEquals(List.of(NotificationOutcome.RETRIED, NotificationOutcome.RETRIED, NotificationOutcome.RETRIED,
                    NotificationOutcome.SENT), audit.stream().map(NotificationRecord::getOutcome).toList());
            assertEquals(List.of(1, 2, 3, 4), audit.stream().map(NotificationRecord::getAttempt).toList(),
                    "the audit numbers every HTTP attempt");
            assertTrue(audit.get(0).getError().contains("throttled"), audit.get(0).getError());
            assertEquals(0, worker.failedCount());
        }
    }

    @Test
    void shouldStillGiveUpWhenA429ComesWithoutRetryAfter() throws Exception {
        slack.stubFor(post(urlEqualTo(PATH)).willReturn(aResponse().withStatus(429)));

        try (DeliveryWorker worker = worker(2, 100)) {
            assertEquals(DeliveryWorker.Result.FAILED,
                    worker.submit(notification("fp-429")).get(10, TimeUnit.SECONDS));
            assertEquals(List.of(NotificationOutcome.RETRIED, NotificationOutcome.FAILED),
                    audit.stream().map(NotificationRecord::getOutcome).toList());
        }
    }

    @Test
    void shouldWaitForTheRateLimitWithoutCountingItAsAnAttempt() throws Exception {
        slack.stubFor(post(urlEqualTo(PATH)).willReturn(aResponse().withStatus(200).withBody("ok")));

        try (DeliveryWorker worker = worker(1, 1)) {
            CompletableFuture<DeliveryWorker.Result> first = worker.submit(notification("fp-a"));
            CompletableFuture<DeliveryWorker.Result> second = worker.submit(notification("fp-b"));

            assertEquals(DeliveryWorker.Result.SENT, first.get(10, TimeUnit.SECONDS));
            assertEquals(DeliveryWorker.Result.SENT, second.get(10, TimeUnit.SECONDS));
            List<LoggedRequest> requests = slack.findAll(postRequestedFor(urlEqualTo(PATH)));
            long gap = requests.get(1).getLoggedDate().getTime() - requests.get(0).getLoggedDate().getTime();
            assertTrue(gap >= 900, "one request a second to one Slack webhook, gap " + gap + " ms");
            assertEquals(List.of(1, 1), audit.stream().map(NotificationRecord::getAttempt).toList());
        }
    }

    private DeliveryWorker worker(int maxAttempts, double ratePerSecond) {
        RetryPolicy policy = new RetryPolicy(new RetryPolicy.Limits(maxAttempts, Duration.ofMillis(10),
                Duration.ofMillis(20), Duration.ofSeconds(5), Duration.ofMinutes(1)), () -> 0.5);
        return new DeliveryWorker(new SlackReceiver("slack", URI.create(slack.baseUrl() + PATH)), "test-group",
                HttpClient.newHttpClient(), Duration.ofSeconds(2), policy, TokenBucket.perSecond(ratePerSecond),
                new DeliveredSet("test-group", Duration.ofHours(1)),
                record -> {
                    audit.add(record);
                    return CompletableFuture.completedFuture(null);
                }, Clock.systemUTC(), ServiceMeters.create("alerting"));
    }

    private static Notification notification(String fingerprint) {
        return Notification.of(TestAlerts.firing(fingerprint), "test-group",
                new SlackReceiver("slack", URI.create("http://unused/")));
    }
}
