package io.fleetpulse.collector;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns one health poll into check results: always one named {@value #HTTP_CHECK} for the request itself,
 * then one per entry of the body's {@code checks} array.
 *
 * <p>{@value #HTTP_CHECK}: OK for 2xx, CRITICAL for 5xx, ERROR for any other code or a 2xx body that is not a JSON
 * object, TIMEOUT or UNREACHABLE when no response came. Only the {@value #HTTP_CHECK} check carries a latency: the
 * body's checks were not timed by us.
 */
final class HealthChecks {

    static final String HTTP_CHECK = "http";
    static final int MAX_MESSAGE = 500;

    private static final ObjectMapper JSON = new ObjectMapper();

    private HealthChecks() {
    }

    static List<CheckResult> toCheckResults(String targetId, String collectorId, Instant observedAt, HttpOutcome outcome) {
        List<CheckResult> results = new ArrayList<>();
        if (outcome instanceof HttpOutcome.Failure failure) {
            results.add(result(targetId, collectorId, observedAt, HTTP_CHECK, failure.status(), null, failure.message()));
            return results;
        }
        HttpOutcome.Response response = (HttpOutcome.Response) outcome;
        int code = response.statusCode();
        JsonNode body = null;
        String bodyProblem = null;
        if (response.body() != null && !response.body().isBlank()) {
            try {
                body = JSON.readTree(response.body());
                if (!body.isObject()) {
                    bodyProblem = "the body is JSON but not an object";
                    body = null;
                }
            } catch (JsonProcessingException e) {
                bodyProblem = "the body is not JSON: " + excerpt(response.body());
            }
        }
        CheckStatus status = httpStatus(code);
        String message = "HTTP " + code + " in " + Math.round(response.latencyMs()) + " ms";
        if (status == CheckStatus.OK && bodyProblem != null) {
            status = CheckStatus.ERROR;
            message = "HTTP " + code + " but " + bodyProblem;
        } else if (status == CheckStatus.ERROR) {
            message = "HTTP " + code + " is neither success (2xx) nor server error (5xx)";
        } else if (status == CheckStatus.CRITICAL && body != null && body.path("status").isTextual()) {
            message = message + ", status " + body.get("status").asText();
        }
        results.add(result(targetId, collectorId, observedAt, HTTP_CHECK, status, response.latencyMs(), message));
        if (body != null && body.has("checks")) {
            results.addAll(bodyChecks(targetId, collectorId, observedAt, body.get("checks")));
        }
        return results;
    }

    /** OK for 2xx, CRITICAL for 5xx, ERROR for the rest (redirects are not followed; 4xx means a wrong URL). */
    static CheckStatus httpStatus(int code) {
        if (code >= 200 && code < 300) {
            return CheckStatus.OK;
        }
        return code >= 500 && code < 600 ? CheckStatus.CRITICAL : CheckStatus.ERROR;
    }

    /** The target's own verdict on one check: OK/UP/PASS, WARN/DEGRADED, CRITICAL/DOWN/FAIL; anything else ERROR. */
    static CheckStatus bodyStatus(String text) {
        return switch (text.strip().toUpperCase(Locale.ROOT)) {
            case "OK", "UP", "PASS", "PASSED", "HEALTHY" -> CheckStatus.OK;
            case "WARN", "WARNING", "DEGRADED" -> CheckStatus.WARN;
            case "CRITICAL", "DOWN", "FAIL", "FAILED", "UNHEALTHY" -> CheckStatus.CRITICAL;
            case "TIMEOUT" -> CheckStatus.TIMEOUT;
            case "UNREACHABLE" -> CheckStatus.UNREACHABLE;
            default -> CheckStatus.ERROR;
        };
    }

    private static List<CheckResult> bodyChecks(String targetId, String collectorId, Instant observedAt, JsonNode checks) {
        List<CheckResult> results = new ArrayList<>();
        if (!checks.isArray()) {
            results.add(result(targetId, collectorId, observedAt, "checks", CheckStatus.ERROR, null,
                    "the body's 'checks' is not an array"));
            return results;
        }
        for (int i = 0; i < checks.size(); i++) {
            JsonNode check = checks.get(i);
            String name = check.path("name").isValueNode() ? check.path("name").asText().strip() : "";
            if (name.isEmpty()) {
                // Kept, not dropped: a malformed entry is itself something the target's owner should see.
                results.add(result(targetId, collectorId, observedAt, "checks[" + i + "]", CheckStatus.ERROR, null,
                        "malformed check entry (no name): " + excerpt(check.toString())));
                continue;
            }
            JsonNode statusNode = check.path("status");
            String statusText = statusNode.isValueNode() ? statusNode.asText() : "";
            CheckStatus status = bodyStatus(statusText);
            String message = check.path("message").isValueNode() ? check.get("message").asText() : null;
            if (status == CheckStatus.ERROR && !statusText.strip().equalsIgnoreCase("ERROR")) {
                message = "unknown status '" + statusText + "'" + (message == null ? "" : ": " + message);
            }
            results.add(result(targetId, collectorId, observedAt, name, status, null, message));
        }
        return results;
    }

    private static CheckResult result(String targetId, String collectorId, Instant observedAt, String name,
                                      CheckStatus status, Double latencyMs, String message) {
        return CheckResult.newBuilder()
                .setTargetId(targetId)
                .setCheckName(name)
                .setStatus(status)
                .setLatencyMs(latencyMs)
                .setMessage(message == null ? null : excerpt(message))
                .setObservedAt(observedAt)
                .setCollectorId(collectorId)
                .build();
    }

    static String excerpt(String text) {
        String oneLine = text.strip().replaceAll("\\s+", " ");
        return oneLine.length() <= MAX_MESSAGE ? oneLine : oneLine.substring(0, MAX_MESSAGE) + "…";
    }
}
