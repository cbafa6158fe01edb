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

    private final List<String> names = new ArrayList<>(4);
    private final List<SeriesModel> models = new ArrayList<>(4);

    /** The series' name: signal, model state name and check, as {@link DetectorBank#seriesName} builds it. */
    SeriesModel get(String seriesName) {
        for (int i = 0; i < names.size(); i++) {
            if (names.get(i).equals(seriesName)) {
                return models.get(i);
            }
        }
        return null;
    }

    void add(String seriesName, SeriesModel model) {
        names.add(seriesName);
        models.add(model);
    }

    int size() {
        return names.size();
    }

    byte[] toBytes() {
        List<byte[]> encodedNames = new ArrayList<>(names.size());
        List<byte[]> encodedModels = new ArrayList<>(models.size());
        int size = 1 + Integer.BYTES;
        for (int i = 0; i < names.size(); i++) {
            encodedNames.add(names.get(i).getBytes(StandardCharsets.UTF_8));
            encodedModels.add(models.get(i).toBytes());
            size += 2 * Integer.BYTES + encodedNames.get(i).length + encodedModels.get(i).length;
        }
        ByteBuffer out = ByteBuffer.allocate(size).put(FORMAT).putInt(names.size());
        for (int i = 0; i < names.size(); i++) {
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
            target.add(new String(name, StandardCharsets.UTF_8), SeriesModel.fromBytes(model));
        }
        return target;
    }
}
