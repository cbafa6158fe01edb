package io.fleetpulse.collector;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.events.Target;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns one health poll into check results: always one named {@value #HTTP_CHECK} for the request itself, then one
 * per check or component the body reports, each named as the body names it, so the inventory's
 * {@code critical-checks} can make any of them critical.
 *
 * <p>Body formats understood (both may appear in one body):
 * <ul>
 *   <li>FleetPulse's: {@code {"status":"UP","checks":[{"name":"disk","status":"WARN","message":"85% used"}]}}
 *       ({@code checks} may also be an object of name to status or to {@code {"status":..}});</li>
 *   <li>Spring Boot actuator's: {@code {"status":"UP","components":{"db":{"status":"DOWN","details":{..}}}}}; a
 *       component's own sub-components are summed up in its status, as the actuator does, not published apart.</li>
 * </ul>
 *
 * <p>{@value #HTTP_CHECK}: OK for 2xx, CRITICAL for 5xx, ERROR for any other code or a 2xx body that is not a JSON
 * object, TIMEOUT or UNREACHABLE when no response came. A 2xx whose body's overall {@code status} is failing (DOWN,
 * OUT_OF_SERVICE, ...) or warning is CRITICAL or WARN, unless a failing check or component of the same body explains
 * it: the overall status is the target's aggregate of its components, and mirroring it onto {@value #HTTP_CHECK}
 * (critical for nearly every target) would make every component critical and the inventory's per-component
 * criticality meaningless. Only the {@value #HTTP_CHECK} check carries a latency: the body's checks were not timed by
 * us.
 *
 * <p>Over HTTPS, one more check named {@value #TLS_CHECK} follows {@value #HTTP_CHECK}: the days until the server's
 * certificate expires, WARN and CRITICAL below the {@link CertificateLines}.
 *
 * <p>A {@code tcp://} target has one check, {@value #TCP_CHECK}: OK with the connect latency, or the failure. A
 * target's {@link LatencyLines} ({@code max-latency}, {@code critical-latency}) raise a slow {@value #HTTP_CHECK} or
 * {@value #TCP_CHECK} to WARN or CRITICAL; its free-disk lines make each metrics sample a {@value #DISK_CHECK} check
 * ({@link #diskCheck}).
 *
 * <p>What one body can publish is bounded by {@link BodyLimits}: at most {@code maxChecks} checks and components
 * (the rest summed up in one ERROR check named {@value #CHECKS_CAP_CHECK}), names cut to {@code maxNameLength}, and
 * messages cut to {@value #MAX_MESSAGE} characters.
 */
final class HealthChecks {

    static final String HTTP_CHECK = "http";
    static final String CHECKS_CAP_CHECK = "checks";
    static final String BODY_PREFIX = "body:";
    static final int MAX_MESSAGE = 500;

    static final String TLS_CHECK = "tls";
    static final String TCP_CHECK = "tcp";
    static final String DISK_CHECK = "disk";

    /** An HTTPS target's certificate is WARN with fewer than {@code warnDays} left, CRITICAL with fewer than critical. */
    record CertificateLines(int warnDays, int criticalDays) {
        static final CertificateLines DEFAULTS = new CertificateLines(21, 7);
    }

    private final BodyLimits limits;
    private final CertificateLines certificateLines;

    HealthChecks(BodyLimits limits, CertificateLines certificateLines) {
        this.limits = limits;
        this.certificateLines = certificateLines;
    }

    /** A health poll of a plain HTTP target with no limits: what {@link #toCheckResults(Target, String, Instant, HttpOutcome)} does. */
    List<CheckResult> toCheckResults(String targetId, String collectorId, Instant observedAt, HttpOutcome outcome) {
        return toCheckResults(Target.newBuilder().setTargetId(targetId).setHealthUrl("http://" + targetId + "/")
                .setUpdatedAt(observedAt).build(), collectorId, observedAt, outcome);
    }

    /**
     * One health poll of {@code target} as check results: its own check first ({@value #TCP_CHECK} for a
     * {@code tcp://} target, else {@value #HTTP_CHECK}, then {@value #TLS_CHECK} and the body's), with the target's
     * latency lines applied to it.
     */
    List<CheckResult> toCheckResults(Target target, String collectorId, Instant observedAt, HttpOutcome outcome) {
        Emitter out = new Emitter(target.getTargetId(), collectorId, observedAt, hasDiskLimit(target));
        LatencyLines latency = new LatencyLines(target.getMaxLatencyMs(), target.getCriticalLatencyMs());
        String own = TargetTcpClient.isTcp(target.getHealthUrl()) ? TCP_CHECK : HTTP_CHECK;
        if (outcome instanceof HttpOutcome.Failure failure) {
            out.add(own, failure.status(), null, failure.message());
            return out.results;
        }
        if (outcome instanceof HttpOutcome.Connected connected) {
            latency.add(out, own, CheckStatus.OK, connected.latencyMs(),
                    "connected in " + Math.round(connected.latencyMs()) + " ms");
            return out.results;
        }
        HttpOutcome.Response response = (HttpOutcome.Response) outcome;
        int code = response.statusCode();
        JsonNode body = null;
        String bodyProblem = null;
        if (response.body() != null && !response.body().isBlank()) {
            try {
                body = BodyLimits.JSON.readTree(response.body());
                if (!body.isObject()) {
                    bodyProblem = "the body is JSON but not an object";
                    body = null;
                }
            } catch (JacksonException e) {
                bodyProblem = "the body is not JSON: " + excerpt(response.body());
            }
        }
        List<CheckResult> bodyChecks = body == null ? List.of() : bodyChecks(out.withoutResults(), body);
        CheckStatus status = httpStatus(code);
        String message = "HTTP " + code + " in " + Math.round(response.latencyMs()) + " ms";
        String overallText = body != null && body.path("status").isValueNode() ? body.get("status").asText() : null;
        if (status == CheckStatus.OK && bodyProblem != null) {
            status = CheckStatus.ERROR;
            message = "HTTP " + code + " but " + bodyProblem;
        } else if (status == CheckStatus.ERROR) {
            message = "HTTP " + code + (code >= 300 && code < 400 ? " is a redirect" + location(response) + ", not followed"
                    : " is neither success (2xx) nor server error (5xx)");
        } else if (status == CheckStatus.CRITICAL && overallText != null) {
            message = message + ", status " + excerpt(overallText);
        } else if (status == CheckStatus.OK && overallText != null) {
            CheckStatus overall = bodyStatus(overallText);
            boolean explained = bodyChecks.stream().anyMatch(c -> c.getStatus() != CheckStatus.OK
                    && !c.getCheckName().equals(CHECKS_CAP_CHECK));
            if (overall != CheckStatus.OK && explained) {
                message = message + ", status " + excerpt(overallText) + " (from its checks)";
            } else if (overall != CheckStatus.OK) {
                status = overall == CheckStatus.WARN ? CheckStatus.WARN
                        : overall == CheckStatus.ERROR ? CheckStatus.ERROR : CheckStatus.CRITICAL;
                message = "HTTP " + code + " but the body says status '" + excerpt(overallText) + "'";
            }
        }
        latency.add(out, HTTP_CHECK, status, response.latencyMs(), message);
        if (response.certificateNotAfter() != null) {
            certificate(out, response.certificateNotAfter(), observedAt);
        }
        out.results.addAll(bodyChecks);
        return out.results;
    }

    /** The {@value #TLS_CHECK} check: whole days until the certificate expires, against the warn and critical lines. */
    private void certificate(Emitter out, Instant notAfter, Instant observedAt) {
        long days = Math.floorDiv(Duration.between(observedAt, notAfter).toSeconds(), 86_400);
        CheckStatus status = days < certificateLines.criticalDays() ? CheckStatus.CRITICAL
                : days < certificateLines.warnDays() ? CheckStatus.WARN : CheckStatus.OK;
        out.add(TLS_CHECK, status, null, (days < 0 ? "certificate expired " + -days + " days ago" : "certificate expires in "
                + days + " days") + " (" + notAfter + ")");
    }

    /**
     * A target's latency limits ({@code max-latency}, {@code critical-latency}), each null when unset: a check that
     * answered OK or WARN but slower than a line is WARN or CRITICAL, saying by how much; a check that failed
     * otherwise (CRITICAL, ERROR, TIMEOUT, UNREACHABLE) keeps its own status and reason.
     */
    record LatencyLines(Long warnMs, Long criticalMs) {

        void add(Emitter out, String name, CheckStatus status, double latencyMs, String message) {
            boolean answered = status == CheckStatus.OK || status == CheckStatus.WARN;
            if (answered && criticalMs != null && latencyMs > criticalMs) {
                out.add(name, CheckStatus.CRITICAL, latencyMs, message + ", slower than the critical-latency " + criticalMs + " ms");
            } else if (status == CheckStatus.OK && warnMs != null && latencyMs > warnMs) {
                out.add(name, CheckStatus.WARN, latencyMs, message + ", slower than the max-latency " + warnMs + " ms");
            } else {
                out.add(name, status, latencyMs, message);
            }
        }
    }

    /** Whether {@code target} has a free-disk limit, which makes {@value #DISK_CHECK} the collector's own check. */
    static boolean hasDiskLimit(Target target) {
        return target.getMinFreeDiskBytes() != null || target.getCriticalFreeDiskBytes() != null;
    }

    /**
     * The {@value #DISK_CHECK} check of one metrics sample against the target's {@code min-free-disk} (below: WARN)
     * and {@code critical-free-disk} (below: CRITICAL); at or above both OK. Null when the target sets neither; ERROR
     * when it does but the sample has no free-disk figure, so a limit that cannot be checked is seen, not ignored.
     */
    CheckResult diskCheck(Target target, String collectorId, MetricSample sample) {
        if (!hasDiskLimit(target)) {
            return null;
        }
        Emitter out = new Emitter(target.getTargetId(), collectorId, sample.getObservedAt(), true);
        Long free = sample.getDiskFreeBytes();
        Long warn = target.getMinFreeDiskBytes();
        Long critical = target.getCriticalFreeDiskBytes();
        if (free == null) {
            out.add(DISK_CHECK, CheckStatus.ERROR, null, "the metrics sample has no disk free bytes (disk_free_bytes) "
                    + "to check against the free-disk limit");
        } else if (critical != null && free < critical) {
            out.add(DISK_CHECK, CheckStatus.CRITICAL, null, ByteSize.format(free) + " free (" + free
                    + " bytes), below the critical-free-disk " + ByteSize.format(critical) + " (" + critical + " bytes)");
        } else if (warn != null && free < warn) {
            out.add(DISK_CHECK, CheckStatus.WARN, null, ByteSize.format(free) + " free (" + free
                    + " bytes), below the min-free-disk " + ByteSize.format(warn) + " (" + warn + " bytes)");
        } else {
            long line = warn != null ? warn : critical;
            out.add(DISK_CHECK, CheckStatus.OK, null, ByteSize.format(free) + " free (" + free + " bytes), at or above "
                    + (warn != null ? "the min-free-disk " : "the critical-free-disk ") + ByteSize.format(line));
        }
        return out.results.get(0);
    }

    /** OK for 2xx, CRITICAL for 5xx, ERROR for the rest (redirects are not followed; 4xx means a wrong URL). */
    static CheckStatus httpStatus(int code) {
        if (code >= 200 && code < 300) {
            return CheckStatus.OK;
        }
        return code >= 500 && code < 600 ? CheckStatus.CRITICAL : CheckStatus.ERROR;
    }

    /**
     * The target's own verdict on one check, in any case, with '-' or ' ' for '_': OK/UP/PASS/HEALTHY/GREEN,
     * WARN/DEGRADED/YELLOW, CRITICAL/DOWN/FAIL/UNHEALTHY/OUT_OF_SERVICE/RED; anything else ERROR.
     */
    static CheckStatus bodyStatus(String text) {
        return switch (text.strip().toUpperCase(Locale.ROOT).replace('-', '_').replace(' ', '_')) {
            case "OK", "UP", "PASS", "PASSED", "HEALTHY", "GREEN" -> CheckStatus.OK;
            case "WARN", "WARNING", "DEGRADED", "YELLOW" -> CheckStatus.WARN;
            case "CRITICAL", "DOWN", "FAIL", "FAILED", "UNHEALTHY", "OUT_OF_SERVICE", "OFFLINE", "RED" -> CheckStatus.CRITICAL;
            case "TIMEOUT" -> CheckStatus.TIMEOUT;
            case "UNREACHABLE" -> CheckStatus.UNREACHABLE;
            default -> CheckStatus.ERROR;
        };
    }

    private List<CheckResult> bodyChecks(Emitter out, JsonNode body) {
        int listed = 0;
        if (body.has("checks")) {
            listed += entries(out, body.get("checks"), "checks", true);
        }
        if (body.has("components")) {
            listed += entries(out, body.get("components"), "components", false);
        }
        if (listed > limits.maxChecks()) {
            // One summary, not thousands of records: the owner learns the body is too big, the topic stays bounded.
            out.add(CHECKS_CAP_CHECK, CheckStatus.ERROR, null, "the body lists " + listed + " checks and components; "
                    + "published the first " + limits.maxChecks() + " (" + CollectorSettings.MAX_CHECKS.name() + ")");
        }
        return out.results;
    }

    /** Publishes the entries of {@code checks} or {@code components}, within the cap; returns how many it lists. */
    private int entries(Emitter out, JsonNode node, String field, boolean arrayAllowed) {
        if (node.isArray() && arrayAllowed) {
            for (int i = 0; i < node.size(); i++) {
                JsonNode entry = node.get(i);
                String name = entry.path("name").isValueNode() ? entry.path("name").asText().strip() : "";
                if (!out.roomFor(limits.maxChecks())) {
                    continue;
                }
                if (name.isEmpty()) {
                    // Kept, not dropped: a malformed entry is itself something the target's owner should see.
                    out.add(field + "[" + i + "]", CheckStatus.ERROR, null,
                            "malformed check entry (no name): " + excerpt(entry.toString()));
                } else {
                    entry(out, name, entry);
                }
            }
            return node.size();
        }
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> entry : node.properties()) {
                if (out.roomFor(limits.maxChecks())) {
                    entry(out, entry.getKey().strip().isEmpty() ? field + "[]" : entry.getKey().strip(), entry.getValue());
                }
            }
            return node.size();
        }
        out.add(field, CheckStatus.ERROR, null, "the body's '" + field + "' is not "
                + (arrayAllowed ? "an array or an object" : "an object"));
        return 0;
    }

    /** One check or component: a bare status word, or an object with {@code status} and perhaps a message. */
    private void entry(Emitter out, String rawName, JsonNode entry) {
        String name = name(rawName, out.diskReserved);
        JsonNode statusNode = entry.isValueNode() ? entry : entry.path("status");
        String statusText = statusNode.isValueNode() ? statusNode.asText() : "";
        CheckStatus status = bodyStatus(statusText);
        String message = entry.path("message").isValueNode() ? entry.get("message").asText()
                : entry.path("details").isContainerNode() ? entry.get("details").toString() : null;
        if (status == CheckStatus.ERROR && !statusText.strip().equalsIgnoreCase("ERROR")) {
            message = (statusText.isBlank() ? "no status" : "unknown status '" + excerpt(statusText) + "'")
                    + (message == null ? "" : ": " + message);
        }
        out.add(name, status, null, message);
    }

    /**
     * A name cut to the cap, so a target cannot make records huge through its check names; a body's own "http" (and
     * "disk" when the target has a free-disk limit, whose check the collector publishes) is renamed, so it can never
     * be taken for (or mask) the collector's own check.
     */
    private String name(String raw, boolean diskReserved) {
        boolean reserved = raw.equalsIgnoreCase(HTTP_CHECK) || (diskReserved && raw.equalsIgnoreCase(DISK_CHECK));
        String name = reserved ? BODY_PREFIX + raw : raw;
        int max = limits.maxNameLength();
        return name.length() <= max ? name : name.substring(0, max - 1) + "…";
    }

    private static String location(HttpOutcome.Response response) {
        return response.location() == null ? "" : " to " + excerpt(response.location());
    }

    /** Builds the results of one poll, all with the same target, collector and event time. */
    private static final class Emitter {
        private final String targetId;
        private final String collectorId;
        private final Instant observedAt;
        /** Whether "disk" is the collector's own check of this target, so a body's "disk" is renamed. */
        private final boolean diskReserved;
        private final List<CheckResult> results = new ArrayList<>();

        Emitter(String targetId, String collectorId, Instant observedAt, boolean diskReserved) {
            this.targetId = targetId;
            this.collectorId = collectorId;
            this.observedAt = observedAt;
            this.diskReserved = diskReserved;
        }

        Emitter withoutResults() {
            return new Emitter(targetId, collectorId, observedAt, diskReserved);
        }

        boolean roomFor(int max) {
            return results.size() < max;
        }

        void add(String name, CheckStatus status, Double latencyMs, String message) {
            results.add(CheckResult.newBuilder()
                    .setTargetId(targetId)
                    .setCheckName(name)
                    .setStatus(status)
                    .setLatencyMs(latencyMs)
                    .setMessage(message == null ? null : excerpt(message))
                    .setObservedAt(observedAt)
                    .setCollectorId(collectorId)
                    .build());
        }
    }

    /** One line of at most {@value #MAX_MESSAGE} characters; cut before the whitespace regex runs, so it is cheap. */
    static String excerpt(String text) {
        String head = text.length() <= 2 * MAX_MESSAGE ? text : text.substring(0, 2 * MAX_MESSAGE);
        String oneLine = head.strip().replaceAll("\\s+", " ");
        return oneLine.length() <= MAX_MESSAGE && head.length() == text.length() ? oneLine
                : oneLine.substring(0, Math.min(oneLine.length(), MAX_MESSAGE)) + "…";
    }
}
