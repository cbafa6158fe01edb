package io.fleetpulse.testkit;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;

/**
 * A broker in a Docker container, for machines that have a Docker daemon. These build machines have none,
 * so it is chosen only when asked for and available; the in-JVM broker is the default.
 */
public final class ContainerKafkaFixture implements KafkaFixture {

    private static final String IMAGE = "apache/kafka:4.3.1";

    private final KafkaContainer container;

    private ContainerKafkaFixture(KafkaContainer container) {
        this.container = container;
    }

    /** True when Testcontainers can reach a Docker daemon; never throws. */
    public static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (Throwable e) {
            return false;
        }
    }

    public static ContainerKafkaFixture start() {
        KafkaContainer container = new KafkaContainer(IMAGE);
        // As the in-JVM broker: session timeouts sized from second-long test intervals must be allowed.
        container.withEnv("KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS", "500");
        container.start();
        return new ContainerKafkaFixture(container);
    }

    @Override
    public String bootstrapServers() {
        return container.getBootstrapServers();
    }

    @Override
    public int brokerCount() {
        return 1;
    }

    @Override
    public void stopBroker(int brokerId) {
        throw new UnsupportedOperationException("the container fixture has one broker; use KraftKafkaFixture.start(3) for failover tests");
    }

    @Override
    public void restartBroker(int brokerId) {
        throw new UnsupportedOperationException("the container fixture has one broker");
    }

    @Override
    public void close() {
        container.stop();
    }
}
