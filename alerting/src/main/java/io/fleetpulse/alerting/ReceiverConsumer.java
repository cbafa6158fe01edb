package io.fleetpulse.alerting;

import io.fleetpulse.events.OutboxRecord;
import io.fleetpulse.runtime.text.Durations;
import io.fleetpulse.schemas.DeadLetters;
import io.fleetpulse.schemas.Topics;
import io.fleetpulse.schemas.UndecodableRecordException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One receiver's reading of the notification topic: its own consumer in its own group (so its own offsets), its own
 * bounded set of notifications in flight, retried concurrently by its {@link DeliveryWorker}. Nothing here waits
 * for another receiver: one that is down, slow or rate-limited fills its own in-flight set and pauses only its own
 * consumer.
 *
 * <p>Offsets are committed per partition up to the lowest offset not yet settled (SENT, FAILED, skipped,
 * dead-lettered, each with its audit record acknowledged), so a crash redelivers exactly what was not settled, and
 * the {@link DeliveredSet} keeps what was sent from being sent again. The loop thread owns the consumer and every
 * field below; rebalance callbacks run on it.
 *
 * <p>It reads fleet.outbox, which decide writes (routing and grouping done), takes the group notifications addressed to
 * its receiver and asks the {@link Router} what its receiver sends for each (minus what was delivered).
 */
final class ReceiverConsumer {

    private static final Logger LOG = LoggerFactory.getLogger(ReceiverConsumer.class);
    private static final Duration POLL = Duration.ofMillis(100);

    /** What the service offers the loop: routing, dead letters and the health hook. */
    interface Context {
        /** What {@code receiver} sends for the group notification {@code intent}, minus what it already delivered. */
        Router.Routing route(OutboxRecord intent, Receiver receiver);

        /** Dead-letters {@code record}; the future completes when the broker acknowledged it (retried until then). */
        CompletableFuture<?> deadLetter(ConsumerRecord<byte[], byte[]> record, String reason, String error);

        /** Called on the loop, each pass: lets the service turn health changes into readiness and meta-notices. */
        void tick(ReceiverConsumer consumer);
    }

    private final DeliveryWorker worker;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String group;
    private final int maxInFlight;
    private final Duration revokeWait;
    private final boolean deadLetters;
    private final Context context;
    /** Whose records on fleet.outbox are ours: decide of this deployment names it on each. */
    private final String deployment;
    private final Map<TopicPartition, Progress> progress = new HashMap<>();
    private final AtomicLong consumed = new AtomicLong();
    private final AtomicLong commits = new AtomicLong();
    private volatile boolean running = true;
    private volatile boolean assigned;
    private volatile int owned;
    private volatile int pending;
    private boolean paused;
    private Collection<TopicPartition> lost;

    /**
     * @param deadLetters whether this consumer writes bad records to fleet.dlq: one receiver's does (every receiver
     *                    reads the same records, and one dead letter per record is enough); the others skip them
     */
    ReceiverConsumer(DeliveryWorker worker, KafkaConsumer<byte[], byte[]> consumer, String group, int maxInFlight,
                     Duration revokeWait, boolean deadLetters, String deployment, Context context) {
        this.deployment = deployment;
        this.worker = worker;
        this.consumer = consumer;
        this.group = group;
        this.maxInFlight = maxInFlight;
        this.revokeWait = revokeWait;
        this.deadLetters = deadLetters;
        this.context = context;
    }

    DeliveryWorker worker() {
        return worker;
    }

    String group() {
        return group;
    }

    boolean isAssigned() {
        return assigned;
    }

    /** How many partitions of the notification topic this receiver's consumer owns now. */
    int partitions() {
        return owned;
    }

    long consumed() {
        return consumed.get();
    }

    long commits() {
        return commits.get();
    }

    /** Records read and not yet settled: the in-flight set, bounded by alerting.receiver.max.in.flight. */
    int pending() {
        return pending;
    }

    void stop() {
        running = false;
    }

    /** The loop: returns when {@link #stop} is called; throws when the group expels this member. */
    void run(Duration stopGrace) {
        try {
            consumer.subscribe(List.of(Topics.OUTBOX.name()), new Rebalance());
            while (running) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
                    take(record);
                }
                if (lost != null) {
                    throw new IllegalStateException("expelled from consumer group " + group + " (partitions " + lost
                            + " lost: no poll or heartbeat within the group's timeouts); what was not committed is "
                            + "redelivered to their next owner");
                }
                commitSettled(progress.keySet(), false);
                pauseWhenFull();
                context.tick(this);
            }
            // Stopping: what settles within the grace is committed; the rest is redelivered after restart.
            awaitSettled(List.copyOf(progress.keySet()), stopGrace);
            commitSettled(progress.keySet(), true);
        } finally {
            assigned = false;
            worker.close();
            try {
                consumer.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                LOG.warn("error closing the consumer of group {}", group, e);
            }
        }
    }

    private void take(ConsumerRecord<byte[], byte[]> record) {
        consumed.incrementAndGet();
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        Progress partition = progress.computeIfAbsent(tp, p -> new Progress());
        partition.next = record.offset() + 1;
        CompletableFuture<?> settled = notificationOf(record);
        if (settled != null && !settled.isDone()) {
            partition.pending.put(record.offset(), settled);
        }
    }

    /**
     * Starts what {@code record} (a group notification on fleet.outbox) asks of this receiver; null when there is
     * nothing to wait for. Each receiver reads the whole outbox and takes the records addressed to it: one
     * notification for the group (Slack, webhooks), or one per alert in it for PagerDuty (one incident per
     * fingerprint); the record settles when all of them have.
     */
    private CompletableFuture<?> notificationOf(ConsumerRecord<byte[], byte[]> record) {
        OutboxRecord intent;
        try {
            intent = Topics.OUTBOX.valueSerde().deserializer().deserialize(record.topic(), record.value());
        } catch (UndecodableRecordException e) {
            return deadLetters ? context.deadLetter(record, DeadLetters.UNDECODABLE, e.getMessage()) : null;
        }
        if (intent == null) {
            return deadLetters ? context.deadLetter(record, DeadLetters.INVALID, "empty value (tombstone) on "
                    + Topics.OUTBOX.name()) : null;
        }
        if (!intent.getDeployment().equals(deployment) || !intent.getReceiver().equals(worker.receiver().name())) {
            return null;
        }
        Router.Routing routing = context.route(intent, worker.receiver());
        routing.alreadyDelivered().forEach(skipped -> worker.countSkipped());
        List<CompletableFuture<?>> settling = new ArrayList<>();
        for (Notification notification : routing.deliver()) {
            settling.add(worker.submit(notification).settled);
        }
        if (settling.isEmpty()) {
            return null;
        }
        if (settling.size() == 1) {
            return settling.get(0);
        }
        // Settled when every one is; abandoned (left for redelivery) if any one was.
        CompletableFuture<?> group = CompletableFuture.allOf(settling.toArray(CompletableFuture[]::new))
                .thenApply(done -> settling.stream().anyMatch(f -> f.getNow(null) == DeliveryWorker.Result.ABANDONED)
                        ? DeliveryWorker.Result.ABANDONED : settling.get(0).getNow(null));
        group.whenComplete((result, error) -> {
            if (group.isCancelled()) {
                settling.forEach(f -> f.cancel(false));
            }
        });
        return group;
    }

    /**
     * Commits, for each of {@code partitions}, up to its lowest unsettled offset, when that moved. In the loop the
     * commit is asynchronous: a blocking commit there (tens of ms on a loaded broker) would hold back the next poll,
     * and with it every notification that just became readable. On a rebalance and at stop it is synchronous: the
     * partitions change hands right after. An asynchronous commit that fails is made again on the next pass (its
     * offsets are monotonic, so a late or repeated one never moves a partition back).
     */
    private void commitSettled(Collection<TopicPartition> partitions, boolean sync) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        int unsettled = 0;
        for (TopicPartition tp : partitions) {
            Progress partition = progress.get(tp);
            long upTo = partition.settledUpTo();
            unsettled += partition.pending.size();
            if (upTo > partition.committed) {
                offsets.put(tp, new OffsetAndMetadata(upTo));
                partition.committed = upTo;
            }
        }
        if (partitions == progress.keySet()) {
            pending = unsettled;
        }
        if (offsets.isEmpty()) {
            return;
        }
        if (sync) {
            consumer.commitSync(offsets);
            commits.incrementAndGet();
            return;
        }
        consumer.commitAsync(offsets, (committed, error) -> {
            // Runs on the loop thread, inside poll or a later commit: the fields are ours.
            if (error == null) {
                commits.incrementAndGet();
                return;
            }
            LOG.info("{}: committing {} failed, again on the next pass: {}", worker.receiver().name(), offsets, error.toString());
            offsets.forEach((tp, offset) -> {
                Progress partition = progress.get(tp);
                if (partition != null && partition.committed == offset.offset()) {
                    partition.committed = -1;
                }
            });
        });
    }

    /** Pauses this receiver's reading while its in-flight set is full; nobody else's. */
    private void pauseWhenFull() {
        boolean full = pending >= maxInFlight;
        if (full && !paused) {
            LOG.info("{}: {} notifications in flight, reading paused until some settle", worker.receiver().name(),
                    pending);
            consumer.pause(consumer.assignment());
            paused = true;
        } else if (!full && paused) {
            consumer.resume(consumer.paused());
            paused = false;
        }
    }

    /** Waits at most {@code wait} for the unsettled notifications of {@code partitions}. */
    private void awaitSettled(Collection<TopicPartition> partitions, Duration wait) {
        List<CompletableFuture<?>> waiting = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            Progress partition = progress.get(tp);
            if (partition != null) {
                waiting.addAll(partition.pending.values());
            }
        }
        if (waiting.isEmpty()) {
            return;
        }
        try {
            CompletableFuture.allOf(waiting.toArray(CompletableFuture[]::new)).get(wait.toMillis(),
                    TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            // Done with a failure, or still running: either way only what settled is committed.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops delivering what is still in flight on {@code partitions}: their next reader delivers it. */
    private void abandon(Collection<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) {
            Progress partition = progress.remove(tp);
            if (partition != null && !partition.pending.isEmpty()) {
                LOG.info("{}: {} notifications of {} left to its next owner", worker.receiver().name(),
                        partition.pending.size(), tp);
                partition.pending.values().forEach(f -> f.cancel(false));
            }
        }
    }

    private final class Rebalance implements ConsumerRebalanceListener {

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> added) {
            assigned = true;
            owned = consumer.assignment().size();
            if (paused) {
                consumer.pause(added);
            }
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
            owned = Math.max(0, consumer.assignment().size() - revoked.size());
            // Still the owner here: a bounded wait for what is about to settle, commit it, hand over the rest. An
            // unbounded wait (a receiver retrying for hours) would outlast max.poll.interval.ms and get us expelled.
            List<TopicPartition> ours = revoked.stream().filter(progress::containsKey).toList();
            if (ours.isEmpty()) {
                return;
            }
            awaitSettled(ours, running ? revokeWait : Duration.ZERO);
            commitSettled(ours, true);
            abandon(ours);
            LOG.debug("{}: revoked {} after waiting at most {}", worker.receiver().name(), ours,
                    Durations.format(revokeWait));
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> gone) {
            // Expelled: another member owns them, committing would fail. What is in flight is abandoned and the loop
            // dies, so the process restarts instead of carrying on as a member that missed its deadlines.
            assigned = false;
            owned = 0;
            abandon(gone);
            lost = List.copyOf(gone);
        }
    }

    /** One partition's records in flight, by offset, and how far it is committed. */
    private static final class Progress {
        final TreeMap<Long, CompletableFuture<?>> pending = new TreeMap<>();
        long next = -1;
        long committed = -1;

        /** The offset to commit: the lowest still unsettled, or past the last read when all settled. */
        long settledUpTo() {
            // Settled = completed normally; a failure or an abandonment is not, so it is read again after restart.
            pending.values().removeIf(f -> f.isDone() && !f.isCompletedExceptionally()
                    && f.getNow(null) != DeliveryWorker.Result.ABANDONED);
            return pending.isEmpty() ? next : pending.firstKey();
        }
    }
}
