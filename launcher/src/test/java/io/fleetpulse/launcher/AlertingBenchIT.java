package io.fleetpulse.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fleetpulse bench alerting} end to end with a small N, as a person runs it: its own in-process broker, the
 * real alerting service and local HTTP receivers. Healthy, every transition reaches each receiver once; with
 * PagerDuty answering 500 for the first half, PagerDuty still gets every one once it recovers.
 */
class AlertingBenchIT {

    private static final String[] KEYS = {"alerts", "delivered", "lost", "duplicates", "delivery_p50_ms",
            "delivery_p99_ms", "slack_delivery_p99_ms", "pagerduty_delivery_p99_ms", "webhook_delivery_p99_ms"};

    @Test
    void shouldDeliverEveryTransitionOnceToEachReceiverAndWriteTheFigures(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("bench.json");

        CliRun run = CliRun.execute("bench", "alerting", "--alerts", "40", "--rate", "200", "--timeout", "60s", "--warmup", "20",
                "--json", json.toString());

        JsonNode figures = new ObjectMapper().readTree(json.toFile());
        assertEquals(0, run.exit(), run.err() + figures);
        for (String key : KEYS) {
            assertTrue(figures.has(key), "missing " + key + " in " + figures);
        }
        assertEquals(40, figures.path("alerts").asInt());
        assertEquals(120, figures.path("delivered").asInt(), figures.toString());
        assertEquals(0, figures.path("lost").asInt(), figures.toString());
        assertEquals(0, figures.path("duplicates").asInt(), figures.toString());
        assertEquals(20, figures.path("warmup_alerts").asInt(), figures.toString());
        assertTrue(figures.path("warmup_delivery_p99_ms").asLong() >= 0, "the warm-up was delivered: " + figures);
        assertEquals(0, figures.at("/receivers/slack/other_notifications").asInt(), "warm-up alerts are not the run's "
                + "and not unexpected either: " + figures);
        assertTrue(figures.path("delivery_p99_ms").asLong() >= figures.path("delivery_p50_ms").asLong(), figures.toString());
        assertTrue(figures.path("delivery_p50_ms").asLong() >= 0, figures.toString());
    }

    @Test
    void shouldLoseNothingWhenPagerDutyAnswers500ForTheFirstHalf(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("bench.json");

        CliRun run = CliRun.execute("bench", "alerting", "--alerts", "20", "--rate", "10", "--warmup", "4", "--fault", "pagerduty:errors",
                "--timeout", "60s", "--json", json.toString());

        JsonNode figures = new ObjectMapper().readTree(json.toFile());
        assertEquals(0, run.exit(), run.err() + figures);
        assertEquals("pagerduty:errors", figures.path("fault").asText());
        assertEquals(0, figures.path("lost").asInt(), figures.toString());
        assertEquals(0, figures.path("duplicates").asInt(), figures.toString());
        assertEquals(20, figures.at("/receivers/pagerduty/delivered").asInt(), figures.toString());
        assertTrue(figures.at("/receivers/pagerduty/rejected_requests").asInt() > 0,
                "PagerDuty answered 500 to some while faulty: " + figures);
        assertEquals(0, figures.at("/receivers/slack/rejected_requests").asInt(), figures.toString());
    }
}
