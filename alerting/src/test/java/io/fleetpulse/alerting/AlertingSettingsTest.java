package io.fleetpulse.alerting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.config.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AlertingSettingsTest {

    private static final String ROUTING_KEY = "R0UT1NGKEY0123456789abcdef012345";
    private static final String SLACK_URL = "https://hooks.slack.com/services/T0001/B0001/SLACKTOKEN123";

    @Test
    void shouldUseOnlyReceiversWhoseSettingsAreGiven() {
        assertEquals(List.of(), settings(Map.of()).receivers(),
                "PagerDuty's URL has a default, but without a routing key it is not used");

        AlertingSettings all = settings(Map.of(
                "alerting.slack.webhook.url", SLACK_URL,
                "alerting.pagerduty.routing.key", ROUTING_KEY,
                "alerting.webhook.urls", "http://a.example/hook, https://b.example/hook"));

        assertEquals(List.of("slack", "pagerduty", "webhook-1", "webhook-2"),
                all.receivers().stream().map(Receiver::name).toList());
        assertEquals("https://events.pagerduty.com/v2/enqueue",
                ((PagerDutyReceiver) all.receivers().get(1)).url().toString());
    }

    @Test
    void shouldReadRetryAndRateSettingsWithTheirDefaults() {
        AlertingSettings defaults = settings(Map.of());
        assertEquals(new RetryPolicy.Limits(Duration.ofHours(24), Duration.ofMillis(500), Duration.ofSeconds(30), Duration.ofSeconds(60),
                Duration.ofMinutes(15)), defaults.retryLimits());
        assertEquals(1.0, defaults.ratePerSecond(ReceiverType.SLACK), "Slack's ~1 message a second per webhook");
        assertEquals(2.0, defaults.ratePerSecond(ReceiverType.PAGERDUTY));
        assertEquals(10.0, defaults.ratePerSecond(ReceiverType.WEBHOOK));
        assertEquals(5.0, settings(Map.of("alerting.slack.rate.per.second", "5")).ratePerSecond(ReceiverType.SLACK));
        assertEquals("fleetpulse-alerting", defaults.groupId());
        assertEquals(Duration.ofHours(24), defaults.deliveredLookback());
        assertEquals(100, defaults.maxInFlight());
        assertEquals(Duration.ofSeconds(5), defaults.revokeWait());
        assertEquals(new ReceiverHealth.Thresholds(5, Duration.ofMinutes(2)), defaults.failing());
        SlackReceiver slack = new SlackReceiver("slack", java.net.URI.create("https://hooks.slack.com/services/T/B/x"));
        assertEquals("fleetpulse-alerting." + slack.identity().replace(':', '-'), defaults.groupOf(slack),
                "each receiver reads in its own group, named by the deployment and the receiver's identity");
    }

    @Test
    void shouldNameTheKeyOfABadSlackUrlWithoutShowingIt() {
        ConfigException e = assertThrows(ConfigException.class, () -> settings(Map.of(
                "alerting.slack.webhook.url", "hooks.slack.com/services/T0001/B0001/SLACKTOKEN123")));
        assertEquals("alerting.slack.webhook.url", e.key());
        assertFalse(e.getMessage().contains("SLACKTOKEN123"), e.getMessage());
    }

    @Test
    void shouldNameTheKeyOfABadPagerDutyUrl() {
        ConfigException e = assertThrows(ConfigException.class, () -> settings(Map.of(
                "alerting.pagerduty.url", "ftp://events.pagerduty.com/v2/enqueue")));
        assertEquals("alerting.pagerduty.url", e.key());
    }

    @Test
    void shouldNameTheKeyOfABadWebhookUrlWithoutShowingItsPath() {
        ConfigException e = assertThrows(ConfigException.class, () -> settings(Map.of(
                "alerting.webhook.urls", "https://ok.example/hook,mailto:ops@example.com?token=T0K3N")));
        assertEquals("alerting.webhook.urls", e.key());
        assertFalse(e.getMessage().contains("T0K3N"), e.getMessage());
    }

    @Test
    void shouldReadTheSilencesApiAddressAndRefuseAPortOutOfRange() {
        AlertingSettings defaults = settings(Map.of());
        assertEquals("0.0.0.0", defaults.apiHost());
        assertEquals(0, defaults.apiPort(), "a free port unless set");
        assertEquals(9094, settings(Map.of("alerting.api.port", "9094")).apiPort());
        assertEquals("alerting.api.port", assertThrows(ConfigException.class, () -> settings(
                Map.of("alerting.api.port", "70000"))).key());
    }

    @Test
    void shouldRejectOutOfRangeRetrySettings() {
        assertEquals("alerting.retry.budget", assertThrows(ConfigException.class, () -> settings(
                Map.of("alerting.retry.budget", "0s"))).key());
        assertEquals("alerting.receiver.max.in.flight", assertThrows(ConfigException.class, () -> settings(
                Map.of("alerting.receiver.max.in.flight", "0"))).key());
        assertEquals("alerting.retry.initial.backoff", assertThrows(ConfigException.class, () -> settings(
                Map.of("alerting.retry.initial.backoff", "1m", "alerting.retry.max.backoff", "30s"))).key());
        assertEquals("alerting.slack.rate.per.second", assertThrows(ConfigException.class, () -> settings(
                Map.of("alerting.slack.rate.per.second", "0"))).key());
    }

    @Test
    void shouldValidateEverySettingWhenTheServiceIsConstructed() {
        ConfigException e = assertThrows(ConfigException.class, () -> new AlertingService(Settings.of(Map.of(
                "alerting.retry.initial.backoff", "1m", "alerting.retry.max.backoff", "30s"), AlertingService.KEYS)));
        assertEquals("alerting.retry.initial.backoff", e.key());
        assertEquals("Invalid value '1m' for 'alerting.retry.initial.backoff': it must not exceed "
                + "alerting.retry.max.backoff (30s)", e.getMessage(), "durations as they are written");
    }

    @Test
    void shouldRejectAMisspelledAlertingKeySuggestingTheRightOne() {
        ConfigException e = assertThrows(ConfigException.class, () -> Settings.of(Map.of(
                "alerting.retry.budgte", "3h"), AlertingService.KEYS));
        assertEquals("alerting.retry.budgte", e.key());
        assertTrue(e.getMessage().contains("alerting.retry.budget"), e.getMessage());
    }

    @Test
    void shouldListEveryKeyIncludingKafkas() {
        List<String> names = AlertingService.KEYS.stream().map(k -> k.name()).toList();
        assertTrue(names.contains("kafka.bootstrap.servers"), names.toString());
        assertTrue(names.containsAll(List.of("alerting.group.id", "alerting.slack.webhook.url", "alerting.pagerduty.url",
                "alerting.pagerduty.routing.key", "alerting.webhook.urls", "alerting.retry.budget",
                "alerting.retry.initial.backoff", "alerting.retry.max.backoff", "alerting.retry.after.budget",
                "alerting.slack.rate.per.second", "alerting.pagerduty.rate.per.second",
                "alerting.webhook.rate.per.second")), names.toString());
    }

    @Test
    void shouldKeepSecretsOutOfStatusAndShowReceiversMasked() {
        Map<String, String> values = new HashMap<>();
        values.put("alerting.slack.webhook.url", SLACK_URL);
        values.put("alerting.pagerduty.routing.key", ROUTING_KEY);
        values.put("alerting.webhook.urls", "https://hooks.example/in?token=WEBHOOKTOKEN");
        try (AlertingService service = new AlertingService(Settings.of(values, AlertingService.KEYS))) {
            String status = service.status() + " " + service.details();
            assertFalse(status.contains(ROUTING_KEY), status);
            assertFalse(status.contains("SLACKTOKEN123"), status);
            assertFalse(status.contains("WEBHOOKTOKEN"), status);
            assertTrue(status.contains("https://hooks.slack.com/****"), "receivers come from the settings: " + status);
            assertEquals("****", ((Map<?, ?>) service.status().get("settings")).get("alerting.slack.webhook.url"));
        }
    }

    @Test
    void shouldTakeTheReceiversOfTheRoutingFileWithTheirSecretsFromFiles(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("slack-url"), SLACK_URL + "\n");
        Files.writeString(dir.resolve("pd-key"), ROUTING_KEY);
        Path routing = Files.writeString(dir.resolve("routing.yaml"), """
                receivers:
                  - {name: team-slack, kind: slack, url_file: %s}
                  - {name: oncall, kind: pagerduty, routing_key_file: %s}
                route:
                  receiver: team-slack
                  routes: [{matchers: ['severity="critical"'], receiver: oncall}]
                """.formatted(dir.resolve("slack-url"), dir.resolve("pd-key")));

        AlertingSettings fromFile = settings(Map.of("alerting.routing.file", routing.toString()));

        assertEquals(List.of("team-slack", "oncall"), fromFile.receivers().stream().map(Receiver::name).toList());
        assertEquals(Receiver.identityOf(ReceiverType.PAGERDUTY, ROUTING_KEY), fromFile.receivers().get(1).identity());
        assertEquals(java.util.Set.of("oncall"), fromFile.routing().receiversOf(Map.of("severity", "critical")));
    }

    @Test
    void shouldStopOnABadRoutingFileNamingTheKeyAndTheLine(@TempDir Path dir) throws Exception {
        Path routing = Files.writeString(dir.resolve("routing.yaml"), """
                receivers: [{name: s, kind: slack, url_env: FLEETPULSE_TEST_UNSET_VARIABLE}]
                route:
                  receiver: s
                  routes: [{matchers: ['env=~"["']}]
                """);
        ConfigException bad = assertThrows(ConfigException.class,
                () -> settings(Map.of("alerting.routing.file", routing.toString())));
        assertEquals("alerting.routing.file", bad.key());
        assertTrue(bad.getMessage().contains(routing + ":1:") && bad.getMessage().contains(routing + ":4:"),
                bad.getMessage());

        ConfigException both = assertThrows(ConfigException.class, () -> settings(Map.of(
                "alerting.routing.file", routing.toString(), "alerting.slack.webhook.url", SLACK_URL)));
        assertEquals("alerting.slack.webhook.url", both.key());
        assertFalse(both.getMessage().contains("SLACKTOKEN123"), both.getMessage());
    }

    private static AlertingSettings settings(Map<String, String> values) {
        return AlertingSettings.from(Settings.of(values, AlertingService.KEYS));
    }
}
