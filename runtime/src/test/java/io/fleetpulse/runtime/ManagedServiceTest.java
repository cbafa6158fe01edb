package io.fleetpulse.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.runtime.config.ConfigKey;
import io.fleetpulse.runtime.config.Settings;
import io.micrometer.core.instrument.Counter;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ManagedServiceTest {

    private static final ConfigKey<String> TOKEN = ConfigKey.string("probe.token", "t0ken", "a secret").secret();
    private static final List<ConfigKey<?>> KEYS = ManagedService.keysWith(List.of(TOKEN));

    /** A service whose core loop runs until told to stop, or dies on demand. */
    static final class ProbeService extends ManagedService {
        final AtomicBoolean ready = new AtomicBoolean(true);
        final AtomicInteger shutDowns = new AtomicInteger();
        final CountDownLatch dieNow = new CountDownLatch(1);
        volatile boolean stop;
        final boolean failStart;

        ProbeService(Settings settings, boolean failStart) {
            super("probe", settings, Clock.systemUTC(), (service, kafka, deadline) -> { });
            this.failStart = failStart;
            Counter.builder(meters().name("events")).description("events seen").register(meterRegistry());
        }

        @Override
        protected void startUp(Instant deadline) {
            if (failStart) {
                throw new IllegalStateException("cannot open");
            }
            startCoreThread("loop", () -> {
                try {
                    while (!stop && !dieNow.await(10, TimeUnit.MILLISECONDS)) {
                        Thread.onSpinWait();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                if (!stop) {
                    throw new IllegalStateException("injected fault");
                }
            });
        }

        @Override
        protected void shutDown() {
            stop = true;
            shutDowns.incrementAndGet();
        }

        @Override
        protected boolean ready() {
            return ready.get();
        }

        @Override
        protected Map<String, Object> details() {
            return Map.of("events", 3);
        }
    }

    private static Settings settings() {
        return Settings.of(Map.of("probe.token", "s3cret"), KEYS);
    }

    @Test
    void shouldBeLiveButNotReadyBeforeStartThenReadyWhileRunningThenNeitherAfterClose() throws Exception {
        ProbeService service = new ProbeService(settings(), false);
        assertEquals(ServiceState.CREATED, service.state());
        assertTrue(service.isLive());
        assertFalse(service.isReady());

        service.start();
        assertTrue(service.isLive());
        assertTrue(service.isReady());
        service.ready.set(false);
        assertFalse(service.isReady(), "a RUNNING service is ready only when its own check passes");
        service.ready.set(true);

        service.close();
        service.close();
        assertEquals(ServiceState.STOPPED, service.state());
        assertFalse(service.isLive());
        assertFalse(service.isReady());
        assertEquals(1, service.shutDowns.get(), "shutDown runs once");
        assertFalse(service.failure().toCompletableFuture().isDone(), "a stop is no failure");
    }

    @Test
    void shouldFailAndCompleteItsFailureWhenACoreLoopDies() throws Exception {
        ProbeService service = new ProbeService(settings(), false);
        service.start();

        service.dieNow.countDown();
        Throwable cause = service.failure().toCompletableFuture().get(5, TimeUnit.SECONDS);

        assertTrue(cause.getMessage().contains("probe: loop died"), cause.getMessage());
        assertEquals(ServiceState.FAILED, service.state());
        assertFalse(service.isLive());
        assertFalse(service.isReady());
        assertEquals("FAILED", service.status().get("state"));
        service.close();
        assertEquals(1, service.shutDowns.get());
    }

    @Test
    void shouldCloseWhatItOpenedWhenStartFails() {
        ProbeService service = new ProbeService(settings(), true);
        assertThrows(IllegalStateException.class, service::start);
        assertEquals(ServiceState.FAILED, service.state());
        assertEquals(1, service.shutDowns.get());
        assertThrows(IllegalStateException.class, service::start, "a service starts once");
    }

    @Test
    void shouldShowStateDetailsAndMaskedSettingsOnStatus() throws Exception {
        ProbeService service = new ProbeService(settings(), false);
        service.start();
        Map<String, Object> status = service.status();
        service.close();

        assertEquals("probe", status.get("service"));
        assertEquals("RUNNING", status.get("state"));
        assertEquals(true, status.get("ready"));
        assertEquals(3, status.get("events"));
        @SuppressWarnings("unchecked")
        Map<String, String> shown = (Map<String, String>) status.get("settings");
        assertEquals("****", shown.get("probe.token"));
        assertEquals("1m", shown.get("ops.start.timeout"));
        assertFalse(status.toString().contains("s3cret"));
    }

    @Test
    void shouldExitNonZeroFromTheRunnerWhenAServiceFailsAndZeroWhenAskedToStop() throws Exception {
        ProbeService failing = new ProbeService(settings(), false);
        try (ServiceRunner runner = new ServiceRunner(Duration.ofSeconds(5))) {
            runner.start(failing, Duration.ofSeconds(5), "127.0.0.1", 0);
            failing.dieNow.countDown();
            assertEquals(ServiceRunner.EXIT_FAILED, runner.awaitStop());
        }
        assertEquals(1, failing.shutDowns.get(), "the runner closed the failed service");

        ProbeService stopped = new ProbeService(settings(), false);
        try (ServiceRunner runner = new ServiceRunner(Duration.ofSeconds(5))) {
            runner.start(stopped, Duration.ofSeconds(5), "127.0.0.1", 0);
            runner.requestStop();
            assertEquals(0, runner.awaitStop());
        }
        assertEquals(ServiceState.STOPPED, stopped.state());
    }

    @Test
    void shouldGiveUpOnAnUnreachableBrokerAtTheStartTimeoutNamingItsAddress() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Settings settings = Settings.of(Map.of("kafka.bootstrap.servers", "127.0.0.1:" + port,
                "ops.start.timeout", "2s"), KEYS);
        ManagedService service = new ManagedService("probe", settings, Clock.systemUTC()) {
            @Override
            protected void startUp(Instant deadline) {
                throw new AssertionError("must not start without a broker");
            }

            @Override
            protected void shutDown() {
            }
        };
        long started = System.nanoTime();
        DependencyUnavailableException e = assertThrows(DependencyUnavailableException.class, service::start);
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);

        assertTrue(e.getMessage().contains("Kafka broker at 127.0.0.1:" + port), e.getMessage());
        assertTrue(seconds < 15, "gave up after " + seconds + " s");
        assertEquals(ServiceState.FAILED, service.state());
    }
}
