package io.fleetpulse.stream;

import io.fleetpulse.events.Severity;
import io.fleetpulse.runtime.text.Numbers;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One validated {@code kind: threshold} rule: fire when {@link #signal()} meets {@link #fire()} for {@link #fireFor()},
 * resolve when it meets {@link #recovery()} for {@link #recoveryFor()}. Built by {@link RuleBook}.
 */
public record ThresholdRule(String id, Signal signal, Condition fire, Duration fireFor, Condition recovery,
                            Duration recoveryFor, Severity severity, String summaryTemplate,
                            Map<String, String> labels) {

    public ThresholdRule {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(signal, "signal");
        Objects.requireNonNull(fire, "fire");
        Objects.requireNonNull(fireFor, "fireFor");
        Objects.requireNonNull(recovery, "recovery");
        Objects.requireNonNull(recoveryFor, "recoveryFor");
        Objects.requireNonNull(severity, "severity");
        Objects.requireNonNull(summaryTemplate, "summaryTemplate");
        // Sorted, so the fingerprint does not depend on the order labels were written in.
        labels = Collections.unmodifiableSortedMap(new TreeMap<>(labels == null ? Map.of() : labels));
    }

    /**
     * The alert's identity for one target: hex SHA-256 (first 16 bytes) of rule id, target and the sorted labels.
     * Stable across restarts and releases, so it can be Kafka key and PagerDuty dedup_key at once.
     */
    public String fingerprint(String targetId) {
        StringBuilder text = new StringBuilder(id).append('\u0000').append(targetId);
        labels.forEach((k, v) -> text.append('\u0000').append(k).append('=').append(v));
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(text.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    /** The summary with {@code {target}}, {@code {value}} and {@code {threshold}} filled in. */
    public String summary(String targetId, double value) {
        return summaryTemplate
                .replace("{target}", targetId)
                .replace("{value}", Numbers.format(value))
                .replace("{threshold}", Numbers.format(fire.threshold()));
    }

    /**
     * What a resolve says. The firing template describes the problem ("CPU at 97% (over 90%)"), so filling it with
     * the recovered value would read as a contradiction; the resolve names the recovery condition instead.
     */
    public String resolvedSummary(String targetId, double value) {
        return targetId + " recovered (" + id + "): " + signal.ruleName() + " " + Numbers.format(value) + " "
                + recovery.op().symbol() + " " + Numbers.format(recovery.threshold());
    }
}
