package io.fleetpulse.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fleetpulse.runtime.KafkaSettings;
import io.fleetpulse.runtime.config.Settings;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

class StreamsPropsTest {

    private static Properties props(Map<String, String> values) {
        Settings given = Settings.of(values, StreamProcessorService.KEYS);
        return StreamsProps.from(given).properties(KafkaSettings.from(given));
    }

    @Test
    void shouldGiveTheStreamsProducerTheBatchingOfTheOtherProducers() {
        Properties props = props(Map.of());

        assertEquals(20, props.get(StreamsConfig.producerPrefix("linger.ms")));
        assertEquals(262_144, props.get(StreamsConfig.producerPrefix("batch.size")));
        assertEquals("lz4", props.get(StreamsConfig.producerPrefix("compression.type")));
    }

    @Test
    void shouldLetAPassthroughSettingWinOverTheProducerTuning() {
        Properties props = props(Map.of("kafka.client.compression.type", "zstd"));

        assertEquals("zstd", props.get(StreamsConfig.producerPrefix("compression.type")));
    }

    @Test
    void shouldSizeTheRecordCacheFromItsKey() {
        assertEquals(64L * 1024 * 1024, props(Map.of()).get(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG));
        assertEquals(0L, props(Map.of("streams.cache.mib", "0")).get(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG));
    }

    @Test
    void shouldRunOneStreamThreadPerCoreUnlessTold() {
        int cores = Runtime.getRuntime().availableProcessors();

        assertEquals(Math.min(64, cores), props(Map.of()).get(StreamsConfig.NUM_STREAM_THREADS_CONFIG));
        assertEquals(1, props(Map.of("streams.num.threads", "1")).get(StreamsConfig.NUM_STREAM_THREADS_CONFIG));
    }
}
