package io.fleetpulse.stream.detect;

import java.nio.ByteBuffer;

/**
 * Outliers in a row on one side of a level, as {@link Level} and {@link Moments} watch for them: {@link #SHIFT_RUN} in
 * a row on the same side mean the series has moved, and its new level is their mean (alert at the shift, then adapt).
 */
final class ShiftRun {

    static final int SHIFT_RUN = 3;
    static final int BYTES = Double.BYTES + 2 * Integer.BYTES;

    private double sum;
    private int count;
    private int side;

    /**
     * Counts an outlier on {@code side} (+1 above the level, -1 below).
     *
     * @return the new level once this completes a run, else NaN
     */
    double outlier(int side, double value) {
        if (side != this.side) {
            clear();
            this.side = side;
        }
        count++;
        sum += value;
        if (count < SHIFT_RUN) {
            return Double.NaN;
        }
        double level = sum / count;
        clear();
        return level;
    }

    /** A sample that is no outlier breaks the run. */
    void clear() {
        count = 0;
        sum = 0;
        side = 0;
    }

    /** The layout {@link Level} has always written: the sum, then the count and the side. */
    void write(ByteBuffer out) {
        out.putDouble(sum).putInt(count).putInt(side);
    }

    void read(ByteBuffer in) {
        sum = in.getDouble();
        count = in.getInt();
        side = in.getInt();
    }
}
