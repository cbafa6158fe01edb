package io.fleetpulse.testkit;

import io.fleetpulse.schemas.TopicProvisioner;
import io.fleetpulse.schemas.Topics;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * A real Kafka cluster for tests. The default is the in-JVM KRaft test kit ({@link KraftKafkaFixture});
 * where a Docker daemon exists a Testcontainers broker can stand behind the same interface.
 */
public interface KafkaFixture extends AutoCloseable {

    /** Starts the fixture the environment asks for: {@code FLEETPULSE_TEST_KAFKA=container} with Docker, else in-JVM KRaft. */
    static KafkaFixture start() throws Exception {
        return start(1);
    }

    static KafkaFixture start(int brokers) throws Exception {
        if ("container".equalsIgnoreCase(System.getenv("FLEETPULSE_TEST_KAFKA")) && brokers == 1) {
            if (ContainerKafkaFixture.dockerAvailable()) {
                return ContainerKafkaFixture.start();
            }
            System.err.println("FLEETPULSE_TEST_KAFKA=container but no Docker daemon is reachable; using the in-JVM KRaft broker");
        }
        return KraftKafkaFixture.start(brokers);
    }

    String bootstrapServers();

    int brokerCount();

    /** Stops one broker, as a crash would; {@link #restartBroker(int)} brings it back with its data. */
    void stopBroker(int brokerId) throws Exception;

    void restartBroker(int brokerId) throws Exception;

    default Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()));
    }

    /** Creates every contract topic with {@code partitions} partitions, replicated as far as the cluster allows. */
    default void createContractTopics(int partitions) throws InterruptedException {
        try (Admin admin = admin()) {
            new TopicProvisioner(admin).ensureTopics(Topics.ALL, partitions, (short) Math.min(3, brokerCount()));
        }
    }

    @Override
    void close() throws Exception;
}
