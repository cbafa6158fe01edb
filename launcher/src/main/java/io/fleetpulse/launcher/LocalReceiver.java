package io.fleetpulse.launcher;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * Stands in for Slack or PagerDuty on loopback when no real URL is configured: it accepts what the alerting
 * service posts, answers as the real service would, keeps the bodies, and prints one line per message so a
 * person running the demo sees what would have been sent.
 */
public final class LocalReceiver implements AutoCloseable {

    private final String name;
    private final HttpServer server;
    private final List<String> bodies = new CopyOnWriteArrayList<>();

    private LocalReceiver(String name, HttpServer server) {
        this.name = name;
        this.server = server;
    }

    /**
     * @param status the HTTP status the real service answers with (Slack 200, PagerDuty 202)
     * @param describe one line about a received body, printed to {@code out}
     */
    public static LocalReceiver start(String name, int status, String responseBody, Function<String, String> describe,
                                      PrintStream out) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newSingleThreadExecutor(r -> new Thread(r, "receiver-" + name)));
        LocalReceiver receiver = new LocalReceiver(name, server);
        server.createContext("/", exchange -> {
            String body;
            try (InputStream in = exchange.getRequestBody()) {
                body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            receiver.bodies.add(body);
            if (out != null) {
                out.println("  [" + name + "] " + describe.apply(body));
            }
            byte[] response = responseBody.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(status, response.length);
            try (OutputStream os = exchange.getResponseBody()) {
                os.write(response);
            }
        });
        server.start();
        return receiver;
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/" + name;
    }

    public List<String> bodies() {
        return List.copyOf(bodies);
    }

    public int received() {
        return bodies.size();
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
