package io.fleetpulse.schemas;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Creates the contract's topics, idempotently: missing topics are created, existing ones are checked.
 * Per-target topics must all have the same partition count, or joins between them would need a repartition;
 * a mismatch is reported rather than silently tolerated.
 */
public final class TopicProvisioner {

    /** What one run did to each topic. */
    public enum Outcome { CREATED, EXISTS }

    private final Admin admin;

    public TopicProvisioner(Admin admin) {
        this.admin = admin;
    }

    /**
     * Ensures every topic in {@code topics} exists with {@code partitions} partitions.
     *
     * @throws IllegalStateException when an existing per-target topic has another partition count
     */
    public Map<String, Outcome> ensureTopics(Collection<Topic<?, ?>> topics, int partitions, short replicationFactor)
            throws InterruptedException {
        try {
            Set<String> existing = admin.listTopics().names().get();
            List<NewTopic> missing = new ArrayList<>();
            for (Topic<?, ?> topic : topics) {
                if (!existing.contains(topic.name())) {
                    missing.add(new NewTopic(topic.name(), partitions, replicationFactor).configs(topic.configs()));
                }
            }
            for (var entry : admin.createTopics(missing).values().entrySet()) {
                try {
                    entry.getValue().get();
                } catch (ExecutionException e) {
                    // Another instance created it between our list and our create: that is fine.
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
            checkPartitionCounts(topics, partitions);
            Set<String> created = missing.stream().map(NewTopic::name).collect(Collectors.toSet());
            return topics.stream().collect(Collectors.toMap(Topic::name,
                    t -> created.contains(t.name()) ? Outcome.CREATED : Outcome.EXISTS));
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot create topics: " + e.getCause().getMessage(), e.getCause());
        }
    }

    /**
     * Describes {@code names}; a topic created a moment ago may not be known yet to the broker answering (its
     * metadata is still propagating), so an unknown topic is asked about again for a few seconds.
     */
    private Map<String, TopicDescription> describeJustCreated(List<String> names)
            throws ExecutionException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                return admin.describeTopics(names).allTopicNames().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    private void checkPartitionCounts(Collection<Topic<?, ?>> topics, int partitions)
            throws ExecutionException, InterruptedException {
        List<String> perTarget = topics.stream().filter(Topic::perTarget).map(Topic::name).toList();
        Map<String, TopicDescription> described = describeJustCreated(perTarget);
        List<String> wrong = described.values().stream()
                .filter(d -> d.partitions().size() != partitions)
                .map(d -> d.name() + " has " + d.partitions().size())
                .toList();
        if (!wrong.isEmpty()) {
            throw new IllegalStateException("per-target topics must share one partition count (" + partitions
                    + " expected), but " + String.join(", ", wrong));
        }
    }
}
