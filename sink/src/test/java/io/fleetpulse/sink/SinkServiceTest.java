package io.fleetpulse.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.runtime.DependencyUnavailableException;
import io.fleetpulse.runtime.ServiceState;
import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.config.Settings;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SinkServiceTest {

    private static final String URL = "jdbc:postgresql://localhost:5432/fleetpulse";

    @Test
    void shouldBeLiveButNotReadyBeforeStart() {
        SinkService sink = new SinkService(Settings.of(Map.of("sink.jdbc.url", URL), SinkService.KEYS));
        assertEquals(ServiceState.CREATED, sink.state());
        assertTrue(sink.isLive(), "live before start, like every service");
        assertFalse(sink.isReady(), "not ready before start");
        sink.close();
        assertFalse(sink.isLive(), "not live once closed");
        assertFalse(sink.isReady());
    }

    @Test
    void shouldRefuseBadSettingsInTheConstructor() {
        ConfigException e = assertThrows(ConfigException.class, () -> new SinkService(
                Settings.of(Map.of("sink.jdbc.url", "jdbc:mysql://db/x?password=hunter2"), SinkService.KEYS)));
        assertEquals("sink.jdbc.url", e.key());
        assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
    }

    @Test
    void shouldMaskPasswordsInStatusEvenInsideTheUrl() {
        SinkService sink = new SinkService(Settings.of(Map.of("sink.jdbc.url", URL + "?user=u&password=hunter2",
                "sink.jdbc.password", "s3cret"), SinkService.KEYS));
        String status = sink.status().toString();
        assertFalse(status.contains("hunter2"), status);
        assertFalse(status.contains("s3cret"), status);
        sink.close();
    }

    @Test
    void shouldGiveUpOnAnUnreachableDatabaseAtTheStartTimeoutNamingItsMaskedUrl() throws IOException {
        String url = "jdbc:postgresql://localhost:" + freePort() + "/fleetpulse?user=u&password=hunter2";
        SinkService sink = SinkService.withoutBrokerWait(
                Settings.of(Map.of("sink.jdbc.url", url, "ops.start.timeout", "2s"), SinkService.KEYS));
        long started = System.nanoTime();
        DependencyUnavailableException e = assertThrows(DependencyUnavailableException.class, sink::start);
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        // The deadline is on the wall clock (ManagedService), this measure on the monotonic one: on a VM whose wall
        // clock is being slewed they disagree by microseconds (CI once measured PT1.999982754S), so allow 50 ms.
        assertTrue(took.compareTo(Duration.ofMillis(1950)) >= 0, "retried until ops.start.timeout: " + took);
        assertTrue(took.compareTo(Duration.ofSeconds(7)) < 0, "gave up soon after ops.start.timeout: " + took);
        assertTrue(e.getMessage().contains("PostgreSQL"), e.getMessage());
        assertTrue(e.getMessage().contains(JdbcUrls.masked(url)), e.getMessage());
        assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertEquals(ServiceState.FAILED, sink.state());
        assertFalse(sink.isLive());
        sink.close();
    }

    @Test
    void shouldNotHangPastTheStartTimeoutOnADatabaseThatAcceptsButNeverAnswers() throws IOException {
        // The kernel completes the TCP handshake for the backlog; nothing ever reads or answers.
        try (ServerSocket silent = new ServerSocket(0)) {
            String url = "jdbc:postgresql://localhost:" + silent.getLocalPort() + "/fleetpulse";
            SinkService sink = SinkService.withoutBrokerWait(
                    Settings.of(Map.of("sink.jdbc.url", url, "ops.start.timeout", "2s"), SinkService.KEYS));
            long started = System.nanoTime();
            DependencyUnavailableException e = assertThrows(DependencyUnavailableException.class, sink::start);
            Duration took = Duration.ofNanos(System.nanoTime() - started);

            assertTrue(took.compareTo(Duration.ofSeconds(7)) < 0, "each attempt is cut to the deadline: " + took);
            assertTrue(e.getMessage().contains(url), e.getMessage());
            sink.close();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
