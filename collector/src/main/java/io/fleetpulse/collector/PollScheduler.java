package io.fleetpulse.collector;

import io.fleetpulse.events.Target;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * Polls every target's health and metrics endpoints on its interval, without ever blocking the event loop. A health
 * endpoint {@code tcp://host:port} is a TCP connect check ({@link TargetTcpClient}), any other an HTTP GET.
 *
 * <p>All state lives on one Vert.x context, so it needs no locks. When each endpoint is due is a {@link PollPlan} (the
 * health endpoint every {@code checkIntervalMs}, the metrics endpoint every {@code metricsIntervalMs}, else as often):
 * first polls spread at random over each interval, and every later one jittered too, so a thousand targets never
 * fire in lockstep. One timer wakes the scheduler at the next due start. At most {@code maxConcurrent} requests are in
 * flight; the rest wait, the most overdue (earliest planned start) first. A target whose previous poll of the same
 * kind is still running is skipped for that start (counted), so a slow target cannot pile up requests;
 * {@link TargetHttpClient}'s hard deadline frees every slot within the target's timeout, however slowly the target
 * answers. Each poll's scheduling lag (actual minus planned start) goes to {@code schedulingLagMs}.
 */
final class PollScheduler {

    enum Kind { HEALTH, METRICS }

    /** Receives every finished poll, on the scheduler's context; must not block. */
    interface Listener {
        void polled(Target target, Kind kind, Instant observedAt, HttpOutcome outcome, long elapsedNanos);
    }

    /** What the plan plans: one endpoint of one target, each on its own interval. */
    private record Planned(Target target, Kind kind) {
    }

    private record Poll(Target target, Kind kind, long plannedMs, long order) {
        String url() {
            return kind == Kind.HEALTH ? target.getHealthUrl() : target.getMetricsUrl();
        }

        String key() {
            return kind + "/" + target.getTargetId();
        }
    }

    private static final double FIRST_START_SPREAD_WHEN_RUNNING = 0.1;

    private final Vertx vertx;
    private final Context context;
    private final TargetHttpClient client;
    private final TargetTcpClient tcp;
    private final Clock clock;
    private final int maxConcurrent;
    private final Listener listener;
    private final LongConsumer schedulingLagMs;

    // Touched only on the context.
    private final PollPlan<Planned> plan;
    private final PriorityQueue<Poll> waiting = new PriorityQueue<>((a, b) -> a.plannedMs() != b.plannedMs()
            ? Long.compare(a.plannedMs(), b.plannedMs()) : Long.compare(a.order(), b.order()));
    private final Set<String> busy = new HashSet<>();
    /** The targets planned now, by id: what {@link #update} compares a changed target against. */
    private final Map<String, Target> planned = new HashMap<>();
    private long wakeTimer = -1;
    private long enqueued;
    private boolean stopping;
    private Promise<Void> drained;

    // Read from any thread by status and gauges.
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicInteger plannedCount = new AtomicInteger();
    private volatile boolean started;

    /**
     * @param jitterFraction  how far each start may move from its anchor, as a fraction of the interval (0 to 0.5)
     * @param schedulingLagMs told each poll's lag as it is sent, on the context
     */
    PollScheduler(Vertx vertx, TargetHttpClient client, Clock clock, int maxConcurrent, double jitterFraction,
                  LongConsumer schedulingLagMs, Listener listener) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.client = client;
        this.tcp = new TargetTcpClient(vertx);
        this.clock = clock;
        this.maxConcurrent = maxConcurrent;
        this.listener = listener;
        this.schedulingLagMs = schedulingLagMs;
        this.plan = new PollPlan<>(jitterFraction, new SplittableRandom());
    }

    /** Schedules every target; returns once the plan is set. */
    Future<Void> start(List<Target> targets) {
        Promise<Void> scheduled = Promise.promise();
        context.runOnContext(v -> {
            targets.forEach(t -> plan(t, 1.0));
            rewake();
            started = true;
            scheduled.complete();
        });
        return scheduled.future();
    }

    /**
     * Polls {@code target} from now on, replacing the target of its id if it changed (its plan starts afresh, its
     * first start within one interval); the same target again changes nothing. Safe from any thread.
     */
    void update(Target target, boolean soon) {
        context.runOnContext(v -> {
            if (stopping || target.equals(planned.get(target.getTargetId()))) {
                return;
            }
            unplan(target.getTargetId());
            // Arriving while running (added, or moved from another instance whose last poll may be most of an interval
            // ago): first polled within a tenth of its interval, so the move does not add a whole interval to its gap.
            // At start the first polls spread over the whole interval, so a large inventory does not fire at once.
            plan(target, soon ? FIRST_START_SPREAD_WHEN_RUNNING : 1.0);
            rewake();
        });
    }

    /**
     * Stops polling the target {@code targetId}: a poll of it in flight still finishes and is published. The future
     * completes on the scheduler's context once it is unplanned, so what its handlers do comes before any such poll's end.
     */
    Future<Void> remove(String targetId) {
        Promise<Void> removed = Promise.promise();
        context.runOnContext(v -> {
            if (!stopping && planned.containsKey(targetId)) {
                unplan(targetId);
                rewake();
            }
            removed.complete();
        });
        return removed.future();
    }

    /** Whether {@code targetId} is planned now; only on the scheduler's context (a listener's {@code polled}). */
    boolean plans(String targetId) {
        return planned.containsKey(targetId);
    }

    /** How many targets are planned now. */
    int targets() {
        return plannedCount.get();
    }

    /** Plans both endpoints, each first start within {@code firstSpread} of its interval. */
    private void plan(Target target, double firstSpread) {
        long now = nowMs();
        planned.put(target.getTargetId(), target);
        plannedCount.set(planned.size());
        long interval = target.getCheckIntervalMs();
        plan.add(new Planned(target, Kind.HEALTH), interval, now, Math.round(interval * firstSpread));
        if (target.getMetricsUrl() != null) {
            Long metricsInterval = target.getMetricsIntervalMs();
            long every = metricsInterval != null ? metricsInterval : interval;
            plan.add(new Planned(target, Kind.METRICS), every, now, Math.round(every * firstSpread));
        }
    }

    private void unplan(String targetId) {
        if (planned.remove(targetId) == null) {
            return;
        }
        plannedCount.set(planned.size());
        plan.removeIf(p -> p.target().getTargetId().equals(targetId));
        waiting.removeIf(p -> {
            boolean its = p.target().getTargetId().equals(targetId);
            if (its) {
                busy.remove(p.key());
                queued.decrementAndGet();
            }
            return its;
        });
    }

    /** The plan's next due start may have moved: set the one timer again. */
    private void rewake() {
        if (wakeTimer >= 0) {
            vertx.cancelTimer(wakeTimer);
            wakeTimer = -1;
        }
        wakeAtNextDue();
    }

    boolean started() {
        return started && !stopping;
    }

    int inFlight() {
        return inFlight.get();
    }

    int queued() {
        return queued.get();
    }

    /** Starts at which a target was not polled because its previous poll of the same kind had not finished. */
    long skipped() {
        return skipped.get();
    }

    /** Stops scheduling and drops waiting polls; the future completes once the polls in flight have finished. */
    Future<Void> stop() {
        Promise<Void> done = Promise.promise();
        context.runOnContext(v -> {
            stopping = true;
            if (wakeTimer >= 0) {
                vertx.cancelTimer(wakeTimer);
            }
            plan.clear();
            planned.clear();
            plannedCount.set(0);
            waiting.forEach(p -> busy.remove(p.key()));
            waiting.clear();
            queued.set(0);
            if (inFlight.get() == 0) {
                done.complete();
            } else {
                drained = done;
            }
        });
        return done.future();
    }

    /** The scheduler's own time line: monotonic, so a wall-clock step neither bunches nor stalls polls. */
    private static long nowMs() {
        return System.nanoTime() / 1_000_000;
    }

    private void wakeAtNextDue() {
        long next = plan.nextDueMs();
        if (stopping || next == Long.MAX_VALUE) {
            return;
        }
        wakeTimer = vertx.setTimer(Math.max(1, next - nowMs()), id -> tick());
    }

    private void tick() {
        wakeTimer = -1;
        if (stopping) {
            return;
        }
        for (PollPlan.Due<Planned> due : plan.takeDue(nowMs())) {
            enqueue(due.item().target(), due.item().kind(), due.plannedMs());
        }
        drain();
        wakeAtNextDue();
    }

    private void enqueue(Target target, Kind kind, long plannedMs) {
        Poll poll = new Poll(target, kind, plannedMs, enqueued++);
        if (!busy.add(poll.key())) {
            skipped.incrementAndGet();
            return;
        }
        waiting.add(poll);
        queued.incrementAndGet();
    }

    private void drain() {
        while (!stopping && inFlight.get() < maxConcurrent && !waiting.isEmpty()) {
            queued.decrementAndGet();
            send(waiting.poll());
        }
    }

    private void send(Poll poll) {
        inFlight.incrementAndGet();
        schedulingLagMs.accept(Math.max(0, nowMs() - poll.plannedMs()));
        // Event time is when we asked, not when the answer came: a slow answer describes the moment of asking.
        Instant observedAt = clock.instant();
        long startNanos = System.nanoTime();
        // The clients' hard deadline guarantees the outcome, so the slot is always given back.
        String url = poll.url();
        (TargetTcpClient.isTcp(url) ? tcp.connect(url, poll.target().getTimeoutMs())
                : client.get(url, poll.target().getTimeoutMs()))
                .onSuccess(outcome -> finish(poll, observedAt, outcome, System.nanoTime() - startNanos));
    }

    private void finish(Poll poll, Instant observedAt, HttpOutcome outcome, long elapsedNanos) {
        inFlight.decrementAndGet();
        busy.remove(poll.key());
        try {
            listener.polled(poll.target(), poll.kind(), observedAt, outcome, elapsedNanos);
        } finally {
            if (stopping && inFlight.get() == 0 && drained != null) {
                drained.tryComplete();
            }
            drain();
        }
    }
}
