package io.fleetpulse.stream;

import io.fleetpulse.runtime.OpsServer;
import io.fleetpulse.runtime.config.Settings;
import java.util.HashMap;
import java.util.Map;

/**
 * A stream processor in a JVM of its own, for tests that kill it without a clean shutdown (no close, no commit, no
 * flush). Arguments are {@code key=value} settings plus {@code ops.port=N}, where its /readyz answers; it runs until
 * killed.
 */
final class StreamProcessorProcess {

    private StreamProcessorProcess() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> values = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            values.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        int port = Integer.parseInt(values.get("ops.port"));
        StreamProcessorService service = new StreamProcessorService(Settings.of(values, StreamProcessorService.KEYS));
        service.start();
        OpsServer.start(service, "127.0.0.1", port);
        Thread.currentThread().join();
    }
}
