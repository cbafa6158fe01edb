package io.fleetpulse.alerting.route;

import io.fleetpulse.events.AlertEvent;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The label set matchers, {@code group_by} and inhibition's {@code equal} see: the alert's labels plus five names
 * taken from the event itself, which win over a label of the same name: {@code rule} (the rule id), {@code target}
 * (the target id), {@code group} (the target's group), {@code severity} ({@code critical}, {@code warning},
 * {@code info}) and {@code fingerprint}. In Alertmanager an alert is its label set; here the fingerprint is what
 * tells alerts apart, so it is in the set: {@code group_by: [...]} is one group per alert, as there.
 */
public final class AlertLabels {

    public static final String RULE = "rule";
    public static final String TARGET = "target";
    public static final String GROUP = "group";
    public static final String SEVERITY = "severity";
    public static final String FINGERPRINT = "fingerprint";

    private AlertLabels() {
    }

    /** Sorted by name, so {@code group_by: [...]} and rendering are stable. */
    public static Map<String, String> of(AlertEvent event) {
        Map<String, String> labels = new TreeMap<>(event.getLabels());
        labels.put(RULE, event.getRuleId());
        labels.put(TARGET, event.getTargetId());
        labels.put(GROUP, event.getGroup());
        labels.put(SEVERITY, event.getSeverity().name().toLowerCase(Locale.ROOT));
        labels.put(FINGERPRINT, event.getFingerprint());
        return labels;
    }
}
