package io.fleetpulse.launcher;

import io.fleetpulse.alerting.AlertingService;
import io.fleetpulse.collector.CollectorService;
import io.fleetpulse.runtime.Service;
import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.runtime.config.ConfigKey;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.sink.SinkService;
import io.fleetpulse.stream.StreamProcessorService;
import java.util.List;
import java.util.function.Function;

/** The four deployable services, as the CLI and the in-process pipeline start them. */
public enum ServiceKind {

    COLLECTOR("collector", "Polls targets' health and metrics endpoints and publishes checks, metrics and the inventory.",
            CollectorService::new, CollectorService.KEYS),
    STREAM_PROCESSOR("stream-processor", "Windows, error rates, rules and alerts (Kafka Streams, exactly-once).",
            StreamProcessorService::new, StreamProcessorService.KEYS),
    SINK("sink", "Writes window aggregates and alerts to partitioned PostgreSQL, idempotently.",
            SinkService::new, SinkService.KEYS),
    ALERTING("alerting", "Delivers alert transitions to Slack, PagerDuty and webhooks, with retries and an audit trail.",
            AlertingService::new, AlertingService.KEYS);

    private final String commandName;
    private final String description;
    private final Function<Settings, Service> factory;
    private final List<ConfigKey<?>> keys;

    ServiceKind(String commandName, String description, Function<Settings, Service> factory, List<ConfigKey<?>> keys) {
        this.commandName = commandName;
        this.description = description;
        this.factory = factory;
        this.keys = keys;
    }

    public String commandName() {
        return commandName;
    }

    public String description() {
        return description;
    }

    /** Every key the service reads: the shared ops and Kafka keys, then its own. */
    public List<ConfigKey<?>> keys() {
        return keys;
    }

    /** Parses and validates this service's settings (unknown keys in a file are refused). */
    public Settings settings(Config config) {
        return Settings.resolve(config, keys);
    }

    /** Builds the service from validated settings; nothing is opened until it starts. */
    public Service create(Settings settings) {
        return factory.apply(settings);
    }
}
