package io.fleetpulse.runtime;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Waits at start for a dependency (the broker, the database) that may come up after the service does, as in
 * {@code docker compose up}: one log line when it is not there yet, naming it and its address, then quiet retries
 * until the deadline ({@code ops.start.timeout}), then a {@link DependencyUnavailableException} that names it again.
 */
public final class StartupWait {

    private static final Logger LOG = LoggerFactory.getLogger(StartupWait.class);
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(200);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    private StartupWait() {
    }

    /**
     * Calls {@code attempt} until it returns or {@code deadline} passes.
     *
     * @param dependency what is waited for, e.g. "Kafka broker" or "PostgreSQL"
     * @param address    where, as a person would look for it (secrets masked)
     */
    public static <T> T until(String service, String dependency, String address, Instant deadline, Callable<T> attempt)
            throws InterruptedException {
        Duration backoff = FIRST_BACKOFF;
        boolean announced = false;
        while (true) {
            try {
                T value = attempt.call();
                if (announced) {
                    LOG.info("{}: {} at {} is reachable now", service, dependency, address);
                }
                return value;
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                Instant now = Instant.now();
                if (!now.isBefore(deadline)) {
                    throw new DependencyUnavailableException(service + ": cannot reach the " + dependency + " at "
                            + address + " (gave up at ops.start.timeout): " + describe(e), e);
                }
                if (!announced) {
                    LOG.warn("{}: cannot reach the {} at {} ({}); retrying until {}", service, dependency, address,
                            describe(e), deadline);
                    announced = true;
                }
                long sleep = Math.min(backoff.toMillis(), Duration.between(now, deadline).toMillis());
                Thread.sleep(Math.max(sleep, 1));
                backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
            }
        }
    }

    /** The innermost message, which is where the real reason is ("Connection refused"). */
    public static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return root.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }
}
