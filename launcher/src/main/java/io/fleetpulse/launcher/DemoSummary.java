package io.fleetpulse.launcher;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one demo run did, printed at the end and optionally written as JSON (dotted names are nested objects).
 * Events, windows, alerts, notifications and dead letters are this run's; {@code postgresRows} and the
 * {@code *InTopics} counts are what the tables and topics hold, earlier runs on a kept data folder included.
 */
public record DemoSummary(int servers, double seconds, long checks, long metrics, long windows, long alertsFired,
                          long alertsResolved, Map<String, Long> alertsFiredByKind, long slackNotifications, long pagerDutyNotifications,
                          Map<String, Long> postgresRows, long deadLetters, Map<String, Long> deadLettersByReason,
                          double peakHeapMb, String dataDir, boolean resumed, long checksInTopics, long metricsInTopics,
                          PushingAgent.Counts push) {

    public Map<String, Object> asJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("servers", servers);
        json.put("duration_seconds", Math.round(seconds * 10) / 10.0);
        json.put("events", Map.of("checks", checks, "metrics", metrics));
        json.put("windows", windows);
        json.put("alerts", Map.of("fired", alertsFired, "resolved", alertsResolved, "fired_by_kind", alertsFiredByKind));
        json.put("notifications", Map.of("slack", slackNotifications, "pagerduty", pagerDutyNotifications));
        json.put("postgres_rows", postgresRows);
        json.put("dlq", deadLetters);
        json.put("dlq_by_reason", deadLettersByReason);
        json.put("peak_heap_mb", Math.round(peakHeapMb));
        json.put("data_dir", dataDir);
        json.put("resumed", resumed);
        json.put("events_in_topics", Map.of("checks", checksInTopics, "metrics", metricsInTopics));
        json.put("push", push.asJson());
        return json;
    }

    public void writeJson(Path file) throws IOException {
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), asJson());
    }

    public String describe() {
        return String.format("""
                FleetPulse demo summary (%d servers, %.0f s%s)
                  events        checks %d, metrics %d
                  windows       %d one-minute aggregates
                  alerts        %d fired %s, %d resolved
                  notifications Slack %d, PagerDuty %d
                  postgres      %s%s
                  dlq           %d %s
                  push          %d heartbeat requests by the pushing agent, %d accepted (%d retried, %d refused, %d abandoned)
                  peak heap     %.0f MB""",
                servers, seconds, resumed ? ", resumed on kept data" : "", checks, metrics, windows, alertsFired,
                alertsFiredByKind, alertsResolved, slackNotifications, pagerDutyNotifications, postgresRows,
                resumed ? " rows in the tables, earlier runs included (topics hold " + checksInTopics + " checks, "
                        + metricsInTopics + " metrics in all)" : "",
                deadLetters, deadLettersByReason.isEmpty() ? "" : deadLettersByReason, push.sent(), push.accepted(),
                push.retried(), push.refused(), push.abandoned(), peakHeapMb);
    }
}
