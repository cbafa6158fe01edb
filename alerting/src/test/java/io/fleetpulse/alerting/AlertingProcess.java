package io.fleetpulse.alerting;

import io.fleetpulse.runtime.OpsServer;
import io.fleetpulse.runtime.config.Settings;
import java.util.HashMap;
import java.util.Map;

/**
 * An alerting service in a JVM of its own, for tests that kill it without a clean shutdown. Arguments are
 * {@code key=value} settings plus {@code ops.port=N}, where its /readyz answers; it runs until killed.
 */
final class AlertingProcess {

    private AlertingProcess() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> values = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            values.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        int port = Integer.parseInt(values.get("ops.port"));
        AlertingService service = new AlertingService(Settings.of(values, AlertingService.KEYS));
        service.start();
        OpsServer.start(service, "127.0.0.1", port);
        Thread.currentThread().join();
    }
}
