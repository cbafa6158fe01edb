package io.fleetpulse.launcher;

import io.fleetpulse.events.CheckResult;
import io.fleetpulse.events.CheckStatus;
import io.fleetpulse.runtime.DaemonThreads;
import io.fleetpulse.schemas.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The demo's stand-in for an agent behind NAT that pushes its own heartbeat instead of being polled, and that goes
 * silent for a while: nothing reports it down, so only the stream processor's absence detection can notice.
 * It writes to {@code fleet.checks} the way the collector does (key = targetId, Kafka timestamp = event time).
 */
final class PushingAgent implements AutoCloseable {

    static final String TARGET_ID = "agent-001";
    static final String CHECK = "heartbeat";

    private final KafkaProducer<String, CheckResult> producer;
    private final ScheduledExecutorService timer;
    private final long startedNanos = System.nanoTime();
    private final Duration silentFrom;
    private final Duration silentUntil;

    private PushingAgent(String bootstrapServers, Duration every, Duration silentFrom, Duration silentUntil) {
        this.silentFrom = silentFrom;
        this.silentUntil = silentUntil;
        this.producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.CLIENT_ID_CONFIG, "fleetpulse-demo-agent",
                ProducerConfig.ACKS_CONFIG, "all"),
                Topics.CHECKS.keySerde().serializer(), Topics.CHECKS.valueSerde().serializer());
        this.timer = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("demo-agent"));
        timer.scheduleAtFixedRate(this::beat, 0, every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Starts beating every {@code every}, silent between {@code silentFrom} and {@code silentUntil} after start. */
    static PushingAgent start(String bootstrapServers, Duration every, Duration silentFrom, Duration silentUntil) {
        return new PushingAgent(bootstrapServers, every, silentFrom, silentUntil);
    }

    /** How the incident reads in the demo's start-up line. */
    String describe() {
        return "silent:" + TARGET_ID + "@" + silentFrom.toSeconds() + "s+" + silentUntil.minus(silentFrom).toSeconds() + "s (pushing agent)";
    }

    private void beat() {
        Duration since = Duration.ofNanos(System.nanoTime() - startedNanos);
        if (since.compareTo(silentFrom) >= 0 && since.compareTo(silentUntil) < 0) {
            return;
        }
        Instant now = Instant.now();
        CheckResult beat = CheckResult.newBuilder()
                .setTargetId(TARGET_ID)
                .setCheckName(CHECK)
                .setStatus(CheckStatus.OK)
                .setLatencyMs(0.0)
                .setMessage("pushed by the agent")
                .setObservedAt(now)
                .setCollectorId("demo-agent")
                .build();
        producer.send(new ProducerRecord<>(Topics.CHECKS.name(), null, now.toEpochMilli(), TARGET_ID, beat));
    }

    @Override
    public void close() {
        timer.shutdownNow();
        producer.close(Duration.ofSeconds(2));
    }
}
