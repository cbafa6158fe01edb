package io.fleetpulse.runtime;

import io.fleetpulse.schemas.Topics;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.config.MeterFilterReply;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;

/**
 * The meter registry of one service, with FleetPulse's one convention applied to everything registered in it:
 *
 * <ul>
 *   <li>the service's own meters are named {@code fleetpulse.<service>.…} (Prometheus: {@code fleetpulse_sink_…}),
 *       in base units (seconds, bytes), counters get {@code _total}; a meter named otherwise is refused at
 *       registration, so a test that builds the service catches it;</li>
 *   <li>timers and distribution summaries publish histograms (aggregatable across instances), never client-side
 *       percentiles;</li>
 *   <li>JVM and process meters are bound ({@code jvm_*}, {@code process_*}, {@code system_cpu_*});</li>
 *   <li>of the hundreds of {@code kafka_*} client series only {@link #KAFKA_ALLOWED} pass: consumer lag,
 *       throughput, errors, rebalances and Streams thread health. docs/metrics.md lists them.</li>
 * </ul>
 */
public final class ServiceMeters implements AutoCloseable {

    /** The Kafka client and Streams series a person needs; every other {@code kafka.*} meter is dropped. */
    public static final Set<String> KAFKA_ALLOWED = Set.of(
            // consumers (Streams' embedded consumers included): how far behind, how fast, how stable the group is
            "kafka.consumer.fetch.manager.records.lag.max",
            "kafka.consumer.fetch.manager.records.lag",
            "kafka.consumer.fetch.manager.records.consumed.total",
            "kafka.consumer.coordinator.rebalance.total",
            "kafka.consumer.coordinator.failed.rebalance.total",
            "kafka.consumer.coordinator.assigned.partitions",
            "kafka.consumer.last.poll.seconds.ago",
            // producers: what was sent, what failed, what was retried
            "kafka.producer.record.send.total",
            "kafka.producer.record.error.total",
            "kafka.producer.record.retry.total",
            "kafka.producer.buffer.available.bytes",
            // Kafka Streams: live threads, processing, dropped records
            "kafka.stream.alive.stream.threads",
            "kafka.stream.failed.stream.threads",
            "kafka.stream.thread.process.total",
            "kafka.stream.thread.commit.total",
            "kafka.stream.task.dropped.records.total");

    private static final Set<String> LEGACY_TOPIC_TAGS = Topics.ALL.stream()
            .map(t -> t.name().replace('.', '_')).collect(java.util.stream.Collectors.toSet());

    private final String prefix;
    private final PrometheusMeterRegistry registry;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    private ServiceMeters(String service) {
        this.prefix = "fleetpulse." + service.replace('-', '_') + ".";
        this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config()
                // promtool rejects these two names (an abbreviated unit, a _count suffix outside a histogram);
                // process_cpu_usage and system_cpus say the same.
                .meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")))
                .meterFilter(new MeterFilter() {
                    @Override
                    public Meter.Id map(Meter.Id id) {
                        return id.getName().equals("system.cpu.count") ? id.withName("system.cpus") : id;
                    }
                })
                // Kafka reports some per-topic series twice, the second time with dots in the topic turned into '_'.
                .meterFilter(MeterFilter.deny(id -> id.getName().startsWith("kafka.") && id.getTag("topic") != null
                        && LEGACY_TOPIC_TAGS.contains(id.getTag("topic"))))
                .meterFilter(new Convention(prefix))
                .meterFilter(MeterFilter.denyUnless(id -> !id.getName().startsWith("kafka.")
                        || KAFKA_ALLOWED.contains(id.getName())));
    }

    /** A registry for {@code service} with JVM and process meters bound. */
    public static ServiceMeters create(String service) {
        ServiceMeters meters = new ServiceMeters(service);
        JvmGcMetrics gc = new JvmGcMetrics();
        meters.closeables.add(gc);
        for (MeterBinder binder : List.of(new JvmMemoryMetrics(), gc, new JvmThreadMetrics(), new ClassLoaderMetrics(),
                new JvmInfoMetrics(), new ProcessorMetrics(), new UptimeMetrics(), new FileDescriptorMetrics())) {
            binder.bindTo(meters.registry);
        }
        return meters;
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** {@code fleetpulse.sink.} + {@code suffix}: the name of one of this service's meters. */
    public String name(String suffix) {
        return prefix + suffix;
    }

    /** Binds a Kafka client's metrics (only the {@link #KAFKA_ALLOWED} ones reach /metrics); unbound on close. */
    public void bindKafkaClient(Consumer<?, ?> consumer) {
        bind(new KafkaClientMetrics(consumer));
    }

    public void bindKafkaClient(Producer<?, ?> producer) {
        bind(new KafkaClientMetrics(producer));
    }

    /** Binds any binder (Kafka Streams' metrics, say) and closes it with the registry. */
    public void bind(MeterBinder binder) {
        binder.bindTo(registry);
        if (binder instanceof AutoCloseable closeable) {
            closeables.add(closeable);
        }
    }

    /** The Prometheus text of every meter, as /metrics serves it. */
    public String scrape() {
        return registry.scrape();
    }

    @Override
    public synchronized void close() {
        for (AutoCloseable c : closeables) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing meters must never stop a service from closing
            }
        }
        closeables.clear();
        registry.close();
    }

    /** Names, descriptions and histograms, for every meter of the service's own. */
    private static final class Convention implements MeterFilter {

        private static final Set<String> LEGACY_TOPIC_TAGS = Topics.ALL.stream()
            .map(t -> t.name().replace('.', '_')).collect(java.util.stream.Collectors.toSet());

    private final String prefix;

        Convention(String prefix) {
            this.prefix = prefix;
        }

        @Override
        public MeterFilterReply accept(Meter.Id id) {
            String name = id.getName();
            if (name.startsWith("fleetpulse.") && !name.startsWith(prefix)) {
                throw new IllegalArgumentException("meter '" + name + "' must be named " + prefix + "…");
            }
            if (name.startsWith(prefix) && (id.getDescription() == null || id.getDescription().isBlank())) {
                throw new IllegalArgumentException("meter '" + name + "' needs a description (it is the HELP line)");
            }
            return MeterFilterReply.NEUTRAL;
        }

        @Override
        public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
            if (!id.getName().startsWith(prefix)) {
                return config;
            }
            // Histograms aggregate across instances and over time; client-side percentiles do neither.
            return DistributionStatisticConfig.builder().percentilesHistogram(true).percentiles(new double[0]).build()
                    .merge(config);
        }
    }
}
