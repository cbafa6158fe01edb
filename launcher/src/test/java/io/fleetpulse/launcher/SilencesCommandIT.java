package io.fleetpulse.launcher;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.fleetpulse.alerting.AlertingService;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.testkit.Await;
import io.fleetpulse.testkit.KafkaFixture;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** {@code fleetpulse silences add|list|expire} against a running alerting service's silences API on a real broker. */
class SilencesCommandIT {

    @Test
    void shouldAddListAndExpireSilencesThroughTheAlertingApi() throws Exception {
        WireMockServer slack = new WireMockServer(options().dynamicPort());
        slack.start();
        slack.stubFor(post("/hook").willReturn(aResponse().withStatus(200)));
        try (KafkaFixture kafka = KafkaFixture.start()) {
            kafka.createContractTopics(2);
            AlertingService alerting = new AlertingService(Settings.of(Map.of(
                    "kafka.bootstrap.servers", kafka.bootstrapServers(),
                    "kafka.topic.partitions", "2",
                    "alerting.group.id", "it-silences-cli",
                    "alerting.slack.webhook.url", slack.baseUrl() + "/hook",
                    "alerting.api.host", "127.0.0.1",
                    "alerting.api.port", "0",
                    "ops.stop.timeout", "8s"), AlertingService.KEYS));
            try (alerting) {
                alerting.start();
                awaitUntil(alerting::isReady, "alerting to be ready");
                String url = "http://127.0.0.1:" + alerting.silencesApiPort();

                CliRun added = CliRun.execute("silences", "add", "--url", url, "--matcher", "target=\"web-1\"",
                        "--matcher", "severity=~\"critical|warning\"", "--duration", "2h", "--created-by", "alice",
                        "--comment", "kernel upgrade");
                assertEquals(0, added.exit(), added.err());
                String id = added.out().strip();
                CliRun window = CliRun.execute("silences", "add", "--url", url, "--matcher", "group=\"db\"",
                        "--weekly", "Sat 22:00-Sun 02:00", "--zone", "Europe/Berlin", "--created-by", "ops",
                        "--comment", "weekly patching");
                assertEquals(0, window.exit(), window.err());

                CliRun listed = CliRun.execute("silences", "list", "--url", url);
                assertEquals(2, listed.out().lines().count(), "an add is listed at once: " + listed.out());
                assertTrue(listed.out().lines().anyMatch(l -> l.startsWith(id) && l.contains("active")
                        && l.contains("target=\"web-1\"") && l.contains("alice: kernel upgrade")), listed.out());
                assertTrue(listed.out().contains("Sat 22:00-Sun 02:00 Europe/Berlin"), listed.out());

                CliRun expired = CliRun.execute("silences", "expire", id, "--url", url);
                assertEquals(0, expired.exit(), expired.err());
                assertTrue(CliRun.execute("silences", "list", "--url", url, "--state", "expired").out().contains(id),
                        "an expired silence is listed as expired at once");

                CliRun bad = CliRun.execute("silences", "add", "--url", url, "--matcher", "target=~\"(\"",
                        "--duration", "1h", "--created-by", "a", "--comment", "c");
                assertEquals(2, bad.exit(), bad.err());
                assertTrue(bad.err().startsWith("fleetpulse silences add: matchers: "), bad.err());
                CliRun noTime = CliRun.execute("silences", "add", "--url", url, "--matcher", "target=\"x\"",
                        "--created-by", "a", "--comment", "c");
                assertEquals(2, noTime.exit());
                assertTrue(noTime.err().contains("exactly one of --duration"), noTime.err());
                CliRun unknown = CliRun.execute("silences", "expire", "no-such-id", "--url", url);
                assertEquals(1, unknown.exit());
                assertTrue(unknown.err().contains("404") && unknown.err().contains("no silence no-such-id"),
                        unknown.err());
            }
            CliRun unreachable = CliRun.execute("silences", "list", "--url", "http://127.0.0.1:1", "--timeout", "2s");
            assertEquals(1, unreachable.exit());
            assertTrue(unreachable.err().startsWith("fleetpulse silences list: cannot reach the alerting API at "
                    + "http://127.0.0.1:1"), unreachable.err());
        } finally {
            slack.stop();
        }
    }

    private static void awaitUntil(BooleanSupplier condition, String what) throws InterruptedException {
        Await.until(condition, Duration.ofSeconds(30), what);
    }
}
