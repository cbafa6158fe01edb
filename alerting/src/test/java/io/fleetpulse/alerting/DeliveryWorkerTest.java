package io.fleetpulse.alerting;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.runtime.ServiceMeters;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One worker against a local HTTP receiver, on a virtual clock (no sleeps: a day of backoffs runs in the time its
 * requests take): the retry budget in hours, what is permanent, throttling and rate limits, concurrency and order.
 */
class DeliveryWorkerTest {

    private static final Instant START = Instant.parse("2024-05-01T12:00:00Z");

    private static final String PATH = "/services/T0/B0/token";
    private static final String SLOW_DOWN = "slow-down";

    private WireMockServer slack;
    private final List<NotificationRecord> audit = new CopyOnWriteArrayList<>();
    private final VirtualTime time = new VirtualTime(START);

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
    void shouldRetryA429WithRetryAfterWithoutUsingUpTheRetryBudget() throws Exception {
        // Three 429s in a row, each asking to come back at once, then accepted; the budget is a second of failing.
        String state = Scenario.STARTED;
        for (int i = 1; i <= 3; i++) {
            slack.stubFor(post(urlEqualTo(PATH)).inScenario(SLOW_DOWN).whenScenarioStateIs(state)
                    .willReturn(aResponse().withStatus(429).withHeader("Retry-After", "0"))
                    .willSetStateTo("throttled-" + i));
            state = "throttled-" + i;
        }
        slack.stubFor(post(urlEqualTo(PATH)).inScenario(SLOW_DOWN).whenScenarioStateIs(state)
                .willReturn(aResponse().withStatus(200).withBody("ok")));

        try (DeliveryWorker worker = worker(Duration.ofSeconds(1), 100)) {
            DeliveryWorker.Result result = settle(worker.submit(notification("fp-storm")));

            assertEquals(DeliveryWorker.Result.SENT, result);
            assertEquals(List.of(NotificationOutcome.THROTTLED, NotificationOutcome.THROTTLED,
                    NotificationOutcome.THROTTLED, NotificationOutcome.SENT), outcomes());
            assertEquals(List.of(1, 2, 3, 4), audit.stream().map(NotificationRecord::getAttempt).toList(),
                    "the audit numbers every HTTP attempt");
            assertTrue(audit.get(0).getError().contains("throttled"), audit.get(0).getError());
            assertEquals(0, worker.failedCount());
            assertFalse(worker.health().snapshot().consecutiveFailures() > 0, "throttling is not failing");
        }
    }

    @Test
    void shouldKeepRetryingA500ForTheWholeBudgetOfHoursThenRecordFailedOnce() throws Exception {
        slack.stubFor(post(urlEqualTo(PATH)).willReturn(aResponse().withStatus(500).withBody("down")));

        try (DeliveryWorker worker = worker(Duration.ofHours(24), 100)) {
            assertEquals(DeliveryWorker.Result.FAILED, settle(worker.submit(notification("fp-down"))));

            List<NotificationOutcome> outcomes = outcomes();
            assertEquals(NotificationOutcome.FAILED, outcomes.get(outcomes.size() - 1));
            assertEquals(1, outcomes.stream().filter(o -> o == NotificationOutcome.FAILED).count());
            assertTrue(outcomes.size() > 40, "dozens of attempts over a day, not six in seconds: " + outcomes.size());
            Instant first = audit.get(0).getDecidedAt();
            Instant failed = audit.get(audit.size() - 1).getDecidedAt();
            assertEquals(Duration.ofHours(24), Duration.between(first, failed), "FAILED exactly when the budget ends");
            Duration longestWait = Duration.ZERO;
            for (int i = 1; i < audit.size(); i++) {
                Duration wait = Duration.between(audit.get(i - 1).getDecidedAt(), audit.get(i).getDecidedAt());
                longestWait = wait.compareTo(longestWait) > 0 ? wait : longestWait;
            }
            assertEquals(Duration.ofMinutes(30), longestWait, "backoff capped at alerting.retry.max.backoff");
            assertTrue(audit.get(audit.size() - 1).getError().contains("retry budget"),
                    audit.get(audit.size() - 1).getError());
            assertEquals(outcomes.size(), slack.findAll(postRequestedFor(urlEqualTo(PATH))).size());
        }
    }

    @Test
    void shouldDeliverAPageOnceTheReceiverIsBackHoursLater() throws Exception {
        slack.stubFor(post(urlEqualTo(PATH)).willReturn(aResponse().withStatus(503)));

        try (DeliveryWorker worker = worker(Duration.ofHours(24), 100)) {
            DeliveryWorker.Delivery delivery = worker.submit(notification("fp-outage"));
            time.runUntil(() -> time.instant().isAfter(START.plus(Duration.ofHours(6))), Duration.ofSeconds(30));
            assertFalse(delivery.settled.isDone(), "still retrying six hours in");
            assertTrue(worker.health().snapshot().consecutiveFailures() >= 5);

            slack.stubFor(post(urlEqualTo(PATH)).willReturn(aResponse().withStatus(200).withBody("ok")));
            assertEquals(DeliveryWorker.Result.SENT, settle(delivery));
            assertEquals(NotificationOutcome.SENT, outcomes().get(outcomes().size() - 1));
            assertEquals(0, worker.health().snapshot().consecutiveFailures(), "a success ends the streak");
        }
    }

    @Test
    void shouldSendAGroupInOneRequestAndAuditEachOfItsAlertsUnderItsIdWithItsOutcome() throws Exception {
        slack.stubFor(post(urlEqualTo(PATH)).willReturn(aResponse().withStatus(200).withBody("ok")));
        Notification group = TestAlerts.group(new SlackReceiver("slack", URI.create("http://unused/")),
                TestAlerts.firing("fp-g1"), TestAlerts.firing("fp-g2"), TestAlerts.resolved(TestAlerts.firing("fp-g3")));

        try (DeliveryWorker worker = worker(Duration.ofHours(1), 100)) {
            assertEquals(DeliveryWorker.Result.SENT, settle(worker.submit(group)));
            assertEquals(1, slack.findAll(postRequestedFor(urlEqualTo(PATH))).size(), "one message for the group");
            assertEquals(List.of("fp-g1", "fp-g2", "fp-g3"), audit.stream().map(NotificationRecord::getFingerprint)
                    .toList(), "one audit record per alert, so SQL by fingerprint answers");
            assertTrue(audit.stream().allMatch(r -> r.getNotificationId().equals(group.id())
                    && r.getOutcome() == NotificationOutcome.SENT && r.getAttempt() == 1), audit.toString());
            assertEquals(AlertState.RESOLVED, audit.get(2).getAlertState());
            assertEquals(1, worker.sentCount(), "the worker counts notifications, not alerts");
        }
    }

    @Test
    void shouldAuditAResendThatGoesThroughAsResent() throws Exception {
        slack.stubFor(post(urlEqualTo(PATH)).willReturn(aResponse().withStatus(200).withBody("ok")));

        try (DeliveryWorker worker = worker(Duration.ofHours(1), 100)) {
            assertEquals(DeliveryWorker.Result.SENT, settle(worker.resend(notification("fp-again"))));
            assertEquals(List.of(NotificationOutcome.RESENT), outcomes());
        }
    }

    @Test
    void shouldRecordFailedAtOnceOnAClientErrorOtherThan429() throws Exception {
        slack.stubFor(post(urlEqualTo(PATH)).willReturn(aResponse().withStatus(404).withBody("no_service")));

        try (DeliveryWorker worker = worker(Duration.ofHours(24), 100)) {
            assertEquals(DeliveryWorker.Result.FAILED, settle(worker.submit(notification("fp-gone"))));
            assertEquals(List.of(NotificationOutcome.FAILED), outcomes());
            assertEquals(START, audit.get(0).getDecidedAt(), "no wait at all");
            assertEquals("HTTP 404 (permanent): no_service", audit.get(0).getError());
        }
    }

    @Test
    void shouldRetryNotificationsOfDifferentAlertsConcurrentlyAndKeepOneAlertsInOrder() throws Exception {
        // fp-stuck fails for a while; fp-free must not wait for it, and fp-stuck's RESOLVED must wait for its FIRING.
        slack.stubFor(post(urlEqualTo(PATH)).atPriority(1).withRequestBody(containing("fp-stuck"))
                .willReturn(aResponse().withStatus(500)));
        slack.stubFor(post(urlEqualTo(PATH)).atPriority(5).willReturn(aResponse().withStatus(200).withBody("ok")));

        try (DeliveryWorker worker = worker(Duration.ofHours(24), 100)) {
            AlertEvent stuck = TestAlerts.firing("fp-stuck");
            DeliveryWorker.Delivery firing = worker.submit(notification(stuck));
            DeliveryWorker.Delivery resolved = worker.submit(notification(TestAlerts.resolved(stuck)));
            DeliveryWorker.Delivery free = worker.submit(notification("fp-free"));

            assertEquals(DeliveryWorker.Result.SENT, settle(free));
            assertFalse(firing.settled.isDone());
            time.runUntil(() -> time.instant().isAfter(START.plus(Duration.ofHours(1))), Duration.ofSeconds(30));
            assertEquals(0, slack.findAll(postRequestedFor(urlEqualTo(PATH)).withRequestBody(containing("RESOLVED")))
                    .size(), "the RESOLVED waits behind its FIRING");

            slack.removeStub(slack.getStubMappings().stream().filter(m -> m.getPriority() == 1).findFirst()
                    .orElseThrow());
            assertEquals(DeliveryWorker.Result.SENT, settle(firing));
            assertEquals(DeliveryWorker.Result.SENT, settle(resolved));
        }
    }

    @Test
    void shouldWaitForTheRateLimitWithoutCountingItAsFailing() throws Exception {
        slack.stubFor(post(urlEqualTo(PATH)).willReturn(aResponse().withStatus(200).withBody("ok")));

        try (DeliveryWorker worker = worker(Duration.ofSeconds(1), 1,
                DeliveryWorker.Scheduler.onThread("test-deliver"), Clock.systemUTC())) {
            CompletableFuture<DeliveryWorker.Result> first = worker.submit(notification("fp-a")).settled;
            CompletableFuture<DeliveryWorker.Result> second = worker.submit(notification("fp-b")).settled;

            assertEquals(DeliveryWorker.Result.SENT, first.get(10, TimeUnit.SECONDS));
            assertEquals(DeliveryWorker.Result.SENT, second.get(10, TimeUnit.SECONDS));
            List<LoggedRequest> requests = slack.findAll(postRequestedFor(urlEqualTo(PATH)));
            long gap = requests.get(1).getLoggedDate().getTime() - requests.get(0).getLoggedDate().getTime();
            // Sends start a second apart; arrival times also carry the machine's scheduling jitter, so allow for it
            // (without the bucket the two would arrive within a few milliseconds).
            assertTrue(gap >= 500, "one request a second to one Slack webhook, gap " + gap + " ms");
            assertEquals(List.of(1, 1), audit.stream().map(NotificationRecord::getAttempt).toList());
        }
    }

    private DeliveryWorker.Result settle(DeliveryWorker.Delivery delivery) throws Exception {
        time.runUntil(delivery.settled::isDone, Duration.ofSeconds(60));
        return delivery.settled.get();
    }

    private List<NotificationOutcome> outcomes() {
        return audit.stream().map(NotificationRecord::getOutcome).toList();
    }

    private DeliveryWorker worker(Duration budget, double ratePerSecond) {
        return worker(budget, ratePerSecond, time, time);
    }

    private DeliveryWorker worker(Duration budget, double ratePerSecond, DeliveryWorker.Scheduler scheduler,
                                  Clock clock) {
        RetryPolicy policy = new RetryPolicy(new RetryPolicy.Limits(budget, Duration.ofSeconds(1),
                Duration.ofMinutes(30), Duration.ofSeconds(5), Duration.ofMinutes(1)), () -> 0.999_999_999);
        return new DeliveryWorker(new SlackReceiver("slack", URI.create(slack.baseUrl() + PATH)), "test-group",
                HttpClient.newHttpClient(), Duration.ofSeconds(2), policy, TokenBucket.perSecond(ratePerSecond),
                new DeliveredSet("test-group", Duration.ofHours(1)),
                record -> {
                    audit.add(record);
                    return CompletableFuture.completedFuture(null);
                }, scheduler, clock, new ReceiverHealth(new ReceiverHealth.Thresholds(5, Duration.ofMinutes(2))),
                ServiceMeters.create("alerting"));
    }

    private static Notification notification(String fingerprint) {
        return notification(TestAlerts.firing(fingerprint));
    }

    private static Notification notification(AlertEvent event) {
        return Notification.of(event, "test-group", new SlackReceiver("slack", URI.create("http://unused/")));
    }
}
