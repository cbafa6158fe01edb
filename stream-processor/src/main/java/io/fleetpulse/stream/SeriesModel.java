package io.fleetpulse.stream;

import io.fleetpulse.stream.detect.Detectors;
import io.fleetpulse.stream.detect.SeriesDetector;
import io.fleetpulse.stream.detect.TrendForecaster;
import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * The stored model of one series (target, signal, check) for one {@link Detection#stateName()}: an anomaly detector,
 * or two trends of the series, over the rule's trend window and over its last {@link #RECENT_SHARE}: a forecast stands
 * only while both head for the limit, so a fill that stops (a plateau) resolves within the short window instead of
 * waiting for the long one to forget the ramp. Mutable: {@link DetectorBank} feeds it in place and puts its target's
 * {@link TargetModels} back into the store.
 */
final class SeriesModel {

    private static final byte DETECTOR = 1;
    /** Two trends as written before they kept the series' wander (read, then learnt on). */
    private static final byte TREND_WITHOUT_WANDER = 2;
    private static final byte TREND = 3;

    private final SeriesDetector detector;
    private final TrendForecaster trend;
    private final TrendForecaster recentTrend;
    private final Duration trendWindow;
    static final int RECENT_SHARE = 4;
    /** The detector's score of the last value, for every rule that shares this model. */
    double lastScore;

    private SeriesModel(SeriesDetector detector, TrendForecaster trend, TrendForecaster recentTrend,
                        Duration trendWindow) {
        this.detector = detector;
        this.trend = trend;
        this.recentTrend = recentTrend;
        this.trendWindow = trendWindow;
    }

    private static Duration recent(Duration trendWindow) {
        return trendWindow.dividedBy(RECENT_SHARE);
    }

    static SeriesModel of(Detection detection) {
        if (detection instanceof Detection.Forecast f) {
            return new SeriesModel(null, new TrendForecaster(f.trendWindow()),
                    new TrendForecaster(recent(f.trendWindow())), f.trendWindow());
        }
        return new SeriesModel(Detectors.create(((Detection.Anomaly) detection).detector()), null, null, null);
    }

    /** Null for a forecast's model. */
    SeriesDetector detector() {
        return detector;
    }

    /** Null for an anomaly's model. */
    TrendForecaster trend() {
        return trend;
    }

    /** The trend over the last quarter of the window; null for an anomaly's model. */
    TrendForecaster recentTrend() {
        return recentTrend;
    }

    byte[] toBytes() {
        if (detector != null) {
            byte[] state = Detectors.encode(detector);
            return ByteBuffer.allocate(1 + Double.BYTES + state.length).put(DETECTOR).putDouble(lastScore).put(state)
                    .array();
        }
        ByteBuffer out = ByteBuffer.allocate(1 + Long.BYTES + 2 * TrendForecaster.BYTES).put(TREND)
                .putLong(trendWindow.toMillis());
        trend.write(out);
        recentTrend.write(out);
        return out.array();
    }

    static SeriesModel fromBytes(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        byte tag = in.get();
        if (tag == DETECTOR) {
            double lastScore = in.getDouble();
            byte[] state = new byte[in.remaining()];
            in.get(state);
            SeriesModel model = new SeriesModel(Detectors.decode(state), null, null, null);
            model.lastScore = lastScore;
            return model;
        }
        if (tag != TREND && tag != TREND_WITHOUT_WANDER) {
            throw new IllegalArgumentException("no series model has tag " + tag);
        }
        Duration window = Duration.ofMillis(in.getLong());
        if (tag == TREND_WITHOUT_WANDER) {
            TrendForecaster trend = TrendForecaster.readWithoutWander(in, window);
            return new SeriesModel(null, trend, TrendForecaster.readWithoutWander(in, recent(window)), window);
        }
        TrendForecaster trend = TrendForecaster.read(in, window);
        return new SeriesModel(null, trend, TrendForecaster.read(in, recent(window)), window);
    }
}
