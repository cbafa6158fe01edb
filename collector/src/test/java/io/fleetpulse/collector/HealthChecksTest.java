package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HealthChecksTest {

    private static final Instant AT = Instant.parse("2025-03-01T12:00:00.250Z");

    private static List<CheckResult> map(HttpOutcome outcome) {
        return new HealthChecks(BodyLimits.DEFAULTS, HealthChecks.CertificateLines.DEFAULTS).toCheckResults("srv-001", "c1", AT, outcome);
    }

    private static HttpOutcome.Response response(int code, String body) {
        return new HttpOutcome.Response(code, body, 12.5);
    }

    @ParameterizedTest
    @CsvSource({"200, OK", "204, OK", "299, OK", "500, CRITICAL", "503, CRITICAL", "599, CRITICAL",
            "199, ERROR", "301, ERROR", "304, ERROR", "404, ERROR", "429, ERROR", "600, ERROR"})
    void shouldMapHttpStatusCodesToCheckStatus(int code, CheckStatus expected) {
        assertEquals(expected, HealthChecks.httpStatus(code));
    }

    @Test
    void shouldReportTheHttpCheckAndOneCheckPerBodyEntry() {
        List<CheckResult> results = map(response(200, """
                {"status":"UP","checks":[{"name":"disk","status":"WARN","message":"disk 85% used"},
                                         {"name":"services","status":"OK","message":"12/12 services active"}]}"""));

        assertEquals(3, results.size());
        CheckResult http = results.get(0);
        assertEquals("http", http.getCheckName());
        assertEquals(CheckStatus.OK, http.getStatus());
        assertEquals(12.5, http.getLatencyMs());
        assertEquals("HTTP 200 in 13 ms", http.getMessage());
        assertEquals(AT, http.getObservedAt());
        assertEquals("c1", http.getCollectorId());
        assertEquals("srv-001", http.getTargetId());

        CheckResult disk = results.get(1);
        assertEquals("disk", disk.getCheckName());
        assertEquals(CheckStatus.WARN, disk.getStatus());
        assertEquals("disk 85% used", disk.getMessage());
        assertNull(disk.getLatencyMs(), "only the http check was timed");
        assertEquals(AT, disk.getObservedAt());
        assertEquals(CheckStatus.OK, results.get(2).getStatus());
    }

    @Test
    void shouldReportCriticalFor5xxWithTheBodysChecks() {
        List<CheckResult> results = map(response(503, """
                {"status":"DOWN","checks":[{"name":"disk","status":"CRITICAL","message":"server down"}]}"""));

        assertEquals(CheckStatus.CRITICAL, results.get(0).getStatus());
        assertEquals("HTTP 503 in 13 ms, status DOWN", results.get(0).getMessage());
        assertEquals(CheckStatus.CRITICAL, results.get(1).getStatus());
    }

    @Test
    void shouldReportCriticalFor5xxEvenWithoutAJsonBody() {
        List<CheckResult> results = map(response(502, "<html>Bad Gateway</html>"));

        assertEquals(1, results.size());
        assertEquals(CheckStatus.CRITICAL, results.get(0).getStatus());
    }

    @Test
    void shouldAcceptASuccessWithAnEmptyBody() {
        List<CheckResult> results = map(response(204, ""));

        assertEquals(1, results.size());
        assertEquals(CheckStatus.OK, results.get(0).getStatus());
    }

    @Test
    void shouldReportErrorForASuccessWhoseBodyIsNotAJsonObject() {
        CheckResult notJson = map(response(200, "all good!")).get(0);
        CheckResult array = map(response(200, "[1,2]")).get(0);

        assertEquals(CheckStatus.ERROR, notJson.getStatus());
        assertEquals("HTTP 200 but the body is not JSON: all good!", notJson.getMessage());
        assertEquals(CheckStatus.ERROR, array.getStatus());
        assertTrue(array.getMessage().contains("not an object"), array.getMessage());
    }

    @Test
    void shouldReportErrorForCodesThatAreNeitherSuccessNorServerError() {
        CheckResult notFound = map(response(404, "{\"error\":\"no such endpoint\"}")).get(0);

        assertEquals(CheckStatus.ERROR, notFound.getStatus());
        assertEquals("HTTP 404 is neither success (2xx) nor server error (5xx)", notFound.getMessage());
        assertEquals(12.5, notFound.getLatencyMs(), "a response came back, so it has a latency");
    }

    @Test
    void shouldReportFailuresWithoutLatencyAndWithTheReason() {
        CheckResult timeout = map(new HttpOutcome.Failure(CheckStatus.TIMEOUT, "no response within 2000 ms")).get(0);
        List<CheckResult> unreachable = map(new HttpOutcome.Failure(CheckStatus.UNREACHABLE, "cannot connect: refused"));

        assertEquals(CheckStatus.TIMEOUT, timeout.getStatus());
        assertEquals("http", timeout.getCheckName());
        assertNull(timeout.getLatencyMs());
        assertEquals("no response within 2000 ms", timeout.getMessage());
        assertEquals(1, unreachable.size());
        assertEquals(CheckStatus.UNREACHABLE, unreachable.get(0).getStatus());
    }

    @Test
    void shouldKeepMalformedAndUnknownBodyChecksAsErrors() {
        List<CheckResult> results = map(response(200, """
                {"checks":[{"status":"OK"},{"name":"db","status":"SORT_OF","message":"hmm"},{"name":"cache","status":"up"},
                           {"name":"queue","status":"degraded"},{"name":"dns","status":"fail"}]}"""));

        assertEquals(6, results.size());
        assertEquals("checks[0]", results.get(1).getCheckName());
        assertEquals(CheckStatus.ERROR, results.get(1).getStatus());
        assertEquals(CheckStatus.ERROR, results.get(2).getStatus());
        assertEquals("unknown status 'SORT_OF': hmm", results.get(2).getMessage());
        assertEquals(CheckStatus.OK, results.get(3).getStatus());
        assertEquals(CheckStatus.WARN, results.get(4).getStatus());
        assertEquals(CheckStatus.CRITICAL, results.get(5).getStatus());
    }

    @Test
    void shouldReadChecksGivenAsAnObjectAndFlagOneThatIsNeither() {
        List<CheckResult> asObject = map(response(200, "{\"checks\":{\"disk\":\"OK\",\"cache\":{\"status\":\"warn\"}}}"));
        List<CheckResult> asText = map(response(200, "{\"checks\":\"all fine\"}"));

        assertEquals(List.of("http", "disk", "cache"), names(asObject));
        assertEquals(List.of(CheckStatus.OK, CheckStatus.OK, CheckStatus.WARN), statuses(asObject));
        assertEquals("checks", asText.get(1).getCheckName());
        assertEquals(CheckStatus.ERROR, asText.get(1).getStatus());
        assertEquals("the body's 'checks' is not an array or an object", asText.get(1).getMessage());
    }

    @Test
    void shouldMakeEachActuatorComponentItsOwnCheckWithItsOwnStatus() {
        List<CheckResult> results = map(response(200, """
                {"status":"DOWN","components":{
                   "db":{"status":"DOWN","details":{"error":"connection refused"}},
                   "diskSpace":{"status":"UP","details":{"free":123}},
                   "redis":{"status":"Out-Of-Service"},
                   "mail":{"status":"unknown"},
                   "queue":{"status":"UP","components":{"primary":{"status":"DOWN"}}}}}"""));

        assertEquals(List.of("http", "db", "diskSpace", "redis", "mail", "queue"), names(results));
        assertEquals(List.of(CheckStatus.OK, CheckStatus.CRITICAL, CheckStatus.OK, CheckStatus.CRITICAL, CheckStatus.ERROR,
                CheckStatus.OK), statuses(results), "nested components are summed up by their parent, as the actuator does");
        assertEquals("HTTP 200 in 13 ms, status DOWN (from its checks)", results.get(0).getMessage(),
                "the failing components explain the overall DOWN: http stays OK so that only critical components page");
        assertEquals("{\"error\":\"connection refused\"}", results.get(1).getMessage());
        assertEquals("unknown status 'unknown'", results.get(4).getMessage());
    }

    @ParameterizedTest
    @CsvSource({"DOWN, CRITICAL", "down, CRITICAL", "OUT_OF_SERVICE, CRITICAL", "out of service, CRITICAL",
            "Degraded, WARN", "warning, WARN", "UNKNOWN, ERROR", "UP, OK", "up, OK"})
    void shouldNotCallA200WhoseBodySaysItIsDownOk(String overall, CheckStatus expected) {
        CheckResult http = map(response(200, "{\"status\":\"" + overall + "\"}")).get(0);
        CheckResult withHealthyChecks = map(response(200, "{\"status\":\"" + overall
                + "\",\"components\":{\"db\":{\"status\":\"UP\"}}}")).get(0);

        assertEquals(expected, http.getStatus(), http.getMessage());
        assertEquals(expected, withHealthyChecks.getStatus(), "healthy components do not explain a failing overall status");
        if (expected != CheckStatus.OK) {
            assertEquals("HTTP 200 but the body says status '" + overall + "'", http.getMessage());
        }
    }

    @Test
    void shouldCapTheChecksOfOneBodyAndTheirNames() {
        StringBuilder body = new StringBuilder("{\"status\":\"UP\",\"components\":{");
        for (int i = 0; i < 5000; i++) {
            body.append(i == 0 ? "" : ",").append("\"c").append(i).append("\":{\"status\":\"UP\"}");
        }
        body.append("},\"checks\":[{\"name\":\"").append("n".repeat(10_000)).append("\",\"status\":\"OK\"}]}");
        HealthChecks capped = new HealthChecks(new BodyLimits(1 << 20, 10, 20, 5), HealthChecks.CertificateLines.DEFAULTS);

        List<CheckResult> results = capped.toCheckResults("srv-001", "c1", AT, response(200, body.toString()));

        assertEquals(12, results.size(), "http, ten checks, one summary");
        assertEquals("n".repeat(19) + "…", results.get(1).getCheckName(), "checks come first, names are cut");
        CheckResult summary = results.get(11);
        assertEquals("checks", summary.getCheckName());
        assertEquals(CheckStatus.ERROR, summary.getStatus());
        assertEquals("the body lists 5001 checks and components; published the first 10 (collector.health.max.checks)",
                summary.getMessage());
        assertEquals(CheckStatus.OK, results.get(0).getStatus(), "a cut list is not a failing target");
    }

    @Test
    void shouldRenameABodyCheckCalledHttpSoItCannotPassForTheRequestsCheck() {
        List<CheckResult> results = map(response(200, "{\"checks\":[{\"name\":\"HTTP\",\"status\":\"DOWN\"}]}"));

        assertEquals(List.of("http", "body:HTTP"), names(results));
        assertEquals(CheckStatus.CRITICAL, results.get(1).getStatus());
    }

    @Test
    void shouldNameWhereARedirectPointsAndNotFollowIt() {
        CheckResult redirect = map(new HttpOutcome.Response(302, "", 3, "http://127.0.0.1/srv-001/health", null)).get(0);

        assertEquals(CheckStatus.ERROR, redirect.getStatus());
        assertEquals("HTTP 302 is a redirect to http://127.0.0.1/srv-001/health, not followed", redirect.getMessage());
    }

    @Test
    void shouldReportHtmlInsteadOfJsonAsOneError() {
        List<CheckResult> results = map(response(200, "<!DOCTYPE html><html><body>Welcome to nginx!</body></html>"));

        assertEquals(1, results.size());
        assertEquals(CheckStatus.ERROR, results.get(0).getStatus());
        assertTrue(results.get(0).getMessage().startsWith("HTTP 200 but the body is not JSON: <!DOCTYPE html>"),
                results.get(0).getMessage());
    }

    @Test
    void shouldRefuseADeeplyNestedBodyQuickly() {
        String deep = "{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000);

        CheckResult http = map(response(200, deep)).get(0);

        assertEquals(CheckStatus.ERROR, http.getStatus());
        assertTrue(http.getMessage().startsWith("HTTP 200 but the body is not JSON"), http.getMessage());
    }

    private static List<String> names(List<CheckResult> results) {
        return results.stream().map(CheckResult::getCheckName).toList();
    }

    private static List<CheckStatus> statuses(List<CheckResult> results) {
        return results.stream().map(CheckResult::getStatus).toList();
    }

    @Test
    void shouldCapLongMessages() {
        String longText = "x".repeat(5000);
        CheckResult result = map(response(200, longText)).get(0);

        assertTrue(result.getMessage().length() < HealthChecks.MAX_MESSAGE + 40, "length " + result.getMessage().length());
        assertEquals(HealthChecks.MAX_MESSAGE + 1, HealthChecks.excerpt("y ".repeat(1_000_000)).length(),
                "cut before collapsing whitespace, so a huge body costs no more than a short one");
    }

    private static io.fleetpulse.events.Target target(String health, Long maxLatencyMs, Long criticalLatencyMs,
                                                      Long minFree, Long criticalFree) {
        return io.fleetpulse.events.Target.newBuilder().setTargetId("srv-001").setHealthUrl(health)
                .setMaxLatencyMs(maxLatencyMs).setCriticalLatencyMs(criticalLatencyMs).setMinFreeDiskBytes(minFree)
                .setCriticalFreeDiskBytes(criticalFree).setUpdatedAt(AT).build();
    }

    private static List<CheckResult> map(io.fleetpulse.events.Target target, HttpOutcome outcome) {
        return new HealthChecks(BodyLimits.DEFAULTS, HealthChecks.CertificateLines.DEFAULTS).toCheckResults(target, "c1", AT, outcome);
    }

    @Test
    void shouldNameATcpTargetsCheckTcpWithItsConnectLatencyOrItsFailure() {
        io.fleetpulse.events.Target tcp = target("tcp://db-1:5432", null, null, null, null);

        CheckResult connected = map(tcp, new HttpOutcome.Connected(3.4)).get(0);
        CheckResult refused = map(tcp, new HttpOutcome.Failure(CheckStatus.UNREACHABLE, "cannot connect: refused")).get(0);

        assertEquals(List.of("tcp", "OK", "connected in 3 ms"), List.of(connected.getCheckName(),
                connected.getStatus().name(), connected.getMessage()));
        assertEquals(3.4, connected.getLatencyMs());
        assertEquals(List.of("tcp", "UNREACHABLE", "cannot connect: refused"), List.of(refused.getCheckName(),
                refused.getStatus().name(), refused.getMessage()));
    }

    @ParameterizedTest
    @CsvSource({"500, OK, HTTP 200 in 500 ms", "500.5, WARN, 'HTTP 200 in 501 ms, slower than the max-latency 500 ms'",
            "1500, WARN, 'HTTP 200 in 1500 ms, slower than the max-latency 500 ms'",
            "1500.1, CRITICAL, 'HTTP 200 in 1500 ms, slower than the critical-latency 1500 ms'"})
    void shouldMakeASlowHttpCheckWarnPastMaxLatencyAndCriticalPastCriticalLatency(double latencyMs, CheckStatus expected,
                                                                                  String message) {
        CheckResult http = map(target("http://srv-001/health", 500L, 1500L, null, null),
                new HttpOutcome.Response(200, "{\"status\":\"UP\"}", latencyMs)).get(0);

        assertEquals(expected, http.getStatus());
        assertEquals(message, http.getMessage());
    }

    @Test
    void shouldApplyTheLatencyLinesToTcpChecksButNeverHideAFailure() {
        CheckResult slowTcp = map(target("tcp://db-1:5432", 100L, null, null, null), new HttpOutcome.Connected(250)).get(0);
        CheckResult slow500 = map(target("http://srv-001/health", 100L, 200L, null, null),
                new HttpOutcome.Response(503, "", 900)).get(0);
        CheckResult degradedAndSlow = map(target("http://srv-001/health", 100L, 200L, null, null),
                new HttpOutcome.Response(200, "{\"status\":\"DEGRADED\"}", 900)).get(0);

        assertEquals(CheckStatus.WARN, slowTcp.getStatus());
        assertEquals("connected in 250 ms, slower than the max-latency 100 ms", slowTcp.getMessage());
        assertEquals(CheckStatus.CRITICAL, slow500.getStatus());
        assertEquals("HTTP 503 in 900 ms", slow500.getMessage(), "a 5xx says so, not its latency");
        assertEquals(CheckStatus.CRITICAL, degradedAndSlow.getStatus(), "a WARN past the critical line is CRITICAL");
    }

    private static io.fleetpulse.events.MetricSample sample(Long diskFreeBytes) {
        return io.fleetpulse.events.MetricSample.newBuilder().setTargetId("srv-001").setObservedAt(AT)
                .setCollectorId("c1").setDiskFreeBytes(diskFreeBytes).build();
    }

    @ParameterizedTest
    @CsvSource({"10737418240, OK", "10737418239, WARN", "1073741824, WARN", "1073741823, CRITICAL", "0, CRITICAL"})
    void shouldCheckDiskFreeBytesAgainstMinFreeDiskAndCriticalFreeDisk(long free, CheckStatus expected) {
        HealthChecks checks = new HealthChecks(BodyLimits.DEFAULTS, HealthChecks.CertificateLines.DEFAULTS);
        CheckResult disk = checks.diskCheck(target("http://srv-001/health", null, null, 10L << 30, 1L << 30), "c1",
                sample(free));

        assertEquals("disk", disk.getCheckName());
        assertEquals(expected, disk.getStatus());
        assertEquals(AT, disk.getObservedAt(), "the sample's event time");
        assertTrue(disk.getMessage().contains(free + " bytes"), disk.getMessage());
    }

    @Test
    void shouldSayWhyADiskCheckFailsAndPublishNoneWithoutALimit() {
        HealthChecks checks = new HealthChecks(BodyLimits.DEFAULTS, HealthChecks.CertificateLines.DEFAULTS);
        io.fleetpulse.events.Target limited = target("http://srv-001/health", null, null, 10L << 30, null);

        assertEquals("9.0 GiB free (9663676416 bytes), below the min-free-disk 10.0 GiB (10737418240 bytes)",
                checks.diskCheck(limited, "c1", sample(9L << 30)).getMessage());
        CheckResult missing = checks.diskCheck(limited, "c1", sample(null));
        assertEquals(CheckStatus.ERROR, missing.getStatus(), "a limit that cannot be checked is seen");
        assertNull(checks.diskCheck(target("http://srv-001/health", null, null, null, null), "c1", sample(1L)));
    }

    @Test
    void shouldRenameABodysDiskCheckWhenTheCollectorChecksTheDisk() {
        String body = "{\"status\":\"UP\",\"checks\":[{\"name\":\"disk\",\"status\":\"OK\"}]}";

        List<CheckResult> limited = map(target("http://srv-001/health", null, null, 1L, null), response(200, body));
        List<CheckResult> plain = map(target("http://srv-001/health", null, null, null, null), response(200, body));

        assertEquals(List.of("http", "body:disk"), limited.stream().map(CheckResult::getCheckName).toList());
        assertEquals(List.of("http", "disk"), plain.stream().map(CheckResult::getCheckName).toList());
    }
}
