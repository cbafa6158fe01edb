package io.fleetpulse.stream;

import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.testkit.ChildJvm;
import java.util.Map;

/**
 * A stream processor in a JVM of its own ({@link ChildJvm}), for tests that kill it without a clean shutdown.
 */
final class StreamProcessorProcess {

    private StreamProcessorProcess() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> values = ChildJvm.arguments(args);
        ChildJvm.runUntilKilled(new StreamProcessorService(Settings.of(values, StreamProcessorService.KEYS)), values);
    }
}
