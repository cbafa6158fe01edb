package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.runtime.config.Settings;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.simulator.FleetSpec;
import io.fleetpulse.simulator.SimulatedFleet;
import io.fleetpulse.testkit.KafkaFixture;
import io.fleetpulse.testkit.TopicProbe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three collectors in one group share the targets of fleet.targets: each target is polled by one of them at a time,
 * and when one dies (a static member: its close leaves no group, as a crash would) its targets move to the others
 * within its session timeout.
 */
class ScaleOutIT {

    private static final Duration INTERVAL = Duration.ofSeconds(3);
    private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(6); // the broker's group.min.session.timeout.ms

    @TempDir
    Path dir;

    @Test
    void shouldShareTheTargetsAndMoveADeadInstancesTargetsWithoutDoublePolling() throws Exception {
        try (KafkaFixture kafka = KafkaFixture.start(); SimulatedFleet fleet = SimulatedFleet.start(FleetSpec.of(12))) {
            kafka.createContractTopics(6);
            Path inventory = dir.resolve("inventory.yaml");
            Files.writeString(inventory, fleet.inventoryYaml(INTERVAL, Duration.ofSeconds(1)));
            Set<String> all = new HashSet<>(fleet.serverIds());
            List<CollectorService> collectors = new ArrayList<>();
            try {
                for (String id : List.of("c1", "c2", "c3")) {
                    // All three publish the same YAML; what each polls is its share of the topic, never the whole YAML.
                    Path own = inventory;
                    CollectorService c = new CollectorService(Settings.of(Map.of(
                            "collector.inventory", own.toString(),
                            "collector.id", id,
                            "collector.inventory.live", "true",
                            "collector.inventory.group", "collectors",
                            "collector.inventory.group.static", "true",
                            "collector.inventory.group.session.timeout", SESSION_TIMEOUT.toSeconds() + "s",
                            "kafka.bootstrap.servers", kafka.bootstrapServers(),
                            "kafka.topic.partitions", "6"), CollectorService.KEYS));
                    collectors.add(c);
                    c.start();
                }
                AwaitCollector.until(() -> collectors.stream().mapToInt(c -> (Integer) c.status().get("targets")).sum() == all.size()
                        && collectors.stream().allMatch(c -> (Integer) c.status().get("targets") > 0), collectors.get(0),
                        Duration.ofSeconds(30));

                CollectorService dead = collectors.get(2);
                Set<String> deadTargets = new HashSet<>(((Map<String, ?>) ((Map<String, ?>) dead.status().get("checks")).get("targets")).keySet());
                Instant killed = Instant.now();
                dead.close();
                AwaitCollector.until(() -> (Integer) collectors.get(0).status().get("targets")
                        + (Integer) collectors.get(1).status().get("targets") == all.size(), collectors.get(0),
                        SESSION_TIMEOUT.multipliedBy(3));
                Instant settled = Instant.now().plus(INTERVAL.multipliedBy(2));
                List<ConsumerRecord<String, CheckResult>> checks = TopicProbe.readUntil(kafka.bootstrapServers(),
                        Topics.CHECKS, seen -> all.stream().allMatch(t -> seen.stream().anyMatch(r -> r.key().equals(t)
                                && r.value().getObservedAt().isAfter(settled))), Duration.ofSeconds(40));

                Map<String, List<CheckResult>> byTarget = checks.stream().map(ConsumerRecord::value)
                        .filter(r -> r.getCheckName().equals("http"))
                        .collect(Collectors.groupingBy(CheckResult::getTargetId, HashMap::new, Collectors.toList()));
                long bound = INTERVAL.plus(SESSION_TIMEOUT).plusSeconds(4).toMillis();
                for (String target : all) {
                    List<CheckResult> polls = new ArrayList<>(byTarget.get(target));
                    polls.sort(java.util.Comparator.comparing(CheckResult::getObservedAt));
                    // Three moves at most (c2 joins, c3 joins, c3 dies); two instances polling it would alternate.
                    int switches = 0;
                    for (int i = 1; i < polls.size(); i++) {
                        if (!polls.get(i).getCollectorId().equals(polls.get(i - 1).getCollectorId())) {
                            switches++;
                        }
                        if (polls.get(i - 1).getObservedAt().isAfter(killed.minus(INTERVAL))) {
                            long gap = Duration.between(polls.get(i - 1).getObservedAt(), polls.get(i).getObservedAt()).toMillis();
                            assertTrue(gap <= bound, target + " went " + gap + " ms unpolled (bound " + bound + ")");
                        }
                    }
                    assertTrue(switches <= 3, target + " polled by " + polls.stream().map(CheckResult::getCollectorId).toList());
                }
                for (String moved : deadTargets) {
                    String last = byTarget.get(moved).get(byTarget.get(moved).size() - 1).getCollectorId();
                    assertTrue(!last.equals("c3"), moved + " is still polled by the dead instance");
                }
                assertEquals(3, byTarget.values().stream().flatMap(List::stream).map(CheckResult::getCollectorId)
                        .collect(Collectors.toSet()).size(), "all three polled");
            } finally {
                for (CollectorService c : collectors) {
                    c.close();
                }
            }
        }
    }
}
