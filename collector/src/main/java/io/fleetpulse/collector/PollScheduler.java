package io.fleetpulse.collector;

import io.fleetpulse.events.Target;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Polls every target's health and metrics endpoints on its interval, without ever blocking the event loop.
 *
 * <p>All state lives on one Vert.x context, so it needs no locks. First polls are spread at random over each
 * target's interval, so a thousand targets do not fire in lockstep. At most {@code maxConcurrent} requests are in
 * flight; the rest wait in a queue. A target whose previous poll of the same kind is still running is skipped for
 * that tick (counted), so a slow target cannot pile up requests; {@link TargetHttpClient}'s hard deadline frees every
 * slot within the target's timeout, however slowly the target answers.
 */
final class PollScheduler {

    enum Kind { HEALTH, METRICS }

    /** Receives every finished poll, on the scheduler's context; must not block. */
    interface Listener {
        void polled(Target target, Kind kind, Instant observedAt, HttpOutcome outcome, long elapsedNanos);
    }

    private record Poll(Target target, Kind kind) {
        String url() {
            return kind == Kind.HEALTH ? target.getHealthUrl() : target.getMetricsUrl();
        }

        String key() {
            return kind + "/" + target.getTargetId();
        }
    }

    private final Vertx vertx;
    private final Context context;
    private final TargetHttpClient client;
    private final Clock clock;
    private final int maxConcurrent;
    private final Listener listener;
    private final SplittableRandom jitter = new SplittableRandom();

    // Touched only on the context.
    private final List<Long> timers = new ArrayList<>();
    private final Queue<Poll> waiting = new ArrayDeque<>();
    private final Set<String> busy = new HashSet<>();
    private boolean stopping;
    private Promise<Void> drained;

    // Read from any thread by status and gauges.
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicLong skipped = new AtomicLong();
    private volatile boolean started;

    PollScheduler(Vertx vertx, TargetHttpClient client, Clock clock, int maxConcurrent, Listener listener) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.client = client;
        this.clock = clock;
        this.maxConcurrent = maxConcurrent;
        this.listener = listener;
    }

    /** Schedules every target; returns once the timers are set. */
    Future<Void> start(List<Target> targets) {
        Promise<Void> scheduled = Promise.promise();
        context.runOnContext(v -> {
            for (Target target : targets) {
                long interval = target.getCheckIntervalMs();
                long firstIn = 1 + jitter.nextLong(interval);
                timers.add(vertx.setPeriodic(firstIn, interval, id -> due(target)));
            }
            started = true;
            scheduled.complete();
        });
        return scheduled.future();
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

    /** Ticks on which a target was not polled because its previous poll of the same kind had not finished. */
    long skipped() {
        return skipped.get();
    }

    /** Stops scheduling and drops waiting polls; the future completes once the polls in flight have finished. */
    Future<Void> stop() {
        Promise<Void> done = Promise.promise();
        context.runOnContext(v -> {
            stopping = true;
            timers.forEach(vertx::cancelTimer);
            timers.clear();
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

    private void due(Target target) {
        enqueue(new Poll(target, Kind.HEALTH));
        if (target.getMetricsUrl() != null) {
            enqueue(new Poll(target, Kind.METRICS));
        }
        drain();
    }

    private void enqueue(Poll poll) {
        if (stopping) {
            return;
        }
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
        // Event time is when we asked, not when the answer came: a slow answer describes the moment of asking.
        Instant observedAt = clock.instant();
        long startNanos = System.nanoTime();
        // The client's hard deadline guarantees the outcome, so the slot is always given back.
        client.get(poll.url(), poll.target().getTimeoutMs())
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
