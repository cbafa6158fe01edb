package io.fleetpulse.alerting;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.ClosedChannelException;
import org.junit.jupiter.api.Test;

/** The audit's error text for a request that got no response: it must name what went wrong (DeliveryFaultsIT). */
class TransportFailureTextTest {

    @Test
    void shouldSayARefusedConnectionCouldNotConnectThoughTheJdkGivesItNoMessage() {
        // What the JDK client fails with when nothing listens on the port.
        ConnectException refused = new ConnectException();
        refused.initCause(new ClosedChannelException());

        assertEquals("ConnectException: could not connect (ClosedChannelException)", DeliveryWorker.describe(refused));
    }

    @Test
    void shouldNameATimeoutAloneThoughTheJdkSometimesGivesItACause() {
        // Seen in CI: the JDK client's exchange, torn down at the timeout, left this cause on one run in several.
        HttpTimeoutException timedOut = new HttpTimeoutException("request timed out");
        timedOut.initCause(new IOException("subscription is finished"));

        assertEquals("HttpTimeoutException: request timed out", DeliveryWorker.describe(timedOut));
    }

    @Test
    void shouldKeepTheMessagesOfATimeoutAndOfAReset() {
        assertEquals("HttpTimeoutException: request timed out",
                DeliveryWorker.describe(new HttpTimeoutException("request timed out")));
        assertEquals("IOException: HTTP/1.1 header parser received no bytes (SocketException: Connection reset)",
                DeliveryWorker.describe(new IOException("HTTP/1.1 header parser received no bytes",
                        new SocketException("Connection reset"))));
    }
}
