package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.events.MetricSample;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * node_exporter scrapes as samples, on two real scrapes of node_exporter 1.5.0 five seconds apart
 * ({@code src/test/resources/node-exporter}, cpu, meminfo, filesystem, netdev and loadavg collectors, on a busy
 * two-core machine).
 */
class NodeExporterMetricsTest {

    private static final Instant AT = Instant.parse("2026-12-01T23:00:00Z");

    @Test
    void shouldReadEverySampleOfARealScrapeStrictly() throws Exception {
        String scrape = resource("scrape-1.prom");
        List<PrometheusText.Series> series = PrometheusText.parse(scrape);

        assertEquals(scrape.lines().filter(l -> !l.isBlank() && !l.startsWith("#")).count(), series.size());
        PrometheusText.Series root = series.stream().filter(s -> s.name().equals("node_filesystem_avail_bytes")).findFirst().orElseThrow();
        assertEquals(Map.of("device", "/dev/vda", "fstype", "ext4", "mountpoint", "/"), root.labels());
        assertEquals(8.4186140672e10, root.value());
    }

    @Test
    void shouldDeriveMemoryAndDiskFromTheFirstScrapeAndCpuFromTheSecond() throws Exception {
        NodeExporterMetrics metrics = new NodeExporterMetrics();

        MetricSample first = metrics.parse("n1", "c1", AT, resource("scrape-1.prom"), BodyLimits.DEFAULTS);
        MetricSample second = metrics.parse("n1", "c1", AT.plusSeconds(5), resource("scrape-2.prom"), BodyLimits.DEFAULTS);

        assertNull(first.getCpuPercent(), "no cpu % without a previous scrape");
        assertEquals((1 - 2.1936091136e10 / 2.5276502016e10) * 100, second.getMemoryPercent(), 1e-9);
        assertEquals(84_184_805_376L, second.getDiskFreeBytes());
        assertEquals((1 - 8.4184805376e10 / 2.70553174016e11) * 100, second.getDiskPercent(), 1e-9);
        // Between the scrapes only user, system and softirq grew (the machine was saturated): all busy.
        assertEquals(100.0, second.getCpuPercent(), 1e-9);
        assertEquals(306_335_937L, second.getNetRxBytes());
        assertEquals(718_223L, second.getNetTxBytes());
        assertEquals(0.0, second.getExtra().get("net_rx_bytes_per_sec"));
        assertTrue(second.getExtra().containsKey("node_load1"), second.getExtra().keySet().toString());
        assertTrue(second.getExtra().size() <= BodyLimits.DEFAULTS.maxExtraMetrics());
    }

    @Test
    void shouldRateNetworkCountersAndReadAResetAsANewStart() throws Exception {
        NodeExporterMetrics metrics = new NodeExporterMetrics();
        String base = resource("scrape-2.prom");
        String grown = base.replace("node_network_receive_bytes_total{device=\"eth0\"} 3.06335937e+08",
                "node_network_receive_bytes_total{device=\"eth0\"} 306345937");
        String reset = base.replace("node_network_receive_bytes_total{device=\"eth0\"} 3.06335937e+08",
                "node_network_receive_bytes_total{device=\"eth0\"} 2000");

        metrics.parse("n1", "c1", AT, base, BodyLimits.DEFAULTS);
        MetricSample afterGrowth = metrics.parse("n1", "c1", AT.plusSeconds(10), grown, BodyLimits.DEFAULTS);
        MetricSample afterReset = metrics.parse("n1", "c1", AT.plusSeconds(20), reset, BodyLimits.DEFAULTS);

        assertEquals(1000.0, afterGrowth.getExtra().get("net_rx_bytes_per_sec"), 1e-9, "10 000 bytes in 10 s");
        assertEquals(200.0, afterReset.getExtra().get("net_rx_bytes_per_sec"), 1e-9, "reset: 2000 bytes since it restarted");
        assertNull(afterReset.getCpuPercent(), "cpu counters did not move: no cpu % rather than a made-up one");
    }

    @Test
    void shouldRefuseWhatIsNotTheTextFormatNamingTheLine() {
        MetricsParser.MalformedMetricsException html = assertThrows(MetricsParser.MalformedMetricsException.class,
                () -> PrometheusText.parse("# HELP x\n<html><body>oops</body></html>\n"));
        MetricsParser.MalformedMetricsException number = assertThrows(MetricsParser.MalformedMetricsException.class,
                () -> PrometheusText.parse("up 1\nnode_load1{a=\"b\"} 0x1F\n"));
        MetricsParser.MalformedMetricsException label = assertThrows(MetricsParser.MalformedMetricsException.class,
                () -> PrometheusText.parse("up{job=\"x} 1\n"));

        assertEquals("Prometheus text, line 2: expected a metric name at column 1", html.getMessage());
        assertEquals("Prometheus text, line 2: '0x1F' is not a number", number.getMessage());
        assertTrue(label.getMessage().startsWith("Prometheus text, line 1: "), label.getMessage());
    }

    @Test
    void shouldReadEscapesSpecialValuesAndTimestamps() {
        List<PrometheusText.Series> series = PrometheusText.parse(
                "a{path=\"C:\\\\dir\",msg=\"say \\\"hi\\\"\\n\"} +Inf 1700000000000\nb NaN\nc -1.5e-3\n");

        assertEquals(Map.of("path", "C:\\dir", "msg", "say \"hi\"\n"), series.get(0).labels());
        assertEquals(Double.POSITIVE_INFINITY, series.get(0).value());
        assertTrue(Double.isNaN(series.get(1).value()));
        assertEquals(-0.0015, series.get(2).value());
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = NodeExporterMetricsTest.class.getResourceAsStream("/node-exporter/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
