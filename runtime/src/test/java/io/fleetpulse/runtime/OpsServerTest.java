package io.fleetpulse.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class OpsServerTest {

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void shouldAnswerProbesMetricsAndStatus() throws Exception {
        AtomicBoolean ready = new AtomicBoolean(false);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.counter("fleetpulse.test.events").increment(3);
        Service service = new Service() {
            public String name() { return "test"; }
            public void start() { }
            public ServiceState state() { return ServiceState.RUNNING; }
            public boolean isReady() { return ready.get(); }
            public Map<String, Object> status() { return Map.of("events", 3, "ready", ready.get()); }
            public MeterRegistry meterRegistry() { return registry; }
            public CompletionStage<Throwable> failure() { return new CompletableFuture<>(); }
            public void close() { }
        };
        try (OpsServer ops = OpsServer.start(service, "127.0.0.1", 0)) {
            assertEquals(200, get(ops, "/healthz").statusCode());
            assertEquals(503, get(ops, "/readyz").statusCode());
            ready.set(true);
            assertEquals(200, get(ops, "/readyz").statusCode());
            assertTrue(get(ops, "/metrics").body().contains("fleetpulse_test_events_total 3.0"));
            String status = get(ops, "/status").body();
            assertTrue(status.contains("\"events\" : 3"), status);
            assertTrue(status.contains("\"ready\" : true"), status);
        }
    }

    private HttpResponse<String> get(OpsServer ops, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ops.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
