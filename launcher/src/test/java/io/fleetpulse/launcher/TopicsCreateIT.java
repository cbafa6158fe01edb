package io.fleetpulse.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.schemas.Topics;
import io.fleetpulse.testkit.KafkaFixture;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code fleetpulse topics create} fails in bounded time with one line, never a hang or a stack trace. */
class TopicsCreateIT {

    @Test
    void shouldGiveUpOnAnUnreachableBrokerWithinItsTimeoutNamingTheAddress() throws Exception {
        String address = "127.0.0.1:" + portWithNothingListening();
        long started = System.nanoTime();
        PrintStream stderr = System.err;
        ByteArrayOutputStream logged = new ByteArrayOutputStream();
        CliRun run;
        try {
            System.setErr(new PrintStream(logged, true, StandardCharsets.UTF_8));
            run = CliRun.execute("topics", "create", "--bootstrap-servers", address, "--timeout", "3s");
        } finally {
            System.setErr(stderr);
        }

        Duration took = Duration.ofNanos(System.nanoTime() - started);
        assertEquals("", logged.toString(StandardCharsets.UTF_8), "no client warning per connection attempt");
        assertEquals(1, run.exit(), run.err());
        assertTrue(took.compareTo(Duration.ofSeconds(12)) < 0, "took " + took + " with a 3 s timeout");
        assertOneLine(run.err());
        assertTrue(run.err().contains(address), run.err());
        assertTrue(run.err().contains("3 s"), run.err());
    }

    @Test
    void shouldRefuseAPartitionCountMismatchInOneLineNamingTopicAndCounts() throws Exception {
        KafkaFixture kafka = KafkaFixture.start();
        try {
            kafka.createContractTopics(2);

            CliRun same = CliRun.execute("topics", "create", "--bootstrap-servers", kafka.bootstrapServers(), "--partitions", "2");
            assertEquals(0, same.exit(), same.err());
            assertTrue(same.out().contains(Topics.CHECKS.name()) && same.out().contains("exists"), same.out());

            CliRun other = CliRun.execute("topics", "create", "--bootstrap-servers", kafka.bootstrapServers(), "--partitions", "3");
            assertEquals(1, other.exit(), other.err());
            assertOneLine(other.err());
            assertTrue(other.err().contains(Topics.CHECKS.name() + " has 2"), other.err());
            assertTrue(other.err().contains("3 expected"), other.err());
        } finally {
            kafka.close();
        }
    }

    private static void assertOneLine(String err) {
        assertEquals(1, err.strip().lines().count(), () -> "one line expected: " + err);
        assertFalse(err.contains("Exception") || err.contains("\tat "), () -> "no stack trace expected: " + err);
    }

    private static int portWithNothingListening() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
