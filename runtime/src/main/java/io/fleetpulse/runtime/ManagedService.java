package io.fleetpulse.runtime;

import io.fleetpulse.runtime.config.ConfigKey;
import io.fleetpulse.runtime.config.Settings;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one lifecycle of every FleetPulse service. A subclass reads its typed settings in its constructor (nothing is
 * opened there), opens its clients and loops in {@link #startUp}, closes them in {@link #shutDown}, and says in
 * {@link #ready()} what "really ready" means for it. This class does the rest the same way for all of them:
 *
 * <ul>
 *   <li>{@code start()} waits (until {@code ops.start.timeout}) for the Kafka broker, with one log line naming its
 *       address, and creates missing topics, before {@link #startUp} runs;</li>
 *   <li>liveness and readiness follow {@link ServiceState}, before, during and after start;</li>
 *   <li>a core loop that dies calls {@link #fail} (or runs under {@link #startCoreThread}, which does it): the cause
 *       is logged once, the service turns FAILED and {@link #failure()} completes, so the {@link ServiceRunner}
 *       closes everything within {@code ops.stop.timeout} and exits the process non-zero;</li>
 *   <li>{@code /status} shows the state, the service's {@link #details()} and the settings, rendered once at start,
 *       secrets masked; meters follow one naming convention ({@link ServiceMeters}).</li>
 * </ul>
 */
public abstract class ManagedService implements Service {

    private static final Logger LOG = LoggerFactory.getLogger(ManagedService.class);

    private final String name;
    private final Settings settings;
    private final OpsSettings ops;
    private final KafkaSettings kafka;
    private final ServiceMeters meters;
    private final Clock clock;
    private final StartGate gate;
    private final AtomicReference<ServiceState> state = new AtomicReference<>(ServiceState.CREATED);
    private final CompletableFuture<Throwable> failure = new CompletableFuture<>();
    private final AtomicBoolean shutDown = new AtomicBoolean();
    private volatile Instant since;

    /** {@code name} is the service's command name ({@code sink}); it names its threads, meters and log lines. */
    protected ManagedService(String name, Settings settings, Clock clock) {
        this(name, settings, clock, KafkaReadiness::await);
    }

    /** As above, with {@code gate} in place of the broker check: for tests of the lifecycle itself. */
    protected ManagedService(String name, Settings settings, Clock clock, StartGate gate) {
        this.gate = gate;
        this.name = name;
        this.settings = settings;
        this.clock = clock;
        this.ops = OpsSettings.from(settings);
        this.kafka = KafkaSettings.from(settings);
        this.meters = ServiceMeters.create(name);
        this.since = clock.instant();
    }

    /** The keys every service reads (ops, Kafka) followed by the service's own: what it declares to the launcher. */
    public static List<ConfigKey<?>> keysWith(Collection<ConfigKey<?>> own) {
        List<ConfigKey<?>> keys = new ArrayList<>(OpsSettings.KEYS);
        keys.addAll(KafkaSettings.KEYS);
        keys.addAll(own);
        return List.copyOf(keys);
    }

    // ---------------------------------------------------------------- what a service supplies

    /**
     * Opens the service's clients and starts its loops; the broker is reachable and the topics exist when this runs.
     * Dependencies of its own (a database) are waited for with {@link StartupWait} until {@code deadline}.
     * On an exception the service turns FAILED and {@link #shutDown} runs.
     */
    protected abstract void startUp(Instant deadline) throws Exception;

    /**
     * Finishes in-flight work, commits, and closes what {@link #startUp} opened, newest first. Runs once, after a
     * stop, a failed start or a failure; must cope with a start that got only part of the way.
     */
    protected abstract void shutDown();

    /** The service's own readiness check, asked only while RUNNING. */
    protected boolean ready() {
        return true;
    }

    /** Counters and state for {@code /status}; the kernel adds state, failure and settings around them. */
    protected Map<String, Object> details() {
        return Map.of();
    }

    // ---------------------------------------------------------------- what a service uses

    protected final Settings settings() {
        return settings;
    }

    protected final KafkaSettings kafka() {
        return kafka;
    }

    protected final OpsSettings ops() {
        return ops;
    }

    protected final ServiceMeters meters() {
        return meters;
    }

    protected final Clock clock() {
        return clock;
    }

    /**
     * A core loop of this service died or ended: logs the cause once, turns the service FAILED and completes
     * {@link #failure()}. Ignored while stopping (loops end then by design) and after the first failure.
     */
    protected final void fail(String what, Throwable cause) {
        ServiceState now = state.get();
        if (now == ServiceState.STOPPING || now == ServiceState.STOPPED) {
            LOG.debug("{}: {} while stopping: {}", name, what, String.valueOf(cause));
            return;
        }
        if (now == ServiceState.FAILED || !state.compareAndSet(now, ServiceState.FAILED)) {
            return;
        }
        Throwable reported = cause != null ? cause : new IllegalStateException(what);
        // Completed first: nothing below (a clock, a logger) may keep the runner from learning of the failure.
        failure.complete(new ServiceFailedException(name + ": " + what, reported));
        LOG.error("{} failed: {}; the process will stop and exit non-zero so that it is restarted", name, what, cause);
        since = Instant.now();
    }

    /**
     * Runs {@code loop} on a named daemon thread as a core loop: if it throws, or returns while the service is
     * not stopping, the service fails.
     */
    protected final Thread startCoreThread(String threadName, Runnable loop) {
        Thread thread = new Thread(() -> {
            try {
                loop.run();
                fail(threadName + " ended", null);
            } catch (Throwable t) {
                fail(threadName + " died: " + StartupWait.describe(t), t);
            }
        }, "fleetpulse-" + name + "-" + threadName);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    // ---------------------------------------------------------------- the lifecycle

    /** What must be reachable before {@link #startUp} runs: the broker, with the topics created. */
    @FunctionalInterface
    public interface StartGate {
        void await(String service, KafkaSettings kafka, Instant deadline) throws Exception;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final void start() throws Exception {
        if (!state.compareAndSet(ServiceState.CREATED, ServiceState.STARTING)) {
            throw new IllegalStateException(name + " can be started once, and is " + state.get());
        }
        since = clock.instant();
        // Waits compare with the wall clock, whatever clock the service computes its own times with.
        Instant deadline = Instant.now().plus(ops.startTimeout());
        LOG.info("{} starting with {}", name, settings.describe());
        try {
            gate.await(name, kafka, deadline);
            startUp(deadline);
        } catch (Exception | Error e) {
            if (state.compareAndSet(ServiceState.STARTING, ServiceState.FAILED)) {
                since = clock.instant();
                failure.complete(e);
            }
            runShutDown();
            throw e;
        }
        if (!state.compareAndSet(ServiceState.STARTING, ServiceState.RUNNING)) {
            runShutDown();
            throw new IllegalStateException(name + " did not start: it is " + state.get(), failure.getNow(null));
        }
        since = clock.instant();
        LOG.info("{} running", name);
    }

    @Override
    public final ServiceState state() {
        return state.get();
    }

    @Override
    public final boolean isReady() {
        if (state.get() != ServiceState.RUNNING) {
            return false;
        }
        try {
            return ready();
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public final Map<String, Object> status() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("service", name);
        ServiceState now = state.get();
        out.put("state", now.name());
        out.put("since", String.valueOf(since));
        out.put("live", now.isLive());
        out.put("ready", isReady());
        Throwable failed = failure.getNow(null);
        if (failed != null) {
            out.put("failure", failed.getMessage());
        }
        if (now != ServiceState.CREATED) {
            out.putAll(details());
        }
        out.put("settings", settings.describe());
        return out;
    }

    @Override
    public final MeterRegistry meterRegistry() {
        return meters.registry();
    }

    @Override
    public final CompletionStage<Throwable> failure() {
        return failure;
    }

    @Override
    public final void close() {
        ServiceState now = state.get();
        if (now == ServiceState.STOPPED) {
            return;
        }
        boolean failedBefore = now == ServiceState.FAILED;
        if (!failedBefore) {
            state.set(ServiceState.STOPPING);
            since = clock.instant();
        }
        runShutDown();
        if (!failedBefore && state.compareAndSet(ServiceState.STOPPING, ServiceState.STOPPED)) {
            since = clock.instant();
        }
        meters.close();
        LOG.info("{} closed", name);
    }

    private void runShutDown() {
        if (!shutDown.compareAndSet(false, true)) {
            return;
        }
        try {
            shutDown();
        } catch (RuntimeException e) {
            LOG.warn("{}: error while closing: {}", name, e.toString(), e);
        }
    }
}
