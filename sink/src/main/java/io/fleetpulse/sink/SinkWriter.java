package io.fleetpulse.sink;

import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.runtime.text.Durations;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.utils.Bytes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sink's consumer loop: poll a batch, dead-letter what cannot be stored, write the rest together with the next
 * offsets in one database transaction, repeat.
 *
 * <p>The database's {@code sink_offset} rows decide where reading resumes: on every assignment, and after every
 * failed batch, partitions are paused, sought to the stored offsets (or the beginning when none is stored) and
 * resumed. So a failed batch is re-read from where the last commit left off, never skipped. Kafka's own committed
 * offsets are written after each batch only so that lag tools show something; nothing reads them back.
 *
 * <p>Database and dead-letter failures are retried forever (with backoff) from the stored offsets. Anything else
 * that goes wrong (a stored offset that is not a Kafka offset, a fatal consumer error) ends {@link #run()} with the
 * exception: the service runs it as a core loop, so it fails and the process exits non-zero to be restarted.
 */
final class SinkWriter implements Runnable, ConsumerRebalanceListener {

    private static final Logger LOG = LoggerFactory.getLogger(SinkWriter.class);
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);

    private final Consumer<byte[], byte[]> consumer;
    private final Producer<Bytes, DeadLetter> deadLetters;
    private final SinkStore store;
    private final SinkMetrics metrics;
    private final Duration pollTimeout;
    private final Duration maxBackoff;
    private final Duration readyTimeout;
    private final Duration idlePingEvery;
    private final Clock clock;

    private final CountDownLatch stopRequested = new CountDownLatch(1);
    private final Set<TopicPartition> assigned = ConcurrentHashMap.newKeySet();
    /** Partitions whose position still has to come from the database; touched only on the writer thread. */
    private final Set<TopicPartition> unpositioned = new HashSet<>();
    private volatile boolean running = true;
    private volatile boolean databaseUp;
    /** Why the database is not usable (the last failure), or null. */
    private volatile String databaseProblem;
    /** When the database call in flight started, or null when none is. */
    private volatile Instant databaseCallSince;
    private final java.util.concurrent.atomic.AtomicBoolean stallReported = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile Instant lastBatchAt;
    private volatile int lastBatchRecords;
    /** Records whose dead letter is out but whose offset is not committed yet; touched only on the writer thread. */
    private final Set<SourceOffset> sentDeadLetters = new HashSet<>();
    private Duration backoff = FIRST_BACKOFF;
    private Instant lastDatabaseCheck = Instant.EPOCH;

    SinkWriter(Consumer<byte[], byte[]> consumer, Producer<Bytes, DeadLetter> deadLetters, SinkStore store,
               SinkMetrics metrics, Duration pollTimeout, Duration maxBackoff, Duration readyTimeout, Clock clock) {
        this.consumer = consumer;
        this.deadLetters = deadLetters;
        this.store = store;
        this.metrics = metrics;
        this.pollTimeout = pollTimeout;
        this.maxBackoff = maxBackoff;
        this.readyTimeout = readyTimeout;
        Duration half = readyTimeout.dividedBy(2);
        this.idlePingEvery = half.compareTo(Duration.ofMillis(100)) < 0 ? Duration.ofMillis(100) : half;
        this.clock = clock;
    }

    @Override
    public void run() {
        try {
            consumer.subscribe(Arrays.stream(PartitionedTable.values()).map(PartitionedTable::topic).toList(), this);
            while (running) {
                if (!unpositioned.isEmpty() && !positionFromStore()) {
                    backOff();
                }
                ConsumerRecords<byte[], byte[]> records;
                try {
                    records = consumer.poll(pollTimeout);
                } catch (WakeupException e) {
                    continue; // close() woke us; the loop condition decides
                }
                if (records.isEmpty()) {
                    checkDatabaseWhenIdle();
                } else if (writeBatch(records)) {
                    backoff = FIRST_BACKOFF;
                } else {
                    backOff();
                }
            }
        } finally {
            closeQuietly(consumer, "consumer");
            closeQuietly(deadLetters, "dead-letter producer");
            closeQuietly(store, "database connection");
        }
    }

    /**
     * Asks the loop to stop after the batch in hand is committed (or rolled back); returns at once. Until this is
     * called the loop returns only when its thread is interrupted.
     */
    void stop() {
        running = false;
        stopRequested.countDown();
        consumer.wakeup();
    }

    /**
     * The database answered the last time it was asked, no call to it has been waiting longer than the ready
     * timeout (a hung server answers nothing, so "the last call worked" alone would stay true), and partitions are
     * assigned.
     */
    boolean isReady() {
        return databaseUp && stalledFor() == null && !assigned.isEmpty();
    }

    /**
     * How long the database call in flight has been waiting, if longer than the ready timeout; logs the first
     * time it sees a stall (the writer itself is stuck in the call and cannot). Called by readiness, /status and
     * the service's watchdog.
     */
    Duration stalledFor() {
        Instant since = databaseCallSince;
        Duration waiting = since == null ? Duration.ZERO : Duration.between(since, clock.instant());
        if (waiting.compareTo(readyTimeout) <= 0) {
            stallReported.set(false);
            return null;
        }
        if (stallReported.compareAndSet(false, true)) {
            LOG.warn("database has not answered the writer for {} (sink.ready.db.timeout {}): not ready; the call "
                    + "fails after sink.jdbc.socket.timeout and is retried", Durations.format(waiting),
                    Durations.format(readyTimeout));
        }
        return waiting;
    }

    Map<String, Object> status() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("assignedPartitions", assigned.stream().map(TopicPartition::toString).sorted().toList());
        Duration stalled = stalledFor();
        out.put("databaseUp", databaseUp && stalled == null);
        out.put("databaseProblem", stalled != null
                ? "a database call has been waiting " + Durations.format(stalled) + " without an answer"
                : databaseUp ? null : databaseProblem);
        out.put("lastBatchAt", lastBatchAt == null ? null : lastBatchAt.toString());
        out.put("lastBatchRecords", lastBatchRecords);
        return out;
    }

    private boolean writeBatch(ConsumerRecords<byte[], byte[]> records) {
        long started = System.nanoTime();
        SinkBatch batch = SinkBatch.decode(records, clock.instant());
        try {
            sendDeadLetters(batch.deadLetters());
            SinkStore.Written written = timed(() -> store.write(batch, rejected -> sendDeadLetters(rejected.stream()
                    .filter(r -> !SinkBatch.isDeadLetterTopic(r.row().record().topic()))
                    .map(r -> SinkBatch.deadLetterOf(r.row().record(), SinkBatch.REJECTED,
                            "PostgreSQL refused the row (SQLState " + r.sqlState() + "): " + r.message(), clock.instant()))
                    .toList())));
            databaseIs(null);
            for (PartitionedTable table : PartitionedTable.values()) {
                MergeCounts counts = written.of(table);
                metrics.rowsWritten(table, counts.written(), counts.inDefault());
            }
            batch.outcomesAfter(written.rejected().stream().map(SinkStore.Rejected::row).toList())
                    .forEach((topic, outcomes) -> outcomes.forEach((outcome, n) -> metrics.recordsCommitted(topic, outcome, n)));
            metrics.batchCommitted(System.nanoTime() - started);
            warnAboutDefaultPartition(written);
            forgetSentDeadLettersBefore(batch.nextOffsets());
            lastBatchAt = clock.instant();
            lastBatchRecords = batch.records();
            commitToKafkaForLagMonitoring(batch);
            return true;
        } catch (SinkStore.StoreException e) {
            databaseIs(e.getMessage());
            metrics.dbError();
            LOG.warn("batch of {} records rolled back; retrying from the stored offsets in {}: {}",
                    batch.records(), Durations.format(backoff), e.getMessage());
            rewindToStoredOffsets();
            return false;
        } catch (DeadLetterFailure e) {
            LOG.warn("could not send dead letters; retrying the batch from the stored offsets in {}: {}",
                    Durations.format(backoff), e.getMessage());
            rewindToStoredOffsets();
            return false;
        }
    }

    /**
     * Dead letters are sent and flushed before the transaction that moves past their records: if the sink dies in
     * between, they are sent again after the restart (at least once) rather than lost. Within one run each record's
     * dead letter is sent once: a batch retried after a database failure skips the ones already out.
     */
    private void sendDeadLetters(List<ProducerRecord<Bytes, DeadLetter>> letters) {
        List<ProducerRecord<Bytes, DeadLetter>> unsent = letters.stream()
                .filter(letter -> !sentDeadLetters.contains(SourceOffset.of(letter.value()))).toList();
        if (unsent.isEmpty()) {
            return;
        }
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try {
            unsent.forEach(letter -> sent.add(deadLetters.send(letter)));
            deadLetters.flush();
            for (Future<RecordMetadata> f : sent) {
                f.get();
            }
        } catch (ExecutionException e) {
            throw new DeadLetterFailure(e.getCause());
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new DeadLetterFailure(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
            throw new DeadLetterFailure(e);
        }
        unsent.forEach(letter -> {
            DeadLetter value = letter.value();
            sentDeadLetters.add(SourceOffset.of(value));
            metrics.deadLetter(value.getSourceTopic(), value.getReason());
            LOG.warn("dead-lettered {}-{}@{} ({}): {}", value.getSourceTopic(), value.getSourcePartition(),
                    value.getSourceOffset(), value.getReason(), value.getError());
        });
    }

    /** Once the offsets are committed past a dead letter's record, it is never re-read: no need to remember it. */
    private void forgetSentDeadLettersBefore(Map<TopicPartition, Long> committed) {
        sentDeadLetters.removeIf(sent -> {
            Long next = committed.get(sent.partition());
            return next != null && sent.offset() < next;
        });
    }

    private void warnAboutDefaultPartition(SinkStore.Written written) {
        written.merged().forEach((table, counts) -> {
            if (counts.inDefault() > 0) {
                LOG.warn("{} rows of {} went to its DEFAULT partition: their {} is outside every dated partition "
                        + "(see the partition maintenance warning)", counts.inDefault(), table.parent(), table.column());
            }
        });
    }

    private void commitToKafkaForLagMonitoring(SinkBatch batch) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        batch.nextOffsets().forEach((tp, next) -> offsets.put(tp, new OffsetAndMetadata(next)));
        consumer.commitAsync(offsets, (committed, e) -> {
            if (e != null) {
                LOG.debug("Kafka offset commit (lag monitoring only) failed: {}", e.toString());
            }
        });
    }

    /** Pause everything and take positions from the database again before reading on. */
    private void rewindToStoredOffsets() {
        Set<TopicPartition> all = consumer.assignment();
        unpositioned.addAll(all);
        consumer.pause(all);
    }

    /**
     * Seeks every unpositioned partition to its stored offset; when the database fails, leaves them paused and says
     * so. A stored offset that is not a Kafka offset is corrupt state no retry can fix: it ends the loop.
     */
    private boolean positionFromStore() {
        try {
            Map<TopicPartition, Long> stored = timed(store::storedOffsets);
            for (TopicPartition tp : unpositioned) {
                Long next = stored.get(tp);
                if (next != null && next < 0) {
                    throw new IllegalStateException("sink_offset holds next_offset " + next + " for " + tp
                            + ": not a Kafka offset; correct or delete that row (deleting it re-reads the partition"
                            + " from the beginning, idempotently)");
                }
                if (next != null) {
                    consumer.seek(tp, next);
                } else {
                    consumer.seekToBeginning(List.of(tp));
                }
            }
            LOG.info("resuming {} from the stored offsets", unpositioned);
            consumer.resume(unpositioned);
            unpositioned.clear();
            databaseIs(null);
            return true;
        } catch (SinkStore.StoreException e) {
            databaseIs(e.getMessage());
            metrics.dbError();
            consumer.pause(unpositioned);
            LOG.warn("cannot read stored offsets for {}; partitions paused until the database answers: {}",
                    unpositioned, e.getMessage());
            return false;
        }
    }

    private void checkDatabaseWhenIdle() {
        Instant now = clock.instant();
        if (Duration.between(lastDatabaseCheck, now).compareTo(idlePingEvery) < 0) {
            return;
        }
        lastDatabaseCheck = now;
        try {
            timed(() -> {
                store.ping();
                return null;
            });
            databaseIs(null);
        } catch (SinkStore.StoreException e) {
            if (databaseUp) {
                LOG.warn("database does not answer: {}", e.getMessage());
            }
            databaseIs(e.getMessage());
            metrics.dbError();
        }
    }

    /** Runs one database call, visible to readiness while it waits. */
    private <T> T timed(java.util.function.Supplier<T> call) {
        databaseCallSince = clock.instant();
        try {
            return call.get();
        } finally {
            databaseCallSince = null;
        }
    }

    /** Records the outcome of a database call: null when it answered, else why not. */
    private void databaseIs(String problem) {
        databaseUp = problem == null;
        databaseProblem = problem;
    }

    private void backOff() {
        try {
            if (stopRequested.await(backoff.toMillis(), TimeUnit.MILLISECONDS)) {
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
            return;
        }
        Duration doubled = backoff.multipliedBy(2);
        backoff = doubled.compareTo(maxBackoff) > 0 ? maxBackoff : doubled;
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        LOG.info("assigned {}", partitions);
        assigned.addAll(partitions);
        unpositioned.addAll(partitions);
        if (!unpositioned.isEmpty()) {
            positionFromStore();
        }
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        // Nothing is in flight here: this runs inside poll(), and every batch is committed before the next poll.
        LOG.info("revoked {}", partitions);
        assigned.removeAll(partitions);
        unpositioned.removeAll(partitions);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
        LOG.warn("lost {} (another member may already own them; our rows are idempotent upserts)", partitions);
        onPartitionsRevoked(partitions);
    }

    private static void closeQuietly(AutoCloseable closeable, String what) {
        try {
            closeable.close();
        } catch (Exception e) {
            LOG.warn("error closing the {}", what, e);
        }
    }

    /** Where a dead letter's record sits in its source topic. */
    private record SourceOffset(TopicPartition partition, long offset) {
        static SourceOffset of(DeadLetter letter) {
            return new SourceOffset(new TopicPartition(letter.getSourceTopic(), letter.getSourcePartition()),
                    letter.getSourceOffset());
        }
    }

    /** The DLQ could not take a batch's dead letters; the batch is not committed and will be retried. */
    private static final class DeadLetterFailure extends RuntimeException {
        DeadLetterFailure(Throwable cause) {
            super(String.valueOf(cause), cause);
        }
    }
}
