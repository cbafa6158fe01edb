package io.fleetpulse.stream;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.DeadLetter;
import io.fleetpulse.events.HealthScore;
import io.fleetpulse.events.MetricSample;
import io.fleetpulse.events.Target;
import io.fleetpulse.events.TargetWindow;
import io.fleetpulse.schemas.DeadLetters;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongConsumer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The task's window engine: event time <em>per target</em>, 1-minute and 1-hour tumbling windows, lateness, idle
 * closing and absence, for every target of one task.
 *
 * <p><b>Event time.</b> A target's event time is the highest observed-at accepted for it. A window [s, e) of the
 * target closes, emitting its one final result, once that target's event time reaches e + grace; a record for a
 * closed window is {@code late}. One target's clock never moves another target's windows.
 *
 * <p><b>Idle closing.</b> When a target (or its whole partition) goes quiet, the wall-clock punctuation carries its
 * event time on at wall-clock pace from its last arrival, and closes a window once that passes e + grace + idle
 * timeout. Punctuation decides only when a window closes; a record for the window delayed by more than the idle
 * timeout is then late, as it would be after the target's own next record.
 *
 * <p><b>1 hour.</b> A closed minute is merged into its hour's accumulator; the hour closes by the same rules when its
 * end + grace is reached, after all its minutes.
 *
 * <p><b>Absence.</b> The task's event time is the highest observed-at of all its targets. A target is silent when the
 * task's event time has moved the absence timeout on since the target's last record was accepted (not since the
 * target's own event time: a slow clock that keeps sending is not silent). For this, one record moves the task's
 * event time on by at most half the absence timeout: a fast clock joining the task (or one record far ahead) cannot
 * make all other targets look silent at once. A silent target is reported
 * ({@link Signal#SILENCE_SECONDS}, once); once the whole task has had no record for the idle timeout, the task's
 * event time is carried on at wall-clock pace, so the targets of a silent partition are reported too. The target's
 * next record reports silence 0, so an absence alert resolves. In a live partition this depends only on the records
 * in their order, so a replay reports the same silences.
 *
 * <p><b>Health.</b> Each closed minute of a target is scored by {@link HealthScorer} (its critical checks from
 * {@code target-inventory}) and handed on; the latest score per target is kept in {@code target-health}. A silent
 * target's health is UNREACHABLE when its silence is reported; a window that closes while the target is reported
 * silent is not scored, so the UNREACHABLE stands until the target sends again.
 *
 * <p><b>Removal.</b> A {@code fleet.targets} tombstone ({@link InventoryChange}) drops the target's open windows
 * (no final result), its latest health (a tombstone on fleet.health), and its silence tracking; its clock stays,
 * marked removed, so records still in flight after the tombstone are windowed but neither scored nor ever reported
 * silent. A new inventory entry for the target watches it again.
 *
 * <p><b>Cost.</b> State is in three changelogged stores: {@code window-targets} (one {@link TargetClock} per target,
 * which lists its open windows, so closing never scans a window store), {@code windows-1m} and {@code windows-1h}
 * (one accumulator per open window, keyed {@code start|targetId}). Punctuation never scans a store: two in-memory
 * time-ordered indexes (targets by idle-closing deadline, present targets by the task time they were last seen at), rebuilt from
 * {@code window-targets} in {@link #init} (one scan per task assignment), give it the due targets in O(log n) each.
 * They cost about 200 bytes of heap per target; an entry may be early (see {@link #index}). Clocks and open minutes
 * are held as objects by their stores ({@link DeferredWriteStore}) and written out once per commit.
 */
final class WindowEngine implements Processor<Bytes, Intake<?>, String, EngineOutput> {

    /** An accepted {@code fleet.targets} entry, as the engine sees it: the target was removed (a tombstone) or (re)listed. */
    record InventoryChange(String targetId, boolean removed) {
    }

    static final long MINUTE_MS = Duration.ofMinutes(1).toMillis();
    static final long HOUR_MS = Duration.ofHours(1).toMillis();
    /** How often the wall clock is looked at; the idle and absence timeouts are what it is compared with. */
    static final Duration PUNCTUATE_EVERY = Duration.ofSeconds(1);
    /**
     * Clocks, and open 1-minute accumulators, held as objects per task and store (about 1 KiB each; beyond this the
     * least recently used are read from the store again). Hours are not held: a merged hour can be a 100 KiB histogram,
     * and it is touched once a minute, not on every record.
     */
    static final int HOT_ENTRIES_MAX = 20_000;

    private final long graceMs;
    private final long idleMs;
    private final long absenceMs;
    private final String targetStoreName;
    private final String minuteStoreName;
    private final String hourStoreName;
    private final PipelineCounters counters;
    private final HealthScorer scorer;

    private ProcessorContext<String, EngineOutput> context;
    /** The clocks and open minutes: each record reads and rewrites both, as objects (see {@link DeferredWriteStore}). */
    private KeyValueStore<String, TargetClock> targets;
    private KeyValueStore<String, WindowAccumulator> minutes;
    private KeyValueStore<String, WindowAccumulator> hours;
    private KeyValueStore<String, Target> inventory;
    private KeyValueStore<String, HealthScore> health;

    /** Wall-clock time this task started: idle time is counted from here at the earliest, so a restart closes nothing early. */
    private long startedWallMs;
    private long taskArrivalWallMs;
    private long taskEventTimeMs = Long.MIN_VALUE;
    /**
     * The task's event time as absence measures it: it follows {@link #taskEventTimeMs}, but one record moves it at most
     * {@link #maxProgressStepMs} at once, so a single fast clock joining the task does not make every other target look
     * silent at a stroke.
     */
    private long taskProgressMs = Long.MIN_VALUE;
    private final long maxProgressStepMs;
    /** How early an idle deadline may be indexed (see {@link #index}): half the idle timeout. */
    private final long idleSlackMs;
    /** How early a target's last-seen time may be indexed (see {@link #index}): an eighth of the absence timeout. */
    private final long presenceSlackMs;
    private final TimeIndex idleDeadlines = new TimeIndex();
    private final TimeIndex presentBySeenAt = new TimeIndex();

    /** One target due at one time; ordered by time, then target. */
    private record Due(long at, String target) implements Comparable<Due> {
        @Override
        public int compareTo(Due o) {
            int c = Long.compare(at, o.at);
            return c != 0 ? c : target.compareTo(o.target);
        }
    }

    /** Targets ordered by one time each: at most one entry per target, the due ones taken earliest first. */
    private static final class TimeIndex {
        private final TreeSet<Due> byTime = new TreeSet<>();
        private final Map<String, Long> atOf = new HashMap<>();

        Long at(String target) {
            return atOf.get(target);
        }

        /** Puts the target at {@code at}, instead of where it was. */
        void put(String target, long at) {
            remove(target);
            byTime.add(new Due(at, target));
            atOf.put(target, at);
        }

        void remove(String target) {
            Long old = atOf.remove(target);
            if (old != null) {
                byTime.remove(new Due(old, target));
            }
        }

        /** Takes out and returns the earliest entry if it is at or before {@code limit}; null otherwise. */
        Due pollDue(long limit) {
            if (byTime.isEmpty() || byTime.first().at() > limit) {
                return null;
            }
            Due due = byTime.pollFirst();
            atOf.remove(due.target());
            return due;
        }

        void clear() {
            byTime.clear();
            atOf.clear();
        }
    }

    WindowEngine(Duration grace, TopologySettings.WindowTiming timing, String targetStoreName, String minuteStoreName,
                 String hourStoreName, PipelineCounters counters, HealthScorer.Weights healthWeights) {
        this.graceMs = grace.toMillis();
        this.idleMs = timing.idleTimeout().toMillis();
        this.absenceMs = timing.absenceTimeout().toMillis();
        this.maxProgressStepMs = absenceMs / 2;
        this.idleSlackMs = idleMs / 2;
        this.presenceSlackMs = absenceMs / 8;
        this.targetStoreName = targetStoreName;
        this.minuteStoreName = minuteStoreName;
        this.hourStoreName = hourStoreName;
        this.counters = counters;
        this.scorer = new HealthScorer(healthWeights);
    }

    static String windowKey(long start, String targetId) {
        return start + "|" + targetId; // the start has no '|', so keys cannot collide
    }

    @Override
    public void init(ProcessorContext<String, EngineOutput> context) {
        this.context = context;
        this.targets = context.getStateStore(targetStoreName);
        this.minutes = context.getStateStore(minuteStoreName);
        this.hours = context.getStateStore(hourStoreName);
        this.inventory = context.getStateStore(HealthTopology.INVENTORY_STORE);
        this.health = context.getStateStore(HealthTopology.HEALTH_STORE);
        startedWallMs = context.currentSystemTimeMs();
        taskArrivalWallMs = startedWallMs;
        // A revived task (after a failed transaction) is initialised again: start the indexes from the store afresh.
        taskEventTimeMs = Long.MIN_VALUE;
        taskProgressMs = Long.MIN_VALUE;
        idleDeadlines.clear();
        presentBySeenAt.clear();
        try (KeyValueIterator<String, TargetClock> all = targets.all()) {
            while (all.hasNext()) {
                KeyValue<String, TargetClock> entry = all.next();
                taskEventTimeMs = Math.max(taskEventTimeMs, entry.value.eventTimeMs());
                taskProgressMs = Math.max(taskProgressMs, entry.value.seenAtTaskTimeMs());
                index(entry.key, entry.value);
            }
        }
        context.schedule(PUNCTUATE_EVERY, PunctuationType.WALL_CLOCK_TIME, this::punctuate);
    }

    @Override
    public void process(Record<Bytes, Intake<?>> record) {
        long now = context.currentSystemTimeMs();
        Intake<?> intake = record.value();
        Object value = intake.value();
        if (value instanceof InventoryChange change) {
            inventoryChanged(change, record.timestamp());
            return; // not a record of the target: the task is as quiet as it was
        }
        taskArrivalWallMs = now;
        String target = value instanceof CheckResult c ? c.getTargetId() : ((MetricSample) value).getTargetId();
        long at = intake.observedAtMs();
        long minuteStart = floor(at, MINUTE_MS);

        TargetClock clock = targets.get(target);
        if (clock != null && lateFor(clock, minuteStart + MINUTE_MS)) {
            late(record, target, clock, at, minuteStart);
            return;
        }
        boolean wasAbsent = clock != null && clock.absent();
        boolean taskTimeMoved = at > taskEventTimeMs;
        if (taskTimeMoved) {
            taskProgressMs = taskEventTimeMs == Long.MIN_VALUE ? at
                    : taskProgressMs + Math.min(at - taskEventTimeMs, maxProgressStepMs);
            taskEventTimeMs = at;
        }
        String key = windowKey(minuteStart, target);
        // A minute the clock does not list as open has no accumulator yet, so it is not looked up: the lookup of an
        // absent key is RocksDB's costliest read (RocksJava unwinds a C++ exception), once per target and minute.
        WindowAccumulator acc = clock != null && clock.hasOpenMinute(minuteStart) ? minutes.get(key) : null;
        if (acc == null) {
            acc = new WindowAccumulator();
        }
        if (value instanceof CheckResult check) {
            acc.add(check);
        } else {
            acc.add((MetricSample) value);
        }
        minutes.put(key, acc);

        TargetClock base = clock == null ? TargetClock.first(at, now) : clock;
        TargetClock next = new TargetClock(Math.max(base.eventTimeMs(), at), taskProgressMs, now, base.closedThroughMs(), false,
                TargetClock.with(base.openMinutes(), minuteStart), TargetClock.with(base.openHours(), floor(at, HOUR_MS)),
                base.removed());
        next = closeThrough(target, next, next.eventTimeMs() - graceMs);
        targets.put(target, next);
        index(target, next);

        if (wasAbsent) {
            forward(target, EngineOutput.signal(SignalSample.point(Signal.SILENCE_SECONDS, 0, Instant.ofEpochMilli(at))), at);
        }
        forward(target, EngineOutput.accepted(value), at);
        if (taskTimeMoved) {
            reportSilent(taskProgressMs);
        }
    }

    /** A window ending at {@code end} has closed for this target: by its event time, or by idle closing. */
    private boolean lateFor(TargetClock clock, long end) {
        return end <= clock.closedThroughMs() || end + graceMs <= clock.eventTimeMs();
    }

    private void late(Record<Bytes, Intake<?>> record, String target, TargetClock clock, long at, long windowStart) {
        long windowEnd = windowStart + MINUTE_MS;
        String why = windowEnd + graceMs <= clock.eventTimeMs()
                ? "which closed at " + Instant.ofEpochMilli(windowEnd + graceMs) + " (grace " + graceMs + " ms)"
                : "which was closed by the wall clock after the target had sent nothing for the idle timeout";
        String error = "observedAt " + Instant.ofEpochMilli(at) + " falls in window [" + Instant.ofEpochMilli(windowStart)
                + ", " + Instant.ofEpochMilli(windowEnd) + ") of target '" + target + "', " + why
                + "; the target's event time had reached " + Instant.ofEpochMilli(clock.eventTimeMs());
        counters.deadLetter(DeadLetters.LATE);
        RecordMetadata meta = context.recordMetadata().orElseThrow(
                () -> new IllegalStateException("the window engine must sit in its source topics' sub-topology"));
        DeadLetter letter = DeadLetters.of(IntakeProcessor.SERVICE, meta.topic(), meta.partition(), meta.offset(),
                record.key() == null ? null : record.key().get(), record.value().original(), DeadLetters.LATE, error,
                Instant.ofEpochMilli(context.currentSystemTimeMs()));
        forward(target, EngineOutput.late(letter), record.timestamp());
    }

    /**
     * Closes, in order of their end, the target's windows ending at or before {@code limit}; minutes before hours.
     * A minute is scored unless the target is reported silent (its UNREACHABLE stands) or removed.
     */
    private TargetClock closeThrough(String target, TargetClock clock, long limit) {
        long[] openMinutes = clock.openMinutes();
        long[] openHours = clock.openHours();
        boolean scored = !clock.absent() && !clock.removed();
        int m = closeDue(openMinutes, MINUTE_MS, limit, start -> closeMinute(target, start, scored));
        int h = closeDue(openHours, HOUR_MS, limit, start -> closeHour(target, start));
        if (m == 0 && h == 0) {
            return clock;
        }
        long closedThrough = clock.closedThroughMs();
        if (m > 0) {
            closedThrough = Math.max(closedThrough, openMinutes[m - 1] + MINUTE_MS);
        }
        if (h > 0) {
            closedThrough = Math.max(closedThrough, openHours[h - 1] + HOUR_MS);
        }
        return clock.withClosed(closedThrough, Arrays.copyOfRange(openMinutes, m, openMinutes.length),
                Arrays.copyOfRange(openHours, h, openHours.length));
    }

    /** Closes the leading windows of {@code starts} (ascending) that end at or before {@code limit}; returns how many. */
    private static int closeDue(long[] starts, long size, long limit, LongConsumer close) {
        int closed = 0;
        while (closed < starts.length && starts[closed] + size <= limit) {
            close.accept(starts[closed]);
            closed++;
        }
        return closed;
    }

    private void closeMinute(String target, long start, boolean scored) {
        WindowAccumulator acc = close(minutes::get, minutes::delete, target, start, MINUTE_MS, (window, closed) -> {
            forward(target, EngineOutput.minute(window), window.getWindowEnd().toEpochMilli());
            if (scored) {
                Target listed = inventory.get(target);
                publishHealth(target, scorer.score(closed, window, listed == null ? List.of() : listed.getCriticalChecks()));
            }
        });
        if (acc != null) {
            counters.windowOut();
            String hourKey = windowKey(floor(start, HOUR_MS), target);
            WindowAccumulator hour = hours.get(hourKey);
            hours.put(hourKey, hour == null ? acc : hour.merge(acc));
        }
    }

    private void closeHour(String target, long start) {
        close(hours::get, hours::delete, target, start, HOUR_MS,
                (window, closed) -> forward(target, EngineOutput.hour(window), window.getWindowEnd().toEpochMilli()));
    }

    /**
     * Takes the window's accumulator out of its store and gives its final result to {@code closed}; returns the
     * accumulator, null if the window held nothing.
     */
    private static WindowAccumulator close(Function<String, WindowAccumulator> get, Consumer<String> delete, String target,
                                           long start, long size, BiConsumer<TargetWindow, WindowAccumulator> closed) {
        String key = windowKey(start, target);
        WindowAccumulator acc = get.apply(key);
        if (acc != null) {
            delete.accept(key);
            closed.accept(acc.toTargetWindow(target, Instant.ofEpochMilli(start), Instant.ofEpochMilli(start + size)), acc);
        }
        return acc;
    }

    private void publishHealth(String target, HealthScore score) {
        counters.healthScored(score.getStatus());
        health.put(target, score);
        forward(target, EngineOutput.health(score), score.getWindowEnd().toEpochMilli());
    }

    /**
     * A tombstone drops the target's open windows, its health and its silence tracking (see the class doc); a listing
     * of a removed target watches it again, its silence counted from now.
     */
    private void inventoryChanged(InventoryChange change, long timestamp) {
        String target = change.targetId();
        TargetClock clock = targets.get(target);
        if (!change.removed()) {
            if (clock != null && clock.removed()) {
                TargetClock restored = clock.asRestored(taskProgressMs);
                targets.put(target, restored);
                index(target, restored);
            }
            return;
        }
        if (clock != null) {
            for (long start : clock.openMinutes()) {
                minutes.delete(windowKey(start, target));
            }
            for (long start : clock.openHours()) {
                hours.delete(windowKey(start, target));
            }
            TargetClock removed = clock.asRemoved();
            targets.put(target, removed);
            index(target, removed);
        }
        if (health.get(target) != null) {
            health.delete(target);
            forward(target, EngineOutput.health(null), timestamp);
        }
    }

    /** Wall clock: closes the windows of idle targets, and reports silence when the whole task has gone quiet. */
    private void punctuate(long now) {
        for (Due due = idleDeadlines.pollDue(now); due != null; due = idleDeadlines.pollDue(now)) {
            String target = due.target();
            TargetClock clock = targets.get(target);
            if (clock == null) {
                continue;
            }
            long deadline = idleDeadline(clock);
            if (deadline > due.at()) {
                // Indexed early (see index): back in at its true deadline, so due targets still close in that order.
                if (deadline != Long.MAX_VALUE) {
                    idleDeadlines.put(target, deadline);
                }
                continue;
            }
            long carriedOn = clock.eventTimeMs() + (now - idleSince(clock));
            TargetClock next = closeThrough(target, clock, carriedOn - graceMs - idleMs);
            if (next != clock) {
                targets.put(target, next);
            }
            long nextDeadline = idleDeadline(next);
            if (nextDeadline != Long.MAX_VALUE) {
                idleDeadlines.put(target, nextDeadline);
            }
        }
        long taskQuietFor = now - taskArrivalWallMs;
        if (taskQuietFor >= idleMs && taskProgressMs != Long.MIN_VALUE) {
            reportSilent(taskProgressMs + taskQuietFor);
        }
    }

    private long idleSince(TargetClock clock) {
        return Math.max(clock.arrivalWallMs(), startedWallMs);
    }

    /** Reports, once each, the present targets last seen the absence timeout or more before {@code taskTime}. */
    private void reportSilent(long taskTime) {
        List<String> silent = new ArrayList<>();
        for (Due due = presentBySeenAt.pollDue(taskTime - absenceMs); due != null;
             due = presentBySeenAt.pollDue(taskTime - absenceMs)) {
            String target = due.target();
            TargetClock clock = targets.get(target);
            if (clock != null && clock.seenAtTaskTimeMs() > due.at() && !clock.absent() && !clock.removed()) {
                // Indexed early (see index): back in at when it was really last seen, which keeps the order.
                presentBySeenAt.put(target, clock.seenAtTaskTimeMs());
                continue;
            }
            silent.add(target);
        }
        for (String target : silent) {
            TargetClock clock = targets.get(target);
            if (clock == null || clock.absent() || clock.removed()) {
                continue;
            }
            targets.put(target, clock.withAbsent());
            double seconds = (taskTime - clock.seenAtTaskTimeMs()) / 1000.0;
            forward(target, EngineOutput.signal(SignalSample.point(Signal.SILENCE_SECONDS, seconds,
                    Instant.ofEpochMilli(taskTime))), taskTime);
            publishHealth(target, HealthScorer.silent(target, seconds, Instant.ofEpochMilli(clock.eventTimeMs()),
                    Instant.ofEpochMilli(taskTime)));
        }
    }

    /**
     * Puts the target in the in-memory indexes where its clock says it belongs, or earlier: an entry may stand for a
     * time up to {@link #idleSlackMs} (idle deadline) or {@link #presenceSlackMs} (last seen) before the true one, so
     * most records of a target leave both indexes alone instead of taking it out and putting it back (four O(log n)
     * steps). An entry that comes due early is checked against the clock and put back at its true time, and the due
     * ones are still taken in order of their true times: the outputs are exactly those of an exact index.
     */
    private void index(String target, TargetClock clock) {
        long earliestEnd = clock.earliestOpenEnd(MINUTE_MS, HOUR_MS);
        Long indexed = idleDeadlines.at(target);
        if (earliestEnd == Long.MAX_VALUE) {
            idleDeadlines.remove(target);
        } else {
            long deadline = idleDeadline(clock);
            if (indexed == null || deadline < indexed || deadline >= indexed + 2 * idleSlackMs) {
                // Early by the slack: a deadline that keeps moving within it (a replay, a burst) leaves the entry be.
                idleDeadlines.put(target, deadline - idleSlackMs);
            }
        }
        Long seenAt = presentBySeenAt.at(target);
        if (clock.absent() || clock.removed()) {
            presentBySeenAt.remove(target);
        } else if (seenAt == null || clock.seenAtTaskTimeMs() < seenAt || clock.seenAtTaskTimeMs() >= seenAt + presenceSlackMs) {
            presentBySeenAt.put(target, clock.seenAtTaskTimeMs());
        }
    }

    /** When the target's event time, carried on at wall-clock pace, passes its earliest open end + grace + idle timeout. */
    private long idleDeadline(TargetClock clock) {
        long earliestEnd = clock.earliestOpenEnd(MINUTE_MS, HOUR_MS);
        if (earliestEnd == Long.MAX_VALUE) {
            return Long.MAX_VALUE;
        }
        return idleSince(clock) + Math.max(0, earliestEnd + graceMs + idleMs - clock.eventTimeMs());
    }

    private void forward(String target, EngineOutput output, long timestamp) {
        context.forward(new Record<>(target, output, timestamp));
    }

    static long floor(long at, long size) {
        return at - Math.floorMod(at, size);
    }
}
