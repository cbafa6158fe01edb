package io.fleetpulse.runtime;

import io.fleetpulse.schemas.TopicProvisioner;
import io.fleetpulse.schemas.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;

/**
 * What every service does with the broker before it opens its own clients: waits until it answers (see
 * {@link StartupWait}) and, unless {@code kafka.topics.ensure=false}, creates the missing FleetPulse topics and checks
 * the partition counts of the others.
 */
public final class KafkaReadiness {

    private static final int ATTEMPT_TIMEOUT_MS = 5_000;

    private KafkaReadiness() {
    }

    public static void await(String service, KafkaSettings kafka, Instant deadline) throws InterruptedException {
        int timeoutMs = (int) Math.max(1_000, Math.min(Duration.between(Instant.now(), deadline).toMillis(), 60_000));
        try (Admin admin = Admin.create(kafka.admin("fleetpulse-" + service + "-admin", Math.min(timeoutMs, ATTEMPT_TIMEOUT_MS)))) {
            StartupWait.until(service, "Kafka broker", kafka.bootstrapServers(), deadline,
                    () -> admin.describeCluster().nodes().get(ATTEMPT_TIMEOUT_MS, TimeUnit.MILLISECONDS));
            if (kafka.ensureTopics()) {
                new TopicProvisioner(admin).ensureTopics(Topics.ALL, kafka.partitions(), kafka.replicationFactor());
            }
        }
    }
}
