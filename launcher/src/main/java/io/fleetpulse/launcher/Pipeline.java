package io.fleetpulse.launcher;

import io.fleetpulse.runtime.OpsServer;
import io.fleetpulse.runtime.Service;
import io.fleetpulse.runtime.ServiceRunner;
import io.fleetpulse.runtime.config.Config;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * All four services in one JVM, wired to one broker and one database: what {@code fleetpulse demo} runs and
 * what the end-to-end test runs. Downstream services start first so nothing the collector emits waits for a
 * reader; closing goes the other way, so the collector stops feeding before the others drain and commit.
 * The services are supervised as in their own processes: if one fails, {@link #awaitStop} returns non-zero.
 */
public final class Pipeline implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);
    private static final List<ServiceKind> START_ORDER =
            List.of(ServiceKind.SINK, ServiceKind.ALERTING, ServiceKind.STREAM_PROCESSOR, ServiceKind.COLLECTOR);

    private final ServiceRunner runner;
    private final Map<ServiceKind, Service> services = new EnumMap<>(ServiceKind.class);
    private final Map<ServiceKind, OpsServer> opsServers = new EnumMap<>(ServiceKind.class);

    private Pipeline(Duration stopTimeout) {
        this.runner = new ServiceRunner(stopTimeout);
    }

    /**
     * Starts every service with its share of {@code config} (each sees only the keys it declares); ops endpoints get
     * free ports. The first service to start creates the topics.
     */
    public static Pipeline start(Config config, Duration startTimeout) throws Exception {
        Pipeline pipeline = new Pipeline(Duration.ofSeconds(60));
        try {
            for (ServiceKind kind : START_ORDER) {
                Service service = kind.create(kind.settings(config.restrictedTo(kind.keys())));
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

    /** True once a service has failed; the pipeline should then be stopped and the process exit non-zero. */
    public boolean failed() {
        return runner.failed();
    }

    /** Runs {@code action} (once per failing service) when a service's core loop dies. */
    public void onFailure(Runnable action) {
        services.values().forEach(service -> service.failure().thenRun(action));
    }

    /** Asks {@link #awaitStop} to return. */
    public void requestStop() {
        runner.requestStop();
    }

    /** Blocks until {@link #requestStop} or a service's failure, stops everything, returns 0 or 1 (failed). */
    public int awaitStop() throws InterruptedException {
        return runner.awaitStop();
    }

    /** Stops the collector first, then the rest, newest first; each commits what it has done. */
    @Override
    public void close() {
        runner.close();
    }
}
