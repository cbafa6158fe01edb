package io.fleetpulse.alerting;

import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.NotificationOutcome;
import io.fleetpulse.events.NotificationRecord;
import io.fleetpulse.runtime.DaemonThreads;
import io.fleetpulse.runtime.ServiceMeters;
import io.fleetpulse.runtime.text.Durations;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers notifications to one receiver over HTTP, many at once, each under the receiver's rate limit and retried
 * per {@link RetryPolicy} for as long as its retry budget lasts (hours). Nothing blocks a thread while it waits: a
 * token, a backoff or a Retry-After is a task scheduled for later, and requests go out with
 * {@link HttpClient#sendAsync}, so a notification retrying for an afternoon holds a few objects, not a thread.
 *
 * <p>Notifications of one group (for PagerDuty: of one alert) go out in the order submitted, so a group's RESOLVED
 * never overtakes its FIRING; notifications of different groups do not wait for each other. Every attempt's outcome
 * is written to the audit log, one record per alert the notification tells, and a {@link Delivery} settles once the
 * notification is SENT (RESENT), FAILED or skipped as already delivered and its audit records are acknowledged. Each failed or successful attempt is reported to the receiver's
 * {@link ReceiverHealth}.
 *
 * <p>How many are in flight is the caller's bound ({@link ReceiverConsumer}); a worker serves one receiver only, so
 * one receiver's retries never hold up another's.
 */
final class DeliveryWorker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DeliveryWorker.class);
    private static final int MAX_ERROR_BODY = 300;
    /** Retries past these many of one notification are logged at debug: the audit has every one of them. */
    private static final int LOGGED_RETRIES = 3;

    /** Where audit records go; the future completes when the record is durably written. */
    @FunctionalInterface
    interface AuditLog {
        CompletableFuture<?> write(NotificationRecord record);
    }

    /** Runs short tasks later. The service's runs them on the worker's own thread; tests drive a virtual clock. */
    interface Scheduler extends AutoCloseable {
        /** Runs {@code task} after {@code delay}; throws RejectedExecutionException once closed. */
        void after(Duration delay, Runnable task);

        @Override
        void close();

        static Scheduler onThread(String threadName) {
            ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named(threadName));
            return new Scheduler() {
                @Override
                public void after(Duration delay, Runnable task) {
                    executor.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
                }

                @Override
                public void close() {
                    executor.shutdownNow();
                }
            };
        }
    }

    /** How one notification ended. ABANDONED: a shutdown or rebalance stopped it; it must be delivered again later. */
    enum Result { SENT, FAILED, SKIPPED, ABANDONED }

    private final Receiver receiver;
    private final String deployment;
    private final HttpClient http;
    private final Duration timeout;
    private final RetryPolicy policy;
    private final TokenBucket bucket;
    private final DeliveredSet delivered;
    private final AuditLog audit;
    private final Scheduler scheduler;
    private final Clock clock;
    private final ReceiverHealth health;
    /**
     * The last delivery of each {@link Notification#orderKey() order key} (group, or alert for PagerDuty) still
     * unsettled: the next one of that key starts after it.
     */
    private final Map<String, CompletableFuture<?>> lastOfKey = new ConcurrentHashMap<>();
    private final Set<Delivery> live = ConcurrentHashMap.newKeySet();

    private final Counter sent;
    private final Counter retried;
    private final Counter failed;
    private final Counter skipped;
    private final Timer duration;
    private final AtomicReference<LastError> lastError = new AtomicReference<>();

    /** The most recent failed attempt, already redacted. */
    record LastError(Instant at, String notificationId, String error) {
        @Override
        public String toString() {
            return at + " " + notificationId + ": " + error;
        }
    }

    DeliveryWorker(Receiver receiver, String deployment, HttpClient http, Duration timeout, RetryPolicy policy,
                   TokenBucket bucket, DeliveredSet delivered, AuditLog audit, Scheduler scheduler, Clock clock,
                   ReceiverHealth health, ServiceMeters meters) {
        this.receiver = receiver;
        this.deployment = deployment;
        this.http = http;
        this.timeout = timeout;
        this.policy = policy;
        this.bucket = bucket;
        this.delivered = delivered;
        this.audit = audit;
        this.scheduler = scheduler;
        this.clock = clock;
        this.health = health;
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

    ReceiverHealth health() {
        return health;
    }

    /**
     * Starts delivering {@code notification} (after the unsettled ones of the same group, or alert for PagerDuty);
     * never blocks. Delivered, it is audited SENT.
     */
    Delivery submit(Notification notification) {
        return start(notification, NotificationOutcome.SENT);
    }

    /**
     * As {@link #submit}, for a notification recorded FAILED before and now sent again on request
     * ({@code fleetpulse notifications retry}): delivered, it is audited RESENT.
     */
    Delivery resend(Notification notification) {
        return start(notification, NotificationOutcome.RESENT);
    }

    private Delivery start(Notification notification, NotificationOutcome deliveredAs) {
        Delivery delivery = new Delivery(notification, deliveredAs);
        live.add(delivery);
        CompletableFuture<?> done = delivery.settled.handle((r, e) -> null);
        String key = notification.orderKey();
        CompletableFuture<?> before = lastOfKey.put(key, done);
        done.thenRun(() -> {
            live.remove(delivery);
            lastOfKey.remove(key, done);
        });
        if (before == null) {
            delivery.later(Duration.ZERO, delivery::start);
        } else {
            before.thenRun(() -> delivery.later(Duration.ZERO, delivery::start));
        }
        return delivery;
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
        return live.size();
    }

    /** The last failed attempt (redacted), or null. */
    LastError lastError() {
        return lastError.get();
    }

    /**
     * One notification in delivery: its attempts run as scheduled steps, one after the other, so its fields are
     * only touched by one step at a time.
     */
    final class Delivery {
        final Notification notification;
        final CompletableFuture<Result> settled = new CompletableFuture<>();
        /** The audit outcome of its 2xx: SENT, or RESENT for a re-send of a FAILED one. */
        private final NotificationOutcome deliveredAs;
        private final List<CompletableFuture<?>> audits = new ArrayList<>();
        private volatile boolean abandoned;
        private long startedNanos;
        private int attempt;
        private int counted;
        private Instant firstAttemptAt;
        private Duration paced = Duration.ZERO;
        private Duration throttled = Duration.ZERO;

        Delivery(Notification notification, NotificationOutcome deliveredAs) {
            this.notification = notification;
            this.deliveredAs = deliveredAs;
            // Whoever holds the future may cancel it (a rebalance handing the partition over): that abandons it too.
            settled.whenComplete((r, e) -> {
                if (settled.isCancelled()) {
                    abandoned = true;
                }
            });
        }

        /**
         * Stops retrying: the notification settles ABANDONED at once, to be delivered again by whoever reads it
         * next. A request already on the wire still records its outcome.
         */
        void abandon() {
            abandoned = true;
            settled.complete(Result.ABANDONED);
        }

        private void start() {
            startedNanos = System.nanoTime();
            // Checked here, not only when routing: the same event may be read twice before the first settles.
            if (delivered.contains(notification.id())) {
                skipped.increment();
                settle(Result.SKIPPED);
                return;
            }
            attempt();
        }

        private void attempt() {
            if (abandoned) {
                return;
            }
            // Waiting for a token is pacing, not failing: it does not use up the retry budget.
            Duration wait = Duration.ofNanos(bucket.reserve());
            if (firstAttemptAt != null) {
                paced = paced.plus(wait);
            }
            later(wait, this::send);
        }

        private void send() {
            if (abandoned) {
                return;
            }
            if (firstAttemptAt == null) {
                firstAttemptAt = clock.instant();
            }
            attempt++;
            http.sendAsync(receiver.request(notification, timeout, clock.instant()), HttpResponse.BodyHandlers.ofString())
                    .whenComplete((response, error) -> later(Duration.ZERO, () -> {
                        try {
                            handle(response, error);
                        } catch (RuntimeException e) {
                            internalError(e);
                        }
                    }));
        }

        private void handle(HttpResponse<String> response, Throwable error) {
            OptionalInt status = OptionalInt.empty();
            Optional<String> retryAfter = Optional.empty();
            String detail;
            if (response != null) {
                status = OptionalInt.of(response.statusCode());
                retryAfter = response.headers().firstValue("Retry-After");
                detail = excerpt(response.body());
            } else {
                Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                if (!(cause instanceof IOException io)) {
                    internalError(cause);
                    return;
                }
                detail = describe(io);
            }
            Instant now = clock.instant();
            Duration failing = Duration.between(firstAttemptAt, now).minus(paced).minus(throttled);
            RetryPolicy.Decision decision = policy.decide(counted + 1, failing, throttled, status, retryAfter, detail,
                    now);
            switch (decision.verdict()) {
                case DELIVERED -> {
                    delivered.add(notification.id(), now);
                    auditEach(deliveredAs, attempt, status, null);
                    sent.increment();
                    health.succeeded();
                    settle(Result.SENT);
                }
                case RETRY -> {
                    String text = errorText(decision, status, detail);
                    // A honoured Retry-After is the receiver pacing us: THROTTLED, not a failed attempt.
                    NotificationOutcome outcome = decision.throttled() ? NotificationOutcome.THROTTLED
                            : NotificationOutcome.RETRIED;
                    auditEach(outcome, attempt, status, text);
                    retried.increment();
                    if (decision.throttled()) {
                        throttled = throttled.plus(decision.delay());
                    } else {
                        counted++;
                        noteError(notification, text);
                    }
                    if (counted <= LOGGED_RETRIES) {
                        LOG.info("{}: attempt {} for {} failed ({}); retrying in {}", receiver.name(), attempt,
                                notification.id(), text, Durations.format(decision.delay()));
                    } else {
                        LOG.debug("{}: attempt {} for {} failed ({}); retrying in {}", receiver.name(), attempt,
                                notification.id(), text, Durations.format(decision.delay()));
                    }
                    if (abandoned) {
                        settle(Result.ABANDONED);
                    } else {
                        later(decision.delay(), this::attempt);
                    }
                }
                case GIVE_UP -> {
                    String text = errorText(decision, status, detail);
                    auditEach(NotificationOutcome.FAILED, attempt, status, text);
                    failed.increment();
                    noteError(notification, text);
                    LOG.warn("{}: giving up on {} after attempt {}: {}; recorded FAILED", receiver.name(),
                            notification.id(), attempt, text);
                    settle(Result.FAILED);
                }
                default -> throw new IllegalStateException("unknown verdict " + decision.verdict());
            }
        }

        /** A bug, not a delivery problem: recorded FAILED so the notification can be re-sent, not lost silently. */
        private void internalError(Throwable e) {
            LOG.error("unexpected error delivering {} to {}", notification.id(), receiver.name(), e);
            try {
                auditEach(NotificationOutcome.FAILED, Math.max(1, attempt), OptionalInt.empty(),
                        receiver.redact("internal error: " + e.getClass().getSimpleName()));
            } catch (RuntimeException auditFailed) {
                audits.add(CompletableFuture.failedFuture(auditFailed));
            }
            failed.increment();
            settle(Result.FAILED);
        }

        /**
         * One audit record per alert the notification tells, all with its id and this outcome, so the audit
         * answers by fingerprint whether the alert went out alone or in a group.
         */
        private void auditEach(NotificationOutcome outcome, int attempt, OptionalInt status, String error) {
            for (AlertEvent alert : notification.alerts()) {
                audits.add(audit.write(record(notification.id(), alert, outcome, attempt, status, error)));
            }
        }

        private void settle(Result result) {
            duration.record(System.nanoTime() - startedNanos, TimeUnit.NANOSECONDS);
            CompletableFuture.allOf(audits.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> {
                if (e != null) {
                    settled.completeExceptionally(e);
                } else {
                    settled.complete(result);
                }
            });
        }

        private void later(Duration delay, Runnable step) {
            try {
                scheduler.after(delay, step);
            } catch (RejectedExecutionException e) {
                abandon(); // the worker is closing
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
        health.failed(clock.instant(), error);
    }

    private NotificationRecord record(String notificationId, AlertEvent alert, NotificationOutcome outcome,
                                      int attempt, OptionalInt status, String error) {
        Instant now = clock.instant();
        return NotificationRecord.newBuilder()
                .setNotificationId(notificationId)
                .setFingerprint(alert.getFingerprint())
                .setRuleId(alert.getRuleId())
                .setTargetId(alert.getTargetId())
                .setReceiver(receiver.name())
                .setReceiverType(receiver.type().id())
                .setReceiverId(receiver.identity())
                .setDeployment(deployment)
                .setAlertState(alert.getState())
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

    /** The failure of a request that got no response, e.g. {@code ConnectException: could not connect (...)}. */
    static String describe(IOException e) {
        StringBuilder text = new StringBuilder(e.getClass().getSimpleName());
        // The JDK client's ConnectException (refused, unreachable) has no message, only a ClosedChannelException
        // as its cause: say what it means, so the audit and /status read as a connection that failed.
        String message = e.getMessage() != null ? e.getMessage()
                : e instanceof ConnectException ? "could not connect" : null;
        if (message != null) {
            text.append(": ").append(message);
        }
        // A timeout says all there is; a cause the JDK client sometimes attaches to it (ConnectionExpiredException:
        // subscription is finished, from tearing down the timed-out exchange) is noise that varies run to run.
        if (e.getCause() != null && e.getCause() != e && !(e instanceof HttpTimeoutException)) {
            text.append(" (").append(e.getCause().getClass().getSimpleName());
            if (e.getCause().getMessage() != null) {
                text.append(": ").append(e.getCause().getMessage());
            }
            text.append(')');
        }
        return text.toString();
    }

    /** Abandons every notification in flight (see {@link Delivery#abandon}) and stops the worker's thread. */
    @Override
    public void close() {
        live.forEach(Delivery::abandon);
        scheduler.close();
    }
}
