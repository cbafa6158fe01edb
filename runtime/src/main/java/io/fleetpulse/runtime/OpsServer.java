package io.fleetpulse.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one small HTTP server of every service: {@code /healthz} (alive), {@code /readyz} (really ready),
 * {@code /metrics} (Prometheus text) and {@code /status} (JSON).
 */
public final class OpsServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(OpsServer.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .findAndRegisterModules();

    private final HttpServer server;

    private OpsServer(HttpServer server) {
        this.server = server;
    }

    /**
     * Serves {@code service} on {@code host:port}; port 0 picks a free one (see {@link #port()}). Started before the
     * service itself, so {@code /healthz} answers 200 and {@code /readyz} 503 while it waits for its dependencies.
     */
    public static OpsServer start(Service service, String host, int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 0);
        server.setExecutor(Executors.newSingleThreadExecutor(r -> new Thread(r, "ops-http-" + service.name())));
        server.createContext("/healthz", ex -> probe(ex, service.isLive()));
        server.createContext("/readyz", ex -> probe(ex, service.isReady()));
        server.createContext("/metrics", ex -> respond(ex, 200, "text/plain; version=0.0.4; charset=utf-8", scrape(service.meterRegistry())));
        server.createContext("/status", ex -> respond(ex, 200, "application/json",
                JSON.writeValueAsString(service.status())));
        server.start();
        OpsServer ops = new OpsServer(server);
        LOG.info("{} ops endpoints on http://{}:{}/ (healthz, readyz, metrics, status)", service.name(), host, ops.port());
        return ops;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static String scrape(MeterRegistry registry) {
        return registry instanceof PrometheusMeterRegistry prometheus ? prometheus.scrape() : "";
    }

    private static void probe(HttpExchange exchange, boolean ok) throws IOException {
        respond(exchange, ok ? 200 : 503, "text/plain", ok ? "ok\n" : "not ready\n");
    }

    /** Sends {@code body} as the whole response; also for the other small HTTP endpoints of a service. */
    public static void respond(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
