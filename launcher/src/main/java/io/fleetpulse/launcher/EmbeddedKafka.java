package io.fleetpulse.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A real single-node KRaft broker (combined broker and controller) inside the demo's JVM, with its data in a
 * local folder. The same code path as a production broker, minus the separate process.
 *
 * <p>The folder is formatted once, on first use; later starts resume its topics, offsets and transactions.
 * The quorum is a static voter set ({@code controller.quorum.voters}, kraft.version 0), so the voter's address
 * comes from this start's configuration, never from the metadata log: a restart on other ports works.
 */
public final class EmbeddedKafka implements AutoCloseable {

    private static final String CONTROLLER_LISTENER = "CONTROLLER";

    private final KafkaRaftServer server;
    private final String bootstrapServers;
    private final String clusterId;
    private final boolean resumed;

    private EmbeddedKafka(KafkaRaftServer server, String bootstrapServers, String clusterId, boolean resumed) {
        this.server = server;
        this.bootstrapServers = bootstrapServers;
        this.clusterId = clusterId;
        this.resumed = resumed;
    }

    /** Starts on free loopback ports. */
    public static EmbeddedKafka start(Path dataDir) throws Exception {
        return start(dataDir, 0);
    }

    /**
     * Starts the broker on {@code dataDir}, formatting it only when it holds no {@code meta.properties}.
     *
     * @param brokerPort the client port, or 0 for any free one
     */
    public static EmbeddedKafka start(Path dataDir, int brokerPort) throws Exception {
        Files.createDirectories(dataDir);
        int port = brokerPort == 0 ? freePort() : brokerPort;
        int controllerPort = freePort();
        String logDir = dataDir.toAbsolutePath().toString();

        Properties props = new Properties();
        props.put("process.roles", "broker,controller");
        props.put("node.id", "1");
        props.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        props.put("listeners", "PLAINTEXT://127.0.0.1:" + port + "," + CONTROLLER_LISTENER + "://127.0.0.1:" + controllerPort);
        props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        props.put("controller.listener.names", CONTROLLER_LISTENER);
        props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        props.put("log.dirs", logDir);
        props.put("num.partitions", "6");
        // One broker: internal topics and exactly-once transactions must fit on it.
        props.put("offsets.topic.replication.factor", "1");
        props.put("offsets.topic.num.partitions", "6");
        props.put("transaction.state.log.replication.factor", "1");
        props.put("transaction.state.log.min.isr", "1");
        props.put("transaction.state.log.num.partitions", "6");
        props.put("min.insync.replicas", "1");
        props.put("group.initial.rebalance.delay.ms", "0");
        props.put("auto.create.topics.enable", "false");
        KafkaConfig config = KafkaConfig.fromProps(props, false);

        Path metaProperties = dataDir.resolve("meta.properties");
        boolean resumed = Files.exists(metaProperties);
        String clusterId;
        if (resumed) {
            clusterId = clusterId(metaProperties);
        } else {
            clusterId = Uuid.randomUuid().toString();
            new Formatter()
                    .setNodeId(1)
                    .setClusterId(clusterId)
                    .setDirectories(List.of(logDir))
                    .setMetadataLogDirectory(logDir)
                    .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                    .setControllerListenerName(CONTROLLER_LISTENER)
                    .setIgnoreFormatted(false)
                    .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                    .run();
        }

        // The server reads node and cluster id from meta.properties itself and refuses a folder of another cluster.
        KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
        server.startup();
        return new EmbeddedKafka(server, "127.0.0.1:" + port, clusterId, resumed);
    }

    private static String clusterId(Path metaProperties) throws IOException {
        Properties meta = new Properties();
        try (InputStream in = Files.newInputStream(metaProperties)) {
            meta.load(in);
        }
        String id = meta.getProperty("cluster.id");
        if (id == null || id.isBlank()) {
            throw new IOException(metaProperties + " names no cluster.id; remove the folder (or run with --fresh) to start over");
        }
        return id;
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public int port() {
        return Integer.parseInt(bootstrapServers.substring(bootstrapServers.lastIndexOf(':') + 1));
    }

    public String clusterId() {
        return clusterId;
    }

    /** True when the folder was already formatted, i.e. this broker resumed an earlier run's data. */
    public boolean resumed() {
        return resumed;
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() {
        server.shutdown();
        server.awaitShutdown();
    }
}
