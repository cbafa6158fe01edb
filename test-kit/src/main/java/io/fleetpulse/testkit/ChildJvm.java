package io.fleetpulse.testkit;

import io.fleetpulse.runtime.OpsServer;
import io.fleetpulse.runtime.Service;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A service in a JVM of its own, for tests that kill it without a clean shutdown (no close, no commit, no flush):
 * the parent starts a small main class on its own class path with {@code key=value} arguments, and that main hands
 * its service to {@link #runUntilKilled}.
 */
public final class ChildJvm {

    /** Where the child's /readyz answers, when it has one. */
    public static final String OPS_PORT = "ops.port";

    private ChildJvm() {
    }

    /** Starts {@code main} with {@code arguments} as {@code key=value}; its output goes to target/{@code logName}. */
    public static Process start(Class<?> main, Map<String, String> arguments, String logName) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse(
                System.getProperty("java.home") + File.separator + "bin" + File.separator + "java"));
        command.add("-Xmx256m");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(main.getName());
        arguments.forEach((key, value) -> command.add(key + "=" + value));
        return new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(Path.of("target", logName).toFile())
                .start();
    }

    /** Client settings under which a killed child's consumers leave their groups in seconds, not the default 45 s. */
    public static Map<String, String> quickGroupLeave() {
        return Map.of("kafka.client.session.timeout.ms", "6000", "kafka.client.heartbeat.interval.ms", "1000");
    }

    /** {@code settings} plus the port the child's ops endpoints answer on ({@link #readyz}). */
    public static Map<String, String> withOpsPort(Map<String, String> settings, int port) {
        Map<String, String> arguments = new HashMap<>(settings);
        arguments.put(OPS_PORT, String.valueOf(port));
        return arguments;
    }

    /** A port free now, for a child's ops endpoints. */
    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** The status of a child's /readyz on {@code port}, or -1 while nothing answers there. */
    public static int readyz(int port) {
        try {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/readyz")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** The {@code key=value} arguments a child was started with. */
    public static Map<String, String> arguments(String[] args) {
        Map<String, String> values = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            values.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        return values;
    }

    /** In the child: starts the service, serves its ops endpoints on {@link #OPS_PORT} if given, and waits to be killed. */
    public static void runUntilKilled(Service service, Map<String, String> arguments) throws Exception {
        service.start();
        String port = arguments.get(OPS_PORT);
        if (port != null) {
            OpsServer.start(service, "127.0.0.1", Integer.parseInt(port));
        }
        Thread.currentThread().join();
    }
}
