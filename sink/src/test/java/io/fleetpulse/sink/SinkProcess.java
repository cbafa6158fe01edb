package io.fleetpulse.sink;

import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.testkit.ChildJvm;
import java.util.Map;

/**
 * A sink in a JVM of its own ({@link ChildJvm}), for the test that kills it without a clean shutdown.
 */
final class SinkProcess {

    private SinkProcess() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> values = ChildJvm.arguments(args);
        ChildJvm.runUntilKilled(new SinkService(Settings.of(values, SinkService.KEYS)), values);
    }
}
