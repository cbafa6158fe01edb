package io.fleetpulse.testkit;

import kafka.server.BrokerServer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * Real KRaft brokers inside the test JVM (Kafka's own cluster test kit): one combined node in about three
 * seconds, or three brokers that can be stopped and restarted to test failover.
 */
public final class KraftKafkaFixture implements KafkaFixture {

    private final KafkaClusterTestKit cluster;
    private final int brokers;
    private boolean closed;

    private KraftKafkaFixture(KafkaClusterTestKit cluster, int brokers) {
        this.cluster = cluster;
        this.brokers = brokers;
    }

    public static KraftKafkaFixture start(int brokers) throws Exception {
        TestKitNodes nodes = new TestKitNodes.Builder()
                .setCombined(brokers == 1)
                .setNumBrokerNodes(brokers)
                .setNumControllerNodes(1)
                .build();
        short replication = (short) Math.min(3, brokers);
        KafkaClusterTestKit cluster = new KafkaClusterTestKit.Builder(nodes)
                // exactly_once_v2 on a small cluster needs the internal topics to fit it.
                .setConfigProp("transaction.state.log.replication.factor", replication)
                .setConfigProp("transaction.state.log.min.isr", 1)
                .setConfigProp("offsets.topic.replication.factor", replication)
                .setConfigProp("min.insync.replicas", 1)
                .setConfigProp("group.initial.rebalance.delay.ms", 0)
                // Tests size consumer session timeouts from second-long intervals (the collector's scale-out); the
                // broker's default minimum (6 s) would refuse them.
                .setConfigProp("group.min.session.timeout.ms", 500)
                .setConfigProp("auto.create.topics.enable", false)
                .build();
        try {
            cluster.format();
            cluster.startup();
            cluster.waitForReadyBrokers();
        } catch (Exception e) {
            cluster.close();
            throw e;
        }
        return new KraftKafkaFixture(cluster, brokers);
    }

    @Override
    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    @Override
    public int brokerCount() {
        return brokers;
    }

    @Override
    public void stopBroker(int brokerId) {
        BrokerServer broker = broker(brokerId);
        broker.shutdown();
        broker.awaitShutdown();
    }

    @Override
    public void restartBroker(int brokerId) {
        broker(brokerId).startup();
    }

    private BrokerServer broker(int brokerId) {
        BrokerServer broker = cluster.brokers().get(brokerId);
        if (broker == null) {
            throw new IllegalArgumentException("no broker " + brokerId + "; brokers are " + cluster.brokers().keySet());
        }
        return broker;
    }

    /** Closes the cluster once; the test kit must not be closed twice. */
    @Override
    public synchronized void close() throws Exception {
        if (!closed) {
            closed = true;
            cluster.close();
        }
    }
}
