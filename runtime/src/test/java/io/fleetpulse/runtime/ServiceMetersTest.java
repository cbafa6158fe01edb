package io.fleetpulse.runtime;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ServiceMetersTest {

    @Test
    void shouldPrefixCountersWithTheServiceAndPublishHistogramsNotPercentiles() {
        try (ServiceMeters meters = ServiceMeters.create("stream-processor")) {
            Counter.builder(meters.name("records.in")).description("records read").register(meters.registry()).increment();
            Timer.builder(meters.name("batch.latency")).description("batch time").publishPercentiles(0.5, 0.99)
                    .register(meters.registry()).record(Duration.ofMillis(20));

            String text = meters.scrape();

            assertTrue(text.contains("# HELP fleetpulse_stream_processor_records_in_total records read"), text);
            assertTrue(text.contains("fleetpulse_stream_processor_records_in_total 1.0"), text);
            assertTrue(text.contains("fleetpulse_stream_processor_batch_latency_seconds_bucket{le="), text);
            assertFalse(text.contains("quantile="), "client-side percentiles are not aggregatable");
            assertTrue(text.contains("jvm_memory_used_bytes"), "JVM meters are bound");
            assertTrue(text.contains("process_cpu_usage") || text.contains("process_uptime_seconds"), "process meters are bound");
        }
    }

    @Test
    void shouldPassPromtoolWhereItIsInstalled() throws Exception {
        java.util.Optional<java.nio.file.Path> promtool = java.util.stream.Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
                .map(d -> java.nio.file.Path.of(d, "promtool")).filter(java.nio.file.Files::isExecutable).findFirst();
        org.junit.jupiter.api.Assumptions.assumeTrue(promtool.isPresent(), "promtool is not installed");
        try (ServiceMeters meters = ServiceMeters.create("sink")) {
            Timer.builder(meters.name("batch.latency")).description("batch time").register(meters.registry())
                    .record(Duration.ofMillis(20));
            Process check = new ProcessBuilder(promtool.get().toString(), "check", "metrics").redirectErrorStream(true).start();
            try (var in = check.getOutputStream()) {
                in.write(meters.scrape().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            String findings = new String(check.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            org.junit.jupiter.api.Assertions.assertEquals("", findings.strip(), findings);
        }
    }

    @Test
    void shouldRefuseMetersThatBreakTheConvention() {
        try (ServiceMeters meters = ServiceMeters.create("sink")) {
            assertThrows(IllegalArgumentException.class, () -> Counter.builder("fleetpulse.alerting.sent")
                    .description("wrong service").register(meters.registry()));
            assertThrows(IllegalArgumentException.class, () -> Counter.builder(meters.name("rows"))
                    .register(meters.registry()), "a meter without description has no HELP line");
        }
    }

    @Test
    void shouldDropKafkaClientSeriesOutsideTheAllowList() {
        try (ServiceMeters meters = ServiceMeters.create("sink")) {
            Gauge.builder("kafka.consumer.fetch.manager.records.lag.max", () -> 3).description("lag").register(meters.registry());
            Gauge.builder("kafka.consumer.fetch.manager.fetch.size.avg", () -> 1).description("noise").register(meters.registry());
            String text = meters.scrape();
            assertTrue(text.contains("kafka_consumer_fetch_manager_records_lag_max"), text);
            assertFalse(text.contains("fetch_size_avg"), text);
        }
    }
}
