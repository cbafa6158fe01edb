package io.fleetpulse.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM and Ctrl-C (SIGINT) as a request to stop in order, not as the JVM's own shutdown: with a handler here the
 * JVM runs no shutdown hooks on the signal (which would stop an embedded database while the sink still drains, and
 * make the exit status 143 or 130), so the caller stops its services in order and chooses the exit status itself.
 * A second signal while stopping forces the exit with 128 + the signal's number.
 */
public final class ShutdownSignals {

    private static final Logger LOG = LoggerFactory.getLogger(ShutdownSignals.class);

    /** What a process does on the first signal, and just before a second one forces it out. */
    public interface Handler {
        /** The first signal: ask for the orderly stop; called on the signal's thread, so only wake the main thread. */
        void stop(String signal);

        /** A second signal, just before the process halts: release what must not outlive it. */
        default void beforeForcedExit(String signal) {
        }
    }

    private ShutdownSignals() {
    }

    /** A service process: the first signal calls {@code onStop}, logged; a second one exits at once. */
    public static void install(Runnable onStop) {
        install(new Handler() {
            @Override
            public void stop(String signal) {
                LOG.info("SIG{} received: stopping in order (send it again to force exit)", signal);
                onStop.run();
            }

            @Override
            public void beforeForcedExit(String signal) {
                LOG.warn("SIG{} received again: exiting now without finishing", signal);
            }
        });
    }

    /**
     * Handles SIGTERM and SIGINT with {@code handler}.
     *
     * @return the signals this process was started with set to ignore (a shell's {@code &} does it to SIGINT): the
     *         JVM leaves those ignored, so they will never reach the handler
     */
    public static List<String> install(Handler handler) {
        AtomicInteger received = new AtomicInteger();
        List<String> ignored = new ArrayList<>();
        for (String name : List.of("TERM", "INT")) {
            try {
                SignalHandler previous = Signal.handle(new Signal(name), signal -> {
                    if (received.getAndIncrement() == 0) {
                        handler.stop(signal.getName());
                        return;
                    }
                    handler.beforeForcedExit(signal.getName());
                    Runtime.getRuntime().halt(128 + signal.getNumber());
                });
                if (previous == SignalHandler.SIG_IGN) {
                    ignored.add(name);
                }
            } catch (IllegalArgumentException e) {
                // A JVM started with -Xrs, or a platform without this signal: shutdown hooks still apply.
                LOG.debug("cannot handle SIG{}: {}", name, e.getMessage());
            }
        }
        return ignored;
    }
}
