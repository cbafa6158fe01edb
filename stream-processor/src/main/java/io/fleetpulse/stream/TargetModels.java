package io.fleetpulse.stream;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * Every {@link SeriesModel} of one target, the value of its one entry in the {@code detector-states} store. One entry
 * per target rather than per series because every record of a target feeds several of its models (a metric sample
 * holds CPU, memory and disk, each watched by an anomaly and maybe a forecast model): one store lookup finds them all,
 * where one per model cost the stream thread a cache-missing lookup in a map of every series of the task (ten
 * thousand targets times seven series in the bench, about a tenth of the thread's time). A target has a handful of
 * series, so finding one by name is a short scan. Mutable, like its models: {@link DetectorBank} changes it in place
 * and puts it back.
 */
final class TargetModels {

    static final Serde<TargetModels> SERDE = Serdes.serdeFrom(
            (topic, models) -> models == null ? null : models.toBytes(),
            (topic, bytes) -> bytes == null ? null : fromBytes(bytes));

    /** Not a tag of {@link SeriesModel}'s own format (1, 2), which this store held per series before. */
    private static final byte FORMAT = 3;

    /** One series of the target: its signal's rule name, the model's state name, the check (null for none). */
    private static final class Series {
        final String signal;
        final String state;
        final String check;
        final SeriesModel model;

        Series(String signal, String state, String check, SeriesModel model) {
            this.signal = signal;
            this.state = state;
            this.check = check;
            this.model = model;
        }

        boolean is(String signal, String state, String check) {
            return this.signal.equals(signal) && this.state.equals(state)
                    && (this.check == null ? check == null : this.check.equals(check));
        }

        /** {@code signal:state|check}, or {@code signal:state} without a check: how it is stored. */
        String name() {
            return signal + ":" + state + (check == null ? "" : "|" + check);
        }
    }

    private final List<Series> series = new ArrayList<>(4);

    /** The model of the series, or null: compared part by part, so a value costs no name built. */
    SeriesModel get(String signal, String state, String check) {
        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            if (s.is(signal, state, check)) {
                return s.model;
            }
        }
        return null;
    }

    void add(String signal, String state, String check, SeriesModel model) {
        series.add(new Series(signal, state, check, model));
    }

    int size() {
        return series.size();
    }

    byte[] toBytes() {
        List<byte[]> encodedNames = new ArrayList<>(series.size());
        List<byte[]> encodedModels = new ArrayList<>(series.size());
        int size = 1 + Integer.BYTES;
        for (Series s : series) {
            byte[] name = s.name().getBytes(StandardCharsets.UTF_8);
            byte[] model = s.model.toBytes();
            encodedNames.add(name);
            encodedModels.add(model);
            size += 2 * Integer.BYTES + name.length + model.length;
        }
        ByteBuffer out = ByteBuffer.allocate(size).put(FORMAT).putInt(series.size());
        for (int i = 0; i < series.size(); i++) {
            out.putInt(encodedNames.get(i).length).put(encodedNames.get(i));
            out.putInt(encodedModels.get(i).length).put(encodedModels.get(i));
        }
        return out.array();
    }

    static TargetModels fromBytes(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        TargetModels target = new TargetModels();
        if (in.get() != FORMAT) {
            // A model of one series under its own key, from before the target's models were one entry: never read by
            // key again (its series is learnt anew under the target's entry); a removed target's scan still finds it.
            return target;
        }
        for (int i = in.getInt(); i > 0; i--) {
            byte[] name = new byte[in.getInt()];
            in.get(name);
            byte[] model = new byte[in.getInt()];
            in.get(model);
            String stored = new String(name, StandardCharsets.UTF_8);
            // Signal rule names have no ':', state names no '|'; a check name may have either.
            int colon = stored.indexOf(':');
            int bar = stored.indexOf('|', colon + 1);
            String state = bar < 0 ? stored.substring(colon + 1) : stored.substring(colon + 1, bar);
            String check = bar < 0 ? null : stored.substring(bar + 1);
            target.add(stored.substring(0, colon), state, check, SeriesModel.fromBytes(model));
        }
        return target;
    }
}
