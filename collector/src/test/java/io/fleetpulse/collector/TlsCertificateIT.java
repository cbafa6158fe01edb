package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PfxOptions;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An HTTPS target over real TLS: a local server with a self-signed certificate valid for 10 days, made by the JDK's
 * keytool, trusted through {@code collector.tls.trust.pem}'s PEM file.
 */
class TlsCertificateIT {

    private static final String PASSWORD = "test-only-store";

    @TempDir
    static Path dir;

    private static Vertx vertx;
    private static HttpServer server;
    private static Path trustPem;

    @BeforeAll
    static void startAnHttpsServerWhoseCertificateExpiresInTenDays() throws Exception {
        Path store = dir.resolve("server.p12");
        trustPem = dir.resolve("server.pem");
        keytool("-genkeypair", "-alias", "target", "-keyalg", "RSA", "-keysize", "2048", "-validity", "10",
                "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-keystore", store.toString(),
                "-storetype", "PKCS12", "-storepass", PASSWORD, "-keypass", PASSWORD);
        keytool("-exportcert", "-alias", "target", "-keystore", store.toString(), "-storepass", PASSWORD, "-rfc",
                "-file", trustPem.toString());
        vertx = Vertx.vertx();
        server = vertx.createHttpServer(new HttpServerOptions().setSsl(true).setHost("127.0.0.1").setPort(0)
                        .setKeyCertOptions(new PfxOptions().setPath(store.toString()).setPassword(PASSWORD)))
                .requestHandler(request -> request.response().putHeader("content-type", "application/json")
                        .end("{\"status\":\"UP\"}"))
                .listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() {
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().join();
        }
    }

    @Test
    void shouldReportDaysToCertificateExpiryAgainstTheWarnAndCriticalLines() throws Exception {
        HttpOutcome outcome = poll(trustPem);

        HttpOutcome.Response response = assertInstanceOf(HttpOutcome.Response.class, outcome, outcome.toString());
        Instant now = Instant.now();
        List<CheckResult> defaults = new HealthChecks(BodyLimits.DEFAULTS, HealthChecks.CertificateLines.DEFAULTS)
                .toCheckResults("secure", "c1", now, response);
        List<CheckResult> strict = new HealthChecks(BodyLimits.DEFAULTS, new HealthChecks.CertificateLines(30, 14))
                .toCheckResults("secure", "c1", now, response);
        List<CheckResult> relaxed = new HealthChecks(BodyLimits.DEFAULTS, new HealthChecks.CertificateLines(5, 2))
                .toCheckResults("secure", "c1", now, response);

        assertEquals(List.of("http", "tls"), defaults.stream().map(CheckResult::getCheckName).toList());
        assertEquals(CheckStatus.OK, defaults.get(0).getStatus());
        CheckResult tls = defaults.get(1);
        assertEquals(CheckStatus.WARN, tls.getStatus(), "10 days left, under the 21-day warn line");
        assertTrue(tls.getMessage().startsWith("certificate expires in 9 days") || tls.getMessage().startsWith(
                "certificate expires in 10 days"), tls.getMessage());
        assertEquals(CheckStatus.CRITICAL, strict.get(1).getStatus(), "under a 14-day critical line");
        assertEquals(CheckStatus.OK, relaxed.get(1).getStatus());
    }

    @Test
    void shouldReportAnUntrustedCertificateAsATlsFailure() throws Exception {
        HttpOutcome outcome = poll(null); // the JVM's authorities do not know a self-signed certificate

        HttpOutcome.Failure failure = assertInstanceOf(HttpOutcome.Failure.class, outcome, outcome.toString());
        assertEquals(CheckStatus.ERROR, failure.status());
        assertTrue(failure.message().startsWith("TLS failure: "), failure.message());
    }

    @Test
    void shouldAddNoTlsCheckOverPlainHttp() {
        List<CheckResult> plain = new HealthChecks(BodyLimits.DEFAULTS, HealthChecks.CertificateLines.DEFAULTS)
                .toCheckResults("plain", "c1", Instant.now(), new HttpOutcome.Response(200, "{\"status\":\"UP\"}", 3));

        assertEquals(List.of("http"), plain.stream().map(CheckResult::getCheckName).toList());
    }

    private static HttpOutcome poll(Path trust) throws Exception {
        HttpClient http = TargetHttpClient.createHttpClient(vertx, 2, trust);
        try {
            TargetHttpClient client = new TargetHttpClient(vertx, http, BodyLimits.DEFAULTS.maxBodyBytes());
            CompletableFuture<HttpOutcome> result = new CompletableFuture<>();
            vertx.getOrCreateContext().runOnContext(v -> client.get("https://127.0.0.1:" + server.actualPort() + "/health",
                    5_000).onComplete(r -> result.complete(r.result())));
            return result.get(10, TimeUnit.SECONDS);
        } finally {
            Future<Void> closed = http.close();
            closed.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        }
    }

    private static void keytool(String... args) throws Exception {
        String[] command = new String[args.length + 1];
        command[0] = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        System.arraycopy(args, 0, command, 1, args.length);
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "keytool did not finish");
        assertEquals(0, process.exitValue(), "keytool failed: " + output);
    }
}
