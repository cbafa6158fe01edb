package io.fleetpulse.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * {@code promtool check metrics} (Debian's {@code prometheus} package) over a {@code /metrics} text: the lint that
 * Prometheus users run. Skipped where promtool is not installed, except under CI, which installs it.
 */
public final class Promtool {

    private Promtool() {
    }

    public static Optional<Path> find() {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
                .map(d -> Path.of(d, "promtool")).filter(Files::isExecutable).findFirst();
    }

    /** Fails with promtool's findings unless it has none. */
    public static void assertNoFindings(String what, String metrics) throws Exception {
        Optional<Path> promtool = find();
        if (System.getenv("CI") != null) {
            assertTrue(promtool.isPresent(), "CI must have promtool (.ci/run installs Debian's prometheus package)");
        }
        Assumptions.assumeTrue(promtool.isPresent(), "promtool is not installed (apt-get install prometheus)");
        Process check = new ProcessBuilder(promtool.get().toString(), "check", "metrics").redirectErrorStream(true).start();
        try (var in = check.getOutputStream()) {
            in.write(metrics.getBytes(StandardCharsets.UTF_8));
        }
        String findings = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        int exit = check.waitFor();
        assertEquals("", findings, what + ": promtool check metrics found:\n" + findings);
        assertEquals(0, exit, what + ": promtool check metrics exited " + exit);
    }
}
