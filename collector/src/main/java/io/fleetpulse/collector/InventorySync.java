package io.fleetpulse.collector;

import io.fleetpulse.events.Target;
import io.fleetpulse.runtime.text.Durations;
import io.fleetpulse.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;



import org.apache.kafka.clients.producer.RecordMetadata;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * Makes the compacted inventory topic say what this collector's inventory says: every target is published, and
 * every target this collector published before but no longer lists gets a tombstone, which collectors following
 * the topic ({@link TargetsFeed}) read as "stop polling it" and downstream services as its decommissioning.
 *
 * <p>Ownership is a record header carrying the collector id, so collectors with different inventories can share
 * the topic without decommissioning each other's targets.
 */
final class InventorySync {

    static final String OWNER_HEADER = "fleetpulse.collector";

    /** What one sync did. */
    record Result(int published, Set<String> decommissioned) {
    }

    private InventorySync() {
    }

    static Result sync(RecordPublisher publisher, Map<String, Object> consumerProps, String collectorId,
                       List<Target> targets, Instant now, Duration timeout) throws InterruptedException {
        Set<String> stale = new TreeSet<>(ownedBy(consumerProps, collectorId, timeout));
        targets.forEach(t -> stale.remove(t.getTargetId()));
        List<Header> owner = List.of(new RecordHeader(OWNER_HEADER, collectorId.getBytes(StandardCharsets.UTF_8)));
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        for (Target target : targets) {
            sent.add(publisher.sendNow(Topics.TARGETS, target.getTargetId(), target, target.getUpdatedAt(), owner));
        }
        for (String id : stale) {
            sent.add(publisher.sendNow(Topics.TARGETS, id, null, now, owner));
        }
        publisher.flush();
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Future<RecordMetadata> f : sent) {
            try {
                f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                throw new IllegalStateException("cannot publish the inventory to " + Topics.TARGETS.name() + ": "
                        + e.getCause().getMessage(), e.getCause());
            } catch (TimeoutException e) {
                throw new IllegalStateException("publishing the inventory to " + Topics.TARGETS.name()
                        + " did not finish within " + Durations.format(timeout), e);
            }
        }
        return new Result(targets.size(), stale);
    }

    /** Ids whose latest record on the inventory topic is a live target published by {@code collectorId}. */
    static Set<String> ownedBy(Map<String, Object> consumerProps, String collectorId, Duration timeout) {
        Set<String> owned = new TreeSet<>();
        TargetsTopic.read(consumerProps, timeout).forEach((id, listed) -> {
            if (collectorId.equals(listed.owner())) {
                owned.add(id);
            }
        });
        return owned;
    }
}
