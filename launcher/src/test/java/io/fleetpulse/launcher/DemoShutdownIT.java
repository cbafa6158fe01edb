package io.fleetpulse.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM (what {@code docker stop}, systemd and {@code Process.destroy()} send) on a running demo stops it in
 * order, prints the summary, writes the JSON and exits 0. It runs the demo as a child JVM, because a signal
 * and the JVM's exit status are only real in a process of their own.
 */
class DemoShutdownIT {

    @TempDir
    Path dir;

    @Test
    void shouldSummariseWriteTheJsonAndExitZeroOnSigterm() throws Exception {
        Path summaryJson = dir.resolve("s.json");
        Path stderr = dir.resolve("stderr.log");
        Process demo = new ProcessBuilder(
                Paths.get(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx768m",
                "-cp", System.getProperty("java.class.path"),
                FleetPulseCli.class.getName(), "demo", "--servers", "3", "--interval", "1s", "--incidents", "none",
                "--data-dir", dir.resolve("data").toString(), "--summary-json", summaryJson.toString())
                .redirectError(stderr.toFile())
                .start();
        Lines out = Lines.of(demo);
        try {
            out.await(line -> line.startsWith("Running"), Duration.ofSeconds(90));

            // SIGTERM on Linux. Through the handle: Process.destroy() sends the same signal but also closes our end
            // of the child's stdout, and the summary would go unread.
            assertTrue(demo.toHandle().destroy(), "SIGTERM sent");

            assertTrue(demo.waitFor(60, TimeUnit.SECONDS), "the demo stops within a minute of SIGTERM");
        } finally {
            demo.destroyForcibly();
        }
        String printed = out.all();
        assertEquals(0, demo.exitValue(), () -> printed + "\n--- stderr ---\n" + read(stderr));
        assertTrue(printed.contains("SIGTERM: stopping in order"), () -> printed + "\n--- stderr ---\n" + read(stderr));
        assertTrue(printed.contains("FleetPulse demo summary"), printed);
        assertTrue(printed.contains("Summary written to"), printed);
        assertTrue(printed.contains("psql postgresql://postgres@127.0.0.1:"), printed);
        assertFalse(printed.contains("(while stopping"), () -> "everything closed cleanly: " + printed);

        JsonNode json = new ObjectMapper().readTree(summaryJson.toFile());
        for (String key : List.of("servers", "duration_seconds", "events", "windows", "alerts", "notifications",
                "postgres_rows", "dlq", "dlq_by_reason", "data_dir", "resumed", "events_in_topics", "push")) {
            assertTrue(json.has(key), () -> "s.json lacks " + key + ": " + json);
        }
        assertEquals(3, json.at("/servers").asInt());
        assertTrue(json.at("/events/checks").isNumber(), json::toString);
        assertTrue(json.at("/postgres_rows").has("target_window_1m"), json::toString);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (Exception e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }

    /** The child's stdout, read line by line on a thread of its own so the pipe never fills. */
    private static final class Lines {
        final List<String> lines = new ArrayList<>();
        private final Process process;
        private final Thread reader;

        private Lines(Process process) {
            this.process = process;
            this.reader = new Thread(this::read, "demo-stdout");
            reader.setDaemon(true);
        }

        static Lines of(Process process) {
            Lines lines = new Lines(process);
            lines.reader.start();
            return lines;
        }

        private void read() {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    synchronized (lines) {
                        lines.add(line);
                        lines.notifyAll();
                    }
                }
            } catch (IOException e) {
                // the process ended
            } finally {
                synchronized (lines) {
                    lines.notifyAll();
                }
            }
        }

        /** Waits for a line matching {@code wanted}, failing with what was printed when none comes in time. */
        void await(Predicate<String> wanted, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            synchronized (lines) {
                while (lines.stream().noneMatch(wanted)) {
                    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                    if (left <= 0 || !reader.isAlive()) {
                        throw new AssertionError("no such line within " + timeout + " (demo alive: " + process.isAlive()
                                + "); it printed:\n" + String.join("\n", lines));
                    }
                    lines.wait(left);
                }
            }
        }

        /** Everything printed, once stdout has closed. */
        String all() throws InterruptedException {
            reader.join(10_000);
            synchronized (lines) {
                return String.join("\n", lines);
            }
        }
    }
}
