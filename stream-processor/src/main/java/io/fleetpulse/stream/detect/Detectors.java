package io.fleetpulse.stream.detect;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * The anomaly detectors by name, and the one byte format of their state (for a state store): a tag naming the
 * detector, a format version, then the detector's own state.
 *
 * <ul>
 *   <li>{@value EnsembleDetector#NAME} (the default): {@link EnsembleDetector}.</li>
 *   <li>{@value RollingZScore#NAME}: rolling mean ± kσ over the last {@value RollingZScore#WINDOW} samples, the
 *       baseline the ensemble is measured against.</li>
 * </ul>
 */
public final class Detectors {

    public static final String DEFAULT = EnsembleDetector.NAME;
    private static final List<String> NAMES = List.of(EnsembleDetector.NAME, RollingZScore.NAME);
    private static final byte ENSEMBLE_TAG = 1;
    private static final byte ZSCORE_TAG = 2;
    /** 2 since the ensemble's {@link Moments} view; a format-1 state (before it) is still read. */
    private static final byte FORMAT = 2;

    private Detectors() {
    }

    public static List<String> names() {
        return NAMES;
    }

    /** A detector with fresh state, for a new series. */
    public static SeriesDetector create(String name) {
        return switch (name) {
            case EnsembleDetector.NAME -> new EnsembleDetector();
            case RollingZScore.NAME -> new RollingZScore();
            default -> throw new IllegalArgumentException(
                    "unknown detector '" + name + "'; use one of " + String.join(", ", NAMES));
        };
    }

    public static byte[] encode(SeriesDetector detector) {
        ByteBuffer out = ByteBuffer.allocate(2 + detector.serializedSize());
        out.put(detector instanceof EnsembleDetector ? ENSEMBLE_TAG : ZSCORE_TAG).put(FORMAT);
        detector.write(out);
        return out.array();
    }

    /** @throws IllegalArgumentException for bytes no detector wrote */
    public static SeriesDetector decode(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        byte tag = in.get();
        byte format = in.get();
        if (format != FORMAT && format != 1) {
            throw new IllegalArgumentException("detector state format " + format + " is not 1 or " + FORMAT);
        }
        return switch (tag) {
            case ENSEMBLE_TAG -> EnsembleDetector.read(in, format);
            case ZSCORE_TAG -> RollingZScore.read(in);
            default -> throw new IllegalArgumentException("no detector has tag " + tag);
        };
    }
}
