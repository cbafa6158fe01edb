package io.fleetpulse.stream;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/** The identity of an alert: stable across restarts and releases, so it is Kafka key and PagerDuty dedup_key at once. */
final class Fingerprint {

    private Fingerprint() {
    }

    /**
     * Hex of the first 16 bytes of SHA-256({@code ruleId \0 targetId (\0 key=value)*}) over the labels sorted by key.
     * An alert without labels keeps the value of the first release (pinned in {@code RuleBookTest}).
     */
    static String of(String ruleId, String targetId, Map<String, String> labels) {
        StringBuilder text = new StringBuilder(ruleId).append('\u0000').append(targetId);
        new TreeMap<>(labels).forEach((k, v) -> text.append('\u0000').append(k).append('=').append(v));
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(text.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
