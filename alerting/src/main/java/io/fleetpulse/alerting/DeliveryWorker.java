package io.fleetpulse.alerting;

import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.runtime.DaemonThreads;
import io.fleetpulse.runtime.ServiceMeters;
import io.fleetpulse.runtime.text.Durations;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers notifications to one receiver over HTTP, one at a time and in the order submitted (so a RESOLVED never
 * overtakes its FIRING), under the receiver's rate limit, retrying per {@link RetryPolicy}. Every attempt's
 * outcome is written to the audit log; the returned future completes once the notification is settled (SENT,
 * FAILED, or skipped as already delivered) and its audit records are acknowledged.
 *
 * <p>Each receiver has its own worker thread, so receivers send concurrently and one receiver's retries do not hold
 * up another's sends within a batch. They do hold up the next batch: the service commits and polls again only when
 * every notification of the batch is settled, so a slow or failing receiver delays every receiver's next
 * notifications, for as long as its retry budget lasts (attempts, backoffs and Retry-After waits, each bounded by
 * the alerting.retry.* settings). Independent queues per receiver are the outbox's job (the decide/deliver split).
 */
final class DeliveryWorker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DeliveryWorker.class);
    private static final int MAX_ERROR_BODY = 300;

    /** Where audit records go; the future completes when the record is durably written. */
    @FunctionalInterface
    interface AuditLog {
        CompletableFuture<?> write(NotificationRecord record);
    }

    /** How one notification ended. ABANDONED means shutdown interrupted it: it must be delivered again later. */
    enum Result { SENT, FAILED, SKIPPED, ABANDONED }

    private final Receiver receiver;
    private final String deployment;
    private final HttpClient http;
    private final Duration timeout;
    private final RetryPolicy policy;
    private final TokenBucket bucket;
    private final DeliveredSet delivered;
    private final AuditLog audit;
    private final Clock clock;
    private final ExecutorService thread;

    private final Counter sent;
    private final Counter retried;
    private final Counter failed;
    private final Counter skipped;
    private final Timer duration;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicReference<LastError> lastError = new AtomicReference<>();

    /** The most recent failed attempt, already redacted. */
    record LastError(Instant at, String notificationId, String error) {
        @Override
        public String toString() {
            return at + " " + notificationId + ": " + error;
        }
    }

    DeliveryWorker(Receiver receiver, String deployment, HttpClient http, Duration timeout, RetryPolicy policy, TokenBucket bucket,
                   DeliveredSet delivered, AuditLog audit, Clock clock, ServiceMeters meters) {
        this.receiver = receiver;
        this.deployment = deployment;
        this.http = http;
        this.timeout = timeout;
        this.policy = policy;
        this.bucket = bucket;
        this.delivered = delivered;
        this.audit = audit;
        this.clock = clock;
        this.thread = Executors.newSingleThreadExecutor(DaemonThreads.named("fleetpulse-alerting-deliver-" + receiver.name()));
        this.sent = counter(meters, "sent");
        this.retried = counter(meters, "retried");
        this.failed = counter(meters, "failed");
        this.skipped = Counter.builder(meters.name("notifications.skipped"))
                .description("notifications not sent again because they were already delivered")
                .tag("receiver", receiver.name()).tag("receiver_type", receiver.type().id()).register(meters.registry());
        this.duration = Timer.builder(meters.name("delivery.duration"))
                .description("time from a worker picking a notification up to its settling: rate-limit waits, attempts and backoffs")
                .tag("receiver", receiver.name()).tag("receiver_type", receiver.type().id()).register(meters.registry());
    }

    private Counter counter(ServiceMeters meters, String outcome) {
        return Counter.builder(meters.name("notifications"))
                .description("delivery attempts by outcome: sent, retried (an attempt that will be retried), failed")
                .tag("receiver", receiver.name()).tag("receiver_type", receiver.type().id()).tag("outcome", outcome)
                .register(meters.registry());
    }

    Receiver receiver() {
        return receiver;
    }

    /** Queues {@code notification}; never blocks. */
    CompletableFuture<Result> submit(Notification notification) {
        Task task = new Task(notification);
        inFlight.incrementAndGet();
        task.settled.whenComplete((r, e) -> inFlight.decrementAndGet());
        try {
            thread.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            task.settled.complete(Result.ABANDONED);
        }
        return task.settled;
    }

    /** Records a notification that was decided not to be sent because it already was. */
    void countSkipped() {
        skipped.increment();
    }

    long sentCount() {
        return (long) sent.count();
    }

    long retriedCount() {
        return (long) retried.count();
    }

    long failedCount() {
        return (long) failed.count();
    }

    long skippedCount() {
        return (long) skipped.count();
    }

    int inFlight() {
        return inFlight.get();
    }

    /** The last failed attempt (redacted), or null. */
    LastError lastError() {
        return lastError.get();
    }

    private final class Task implements Runnable {
        final Notification notification;
        final CompletableFuture<Result> settled = new CompletableFuture<>();

        Task(Notification notification) {
            this.notification = notification;
        }

        @Override
        public void run() {
            List<CompletableFuture<?>> audits = new ArrayList<>();
            long started = System.nanoTime();
            Result result;
            try {
                result = deliver(notification, audits);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                result = Result.ABANDONED;
            } catch (RuntimeException e) {
                // A bug, not a delivery problem: record it so the notification is left for replay, not lost.
                LOG.error("unexpected error delivering {} to {}", notification.id(), receiver.name(), e);
                try {
                    audits.add(audit.write(record(notification, NotificationOutcome.FAILED, 1, OptionalInt.empty(),
                            receiver.redact("internal error: " + e.getClass().getSimpleName()))));
                } catch (RuntimeException auditFailed) {
                    audits.add(CompletableFuture.failedFuture(auditFailed));
                }
                failed.increment();
                result = Result.FAILED;
            }
            duration.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
            Result outcome = result;
            CompletableFuture.allOf(audits.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> {
                if (e != null) {
                    settled.completeExceptionally(e);
                } else {
                    settled.complete(outcome);
                }
            });
        }
    }

    private Result deliver(Notification notification, List<CompletableFuture<?>> audits) throws InterruptedException {
        // Checked again here, not only when routing: the same event may sit twice in one batch.
        if (delivered.contains(notification.id())) {
            skipped.increment();
            return Result.SKIPPED;
        }
        // Waiting for a token or for a honoured Retry-After is pacing, not failing: neither uses up attempts.
        int counted = 0;
        Duration throttled = Duration.ZERO;
        for (int attempt = 1; ; attempt++) {
            bucket.acquire();
            OptionalInt status = OptionalInt.empty();
            Optional<String> retryAfter = Optional.empty();
            String detail = null;
            try {
                HttpResponse<String> response = http.send(receiver.request(notification, timeout),
                        HttpResponse.BodyHandlers.ofString());
                status = OptionalInt.of(response.statusCode());
                retryAfter = response.headers().firstValue("Retry-After");
                detail = excerpt(response.body());
            } catch (IOException e) {
                detail = describe(e);
            }
            RetryPolicy.Decision decision = policy.decide(counted + 1, throttled, status, retryAfter, detail,
                    clock.instant());
            switch (decision.verdict()) {
                case DELIVERED -> {
                    delivered.add(notification.id(), clock.instant());
                    audits.add(audit.write(record(notification, NotificationOutcome.SENT, attempt, status, null)));
                    sent.increment();
                    return Result.SENT;
                }
                case RETRY -> {
                    String error = errorText(decision, status, detail);
                    audits.add(audit.write(record(notification, NotificationOutcome.RETRIED, attempt, status, error)));
                    retried.increment();
                    if (decision.throttled()) {
                        throttled = throttled.plus(decision.delay());
                    } else {
                        counted++;
                        noteError(notification, error);
                    }
                    LOG.info("{}: attempt {} ({}/{} counted) for {} failed ({}); retrying in {}", receiver.name(),
                            attempt, counted, policy.limits().maxAttempts(), notification.id(), error,
                            Durations.format(decision.delay()));
                    TimeUnit.MILLISECONDS.sleep(decision.delay().toMillis());
                }
                case GIVE_UP -> {
                    String error = errorText(decision, status, detail);
                    audits.add(audit.write(record(notification, NotificationOutcome.FAILED, attempt, status, error)));
                    failed.increment();
                    noteError(notification, error);
                    LOG.warn("{}: giving up on {} after attempt {}: {}; recorded FAILED for replay", receiver.name(),
                            notification.id(), attempt, error);
                    return Result.FAILED;
                }
                default -> throw new IllegalStateException("unknown verdict " + decision.verdict());
            }
        }
    }

    private String errorText(RetryPolicy.Decision decision, OptionalInt status, String detail) {
        String text = status.isPresent() && detail != null && !detail.isEmpty()
                ? decision.why() + ": " + detail : decision.why();
        return receiver.redact(text);
    }

    private void noteError(Notification notification, String error) {
        lastError.set(new LastError(clock.instant(), notification.id(), error));
    }

    private NotificationRecord record(Notification n, NotificationOutcome outcome, int attempt, OptionalInt status,
                                      String error) {
        Instant now = clock.instant();
        return NotificationRecord.newBuilder()
                .setNotificationId(n.id())
                .setFingerprint(n.event().getFingerprint())
                .setRuleId(n.event().getRuleId())
                .setTargetId(n.event().getTargetId())
                .setReceiver(receiver.name())
                .setReceiverType(receiver.type().id())
                .setReceiverId(receiver.identity())
                .setDeployment(deployment)
                .setAlertState(n.event().getState())
                .setOutcome(outcome)
                .setAttempt(attempt)
                .setHttpStatus(status.isPresent() ? status.getAsInt() : null)
                .setError(error)
                .setDecidedAt(now)
                .build();
    }

    private static String excerpt(String body) {
        if (body == null) {
            return "";
        }
        String flat = body.strip().replaceAll("\\s+", " ");
        return flat.length() > MAX_ERROR_BODY ? flat.substring(0, MAX_ERROR_BODY) + "…" : flat;
    }

    private static String describe(IOException e) {
        StringBuilder text = new StringBuilder(e.getClass().getSimpleName());
        if (e.getMessage() != null) {
            text.append(": ").append(e.getMessage());
        }
        if (e.getCause() != null && e.getCause() != e) {
            text.append(" (").append(e.getCause().getClass().getSimpleName());
            if (e.getCause().getMessage() != null) {
                text.append(": ").append(e.getCause().getMessage());
            }
            text.append(')');
        }
        return text.toString();
    }

    /**
     * Stops taking work. Waits up to {@code grace} for queued notifications; what is still queued or running then is
     * interrupted and completes as ABANDONED (not committed, so redelivered after restart).
     */
    void shutdown(Duration grace) {
        thread.shutdown();
        try {
            if (!thread.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                for (Runnable never : thread.shutdownNow()) {
                    ((Task) never).settled.complete(Result.ABANDONED);
                }
                thread.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            thread.shutdownNow().forEach(never -> ((Task) never).settled.complete(Result.ABANDONED));
        }
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }
}
