package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.CheckStatus;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** TCP connect checks against real sockets on this machine: a listening ServerSocket, a closed port, a full backlog. */
class TargetTcpClientTest {

    private static Vertx vertx;

    @BeforeAll
    static void startVertx() {
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    }

    @AfterAll
    static void closeVertx() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** Connects on a Vert.x context, as the scheduler does, and waits (bounded) for the outcome. */
    private static HttpOutcome connect(String url, long deadlineMs) throws Exception {
        CompletableFuture<HttpOutcome> outcome = new CompletableFuture<>();
        TargetTcpClient client = new TargetTcpClient(vertx);
        vertx.getOrCreateContext().runOnContext(v -> client.connect(url, deadlineMs).onComplete(r -> outcome.complete(r.result())));
        return outcome.get(deadlineMs + 5_000, TimeUnit.MILLISECONDS);
    }

    @Test
    void shouldConnectToAListeningPortAndSayHowLongItTook() throws Exception {
        try (ServerSocket server = new ServerSocket(0)) {
            HttpOutcome outcome = connect("tcp://127.0.0.1:" + server.getLocalPort(), 2_000);

            HttpOutcome.Connected connected = assertInstanceOf(HttpOutcome.Connected.class, outcome);
            assertTrue(connected.latencyMs() >= 0 && connected.latencyMs() < 2_000, "latency " + connected.latencyMs());
        }
    }

    @Test
    void shouldCallARefusedConnectionUnreachableWithItsCause() throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }

        HttpOutcome.Failure failure = assertInstanceOf(HttpOutcome.Failure.class, connect("tcp://127.0.0.1:" + closed, 2_000));

        assertEquals(CheckStatus.UNREACHABLE, failure.status());
        assertTrue(failure.message().startsWith("cannot connect: ") && failure.message().toLowerCase().contains("refused"),
                failure.message());
    }

    @Test
    void shouldCallAnUnknownHostUnreachable() throws Exception {
        HttpOutcome.Failure failure = assertInstanceOf(HttpOutcome.Failure.class,
                connect("tcp://no-such-host.invalid:5432", 3_000));

        assertEquals(CheckStatus.UNREACHABLE, failure.status(), failure.message());
        assertTrue(failure.message().contains("no-such-host.invalid"), failure.message());
    }

    @Test
    void shouldTimeOutAtTheDeadlineWhenTheConnectionIsNeverAccepted() throws Exception {
        // A listener that never accepts, its backlog filled: the kernel drops further SYNs, so a connect hangs.
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress("127.0.0.1", 0), 1);
            List<Socket> fillers = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    Socket filler = new Socket();
                    try {
                        filler.connect(server.getLocalSocketAddress(), 200);
                        fillers.add(filler);
                    } catch (java.io.IOException full) {
                        filler.close();
                        break; // the backlog is full
                    }
                }
                long started = System.nanoTime();
                HttpOutcome.Failure failure = assertInstanceOf(HttpOutcome.Failure.class,
                        connect("tcp://127.0.0.1:" + server.getLocalPort(), 400));
                long tookMs = (System.nanoTime() - started) / 1_000_000;

                assertEquals(CheckStatus.TIMEOUT, failure.status(), failure.message());
                assertEquals("no connection to 127.0.0.1:" + server.getLocalPort() + " within 400 ms", failure.message());
                assertTrue(tookMs >= 400 && tookMs < 3_000, "took " + tookMs + " ms");
            } finally {
                for (Socket s : fillers) {
                    s.close();
                }
            }
        }
    }
}
