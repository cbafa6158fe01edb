package io.fleetpulse.alerting;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.testkit.Await;
import io.fleetpulse.testkit.ChildJvm;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.TopicProbe;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A delivery process killed mid-burst (SIGKILL: no shutdown hook, no commit, no flush) loses nothing and opens no
 * second PagerDuty incident. The first service runs in a JVM of its own ({@link AlertingProcess}) so it can really
 * be killed; a second one, in this JVM and in the same groups, takes over from the committed offsets.
 */
class AlertingKillIT {

    private static final String GROUP = "it-alerting-kill";
    private static final String SLACK_PATH = "/services/T7/B7/killSlackToken";
    private static final String PD_PATH = "/v2/enqueue";
    private static final int ALERTS = 40;
    private static final Duration WAIT = Duration.ofSeconds(60);

    private KafkaFixture kafka;
    private WireMockServer receivers;
    private Process first;
    private AlertingService second;

    @BeforeEach
    void start() throws Exception {
        kafka = KafkaFixture.start();
        kafka.createContractTopics(2);
        receivers = new WireMockServer(options().dynamicPort());
        receivers.start();
        // Slow enough answers that the burst is still in flight when the process dies.
        receivers.stubFor(post(urlEqualTo(PD_PATH)).willReturn(aResponse().withStatus(202).withBody("{}")
                .withFixedDelay(150)));
        receivers.stubFor(post(urlEqualTo(SLACK_PATH)).willReturn(aResponse().withStatus(200).withBody("ok")
                .withFixedDelay(150)));
    }

    @AfterEach
    void stop() throws Exception {
        if (first != null) {
            first.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (second != null) {
            second.close();
        }
        receivers.stop();
        kafka.close();
    }

    @Test
    void shouldLoseNothingAndOpenNoSecondIncidentWhenTheDeliveryProcessIsKilledMidBurst() throws Exception {
        int port = ChildJvm.freePort();
        first = ChildJvm.start(AlertingProcess.class, ChildJvm.withOpsPort(settings(), port), "alerting-kill-child.log");
        await(() -> ChildJvm.readyz(port) == 200, "the child process to be ready");

        for (int i = 0; i < ALERTS; i++) {
            AlertEvent firing = TestAlerts.firing("fp-kill-" + i);
            TopicProbe.send(kafka.bootstrapServers(), Topics.ALERTS, firing.getFingerprint(), firing);
        }
        await(() -> requests(PD_PATH).size() >= ALERTS / 4, "the burst to be under way");
        first.destroyForcibly();
        assertTrue(first.waitFor(10, TimeUnit.SECONDS), "killed");
        int pagedBeforeKill = requests(PD_PATH).size();
        assertTrue(pagedBeforeKill < ALERTS, "killed mid-burst, after " + pagedBeforeKill + " pages");
        Set<String> auditedSentToSlack = sentFingerprints("slack");

        second = new AlertingService(Settings.of(settings(), AlertingService.KEYS));
        second.start();
        await(() -> fingerprints(requests(PD_PATH)).size() == ALERTS && fingerprints(requests(SLACK_PATH)).size() == ALERTS,
                "every alert to reach PagerDuty and Slack after the restart");

        Map<String, Integer> pages = counts(requests(PD_PATH));
        for (LoggedRequest page : requests(PD_PATH)) {
            JsonNode body = AlertFormat.JSON.readTree(page.getBodyAsString());
            assertEquals(body.path("payload").path("custom_details").path("fingerprint").asText(),
                    body.path("dedup_key").asText(), "every page, first or repeated, carries its fingerprint as "
                            + "dedup_key, so PagerDuty folds a repeat into the incident it opened");
        }
        assertEquals(ALERTS, pages.size(), "none lost: " + pages);
        Map<String, Integer> slackMessages = counts(requests(SLACK_PATH));
        assertEquals(ALERTS, slackMessages.size(), "none lost on Slack: " + slackMessages);
        for (String fingerprint : auditedSentToSlack) {
            assertEquals(1, slackMessages.get(fingerprint), fingerprint + " was audited SENT before the kill, "
                    + "so the restarted service must not post it again");
        }
        assertTrue(auditedSentToSlack.size() > 0, "some deliveries were audited before the kill");
    }

    // ---------------------------------------------------------------- helpers

    private Map<String, String> settings() {
        Map<String, String> values = new HashMap<>();
        values.put("kafka.bootstrap.servers", kafka.bootstrapServers());
        values.put("kafka.topic.partitions", "2");
        values.put("alerting.group.id", GROUP);
        values.put("alerting.slack.webhook.url", receivers.baseUrl() + SLACK_PATH);
        values.put("alerting.pagerduty.url", receivers.baseUrl() + PD_PATH);
        values.put("alerting.pagerduty.routing.key", "kill-routing-key-0123456789");
        // A burst of 40 takes about 8 s at 5/s: long enough to be killed in the middle of it.
        values.put("alerting.slack.rate.per.second", "5");
        values.put("alerting.pagerduty.rate.per.second", "5");
        // Generous: a request WireMock received but answered after the timeout (a loaded machine) would be posted
        // twice by the retry, which is not what this test is about.
        values.put("alerting.http.timeout", "10s");
        values.putAll(ChildJvm.quickGroupLeave());
        return values;
    }


    /**
     * The fingerprints audited SENT to receivers of {@code receiverType}: fleet.notifications read to its current
     * end. (A Slack notification's id names its group, not the alert; each of its audit records names one alert.)
     */
    private Set<String> sentFingerprints(String receiverType) {
        Set<String> ids = new HashSet<>();
        try (KafkaConsumer<String, NotificationRecord> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                Topics.NOTIFICATIONS.keySerde().deserializer(), Topics.NOTIFICATIONS.valueSerde().deserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.NOTIFICATIONS.name()).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
                assertTrue(System.nanoTime() < deadline, "reading " + Topics.NOTIFICATIONS.name() + " to its end");
                for (ConsumerRecord<String, NotificationRecord> record : consumer.poll(Duration.ofMillis(200))) {
                    NotificationRecord n = record.value();
                    if (n.getOutcome() == NotificationOutcome.SENT && n.getReceiverType().equals(receiverType)) {
                        ids.add(n.getFingerprint());
                    }
                }
            }
        }
        return ids;
    }

    private List<LoggedRequest> requests(String path) {
        return receivers.findAll(postRequestedFor(urlEqualTo(path)));
    }

    private static Set<String> fingerprints(List<LoggedRequest> requests) {
        return counts(requests).keySet();
    }

    private static Map<String, Integer> counts(List<LoggedRequest> requests) {
        Map<String, Integer> counts = new TreeMap<>();
        for (LoggedRequest request : requests) {
            counts.merge(TestAlerts.fingerprintIn(request.getBodyAsString(), "fp-kill-"), 1, Integer::sum);
        }
        return counts;
    }

    private void await(BooleanSupplier condition, String what) throws InterruptedException {
        Await.until(condition, WAIT, what, () -> second == null ? null : "status " + second.status());
    }
}
