package io.fleetpulse.launcher;

import io.fleetpulse.runtime.KafkaSettings;
import io.fleetpulse.runtime.OpsSettings;
import io.fleetpulse.runtime.config.ConfigKey;
import io.fleetpulse.runtime.text.Durations;
import java.util.ArrayList;
import java.util.List;

/**
 * docs/configuration.md, generated from the key declarations themselves, so the reference cannot drift from the code:
 * {@code ./fleetpulse config-reference > docs/configuration.md}; a test fails when the file is out of date.
 */
final class ConfigReference {

    private ConfigReference() {
    }

    static String markdown() {
        StringBuilder out = new StringBuilder();
        out.append("""
                # Configuration

                <!-- Generated from the key declarations by `./fleetpulse config-reference > docs/configuration.md`;
                     ConfigurationReferenceTest fails when this file is out of date. Do not edit by hand. -->

                Every service reads a properties file given with `--config FILE`; any key can be overridden by an
                environment variable named `FLEETPULSE_` + the key upper-cased with `.` and `-` turned into `_`
                (`sink.jdbc.url` → `FLEETPULSE_SINK_JDBC_URL`). Settings are parsed and checked once, before anything is
                opened: a bad value stops the service (exit 2) with a message naming the key, the value (masked if
                secret) and what is allowed, and a key in the file that the service does not read is refused with the
                closest known key. `fleetpulse <service> --config FILE --print-config` prints the effective settings,
                secrets masked; `/status` shows the same.

                Durations, here and in every YAML file and CLI option, are written\s"""
                + Durations.SYNTAX.replaceFirst("^a duration such as ", "") + """
                .

                A broker or database that cannot be reached at start is retried until `ops.start.timeout`, with one
                log line naming it and its address, then the service exits 1. A service whose core loop dies exits 1
                too, so an orchestrator restarts it; SIGTERM or Ctrl-C finishes in-flight work, commits, and exits 0.

                """);
        List<ConfigKey<?>> shared = new ArrayList<>(OpsSettings.KEYS);
        shared.addAll(KafkaSettings.KEYS);
        out.append("## Shared by every service\n\n");
        table(out, shared);
        out.append("| `kafka.client.*` | | any Kafka client setting | passed verbatim to every Kafka client, e.g. "
                + "`kafka.client.security.protocol=SSL`; values of keys that look secret are masked |\n");
        for (ServiceKind kind : ServiceKind.values()) {
            out.append("\n## ").append(kind.commandName()).append("\n\n").append(kind.description()).append("\n\n");
            table(out, kind.keys().stream().filter(k -> !shared.contains(k)).toList());
        }
        return out.toString();
    }

    private static void table(StringBuilder out, List<ConfigKey<?>> keys) {
        out.append("| key | default | allowed | meaning |\n|---|---|---|---|\n");
        for (ConfigKey<?> key : keys) {
            String d = key.defaultText();
            String shownDefault = d.isEmpty() ? "empty" : d.equals("required") || d.equals("unset") ? d : "`" + d + "`";
            out.append("| `").append(key.name()).append("` | ").append(shownDefault)
                    .append(" | ").append(key.allowed())
                    .append(" | ").append(key.doc().replace("|", "\\|"))
                    .append(key.isSecret() ? " (secret: masked in logs and on /status)" : "")
                    .append(" |\n");
        }
    }
}
