package io.fleetpulse.collector;

import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.config.ConfigKey;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.runtime.text.Durations;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The collector's own settings, read once at start. The inventory file's contents are checked by {@link Inventory},
 * which the service loads in its constructor, so a bad inventory stops it before anything is opened too.
 *
 * @param inventory          the inventory YAML
 * @param collectorId        stamped on every record; marks which inventory records this collector owns
 * @param pollInterval       a target's interval when neither it nor the inventory's {@code defaults} sets one
 * @param metricsInterval    likewise for the interval of its metrics endpoint
 * @param pollTimeout        likewise for the timeout; never longer than either interval
 * @param maxConcurrentPolls requests in flight at once
 * @param pollJitter         how far each poll may move from its even spacing, as a fraction of the interval
 * @param bodyLimits         how much of a target's answer is read and kept
 * @param certificateLines   when an HTTPS target's certificate expiry is WARN and CRITICAL
 * @param tlsTrustPem        the certificates trusted for HTTPS targets instead of the JVM's authorities, or null
 * @param outageBuffer       what is kept, and how, while the broker does not take records
 * @param pushTokens         the push API's agents and their token hashes, or null: no push API
 * @param push               the push API's port and limits
 * @param liveInventory      whether to follow {@code fleet.targets} ({@link TargetsFeed}) rather than poll only the YAML
 * @param inventoryGroup     the group sharing the live inventory's targets, or null: this one polls all of them; its
 *                           session timeout is null when it is to be derived from the intervals
 *                           ({@link TargetsFeed.Group#sizedFor})
 */
public record CollectorSettings(Path inventory, String collectorId, Duration pollInterval, Duration metricsInterval,
                                Duration pollTimeout,
                                int maxConcurrentPolls, double pollJitter, BodyLimits bodyLimits,
                                HealthChecks.CertificateLines certificateLines, Path tlsTrustPem,
                                RecordPublisher.OutageBuffer outageBuffer, Path pushTokens, PushApi.Config push,
                                boolean liveInventory, TargetsFeed.Group inventoryGroup) {

    public static final ConfigKey<Path> INVENTORY = ConfigKey.path(Inventory.CONFIG_KEY, null,
            "the inventory YAML: the targets to poll, their URLs, groups, labels, intervals and timeouts").required();
    public static final ConfigKey<String> ID = ConfigKey.string("collector.id", localHostName(),
            "this collector's name, stamped on every record it produces; marks which inventory records it owns, so set it "
                    + "explicitly in production").defaultShownAs("the host name");
    public static final ConfigKey<Duration> POLL_INTERVAL = ConfigKey.duration("collector.poll.interval",
            Duration.ofSeconds(30), "how often a target's health endpoint is polled unless its inventory entry, group or "
                    + "defaults say otherwise; at least " + Durations.format(Inventory.MIN_INTERVAL));
    public static final ConfigKey<Duration> METRICS_INTERVAL = ConfigKey.duration("collector.metrics.interval",
            Duration.ofSeconds(60), "how often a target's metrics endpoint is polled unless its inventory entry, group "
                    + "or defaults set a metrics-interval; at least " + Durations.format(Inventory.MIN_INTERVAL));
    public static final ConfigKey<Duration> POLL_TIMEOUT = ConfigKey.duration("collector.poll.timeout",
            Duration.ofSeconds(2), "how long a poll may take in total (connect, headers and the whole body) before it "
                    + "counts as TIMEOUT and its connection is closed, unless the inventory says otherwise; at most "
                    + "collector.poll.interval and collector.metrics.interval");
    public static final ConfigKey<Integer> MAX_CONCURRENT_POLLS = ConfigKey.integer("collector.max.concurrent.polls", 256,
            1, 100_000, "requests in flight at once; further polls wait their turn");

    public static final ConfigKey<Double> POLL_JITTER = ConfigKey.decimal("collector.poll.jitter", 0.1, 0, 0.5,
            "how far each poll may move, at random, from its target's even spacing, as a fraction of the interval (0.1: "
                    + "up to 1 s either way at 10 s); applied on every cycle so targets never fall into step, without "
                    + "drift (a target is still polled once per interval on average)");
    public static final ConfigKey<Integer> MAX_BODY_BYTES = ConfigKey.integer("collector.poll.max.body.bytes",
            BodyLimits.DEFAULTS.maxBodyBytes(), 1024, 8 * 1024 * 1024, "the most bytes of a health or metrics body "
                    + "read; a larger body is ERROR and its connection closed as soon as it passes the cap. At most 8 MiB: "
                    + "bodies are parsed on the poll event loop, in time linear in their size");
    public static final ConfigKey<Integer> MAX_CHECKS = ConfigKey.integer("collector.health.max.checks",
            BodyLimits.DEFAULTS.maxChecks(), 1, 10_000, "the most checks and components of one health body published "
                    + "as check results; the rest are summed up in one ERROR check named 'checks'");
    public static final ConfigKey<Integer> MAX_NAME_LENGTH = ConfigKey.integer("collector.max.name.length",
            BodyLimits.DEFAULTS.maxNameLength(), 8, 1_000, "the longest check, component or extra metric name kept, "
                    + "in characters; a longer check name is cut, a longer metric name dropped");
    public static final ConfigKey<Integer> MAX_EXTRA_METRICS = ConfigKey.integer("collector.metrics.max.extra",
            BodyLimits.DEFAULTS.maxExtraMetrics(), 0, 10_000, "the most metrics of one metrics body kept beyond the "
                    + "named ones (MetricSample.extra); the rest are dropped");

    public static final ConfigKey<Integer> TLS_WARN_DAYS = ConfigKey.integer("collector.tls.warn.days",
            HealthChecks.CertificateLines.DEFAULTS.warnDays(), 1, 3650, "an HTTPS target whose certificate expires in fewer "
                    + "days than this has its 'tls' check WARN");
    public static final ConfigKey<Integer> TLS_CRITICAL_DAYS = ConfigKey.integer("collector.tls.critical.days",
            HealthChecks.CertificateLines.DEFAULTS.criticalDays(), 0, 3650, "an HTTPS target whose certificate expires in "
                    + "fewer days than this has its 'tls' check CRITICAL; at most collector.tls.warn.days");
    public static final ConfigKey<Path> TLS_TRUST_PEM = ConfigKey.path("collector.tls.trust.pem", null,
            "a PEM file of the certificates (authorities or self-signed servers) trusted for HTTPS targets, instead of "
                    + "the JVM's default authorities; unset: the JVM's").defaultShownAs("the JVM's authorities");

    public static final ConfigKey<Integer> BUFFER_MAX_RECORDS = ConfigKey.integer("collector.buffer.max.records",
            RecordPublisher.OutageBuffer.DEFAULTS.maxRecords(), 100, 10_000_000, "the most records kept waiting for the "
                    + "broker (while it is away, polling goes on into this buffer); when full, a new record supersedes the "
                    + "oldest of its own series (a target's one check, or its metrics), counted in buffer.superseded");
    public static final ConfigKey<Integer> BUFFER_MAX_PER_SERIES = ConfigKey.integer("collector.buffer.max.per.series",
            RecordPublisher.OutageBuffer.DEFAULTS.maxPerSeries(), 1, 1_000_000, "the most records of one series (a "
                    + "target's one check, or its metrics) kept waiting for the broker; a newer one supersedes the oldest");
    public static final ConfigKey<Integer> PRODUCER_MAX_UNACKED = ConfigKey.integer("collector.producer.max.unacked",
            RecordPublisher.OutageBuffer.DEFAULTS.maxUnacked(), 1, 1_000_000, "the most records given to the Kafka "
                    + "producer and not yet acknowledged; the producer retries these until the broker takes them, the "
                    + "rest wait in the buffer, where they can be superseded");

    public static final ConfigKey<Path> PUSH_TOKENS = ConfigKey.path(PushTokens.CONFIG_KEY, null,
            "a YAML file of the push API's agents: name, token-sha256 (the SHA-256 of its bearer token, never the token) "
                    + "and the targets it may write for; unset: no push API").defaultShownAs("no push API");
    public static final ConfigKey<String> PUSH_HOST = ConfigKey.string("collector.push.host", "0.0.0.0",
            "the address the push API listens on: 0.0.0.0 every interface, 127.0.0.1 only this machine (behind a "
                    + "local TLS proxy, say); a host name must resolve");
    public static final ConfigKey<Integer> PUSH_PORT = ConfigKey.integer("collector.push.port", 8090, 0, 65_535,
            "the port the push API listens on when collector.push.tokens is set; 0 takes any free port");
    public static final ConfigKey<Integer> PUSH_MAX_PENDING = ConfigKey.integer("collector.push.max.pending", 10_000, 1,
            10_000_000, "the most pushed records awaiting the broker's acknowledgement; a push past it is answered 429 "
                    + "with Retry-After");
    public static final ConfigKey<Duration> PUSH_ACK_TIMEOUT = ConfigKey.duration("collector.push.ack.timeout",
            Duration.ofSeconds(5), "how long a push waits for the broker to acknowledge its records before it is "
                    + "answered 503 with Retry-After (the agent retries: delivery is at least once)");

    public static final ConfigKey<Double> PUSH_AGENT_RATE = ConfigKey.decimal("collector.push.agent.rate", 10, 0, 100_000,
            "requests a second each push agent may make on average (a token bucket per agent); past it a request is "
                    + "answered 429 with Retry-After before its body is read; 0: no limit");
    public static final ConfigKey<Integer> PUSH_AGENT_BURST = ConfigKey.integer("collector.push.agent.burst", 20, 1,
            100_000, "the most requests a push agent may make at once, above collector.push.agent.rate, after a quiet "
                    + "spell");

    public static final ConfigKey<Boolean> LIVE_INVENTORY = ConfigKey.bool("collector.inventory.live", false,
            "follow fleet.targets: poll every target on the topic (from any collector's inventory or 'fleetpulse targets "
                    + "add'), start polling an added one and stop polling a tombstoned one without a restart; off, only "
                    + "the inventory YAML is polled");

    public static final ConfigKey<String> INVENTORY_GROUP = ConfigKey.string("collector.inventory.group", "",
            "with collector.inventory.live: the consumer group on fleet.targets whose instances share the targets, each "
                    + "polling those of its assigned partitions; empty: this collector polls every target on the topic");
    public static final ConfigKey<Duration> INVENTORY_GROUP_SESSION_TIMEOUT = ConfigKey.duration(
            "collector.inventory.group.session.timeout", null, "how long an instance of collector.inventory.group may "
                    + "stay silent before its targets move to the others (heartbeats go every third of it): a dead "
                    + "instance's targets go about that long unpolled. At most the shortest interval known at start "
                    + "(collector.poll.interval and the inventory YAML's), so a dead instance's targets are polled again "
                    + "within one interval; within the broker's group.min/max.session.timeout.ms (6 s to 30 min by "
                    + "default)").defaultShownAs("half the shortest interval, at most 10s");
    public static final ConfigKey<Boolean> INVENTORY_GROUP_STATIC = ConfigKey.bool("collector.inventory.group.static",
            false, "join collector.inventory.group as a static member named collector.id: a restart within the session "
                    + "timeout keeps its targets without a rebalance, but a clean stop hands them over only after it too");

    /** The collector's own keys; {@link CollectorService#KEYS} adds the ones every service reads. */
    public static final List<ConfigKey<?>> KEYS = List.of(INVENTORY, ID, POLL_INTERVAL, METRICS_INTERVAL, POLL_TIMEOUT,
            MAX_CONCURRENT_POLLS, POLL_JITTER, TLS_WARN_DAYS, TLS_CRITICAL_DAYS, TLS_TRUST_PEM, MAX_BODY_BYTES, MAX_CHECKS,
            MAX_NAME_LENGTH, MAX_EXTRA_METRICS, BUFFER_MAX_RECORDS, BUFFER_MAX_PER_SERIES, PRODUCER_MAX_UNACKED,
            PUSH_TOKENS, PUSH_HOST, PUSH_PORT, PUSH_MAX_PENDING, PUSH_ACK_TIMEOUT, PUSH_AGENT_RATE, PUSH_AGENT_BURST,
            LIVE_INVENTORY, INVENTORY_GROUP, INVENTORY_GROUP_SESSION_TIMEOUT, INVENTORY_GROUP_STATIC);

    /**
     * Reads the collector's keys and checks them against each other.
     *
     * @throws ConfigException naming the key, the value and what is allowed
     */
    public static CollectorSettings from(Settings settings) {
        String id = settings.get(ID).strip();
        Duration interval = interval(settings, POLL_INTERVAL);
        Duration metricsInterval = interval(settings, METRICS_INTERVAL);
        Duration timeout = settings.get(POLL_TIMEOUT);
        if (id.isEmpty()) {
            throw new ConfigException(ID.name(), "'" + ID.name() + "' must not be blank: it marks this collector's records");
        }
        for (ConfigKey<Duration> key : List.of(POLL_INTERVAL, METRICS_INTERVAL)) {
            if (timeout.compareTo(settings.get(key)) > 0) {
                throw new ConfigException(POLL_TIMEOUT.name(), "'" + POLL_TIMEOUT.name() + "' is " + Durations.format(timeout)
                        + ": expected at most '" + key.name() + "' (" + Durations.format(settings.get(key))
                        + "), or polls of one target would pile up");
            }
        }
        BodyLimits limits = new BodyLimits(settings.get(MAX_BODY_BYTES), settings.get(MAX_CHECKS),
                settings.get(MAX_NAME_LENGTH), settings.get(MAX_EXTRA_METRICS));
        int warnDays = settings.get(TLS_WARN_DAYS);
        int criticalDays = settings.get(TLS_CRITICAL_DAYS);
        if (criticalDays > warnDays) {
            throw new ConfigException(TLS_CRITICAL_DAYS.name(), "'" + TLS_CRITICAL_DAYS.name() + "' is " + criticalDays
                    + ": expected at most '" + TLS_WARN_DAYS.name() + "' (" + warnDays + ")");
        }
        Path trustPem = readableOrNull(settings, TLS_TRUST_PEM);
        return new CollectorSettings(settings.get(INVENTORY), id, interval, metricsInterval, timeout,
                settings.get(MAX_CONCURRENT_POLLS),
                settings.get(POLL_JITTER), limits, new HealthChecks.CertificateLines(warnDays, criticalDays), trustPem,
                new RecordPublisher.OutageBuffer(settings.get(BUFFER_MAX_RECORDS), settings.get(BUFFER_MAX_PER_SERIES),
                        settings.get(PRODUCER_MAX_UNACKED)), readableOrNull(settings, PUSH_TOKENS),
                new PushApi.Config(listenAddress(settings, PUSH_HOST), settings.get(PUSH_PORT), settings.get(PUSH_MAX_PENDING),
                        positive(settings, PUSH_ACK_TIMEOUT),
                        settings.get(PUSH_AGENT_RATE), settings.get(PUSH_AGENT_BURST)),
                settings.get(LIVE_INVENTORY), inventoryGroup(settings, id));
    }

    private static TargetsFeed.Group inventoryGroup(Settings settings, String collectorId) {
        String group = settings.get(INVENTORY_GROUP).strip();
        if (group.isEmpty()) {
            return null;
        }
        if (!settings.get(LIVE_INVENTORY)) {
            throw new ConfigException(INVENTORY_GROUP.name(), "'" + INVENTORY_GROUP.name() + "' is '" + group
                    + "' but '" + LIVE_INVENTORY.name() + "' is false: a group shares the live inventory's targets");
        }
        Duration sessionTimeout = settings.get(INVENTORY_GROUP_SESSION_TIMEOUT) == null ? null
                : positive(settings, INVENTORY_GROUP_SESSION_TIMEOUT);
        return new TargetsFeed.Group(group, sessionTimeout, settings.get(INVENTORY_GROUP_STATIC) ? collectorId : null);
    }

    /** What the inventory falls back to where it sets no timing. */
    public Inventory.Fallbacks inventoryFallbacks() {
        return new Inventory.Fallbacks(pollInterval, metricsInterval, pollTimeout);
    }

    /** An interval of at least {@link Inventory#MIN_INTERVAL}. */
    private static Duration interval(Settings settings, ConfigKey<Duration> key) {
        Duration value = settings.get(key);
        if (value.compareTo(Inventory.MIN_INTERVAL) < 0) {
            throw new ConfigException(key.name(), "'" + key.name() + "' is " + Durations.format(value)
                    + ": expected at least " + Durations.format(Inventory.MIN_INTERVAL));
        }
        return value;
    }

    /** The file {@code key} names, which must be readable when set; null when unset. */
    private static Path readableOrNull(Settings settings, ConfigKey<Path> key) {
        Path file = settings.get(key);
        if (file != null && !Files.isReadable(file)) {
            throw new ConfigException(key.name(), "'" + key.name() + "' is " + file + ": no readable file there");
        }
        return file;
    }

    /** An address to listen on: an IP literal, or a host name that resolves now (else the bind fails only at start). */
    private static String listenAddress(Settings settings, ConfigKey<String> key) {
        String host = settings.get(key).strip();
        try {
            InetAddress.getByName(host);
        } catch (java.net.UnknownHostException e) {
            throw new ConfigException(key.name(), "'" + key.name() + "' is '" + host + "': not an address of this machine's"
                    + " resolver (an IP address such as 0.0.0.0 or 127.0.0.1, or a host name that resolves)");
        }
        return host;
    }

    private static Duration positive(Settings settings, ConfigKey<Duration> key) {
        Duration value = settings.get(key);
        if (value.isNegative() || value.isZero()) {
            throw new ConfigException(key.name(), "'" + key.name() + "' is " + Durations.format(value) + ": expected more than 0");
        }
        return value;
    }

    private static String localHostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "collector";
        }
    }
}
