package io.fleetpulse.runtime;

import io.fleetpulse.runtime.text.Durations;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs services until the process is told to stop or one of them fails, and supervises them: each is served on its
 * ops endpoints, then started within its start timeout; {@link #awaitStop()} returns when {@link #requestStop()} is
 * called (SIGTERM, Ctrl-C: see {@link ShutdownSignals}) or when any service's core loop dies. Either way everything
 * is closed newest first within the stop timeout, so in-flight work is committed, and the caller exits with the
 * status {@code awaitStop} returned: 0 after a requested stop, 1 after a failure, so an orchestrator restarts it.
 */
public final class ServiceRunner implements AutoCloseable {

    /** The exit status of a process whose service failed. */
    public static final int EXIT_FAILED = 1;

    private static final Logger LOG = LoggerFactory.getLogger(ServiceRunner.class);

    private final Duration stopTimeout;
    private final Deque<AutoCloseable> opened = new ArrayDeque<>();
    private final CompletableFuture<Integer> stopped = new CompletableFuture<>();

    public ServiceRunner(Duration stopTimeout) {
        this.stopTimeout = stopTimeout;
    }

    /**
     * What a service's process does from start to exit: serves and starts {@code service}, runs it until SIGTERM,
     * Ctrl-C or its failure, closes it, and returns the exit status: 0 after a signal, {@link #EXIT_FAILED} after a
     * failure or a start that failed (an unreachable dependency is one line naming it and its address).
     */
    public static int runProcess(Service service, OpsSettings ops) throws InterruptedException {
        try (ServiceRunner runner = new ServiceRunner(ops.stopTimeout())) {
            ShutdownSignals.install(runner::requestStop);
            try {
                runner.start(service, ops.startTimeout(), ops.host(), ops.port());
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                LOG.error("{} did not start: {}", service.name(), e instanceof DependencyUnavailableException
                        ? e.getMessage() : StartupWait.describe(e));
                return EXIT_FAILED;
            }
            return runner.awaitStop();
        }
    }

    /**
     * Serves {@code service}'s ops endpoints on {@code opsHost:opsPort}, then starts it within {@code startTimeout};
     * from then on its failure stops the runner.
     *
     * @throws Exception what start threw (a {@link DependencyUnavailableException} names the dependency), or an
     *                   {@link IllegalStateException} when it did not start in time
     */
    public synchronized OpsServer start(Service service, Duration startTimeout, String opsHost, int opsPort) throws Exception {
        OpsServer ops = OpsServer.start(service, opsHost, opsPort);
        opened.push(ops);
        opened.push(service);
        CompletableFuture<Void> started = CompletableFuture.runAsync(() -> {
            try {
                service.start();
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, r -> {
            Thread t = new Thread(r, "start-" + service.name());
            t.setDaemon(true);
            t.start();
        });
        try {
            // The service bounds its own waits by the same timeout; this is the backstop for a start that hangs.
            started.get(startTimeout.plusSeconds(5).toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException(service.name() + " did not start within " + Durations.format(startTimeout)
                    + " (ops.start.timeout)");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof java.util.concurrent.CompletionException c ? c.getCause() : e.getCause();
            throw cause instanceof Exception ex ? ex : new IllegalStateException(cause);
        }
        service.failure().thenAccept(cause -> stopped.complete(EXIT_FAILED));
        return ops;
    }

    /** Asks {@link #awaitStop()} to return 0; safe from a signal handler. */
    public void requestStop() {
        stopped.complete(0);
    }

    /** Blocks until a stop is requested or a service fails, closes everything, and returns the exit status. */
    public int awaitStop() throws InterruptedException {
        int status;
        try {
            status = stopped.get();
        } catch (ExecutionException e) {
            status = EXIT_FAILED;
        }
        close();
        return status;
    }

    /** Whether a service has failed (the runner will then stop with {@link #EXIT_FAILED}). */
    public boolean failed() {
        return stopped.isDone() && stopped.getNow(0) == EXIT_FAILED;
    }

    /** Closes what was opened, newest first, within the stop timeout in all; safe to call more than once. */
    @Override
    public void close() {
        Deque<AutoCloseable> toClose;
        synchronized (this) {
            toClose = new ArrayDeque<>(opened);
            opened.clear();
        }
        if (toClose.isEmpty()) {
            return;
        }
        long deadline = System.nanoTime() + stopTimeout.toNanos();
        Thread closer = new Thread(() -> {
            for (AutoCloseable next : toClose) {
                try {
                    next.close();
                } catch (Exception e) {
                    LOG.warn("error while closing {}: {}", next, e.toString());
                }
            }
        }, "fleetpulse-close");
        closer.setDaemon(true);
        closer.start();
        try {
            closer.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (closer.isAlive()) {
            LOG.warn("services did not close within {} (ops.stop.timeout); exiting anyway: uncommitted work is "
                    + "redone from the last committed offsets", Durations.format(stopTimeout));
        }
    }
}
