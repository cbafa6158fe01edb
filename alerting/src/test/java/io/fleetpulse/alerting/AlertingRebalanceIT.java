package io.fleetpulse.alerting;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.runtime.ServiceState;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.testkit.Await;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.TopicProbe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A rebalance while a receiver is retrying: the member giving up a partition waits at most alerting.rebalance.wait
 * for what it has in flight there, then hands it over. The coupled loop waited without limit in
 * onPartitionsRevoked, so the group never settled while PagerDuty was down, and the member was expelled once
 * max.poll.interval.ms ran out.
 */
class AlertingRebalanceIT {

    private static final String PD_PATH = "/v2/enqueue";
    private static final int ALERTS = 10;
    private static final Duration WAIT = Duration.ofSeconds(30);

    private KafkaFixture kafka;
    private WireMockServer pagerDuty;
    private final List<AlertingService> services = new ArrayList<>();

    @BeforeEach
    void startBrokerAndPagerDuty() throws Exception {
        kafka = KafkaFixture.start();
        kafka.createContractTopics(2);
        pagerDuty = new WireMockServer(options().dynamicPort());
        pagerDuty.start();
    }

    @AfterEach
    void stop() throws Exception {
        services.forEach(AlertingService::close);
        pagerDuty.stop();
        kafka.close();
    }

    @Test
    void shouldHandOverAPartitionWithinTheRebalanceWaitWhileItsNotificationsAreStillRetrying() throws Exception {
        pagerDuty.stubFor(post(urlEqualTo(PD_PATH)).willReturn(aResponse().withStatus(503)));
        AlertingService first = startMember();
        for (int i = 0; i < ALERTS; i++) {
            AlertEvent firing = TestAlerts.firing("fp-rebalance-" + i);
            TopicProbe.send(kafka.bootstrapServers(), Topics.ALERTS, firing.getFingerprint(), firing);
        }
        await(() -> first.notificationCount("pagerduty", NotificationOutcome.RETRIED) >= ALERTS,
                "every alert to be retrying on the first member");
        assertEquals(2, partitions(first), "the first member owns both partitions");

        AlertingService second = startMember();
        await(() -> partitions(first) == 1 && partitions(second) == 1,
                "the group to settle with one partition each while PagerDuty still fails");
        assertEquals(ServiceState.RUNNING, first.state(), "not expelled: " + first.status().get("failure"));
        assertEquals(0, first.sentCount("pagerduty") + second.sentCount("pagerduty"));

        pagerDuty.stubFor(post(urlEqualTo(PD_PATH)).atPriority(1).willReturn(aResponse().withStatus(202).withBody("{}")));
        List<NotificationRecord> sent = TopicProbe.readUntil(kafka.bootstrapServers(), Topics.NOTIFICATIONS,
                        r -> r.stream().map(ConsumerRecord::value).filter(n -> n.getOutcome() == NotificationOutcome.SENT)
                                .map(NotificationRecord::getFingerprint).distinct().count() == ALERTS, WAIT)
                .stream().map(ConsumerRecord::value).filter(n -> n.getOutcome() == NotificationOutcome.SENT).toList();
        assertEquals(ALERTS, sent.stream().map(NotificationRecord::getFingerprint).distinct().count(),
                "every alert paged once PagerDuty is back, none lost in the hand-over");
        assertTrue(first.isLive() && second.isLive());
    }

    private AlertingService startMember() throws Exception {
        AlertingService service = new AlertingService(Settings.of(Map.ofEntries(
                Map.entry("kafka.bootstrap.servers", kafka.bootstrapServers()),
                Map.entry("kafka.topic.partitions", "2"),
                Map.entry("alerting.group.id", "it-alerting-rebalance"),
                Map.entry("alerting.pagerduty.url", pagerDuty.baseUrl() + PD_PATH),
                Map.entry("alerting.pagerduty.routing.key", "rebalance-routing-key-0123"),
                Map.entry("alerting.pagerduty.rate.per.second", "100"),
                Map.entry("alerting.retry.initial.backoff", "100ms"),
                Map.entry("alerting.retry.max.backoff", "500ms"),
                Map.entry("alerting.rebalance.wait", "1s"),
                Map.entry("alerting.http.timeout", "2s"),
                // An unbounded wait in the rebalance would get the member expelled after this.
                Map.entry("kafka.client.max.poll.interval.ms", "15000"),
                Map.entry("ops.stop.timeout", "6s")), AlertingService.KEYS));
        services.add(service);
        service.start();
        return service;
    }

    private static int partitions(AlertingService service) {
        Object receivers = service.status().get("receivers");
        return ((Number) ((Map<?, ?>) ((List<?>) receivers).get(0)).get("partitions")).intValue();
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        Await.until(condition, WAIT, what, () -> null);
    }
}
