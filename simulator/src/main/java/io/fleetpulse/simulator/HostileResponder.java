package io.fleetpulse.simulator;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Answers a request the way a {@link Hostility} says, on the fleet's event loop and without ever holding a whole
 * huge body in memory: a huge body is written chunk by chunk as the client drains it, a trickle by a timer.
 */
final class HostileResponder {

    private static final Buffer CHUNK = Buffer.buffer("x".repeat(64 * 1024));
    private static final String HTML_PAGE = "<!DOCTYPE html><html><head><title>Welcome</title></head>"
            + "<body><h1>It works!</h1><p>This is the default page.</p></body></html>";

    private final Vertx vertx;
    /** Body bytes written by hostile answers, over all servers: shows that a client stopped reading early. */
    private final AtomicLong bodyBytesWritten = new AtomicLong();

    HostileResponder(Vertx vertx) {
        this.vertx = vertx;
    }

    long bodyBytesWritten() {
        return bodyBytesWritten.get();
    }

    void respond(HttpServerRequest request, Hostility hostility, boolean health) {
        HttpServerResponse response = request.response();
        switch (hostility) {
            case SLOW_BODY -> trickle(response);
            case HUGE_BODY -> {
                response.setChunked(true).putHeader("content-type", "application/json");
                response.write("{\"status\":\"UP\",\"padding\":\"");
                stream(response, SimulatedFleet.HUGE_BODY_BYTES);
            }
            case HTML -> end(response.setStatusCode(200).putHeader("content-type", "text/html"), HTML_PAGE);
            case SERVER_ERROR -> end(response.setStatusCode(500).putHeader("content-type", "text/html"),
                    "<html><body><h1>500 Internal Server Error</h1></body></html>");
            case REDIRECT_LOOP -> end(response.setStatusCode(302).putHeader("location", request.absoluteURI()), "");
            case MANY_COMPONENTS -> end(json(response), manyComponents(health));
            case HUGE_NAMES -> end(json(response), hugeNames(health));
            case INVALID_NUMBERS -> end(json(response), health
                    ? "{\"status\":\"UP\",\"checks\":[{\"name\":\"disk\",\"status\":42},{\"name\":\"services\",\"status\":null}]}"
                    : "{\"cpu_percent\":\"high\",\"disk_free_bytes\":1e999,\"memory_percent\":[1,2]}");
        }
    }

    private void trickle(HttpServerResponse response) {
        response.setChunked(true).putHeader("content-type", "application/json");
        response.write("{");
        long timer = vertx.setPeriodic(SimulatedFleet.TRICKLE_PERIOD.toMillis(), id -> {
            if (!response.closed()) {
                bodyBytesWritten.incrementAndGet();
                response.write(" ");
            }
        });
        response.closeHandler(v -> vertx.cancelTimer(timer));
    }

    /** Writes {@code remaining} bytes as the client takes them, then ends the JSON: back-pressure, not buffering. */
    private void stream(HttpServerResponse response, long remaining) {
        while (remaining > 0 && !response.closed()) {
            if (response.writeQueueFull()) {
                long left = remaining;
                response.drainHandler(v -> stream(response, left));
                return;
            }
            int n = (int) Math.min(CHUNK.length(), remaining);
            response.write(n == CHUNK.length() ? CHUNK : CHUNK.slice(0, n));
            bodyBytesWritten.addAndGet(n);
            remaining -= n;
        }
        if (!response.closed()) {
            response.end("\"}");
        }
    }

    private static HttpServerResponse json(HttpServerResponse response) {
        return response.setStatusCode(200).putHeader("content-type", "application/json");
    }

    private void end(HttpServerResponse response, String body) {
        bodyBytesWritten.addAndGet(body.getBytes(StandardCharsets.UTF_8).length);
        response.end(body);
    }

    private static String manyComponents(boolean health) {
        StringBuilder body = new StringBuilder(health ? "{\"status\":\"UP\",\"components\":{" : "{");
        for (int i = 0; i < SimulatedFleet.MANY_COMPONENTS; i++) {
            body.append(i == 0 ? "" : ",");
            if (health) {
                body.append("\"component-").append(i).append("\":{\"status\":\"UP\"}");
            } else {
                body.append("\"series_").append(i).append("\":").append(i);
            }
        }
        return body.append(health ? "}}" : "}").toString();
    }

    private static String hugeNames(boolean health) {
        String name = "n".repeat(SimulatedFleet.HUGE_NAME_LENGTH);
        return health
                ? "{\"status\":\"UP\",\"checks\":[{\"name\":\"" + name + "1\",\"status\":\"OK\"},{\"name\":\"" + name
                        + "2\",\"status\":\"OK\"}]}"
                : "{\"cpu_percent\":5,\"" + name + "\":1}";
    }
}
