package io.fleetpulse.sink;

import io.fleetpulse.runtime.KafkaSettings;
import java.util.HashMap;
import java.util.Map;

/** The settings of a sink under test: two partitions, the embedded server's login, fast polls, few partitions made. */
final class SinkTestSettings {

    private SinkTestSettings() {
    }

    /** The sink's settings for {@code url} and {@code group}, with {@code overrides} on top. */
    static Map<String, String> of(String bootstrapServers, String url, String group, Map<String, String> overrides) {
        Map<String, String> values = new HashMap<>();
        values.put(KafkaSettings.BOOTSTRAP_SERVERS.name(), bootstrapServers);
        values.put(KafkaSettings.PARTITIONS.name(), "2");
        values.put("sink.jdbc.url", url);
        values.put("sink.jdbc.user", "postgres");
        values.put("sink.jdbc.password", "postgres");
        values.put("sink.group.id", group);
        values.put("sink.poll.timeout", "100ms");
        // Short, so each start does not create ten years of empty monthly targets partitions.
        values.put("sink.retention.targets", "60d");
        values.putAll(overrides);
        return values;
    }
}
