package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fleetpulse.events.CheckStatus;
import io.netty.channel.ConnectTimeoutException;
import io.vertx.core.VertxException;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.impl.NoStackTraceTimeoutException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

class HttpOutcomeTest {

    private static CheckStatus classify(Throwable t) {
        return HttpOutcome.classify(t, 2000).status();
    }

    @Test
    void shouldCallNoAnswerInTimeATimeout() {
        assertEquals(CheckStatus.TIMEOUT, classify(new NoStackTraceTimeoutException("The timeout period of 2000ms has been exceeded")));
        assertEquals(CheckStatus.TIMEOUT, classify(new TimeoutException()));
        assertEquals("no response within 2000 ms", HttpOutcome.classify(new TimeoutException(), 2000).message());
    }

    @Test
    void shouldCallConnectionFailuresUnreachable() {
        assertEquals(CheckStatus.UNREACHABLE, classify(new ConnectException("Connection refused")));
        assertEquals(CheckStatus.UNREACHABLE, classify(new ConnectTimeoutException("connection timed out")));
        assertEquals(CheckStatus.UNREACHABLE, classify(new HttpClosedException("Connection was closed")));
        assertEquals(CheckStatus.UNREACHABLE, classify(new IOException("Connection reset by peer")));
        assertEquals(CheckStatus.UNREACHABLE, classify(new UnknownHostException("nowhere.invalid")));
        assertEquals(CheckStatus.UNREACHABLE, classify(new VertxException("wrapped", new ConnectException("refused"))));
    }

    @Test
    void shouldCallAnythingElseAnError() {
        assertEquals(CheckStatus.ERROR, classify(new SSLHandshakeException("bad certificate")));
        assertEquals(CheckStatus.ERROR, classify(new IllegalStateException("boom")));
        assertEquals("request failed: boom", HttpOutcome.classify(new IllegalStateException("boom"), 2000).message());
    }
}
