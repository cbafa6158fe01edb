package io.fleetpulse.sink;

import io.fleetpulse.runtime.config.Settings;
import java.util.HashMap;
import java.util.Map;

/**
 * A sink in a JVM of its own, for the test that kills it without a clean shutdown. Arguments are {@code key=value}
 * settings; it runs until killed.
 */
final class SinkProcess {

    private SinkProcess() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> values = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            values.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        SinkService sink = new SinkService(Settings.of(values, SinkService.KEYS));
        sink.start();
        Thread.currentThread().join();
    }
}
