package io.fleetpulse.alerting;

import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.config.ConfigKey;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.runtime.text.Durations;
import io.fleetpulse.alerting.route.ReceiverSpec;
import io.fleetpulse.alerting.route.RoutingTree;
import io.fleetpulse.runtime.yaml.YamlFileException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The alerting service's own settings, typed and immutable, built once from the resolved {@link Settings} when the
 * service is constructed, so a bad value stops it before it opens a Kafka client; {@code /status} renders from this.
 * Receivers are derived here: a receiver whose settings are absent is simply not configured.
 */
record AlertingSettings(String groupId, List<Receiver> receivers, RetryPolicy.Limits retryLimits,
                        Map<ReceiverType, Double> ratesPerSecond, Duration httpTimeout, Duration deliveredLookback,
                        int maxInFlight, Duration revokeWait, ReceiverHealth.Thresholds failing,
                        RoutingTree routing, Duration decideTick, Path decideStateDir, String apiHost, int apiPort) {

    static final ConfigKey<String> GROUP_ID = ConfigKey.string("alerting.group.id", "fleetpulse-alerting",
            "deployment name: every receiver reads fleet.alerts in its own consumer group, this value + '.' + the "
                    + "receiver's identity (e.g. fleetpulse-alerting.slack-3f2a9c0d1e7b4a65); also part of every "
                    + "notification id and the deployment field of the audit");
    static final ConfigKey<URI> SLACK_WEBHOOK_URL = ConfigKey.url("alerting.slack.webhook.url", null,
            "Slack incoming-webhook URL; unset = no Slack receiver. Its path carries a token, so it is masked").secret();
    static final ConfigKey<URI> PAGERDUTY_URL = ConfigKey.url("alerting.pagerduty.url",
            URI.create("https://events.pagerduty.com/v2/enqueue"), "PagerDuty Events API v2 endpoint");
    static final ConfigKey<String> PAGERDUTY_ROUTING_KEY = ConfigKey.string("alerting.pagerduty.routing.key", null,
            "PagerDuty integration (routing) key; unset = no PagerDuty receiver").secret();
    static final ConfigKey<List<String>> WEBHOOK_URLS = ConfigKey.list("alerting.webhook.urls", List.of(),
            "comma-separated generic webhook URLs, each gets the alert event as JSON; masked as they may carry tokens")
            .secret();
    static final ConfigKey<Duration> RETRY_BUDGET = ConfigKey.duration("alerting.retry.budget", Duration.ofHours(24),
            "how long a notification is retried (408, 429, 5xx, network errors; capped backoff with full jitter) "
                    + "before it is recorded FAILED; waiting for the rate limit and a 429 whose Retry-After is "
                    + "honoured (within alerting.retry.after.budget) do not count");
    static final ConfigKey<Duration> RETRY_INITIAL_BACKOFF = ConfigKey.duration("alerting.retry.initial.backoff",
            Duration.ofMillis(500), "backoff cap before the 2nd attempt; doubles per attempt (full jitter)");
    static final ConfigKey<Duration> RETRY_MAX_BACKOFF = ConfigKey.duration("alerting.retry.max.backoff",
            Duration.ofSeconds(30), "largest backoff cap between attempts");
    static final ConfigKey<Duration> RETRY_AFTER_MAX = ConfigKey.duration("alerting.retry.after.max",
            Duration.ofSeconds(60), "longest Retry-After (429/503) honoured; longer ones are clamped so one receiver "
                    + "cannot stall its queue indefinitely");
    static final ConfigKey<Duration> RETRY_AFTER_BUDGET = ConfigKey.duration("alerting.retry.after.budget",
            Duration.ofMinutes(15), "total Retry-After waiting on 429s one notification may do without using up "
                    + "attempts; past it a 429 counts as a failed attempt, so a receiver throttling forever is bounded");
    static final ConfigKey<Double> SLACK_RATE = ConfigKey.decimal("alerting.slack.rate.per.second", 1, 0.01, 10_000,
            "HTTP requests per second to each Slack webhook (token bucket, burst of one second's worth); Slack "
                    + "allows about one message a second per webhook and answers 429 above it");
    static final ConfigKey<Double> PAGERDUTY_RATE = ConfigKey.decimal("alerting.pagerduty.rate.per.second", 2, 0.01,
            10_000, "HTTP requests per second to PagerDuty per routing key (token bucket, burst of one second's "
                    + "worth); the Events API allows about 120 events a minute per routing key");
    static final ConfigKey<Double> WEBHOOK_RATE = ConfigKey.decimal("alerting.webhook.rate.per.second", 10, 0.01,
            10_000, "HTTP requests per second to each generic webhook (token bucket, burst of one second's worth)");
    static final ConfigKey<Duration> HTTP_TIMEOUT = ConfigKey.duration("alerting.http.timeout", Duration.ofSeconds(10),
            "connect and response timeout of one delivery attempt");
    static final ConfigKey<Duration> DELIVERED_LOOKBACK = ConfigKey.duration("alerting.delivered.lookback",
            Duration.ofHours(24), "how far back fleet.notifications is read at start to rebuild the set of SENT "
                    + "notifications that must not be sent again; also how long sent ids are remembered");

    static final ConfigKey<Integer> RECEIVER_MAX_IN_FLIGHT = ConfigKey.integer("alerting.receiver.max.in.flight",
            100, 1, 10_000, "notifications one receiver delivers and retries at once; when they are all pending, "
                    + "that receiver (and only it) stops reading until one settles");
    static final ConfigKey<Duration> REVOKE_WAIT = ConfigKey.duration("alerting.rebalance.wait", Duration.ofSeconds(5),
            "how long a rebalance waits for the in-flight notifications of revoked partitions before committing "
                    + "what settled and leaving the rest to the partitions' next owner");
    static final ConfigKey<Integer> FAILING_AFTER_FAILURES = ConfigKey.integer(
            "alerting.receiver.failing.after.failures", 5, 1, 1_000_000, "consecutive failed attempts (throttled "
                    + "ones not counted) after which a receiver is failing: /readyz not ready, the "
                    + "receiver_failing gauge 1, a meta-notification to a healthy receiver");
    static final ConfigKey<Duration> FAILING_AFTER = ConfigKey.duration("alerting.receiver.failing.after",
            Duration.ofMinutes(2), "a receiver whose attempts have failed without a success for this long is "
                    + "failing, however few attempts that was");

    static final ConfigKey<Path> ROUTING_FILE = ConfigKey.path("alerting.routing.file", null,
            "the routing file (YAML: receivers, routing tree, inhibition rules; see the alerting README); unset = "
                    + "every alert to every receiver set by the alerting.slack/pagerduty/webhook keys, which must "
                    + "then stay unset");

    static final ConfigKey<Duration> DECIDE_TICK = ConfigKey.duration("alerting.decide.tick", Duration.ofSeconds(1),
            "how often decide looks for groups whose group_wait, group_interval or repeat_interval is up (wall "
                    + "clock); a group is notified at most this late");
    static final ConfigKey<Path> DECIDE_STATE_DIR = ConfigKey.path("alerting.decide.state.dir", null,
            "where decide keeps its groups locally (Kafka Streams state directory); unset = a new temporary "
                    + "directory per start, filled from the changelog (the groups and timers are in the changelog "
                    + "either way); set it to start without that restore");

    static final ConfigKey<String> API_HOST = ConfigKey.string("alerting.api.host", "0.0.0.0",
            "address the silences API (POST/GET/DELETE /v1/silences) listens on");
    static final ConfigKey<Integer> API_PORT = ConfigKey.integer("alerting.api.port", 0, 0, 65535,
            "port of the silences API; 0 picks a free one (logged, and shown on /status as silencesApi): set a fixed "
                    + "one in production, e.g. 9094, the default of `fleetpulse silences --url`");

    /** The alerting keys only; {@link AlertingService#KEYS} adds the ops and Kafka keys. */
    static final List<ConfigKey<?>> KEYS = List.of(GROUP_ID, SLACK_WEBHOOK_URL, PAGERDUTY_URL, PAGERDUTY_ROUTING_KEY,
            WEBHOOK_URLS, RETRY_BUDGET, RETRY_INITIAL_BACKOFF, RETRY_MAX_BACKOFF, RETRY_AFTER_MAX, RETRY_AFTER_BUDGET,
            SLACK_RATE, PAGERDUTY_RATE, WEBHOOK_RATE, HTTP_TIMEOUT, DELIVERED_LOOKBACK, RECEIVER_MAX_IN_FLIGHT,
            REVOKE_WAIT, FAILING_AFTER_FAILURES, FAILING_AFTER, ROUTING_FILE, DECIDE_TICK, DECIDE_STATE_DIR,
            API_HOST, API_PORT);

    /** Reads the receivers and the limits from {@code settings}, resolved once with {@link #KEYS} among its keys. */
    static AlertingSettings from(Settings settings) {
        Duration initial = settings.get(RETRY_INITIAL_BACKOFF);
        Duration max = settings.get(RETRY_MAX_BACKOFF);
        if (initial.compareTo(max) > 0) {
            throw new ConfigException(RETRY_INITIAL_BACKOFF.name(), "Invalid value '" + Durations.format(initial)
                    + "' for '" + RETRY_INITIAL_BACKOFF.name() + "': it must not exceed " + RETRY_MAX_BACKOFF.name()
                    + " (" + Durations.format(max) + ")");
        }
        Path routingFile = settings.get(ROUTING_FILE);
        RoutingTree routing;
        List<Receiver> receivers;
        if (routingFile == null) {
            receivers = receivers(settings);
            routing = RoutingTree.everyReceiver(receivers.stream().map(Receiver::name).toList());
        } else {
            routing = routingTree(settings, routingFile);
            receivers = routing.receivers().stream().map(AlertingSettings::receiverOf).toList();
        }
        return new AlertingSettings(settings.get(GROUP_ID), receivers,
                new RetryPolicy.Limits(settings.get(RETRY_BUDGET), initial, max, settings.get(RETRY_AFTER_MAX),
                        settings.get(RETRY_AFTER_BUDGET)),
                Map.of(ReceiverType.SLACK, settings.get(SLACK_RATE), ReceiverType.PAGERDUTY, settings.get(PAGERDUTY_RATE),
                        ReceiverType.WEBHOOK, settings.get(WEBHOOK_RATE)),
                settings.get(HTTP_TIMEOUT), settings.get(DELIVERED_LOOKBACK), settings.get(RECEIVER_MAX_IN_FLIGHT),
                settings.get(REVOKE_WAIT), new ReceiverHealth.Thresholds(settings.get(FAILING_AFTER_FAILURES),
                        settings.get(FAILING_AFTER)), routing, settings.get(DECIDE_TICK), settings.get(DECIDE_STATE_DIR),
                settings.get(API_HOST), settings.get(API_PORT));
    }

    /** The routing file, read once; it declares the receivers, so the receiver keys must not. */
    private static RoutingTree routingTree(Settings settings, Path file) {
        for (ConfigKey<?> key : List.of(SLACK_WEBHOOK_URL, PAGERDUTY_ROUTING_KEY)) {
            if (settings.get(key) != null) {
                throw new ConfigException(key.name(), "'" + key.name() + "' is set, but the receivers are declared "
                        + "in " + ROUTING_FILE.name() + " (" + file + "): declare it there (its secret via url_env / "
                        + "routing_key_env or a secret file) and unset this key");
            }
        }
        if (!settings.get(WEBHOOK_URLS).isEmpty()) {
            throw new ConfigException(WEBHOOK_URLS.name(), "'" + WEBHOOK_URLS.name() + "' is set, but the receivers "
                    + "are declared in " + ROUTING_FILE.name() + " (" + file + "): declare them there and unset it");
        }
        try {
            return RoutingTree.load(file, System::getenv);
        } catch (YamlFileException e) {
            throw new ConfigException(ROUTING_FILE.name(), "Invalid routing file for '" + ROUTING_FILE.name() + "': "
                    + e.getMessage());
        }
    }

    private static Receiver receiverOf(ReceiverSpec spec) {
        return switch (spec.kind()) {
            case SLACK -> new SlackReceiver(spec.name(), spec.url());
            case PAGERDUTY -> new PagerDutyReceiver(spec.name(), spec.url(), spec.routingKey());
            case WEBHOOK -> new WebhookReceiver(spec.name(), spec.url(), spec.signingSecret());
        };
    }

    /** Decide's Kafka Streams application id: its consumer group, transactional ids and internal topics' prefix. */
    String decideApplicationId() {
        return groupId + "-decide";
    }

    /** The consumer group in which {@code receiver} reads: the deployment's name and the receiver's identity. */
    String groupOf(Receiver receiver) {
        return groupId + "." + receiver.identity().replace(':', '-');
    }

    /** Requests per second to one receiver of {@code type}: each Slack webhook, routing key, webhook has its own. */
    double ratePerSecond(ReceiverType type) {
        return ratesPerSecond.get(type);
    }

    /** Where to add the next receiver kind: its keys above, its {@link Receiver} built here when they are set, its rate key. */
    private static List<Receiver> receivers(Settings settings) {
        List<Receiver> receivers = new ArrayList<>();
        URI slack = settings.get(SLACK_WEBHOOK_URL);
        if (slack != null) {
            receivers.add(new SlackReceiver("slack", slack));
        }
        URI pagerDuty = settings.get(PAGERDUTY_URL);
        String routingKey = settings.get(PAGERDUTY_ROUTING_KEY);
        if (pagerDuty != null && routingKey != null && !routingKey.isBlank()) {
            receivers.add(new PagerDutyReceiver("pagerduty", pagerDuty, routingKey.strip()));
        }
        List<String> webhooks = settings.get(WEBHOOK_URLS);
        for (int i = 0; i < webhooks.size(); i++) {
            receivers.add(new WebhookReceiver(webhooks.size() == 1 ? "webhook" : "webhook-" + (i + 1),
                    webhookUrl(webhooks.get(i))));
        }
        return List.copyOf(receivers);
    }

    private static URI webhookUrl(String text) {
        try {
            URI uri = URI.create(text);
            if (uri.getScheme() != null && uri.getScheme().matches("https?") && uri.getHost() != null) {
                return uri;
            }
        } catch (IllegalArgumentException e) {
            // reported below, without echoing a value that may carry a token
        }
        throw new ConfigException(WEBHOOK_URLS.name(), "Invalid value '" + Redaction.maskUrl(text) + "' in '"
                + WEBHOOK_URLS.name() + "': expected a comma-separated list of absolute http(s) URLs");
    }
}
