package io.fleetpulse.alerting.route;

import java.util.List;
import java.util.Map;

/**
 * Alertmanager's inhibition: while an alert matching {@code source} fires, alerts matching {@code target} that have
 * the same values for every {@code equal} label are not notified (e.g. a target's UNREACHABLE alert mutes its CPU
 * alert). An alert never inhibits itself.
 */
public record InhibitRule(List<Matcher> source, List<Matcher> target, List<String> equal) {

    public InhibitRule {
        source = List.copyOf(source);
        target = List.copyOf(target);
        equal = List.copyOf(equal);
    }

    /** Whether a firing {@code sourceLabels} alert mutes {@code targetLabels}. */
    public boolean inhibits(Map<String, String> sourceLabels, Map<String, String> targetLabels) {
        if (!all(source, sourceLabels) || !all(target, targetLabels)) {
            return false;
        }
        for (String label : equal) {
            if (!sourceLabels.getOrDefault(label, "").equals(targetLabels.getOrDefault(label, ""))) {
                return false;
            }
        }
        return true;
    }

    /** Whether an alert with {@code labels} can inhibit others under this rule (when firing). */
    public boolean isSource(Map<String, String> labels) {
        return all(source, labels);
    }

    /** Whether an alert with {@code labels} can be inhibited under this rule. */
    public boolean isTarget(Map<String, String> labels) {
        return all(target, labels);
    }

    private static boolean all(List<Matcher> matchers, Map<String, String> labels) {
        return matchers.stream().allMatch(m -> m.matches(labels));
    }
}
