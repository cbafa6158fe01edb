package io.fleetpulse.collector;

import io.fleetpulse.runtime.config.ConfigException;
import io.fleetpulse.runtime.yaml.YamlFileException;
import io.fleetpulse.runtime.yaml.YamlNode;
import io.fleetpulse.runtime.yaml.YamlReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The push API's agents: each with a name, the SHA-256 of its bearer token (the token itself is never stored, read
 * from a file or logged) and the targets it may write for.
 *
 * <pre>
 * agents:
 *   - name: edge-7
 *     token-sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
 *     targets: [srv-101, srv-102]
 * </pre>
 */
final class PushTokens {

    static final String CONFIG_KEY = "collector.push.tokens";
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

    /** An agent a valid token belongs to. */
    record Agent(String name, Set<String> targets) {
    }

    private final Map<String, Agent> byTokenHash;

    private PushTokens(Map<String, Agent> byTokenHash) {
        this.byTokenHash = byTokenHash;
    }

    static PushTokens load(Path file) {
        try {
            return YamlReader.read(file, PushTokens::read);
        } catch (YamlFileException e) {
            throw new ConfigException(CONFIG_KEY, "The push tokens file (" + CONFIG_KEY + ") cannot be used: " + e.getMessage());
        }
    }

    static PushTokens parse(String yaml) {
        try {
            return YamlReader.parse(yaml, "tokens", PushTokens::read);
        } catch (YamlFileException e) {
            throw new ConfigException(CONFIG_KEY, "The push tokens file (" + CONFIG_KEY + ") cannot be used: " + e.getMessage());
        }
    }

    private static PushTokens read(YamlNode root) {
        root.allowOnly("agents");
        Map<String, Agent> agents = new HashMap<>();
        for (YamlNode item : root.require("agents").items()) {
            item.allowOnly("name", "token-sha256", "targets");
            String name = item.require("name").requiredText().strip();
            YamlNode hashNode = item.require("token-sha256");
            String hash = hashNode.text("").strip().toLowerCase(Locale.ROOT);
            if (hashNode.exists() && !SHA256_HEX.matcher(hash).matches()) {
                hashNode.problem("expected the token's SHA-256 as 64 hex digits (printf %s \"$TOKEN\" | sha256sum), "
                        + "never the token itself");
            }
            YamlNode targetsNode = item.require("targets");
            List<String> targets = targetsNode.textList(List.of());
            if (targetsNode.isList() && targets.isEmpty()) {
                targetsNode.problem("is empty; an agent writes for at least one target");
            }
            if (agents.putIfAbsent(hash, new Agent(name, Set.copyOf(targets))) != null) {
                hashNode.problem("the same token hash as an earlier agent; give each agent its own token");
            }
        }
        return new PushTokens(Map.copyOf(agents));
    }

    /** The agent {@code token} belongs to; compared by hash, so the tokens never sit in memory after the request. */
    Optional<Agent> agentFor(String token) {
        return Optional.ofNullable(byTokenHash.get(sha256(token)));
    }

    static String sha256(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
