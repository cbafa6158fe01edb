package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.Comparator;
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
 * within about one interval, the session timeout sized from the interval (half of it, derived: no setting).
 *
 * <p>The gap bound, stated: a moved target's last poll by the dead instance may come just before its death, so the
 * next poll is due one interval (plus jitter) later; it comes instead after the session timeout, a heartbeat of a
 * survivor (which learns of the rebalance), the moved target's first start (within a tenth of the interval) and a
 * second for the rebalance's round trips and scheduling on a loaded machine. Every target not moved keeps its
 * collector and its spacing.
 */
class ScaleOutIT {

    private static final Duration INTERVAL = Duration.ofSeconds(4);
    private static final double JITTER = 0.1; // collector.poll.jitter's default
    private static final Duration SESSION_TIMEOUT = INTERVAL.dividedBy(2); // what the collector derives
    private static final Duration HEARTBEAT = SESSION_TIMEOUT.dividedBy(3);
    private static final Duration MARGIN = Duration.ofSeconds(1);
    /** From the death to a survivor's first poll: session timeout, a heartbeat, the first start, the margin. */
    private static final long HANDOVER_BOUND_MS = SESSION_TIMEOUT.plus(HEARTBEAT).plus(INTERVAL.dividedBy(10)).plus(MARGIN)
            .toMillis();
    /** One interval, jittered late, then the handover. */
    private static final long MOVED_GAP_BOUND_MS = Math.round(INTERVAL.toMillis() * (1 + JITTER)) + HANDOVER_BOUND_MS;
    /** Two starts each jittered by up to a tenth of the interval, the other way. */
    private static final long KEPT_GAP_BOUND_MS = Math.round(INTERVAL.toMillis() * (1 + 2 * JITTER)) + MARGIN.toMillis();

    @TempDir
    Path dir;

    @Test
    void shouldShareTheTargetsAndMoveADeadInstancesTargetsWithinOneIntervalWithoutDoublePolling() throws Exception {
        assertTrue(HANDOVER_BOUND_MS - MARGIN.toMillis() < INTERVAL.toMillis(),
                "the handover fits in one interval by design; the margin is for a loaded machine only");
        try (KafkaFixture kafka = KafkaFixture.start(); SimulatedFleet fleet = SimulatedFleet.start(FleetSpec.of(12))) {
            kafka.createContractTopics(6);
            Path inventory = dir.resolve("inventory.yaml");
            Files.writeString(inventory, fleet.inventoryYaml(INTERVAL, Duration.ofSeconds(1)));
            Set<String> all = new HashSet<>(fleet.serverIds());
            List<CollectorService> collectors = new ArrayList<>();
            try {
                for (String id : List.of("c1", "c2", "c3")) {
                    // All three publish the same YAML; what each polls is its share of the topic, never the whole YAML.
                    CollectorService c = new CollectorService(Settings.of(Map.of(
                            "collector.inventory", inventory.toString(),
                            "collector.id", id,
                            "collector.inventory.live", "true",
                            "collector.inventory.group", "collectors",
                            "collector.inventory.group.static", "true",
                            "kafka.bootstrap.servers", kafka.bootstrapServers(),
                            "kafka.topic.partitions", "6"), CollectorService.KEYS));
                    collectors.add(c);
                    c.start();
                }
                assertEquals(SESSION_TIMEOUT, collectors.get(0).inventoryGroup().sessionTimeout(), "derived from the interval");
                AwaitCollector.until(() -> collectors.stream().mapToInt(ScaleOutIT::planned).sum() == all.size()
                        && collectors.stream().allMatch(c -> planned(c) > 0), collectors.get(0), Duration.ofSeconds(30));
                // From here on the group is settled: the only move left is the dead instance's targets.
                Instant settled = Instant.now();
                // Each target polled once more by its settled owner, so the dead one's last polls are on record.
                AwaitCollector.until(() -> all.stream().allMatch(t -> collectors.stream()
                        .anyMatch(c -> lastRun(c, t).isAfter(settled))), collectors.get(0), INTERVAL.multipliedBy(3));

                CollectorService dead = collectors.get(2);
                Instant killed = Instant.now();
                dead.close();
                Instant closed = Instant.now();
                AwaitCollector.until(() -> planned(collectors.get(0)) + planned(collectors.get(1)) == all.size(),
                        collectors.get(0), INTERVAL.multipliedBy(3));
                Instant handedOver = Instant.now();
                Instant measuredTo = handedOver.plus(INTERVAL.multipliedBy(2));
                List<ConsumerRecord<String, CheckResult>> checks = TopicProbe.readUntil(kafka.bootstrapServers(),
                        Topics.CHECKS, seen -> all.stream().allMatch(t -> seen.stream().anyMatch(r -> r.key().equals(t)
                                && r.value().getObservedAt().isAfter(measuredTo))), Duration.ofSeconds(40));

                // While the instances joined: each join moves a target at most once (revoked before it is assigned),
                // so three changes of collector at most (c2 joins, c3 joins, c3 dies); double polling would alternate.
                Map<String, List<String>> everyPoller = checks.stream().map(ConsumerRecord::value)
                        .filter(r -> r.getCheckName().equals("http"))
                        .sorted(Comparator.comparing(CheckResult::getObservedAt))
                        .collect(Collectors.groupingBy(CheckResult::getTargetId,
                                Collectors.mapping(CheckResult::getCollectorId, Collectors.toList())));
                everyPoller.forEach((target, by) -> assertTrue(java.util.stream.IntStream.range(1, by.size())
                        .filter(i -> !by.get(i).equals(by.get(i - 1))).count() <= 3, target + " polled by " + by));
                Map<String, List<CheckResult>> byTarget = checks.stream().map(ConsumerRecord::value)
                        .filter(r -> r.getCheckName().equals("http") && !r.getObservedAt().isBefore(settled))
                        .sorted(Comparator.comparing(CheckResult::getObservedAt))
                        .collect(Collectors.groupingBy(CheckResult::getTargetId));
                Set<String> moved = new HashSet<>();
                long[] longest = new long[3]; // handover, moved gap, kept gap: printed, so a run shows its margins
                for (String target : all) {
                    List<CheckResult> polls = byTarget.get(target);
                    List<String> by = polls.stream().map(CheckResult::getCollectorId).toList();
                    boolean wasDeads = polls.stream().filter(p -> p.getObservedAt().isBefore(killed))
                            .reduce((a, b) -> b).orElseThrow().getCollectorId().equals("c3");
                    assertFalse(polls.stream().anyMatch(p -> p.getCollectorId().equals("c3") && p.getObservedAt().isAfter(closed)),
                            target + " polled by the dead instance after its death: " + by);
                    long switches = java.util.stream.IntStream.range(1, by.size()).filter(i -> !by.get(i).equals(by.get(i - 1))).count();
                    // Double polling would alternate collectors; a kept target never changes, a moved one once.
                    assertEquals(wasDeads ? 1 : 0, switches, target + " polled by " + by);
                    long bound = wasDeads ? MOVED_GAP_BOUND_MS : KEPT_GAP_BOUND_MS;
                    for (int i = 1; i < polls.size(); i++) {
                        long gap = Duration.between(polls.get(i - 1).getObservedAt(), polls.get(i).getObservedAt()).toMillis();
                        longest[wasDeads ? 1 : 2] = Math.max(longest[wasDeads ? 1 : 2], gap);
                        assertTrue(gap <= bound, target + " went " + gap + " ms unpolled (bound " + bound + " ms, "
                                + (wasDeads ? "moved" : "kept") + ")");
                    }
                    if (wasDeads) {
                        moved.add(target);
                        Instant firstBySurvivor = polls.stream().filter(p -> !p.getCollectorId().equals("c3"))
                                .findFirst().orElseThrow().getObservedAt();
                        long handoverMs = Duration.between(killed, firstBySurvivor).toMillis();
                        longest[0] = Math.max(longest[0], handoverMs);
                        assertTrue(handoverMs <= HANDOVER_BOUND_MS, target + " was first polled by a survivor "
                                + handoverMs + " ms after the death (bound " + HANDOVER_BOUND_MS + " ms)");
                    }
                }
                System.out.printf("ScaleOutIT: %d targets moved; longest handover %d ms (bound %d), longest gap of a moved "
                                + "target %d ms (bound %d), of a kept one %d ms (bound %d)%n", moved.size(), longest[0],
                        HANDOVER_BOUND_MS, longest[1], MOVED_GAP_BOUND_MS, longest[2], KEPT_GAP_BOUND_MS);
                assertFalse(moved.isEmpty(), "the dead instance polled some targets");
                assertEquals(Set.of("c1", "c2", "c3"), byTarget.values().stream().flatMap(List::stream)
                        .map(CheckResult::getCollectorId).collect(Collectors.toSet()), "all three polled");
            } finally {
                for (CollectorService c : collectors) {
                    c.close();
                }
            }
        }
    }

    private static int planned(CollectorService collector) {
        return (Integer) collector.status().get("targets");
    }

    /** When {@code collector} last polled {@code target}'s health, or the epoch when it does not poll it. */
    @SuppressWarnings("unchecked")
    private static Instant lastRun(CollectorService collector, String target) {
        Map<String, Object> checks = (Map<String, Object>) collector.status().get("checks");
        Map<String, Object> stats = ((Map<String, Map<String, Object>>) checks.get("targets")).get(target);
        Object last = stats == null ? null : stats.get("lastRun");
        return last == null ? Instant.EPOCH : Instant.parse(last.toString());
    }
}
