package io.fleetpulse.alerting;

import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.testkit.ChildJvm;
import java.util.Map;

/**
 * An alerting service in a JVM of its own ({@link ChildJvm}), for tests that kill it without a clean shutdown.
 */
final class AlertingProcess {

    private AlertingProcess() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> values = ChildJvm.arguments(args);
        ChildJvm.runUntilKilled(new AlertingService(Settings.of(values, AlertingService.KEYS)), values);
    }
}
