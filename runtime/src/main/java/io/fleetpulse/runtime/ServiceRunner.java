package io.fleetpulse.runtime;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs services until the process is told to stop: starts each with a timeout, serves its ops endpoints,
 * and on SIGTERM or Ctrl-C closes everything in reverse order of opening so in-flight work is committed.
 */
public final class ServiceRunner implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceRunner.class);

    private final Deque<AutoCloseable> opened = new ArrayDeque<>();
    private final CountDownLatch stopped = new CountDownLatch(1);

    /** Starts {@code service} within {@code timeout} and serves its ops endpoints on {@code host:port}. */
    public OpsServer start(Service service, Duration timeout, String opsHost, int opsPort) throws Exception {
        ExecutorService starter = Executors.newSingleThreadExecutor(r -> new Thread(r, "start-" + service.name()));
        try {
            opened.push(service);
            Future<?> started = starter.submit(() -> {
                service.start();
                return null;
            });
            started.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException(service.name() + " did not start within " + timeout, e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        } finally {
            starter.shutdownNow();
        }
        OpsServer ops = OpsServer.start(service, opsHost, opsPort);
        opened.push(ops);
        return ops;
    }

    /** Blocks until SIGTERM / Ctrl-C, then closes everything. */
    public void awaitShutdownSignal() throws InterruptedException {
        Thread hook = new Thread(() -> {
            LOG.info("shutdown requested; finishing in-flight work");
            close();
        }, "shutdown-hook");
        Runtime.getRuntime().addShutdownHook(hook);
        stopped.await();
    }

    /** Closes what was opened, newest first; safe to call more than once. */
    @Override
    public synchronized void close() {
        while (!opened.isEmpty()) {
            AutoCloseable next = opened.pop();
            try {
                next.close();
            } catch (Exception e) {
                LOG.warn("error while closing {}", next, e);
            }
        }
        stopped.countDown();
    }
}
