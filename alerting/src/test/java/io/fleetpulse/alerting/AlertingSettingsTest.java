package io.fleetpulse.alerting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.runtime.config.ConfigException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AlertingSettingsTest {

    private static final String ROUTING_KEY = "R0UT1NGKEY0123456789abcdef012345";
    private static final String SLACK_URL = "https://hooks.slack.com/services/T0001/B0001/SLACKTOKEN123";

    @Test
    void shouldUseOnlyReceiversWhoseSettingsAreGiven() {
        assertEquals(List.of(), new AlertingSettings(Config.of(Map.of())).receivers,
                "PagerDuty's URL has a default, but without a routing key it is not used");

        AlertingSettings all = new AlertingSettings(Config.of(Map.of(
                "alerting.slack.webhook.url", SLACK_URL,
                "alerting.pagerduty.routing.key", ROUTING_KEY,
                "alerting.webhook.urls", "http://a.example/hook, https://b.example/hook")));

        assertEquals(List.of("slack", "pagerduty", "webhook-1", "webhook-2"),
                all.receivers.stream().map(Receiver::name).toList());
        assertEquals("https://events.pagerduty.com/v2/enqueue",
                ((PagerDutyReceiver) all.receivers.get(1)).url().toString());
    }

    @Test
    void shouldReadRetryAndRateSettingsWithTheirDefaults() {
        AlertingSettings defaults = new AlertingSettings(Config.of(Map.of()));
        assertEquals(new RetryPolicy.Limits(6, Duration.ofMillis(500), Duration.ofSeconds(30), Duration.ofSeconds(60)),
                defaults.retryLimits);
        assertEquals(10.0, defaults.ratePerSecond);
        assertEquals("fleetpulse-alerting", defaults.groupId);
        assertEquals(Duration.ofHours(24), defaults.deliveredLookback);
    }

    @Test
    void shouldNameTheKeyOfABadSlackUrlWithoutShowingIt() {
        ConfigException e = assertThrows(ConfigException.class, () -> new AlertingSettings(Config.of(Map.of(
                "alerting.slack.webhook.url", "hooks.slack.com/services/T0001/B0001/SLACKTOKEN123"))));
        assertEquals("alerting.slack.webhook.url", e.key());
        assertFalse(e.getMessage().contains("SLACKTOKEN123"), e.getMessage());
    }

    @Test
    void shouldNameTheKeyOfABadPagerDutyUrl() {
        ConfigException e = assertThrows(ConfigException.class, () -> new AlertingSettings(Config.of(Map.of(
                "alerting.pagerduty.url", "ftp://events.pagerduty.com/v2/enqueue"))));
        assertEquals("alerting.pagerduty.url", e.key());
    }

    @Test
    void shouldNameTheKeyOfABadWebhookUrlWithoutShowingItsPath() {
        ConfigException e = assertThrows(ConfigException.class, () -> new AlertingSettings(Config.of(Map.of(
                "alerting.webhook.urls", "https://ok.example/hook,mailto:ops@example.com?token=T0K3N"))));
        assertEquals("alerting.webhook.urls", e.key());
        assertFalse(e.getMessage().contains("T0K3N"), e.getMessage());
    }

    @Test
    void shouldRejectOutOfRangeRetrySettings() {
        assertEquals("alerting.retry.max.attempts", assertThrows(ConfigException.class, () -> new AlertingSettings(
                Config.of(Map.of("alerting.retry.max.attempts", "0")))).key());
        assertEquals("alerting.retry.initial.backoff", assertThrows(ConfigException.class, () -> new AlertingSettings(
                Config.of(Map.of("alerting.retry.initial.backoff", "1m", "alerting.retry.max.backoff", "30s")))).key());
        assertEquals("alerting.rate.per.second", assertThrows(ConfigException.class, () -> new AlertingSettings(
                Config.of(Map.of("alerting.rate.per.second", "0")))).key());
    }

    @Test
    void shouldValidateEverySettingWhenTheServiceIsConstructed() {
        ConfigException e = assertThrows(ConfigException.class, () -> new AlertingService(Config.of(Map.of(
                "alerting.retry.max.backoff", "forever"))));
        assertEquals("alerting.retry.max.backoff", e.key());
    }

    @Test
    void shouldListEveryKeyIncludingKafkas() {
        List<String> names = AlertingService.KEYS.stream().map(k -> k.name()).toList();
        assertTrue(names.contains("kafka.bootstrap.servers"), names.toString());
        assertTrue(names.containsAll(List.of("alerting.group.id", "alerting.slack.webhook.url", "alerting.pagerduty.url",
                "alerting.pagerduty.routing.key", "alerting.webhook.urls", "alerting.retry.max.attempts",
                "alerting.retry.initial.backoff", "alerting.retry.max.backoff", "alerting.rate.per.second")), names.toString());
    }

    @Test
    void shouldKeepSecretsOutOfStatusBeforeStart() throws Exception {
        Map<String, String> values = new HashMap<>();
        values.put("alerting.slack.webhook.url", SLACK_URL);
        values.put("alerting.pagerduty.routing.key", ROUTING_KEY);
        values.put("alerting.webhook.urls", "https://hooks.example/in?token=WEBHOOKTOKEN");
        try (AlertingService service = new AlertingService(Config.of(values))) {
            String status = service.status().toString();
            assertFalse(status.contains(ROUTING_KEY), status);
            assertFalse(status.contains("SLACKTOKEN123"), status);
            assertFalse(status.contains("WEBHOOKTOKEN"), status);
            assertTrue(status.contains("https://hooks.slack.com/****"), status);
        }
    }
}
