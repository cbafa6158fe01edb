package io.fleetpulse.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.schemas.TopicProvisioner;
import io.fleetpulse.schemas.Topics;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;

class FixturesIT {

    @Test
    void shouldServeARealBrokerThatSurvivesABrokerRestart() throws Exception {
        try (KafkaFixture kafka = KafkaFixture.start(3)) {
            kafka.createContractTopics(3);
            send(kafka, "srv-1");
            kafka.stopBroker(1);
            send(kafka, "srv-2");
            kafka.restartBroker(1);
            send(kafka, "srv-3");

            var records = TopicProbe.readUntil(kafka.bootstrapServers(), Topics.CHECKS, r -> r.size() >= 3, Duration.ofSeconds(30));
            assertEquals(3, records.size());
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
                assertEquals(3, admin.describeCluster().nodes().get().size(), "the restarted broker rejoined");
            }
        }
    }

    @Test
    void shouldCreateTopicsIdempotentlyAndRefuseAPartitionCountMismatch() throws Exception {
        try (KafkaFixture kafka = KafkaFixture.start(); Admin admin = kafka.admin()) {
            TopicProvisioner provisioner = new TopicProvisioner(admin);

            var first = provisioner.ensureTopics(Topics.ALL, 2, (short) 1);
            var second = provisioner.ensureTopics(Topics.ALL, 2, (short) 1);

            assertTrue(first.values().stream().allMatch(o -> o == TopicProvisioner.Outcome.CREATED), first::toString);
            assertTrue(second.values().stream().allMatch(o -> o == TopicProvisioner.Outcome.EXISTS), second::toString);
            assertEquals("compact", admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, Topics.TARGETS.name())))
                    .all().get().values().iterator().next().get("cleanup.policy").value());
            IllegalStateException mismatch = assertThrows(IllegalStateException.class,
                    () -> provisioner.ensureTopics(Topics.ALL, 4, (short) 1));
            assertTrue(mismatch.getMessage().contains("fleet.checks has 2"), mismatch.getMessage());
        }
    }

    @Test
    void shouldServeARealPostgres() throws Exception {
        try (PostgresFixture postgres = PostgresFixture.start()) {
            String url = postgres.createDatabase();
            try (Connection c = java.sql.DriverManager.getConnection(url, postgres.user(), postgres.password());
                 Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW server_version")) {
                assertTrue(rs.next());
                assertTrue(rs.getString(1).startsWith("17"), rs.getString(1));
            }
        }
    }

    @Test
    void shouldServeAContainerBrokerWhereDockerExists() throws Exception {
        assumeTrue(ContainerKafkaFixture.dockerAvailable(),
                "No Docker daemon here: the Testcontainers Kafka fixture is skipped; in-JVM KRaft is the default.");
        try (KafkaFixture kafka = ContainerKafkaFixture.start()) {
            kafka.createContractTopics(1);
            send(kafka, "srv-1");
            assertEquals(1, TopicProbe.readUntil(kafka.bootstrapServers(), Topics.CHECKS, r -> !r.isEmpty(), Duration.ofSeconds(30)).size());
        }
    }

    private static void send(KafkaFixture kafka, String target) {
        TopicProbe.send(kafka.bootstrapServers(), Topics.CHECKS, target, CheckResult.newBuilder().setTargetId(target)
                .setCheckName("http").setStatus(CheckStatus.OK).setObservedAt(Instant.now()).build());
    }
}
