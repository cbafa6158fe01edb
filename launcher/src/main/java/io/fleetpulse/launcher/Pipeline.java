package io.fleetpulse.launcher;

import io.fleetpulse.runtime.KafkaSettings;
import io.fleetpulse.runtime.OpsServer;
import io.fleetpulse.runtime.Service;
import io.fleetpulse.runtime.ServiceRunner;
import io.fleetpulse.runtime.config.Config;
import io.fleetpulse.schemas.TopicProvisioner;
import io.fleetpulse.schemas.Topics;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * All four services in one JVM, wired to one broker and one database: what {@code fleetpulse demo} runs and
 * what the end-to-end test runs. Downstream services start first so nothing the collector emits waits for a
 * reader; closing goes the other way, so the collector stops feeding before the others drain and commit.
 */
public final class Pipeline implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);
    private static final List<ServiceKind> START_ORDER =
            List.of(ServiceKind.SINK, ServiceKind.ALERTING, ServiceKind.STREAM_PROCESSOR, ServiceKind.COLLECTOR);

    private final ServiceRunner runner = new ServiceRunner();
    private final Map<ServiceKind, Service> services = new EnumMap<>(ServiceKind.class);
    private final Map<ServiceKind, OpsServer> opsServers = new EnumMap<>(ServiceKind.class);

    private Pipeline() {
    }

    /** Creates the topics and starts every service with {@code config}; ops endpoints get free ports. */
    public static Pipeline start(Config config, Duration startTimeout) throws Exception {
        KafkaSettings kafka = new KafkaSettings(config);
        try (Admin admin = Admin.create(kafka.common("fleetpulse-topics"))) {
            new TopicProvisioner(admin).ensureTopics(Topics.ALL, kafka.partitions(), kafka.replicationFactor());
        }
        Pipeline pipeline = new Pipeline();
        try {
            for (ServiceKind kind : START_ORDER) {
                Service service = kind.create(config);
                pipeline.services.put(kind, service);
                pipeline.opsServers.put(kind, pipeline.runner.start(service, startTimeout, "127.0.0.1", 0));
                LOG.info("{} started", kind.commandName());
            }
        } catch (Exception e) {
            pipeline.close();
            throw e;
        }
        return pipeline;
    }

    public Service service(ServiceKind kind) {
        return services.get(kind);
    }

    public int opsPort(ServiceKind kind) {
        return opsServers.get(kind).port();
    }

    public boolean allReady() {
        return services.values().stream().allMatch(Service::isReady);
    }

    /** Stops the collector first, then the rest, newest first; each commits what it has done. */
    @Override
    public void close() {
        runner.close();
    }
}
