package io.fleetpulse.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fleetpulse.stream.detect.TrendForecaster;
import java.nio.ByteBuffer;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A forecast's stored model, in the layout written now and in the one written before the trends kept the wander. */
class SeriesModelTest {

    private static final Detection.Forecast DISK = new Detection.Forecast(100, true, Duration.ofMinutes(40), 0.99, 0);

    private static SeriesModel filling(int samples) {
        SeriesModel model = SeriesModel.of(DISK);
        for (int i = 0; i < samples; i++) {
            long at = 1_704_067_200_000L + i * 10_000L;
            double value = 40 + 0.01 * i + (i % 2 == 0 ? 0.05 : -0.05);
            model.trend().observe(at, value);
            model.recentTrend().observe(at, value);
        }
        return model;
    }

    @Test
    void shouldReadATrendModelWrittenBeforeTheWanderWasKept() {
        SeriesModel model = filling(50);
        ByteBuffer now = ByteBuffer.wrap(model.toBytes());
        // The earlier layout: tag 2, the window, then each trend without the wander's fields at its end.
        ByteBuffer earlier = ByteBuffer.allocate(1 + Long.BYTES + 2 * TrendForecaster.BYTES_WITHOUT_WANDER)
                .put((byte) 2).putLong(DISK.trendWindow().toMillis());
        for (int trend = 0; trend < 2; trend++) {
            earlier.put(now.array(), 1 + Long.BYTES + trend * TrendForecaster.BYTES,
                    TrendForecaster.BYTES_WITHOUT_WANDER);
        }

        SeriesModel restored = SeriesModel.fromBytes(earlier.array());
        SeriesModel again = SeriesModel.fromBytes(model.toBytes());

        assertEquals(model.trend().slopePerSecond(), restored.trend().slopePerSecond());
        assertEquals(model.recentTrend().level(), restored.recentTrend().level());
        assertEquals(TrendForecaster.NEVER, restored.trend().secondsUntil(100, true, 0.99),
                "no forecast until the wander is learnt again");
        assertEquals(model.trend().secondsUntil(100, true, 0.99), again.trend().secondsUntil(100, true, 0.99));
    }
}
