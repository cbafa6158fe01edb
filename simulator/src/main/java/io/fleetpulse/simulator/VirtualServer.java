package io.fleetpulse.simulator;

import io.fleetpulse.simulator.IncidentScript.Condition;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One simulated server: its metrics model, its manual overrides, and what its two endpoints answer. */
final class VirtualServer {

    /** The component a {@link Incident.Kind#COMPONENT_DOWN} incident takes down; reported by every server. */
    static final String DB_CHECK = "db";

    /** What an endpoint answers: an HTTP status and a JSON body. */
    record Response(int status, Map<String, Object> body) {
    }

    private final String id;
    private final MetricModel model;
    private volatile boolean forcedDown;
    private volatile boolean forcedUnreachable;
    private volatile boolean forcedSlow;
    private volatile Hostility hostility;
    /** Non-null while the metrics endpoint speaks node_exporter's text format instead of JSON. */
    private volatile NodeExporterText nodeExporter;

    VirtualServer(String id, long seed) {
        this.id = id;
        this.model = new MetricModel(seed);
    }

    String id() {
        return id;
    }

    void forceDown(boolean down) {
        forcedDown = down;
    }

    void forceUnreachable(boolean unreachable) {
        forcedUnreachable = unreachable;
    }

    void forceSlow(boolean slow) {
        forcedSlow = slow;
    }

    void forceHostile(Hostility how) {
        hostility = how;
    }

    void servePrometheus(boolean prometheus) {
        nodeExporter = prometheus ? new NodeExporterText() : null;
    }

    /** The metrics body in node_exporter's text format, or null when this server serves JSON. */
    String prometheusMetrics(Duration elapsed, Condition condition) {
        NodeExporterText text = nodeExporter;
        return text == null ? null : text.render(reading(elapsed, condition), elapsed);
    }

    /** How this server misbehaves on purpose, or null. */
    Hostility hostility() {
        return hostility;
    }

    /** The script's condition with this server's manual overrides on top. */
    Condition condition(IncidentScript script, Duration elapsed) {
        return script.conditionAt(id, elapsed).withOverrides(forcedDown, forcedUnreachable, forcedSlow);
    }

    MetricReading reading(Duration elapsed, Condition condition) {
        MetricReading reading = model.at(elapsed);
        if (condition.cpuSpike()) {
            reading = reading.withCpuSpike();
        }
        if (condition.latencyShift()) {
            reading = reading.withLatencyShift();
        }
        if (condition.diskLeaking()) {
            reading = reading.withDiskFill(condition.diskLeak(), MetricReading.DISK_LEAK_TARGET_PERCENT);
        }
        // A disk filling up takes over from a leak: it fills from wherever the leak got to.
        if (condition.diskFilling()) {
            reading = reading.withDiskFill(condition.diskFill());
        }
        return reading;
    }

    Response health(Duration elapsed, Condition condition) {
        Map<String, Object> body = new LinkedHashMap<>();
        if (condition.down()) {
            body.put("status", "DOWN");
            body.put("server", id);
            body.put("checks", List.of(check("disk", "CRITICAL", "server down: disk not reachable"),
                    check("services", "CRITICAL", "server down: no service answers"),
                    check(DB_CHECK, "CRITICAL", "server down: database not reachable")));
            return new Response(503, body);
        }
        MetricReading reading = reading(elapsed, condition);
        String disk = reading.diskStatus();
        String services = reading.servicesStatus();
        // A database down takes the server's overall status down, as an actuator's would; the collector attributes it
        // to the db check, so the http check stays OK and only the criticality of db decides.
        body.put("status", condition.componentDown() ? "DOWN" : disk.equals("OK") && services.equals("OK") ? "UP" : "DEGRADED");
        body.put("server", id);
        body.put("checks", List.of(check("disk", disk, reading.diskMessage()),
                check("services", services, reading.servicesMessage()),
                condition.componentDown() ? check(DB_CHECK, "CRITICAL", "database: connection refused")
                        : check(DB_CHECK, "OK", "database answers")));
        return new Response(200, body);
    }

    Response metrics(Duration elapsed, Condition condition) {
        if (condition.down()) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("status", "DOWN");
            body.put("server", id);
            return new Response(503, body);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("server", id);
        body.putAll(reading(elapsed, condition).toJson());
        return new Response(200, body);
    }

    private static Map<String, Object> check(String name, String status, String message) {
        Map<String, Object> check = new LinkedHashMap<>();
        check.put("name", name);
        check.put("status", status);
        check.put("message", message);
        return check;
    }
}
