package io.fleetpulse.alerting.decide;

import io.fleetpulse.alerting.route.Route;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.AlertState;
import io.fleetpulse.schemas.Topics;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One aggregation group (a route's receiver and the group_by values) and its timers, with Alertmanager's meanings;
 * pure: time comes in as a parameter, so the decide processor only stores and flushes it.
 *
 * <ul>
 *   <li>A new group is first notified {@code group_wait} after its first alert (so alerts that start together
 *       arrive in one notification).</li>
 *   <li>After a notification, a change (an alert that fires or re-fires, a notified alert that resolves) is notified
 *       {@code group_interval} after the previous notification, never sooner.</li>
 *   <li>An unchanged group with firing alerts is notified again {@code repeat_interval} after the last notification
 *       (zero: never).</li>
 *   <li>A resolved alert is in a notification only if its FIRING was notified: a resolve of an alert nobody heard
 *       of is dropped. After the notification that carries it, it leaves the group; a group without alerts ends.</li>
 * </ul>
 *
 * <p>An alert can be <em>muted</em> (inhibited): it stays in the group but is left out of its notifications. One
 * whose FIRING was notified keeps its place among the notified ones while muted, so its RESOLVED is always sent
 * (the resolve guarantee); one muted before it was ever notified tells nobody until it is unmuted.
 *
 * <p>An alert can also be <em>silenced</em> (an active silence or maintenance window matches it at decide's wall
 * clock), with the same meaning as muted: left out while silenced, its RESOLVED sent if its FIRING was, nothing at
 * all if it fired and resolved inside the silence. When a silence stops holding it back (ended, expired) while it
 * still fires, the group is due as for a change, so the next flush notifies it ({@link #judgeSilences}).
 *
 * <p>The stored form starts with a format byte, so a later format can read this one (format 1 had no muted set,
 * format 2 no silenced set).
 */
final class AlertGroup {

    private static final byte FORMAT = 3;

    private final String receiver;
    private final String routeId;
    private final String groupKey;
    private final Map<String, String> groupLabels;
    /** The latest transition of each alert, by fingerprint. */
    private final Map<String, AlertEvent> alerts;
    /** The alerts the last notification said were firing: fingerprint → that transition's time (epoch ms). */
    private final Map<String, Long> notifiedFiring;
    /** The fingerprints of the alerts muted now (inhibited). */
    private final Set<String> muted;
    /** The fingerprints of the firing alerts a silence holds back now. */
    private final Set<String> silenced;
    /** When the pending change is due (epoch ms); 0 when nothing is pending. */
    private long flushAt;
    /** When the group was last notified (epoch ms); 0 when never. */
    private long notifiedAt;

    private AlertGroup(String receiver, String routeId, String groupKey, Map<String, String> groupLabels,
                       Map<String, AlertEvent> alerts, Map<String, Long> notifiedFiring, Set<String> muted,
                       Set<String> silenced, long flushAt, long notifiedAt) {
        this.receiver = receiver;
        this.routeId = routeId;
        this.groupKey = groupKey;
        this.groupLabels = groupLabels;
        this.alerts = alerts;
        this.notifiedFiring = notifiedFiring;
        this.muted = muted;
        this.silenced = silenced;
        this.flushAt = flushAt;
        this.notifiedAt = notifiedAt;
    }

    static AlertGroup open(String receiver, String routeId, String groupKey, Map<String, String> groupLabels) {
        return new AlertGroup(receiver, routeId, groupKey, new TreeMap<>(groupLabels), new LinkedHashMap<>(),
                new LinkedHashMap<>(), new TreeSet<>(), new TreeSet<>(), 0, 0);
    }

    /** The group key as fleet.outbox shows it: {@code routeId{label="value",...}}. */
    static String keyOf(String routeId, Map<String, String> groupLabels) {
        StringBuilder key = new StringBuilder(routeId).append('{');
        groupLabels.forEach((name, value) -> {
            if (key.charAt(key.length() - 1) != '{') {
                key.append(',');
            }
            key.append(name).append("=\"").append(value.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
        });
        return key.append('}').toString();
    }

    String receiver() {
        return receiver;
    }

    String routeId() {
        return routeId;
    }

    String groupKey() {
        return groupKey;
    }

    Map<String, String> groupLabels() {
        return groupLabels;
    }

    /**
     * Takes one transition at wall-clock {@code now}, muted or not; an older transition than the one held is
     * ignored (returns false). The same transition again with another verdict only changes whether it is muted.
     */
    boolean add(AlertEvent event, boolean isMuted, long now, Route.Timers timers) {
        AlertEvent held = alerts.get(event.getFingerprint());
        if (held != null && held.getOccurredAt().isAfter(event.getOccurredAt())) {
            return false;
        }
        alerts.put(event.getFingerprint(), event);
        if (isMuted) {
            muted.add(event.getFingerprint());
        } else {
            muted.remove(event.getFingerprint());
        }
        if (event.getState() != AlertState.FIRING) {
            silenced.remove(event.getFingerprint()); // a resolve is never silenced
        }
        changeAt(now, timers);
        return true;
    }

    /** A change at {@code now}: due {@code group_wait} after it in a group never notified, else after group_interval. */
    private void changeAt(long now, Route.Timers timers) {
        if (flushAt == 0) {
            flushAt = notifiedAt == 0 ? now + timers.groupWait().toMillis()
                    : Math.max(now, notifiedAt + timers.groupInterval().toMillis());
        }
    }

    /**
     * Judges every firing alert against the silences at {@code now}: {@code silencer} names the silence that holds
     * an alert back, or null. Returns what changed: each alert newly silenced with its silence, and each released
     * (with a null silence), for which the group becomes due as for a change.
     */
    <S> Map<AlertEvent, S> judgeSilences(java.util.function.Function<AlertEvent, S> silencer, long now,
                                         Route.Timers timers) {
        Map<AlertEvent, S> changed = new LinkedHashMap<>();
        for (AlertEvent alert : alerts.values()) {
            if (alert.getState() != AlertState.FIRING) {
                continue;
            }
            S silence = silencer.apply(alert);
            boolean was = silenced.contains(alert.getFingerprint());
            if (silence != null && !was) {
                silenced.add(alert.getFingerprint());
                changed.put(alert, silence);
            } else if (silence == null && was) {
                silenced.remove(alert.getFingerprint());
                changed.put(alert, null);
                if (!muted.contains(alert.getFingerprint())) {
                    changeAt(now, timers);
                }
            }
        }
        return changed;
    }

    boolean isMuted(String fingerprint) {
        return muted.contains(fingerprint);
    }

    boolean isSilenced(String fingerprint) {
        return silenced.contains(fingerprint);
    }

    /** Whether the last notification told the receiver that this alert fires. */
    boolean wasNotifiedFiring(String fingerprint) {
        return notifiedFiring.containsKey(fingerprint);
    }

    /** When {@link #flush} next has something to decide (epoch ms); {@code Long.MAX_VALUE} when never. */
    long dueAt(Route.Timers timers) {
        long due = flushAt == 0 ? Long.MAX_VALUE : flushAt;
        if (!notifiedFiring.isEmpty() && !timers.repeatInterval().isZero()) {
            due = Math.min(due, notifiedAt + timers.repeatInterval().toMillis());
        }
        return due;
    }

    /**
     * The notification due at {@code now}: the firing alerts and the notified ones that resolved, or an empty list
     * when nothing is due or nothing changed. Resolved alerts leave the group either way.
     */
    List<AlertEvent> flush(long now, Route.Timers timers) {
        if (now < dueAt(timers)) {
            return List.of();
        }
        List<AlertEvent> firing = new ArrayList<>();
        List<AlertEvent> resolved = new ArrayList<>();
        boolean changed = false;
        for (AlertEvent alert : alerts.values()) {
            Long notified = notifiedFiring.get(alert.getFingerprint());
            if (alert.getState() == AlertState.FIRING && (muted.contains(alert.getFingerprint())
                    || silenced.contains(alert.getFingerprint()))) {
                continue; // neither notified nor forgotten: see the resolve guarantee above
            }
            if (alert.getState() == AlertState.FIRING) {
                firing.add(alert);
                changed |= notified == null || notified != alert.getOccurredAt().toEpochMilli();
            } else if (notified != null) {
                resolved.add(alert);
                changed = true;
            }
        }
        boolean repeat = !firing.isEmpty() && !notifiedFiring.isEmpty() && !timers.repeatInterval().isZero()
                && now >= notifiedAt + timers.repeatInterval().toMillis();
        alerts.values().removeIf(alert -> alert.getState() != AlertState.FIRING);
        muted.retainAll(alerts.keySet());
        silenced.retainAll(alerts.keySet());
        flushAt = 0;
        if (!changed && !repeat) {
            return List.of();
        }
        notifiedFiring.keySet().removeIf(fingerprint -> !muted.contains(fingerprint)
                && !silenced.contains(fingerprint));
        firing.forEach(alert -> notifiedFiring.put(alert.getFingerprint(), alert.getOccurredAt().toEpochMilli()));
        notifiedAt = now;
        List<AlertEvent> notification = new ArrayList<>(firing);
        notification.addAll(resolved);
        return notification;
    }

    /** Nothing firing, nothing pending: the group can be forgotten. */
    boolean isOver() {
        return alerts.isEmpty() && notifiedFiring.isEmpty() && flushAt == 0;
    }

    byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT);
            out.writeUTF(receiver);
            out.writeUTF(routeId);
            out.writeUTF(groupKey);
            out.writeInt(groupLabels.size());
            for (Map.Entry<String, String> label : groupLabels.entrySet()) {
                out.writeUTF(label.getKey());
                out.writeUTF(label.getValue());
            }
            out.writeLong(flushAt);
            out.writeLong(notifiedAt);
            out.writeInt(alerts.size());
            for (AlertEvent alert : alerts.values()) {
                byte[] encoded = Topics.ALERTS.valueSerde().serializer().serialize(Topics.ALERTS.name(), alert);
                out.writeInt(encoded.length);
                out.write(encoded);
            }
            out.writeInt(notifiedFiring.size());
            for (Map.Entry<String, Long> notified : notifiedFiring.entrySet()) {
                out.writeUTF(notified.getKey());
                out.writeLong(notified.getValue());
            }
            out.writeInt(muted.size());
            for (String fingerprint : muted) {
                out.writeUTF(fingerprint);
            }
            out.writeInt(silenced.size());
            for (String fingerprint : silenced) {
                out.writeUTF(fingerprint);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static AlertGroup decode(byte[] stored) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(stored))) {
            byte format = in.readByte();
            if (format < 1 || format > FORMAT) {
                throw new IllegalStateException("alert group stored in format " + format + ", this version reads "
                        + FORMAT);
            }
            String receiver = in.readUTF();
            String routeId = in.readUTF();
            String groupKey = in.readUTF();
            Map<String, String> labels = new TreeMap<>();
            for (int i = in.readInt(); i > 0; i--) {
                labels.put(in.readUTF(), in.readUTF());
            }
            long flushAt = in.readLong();
            long notifiedAt = in.readLong();
            Map<String, AlertEvent> alerts = new LinkedHashMap<>();
            for (int i = in.readInt(); i > 0; i--) {
                byte[] encoded = in.readNBytes(in.readInt());
                AlertEvent alert = Topics.ALERTS.valueSerde().deserializer().deserialize(Topics.ALERTS.name(), encoded);
                alerts.put(alert.getFingerprint(), alert);
            }
            Map<String, Long> notified = new LinkedHashMap<>();
            for (int i = in.readInt(); i > 0; i--) {
                notified.put(in.readUTF(), in.readLong());
            }
            Set<String> muted = new TreeSet<>();
            for (int i = format == 1 ? 0 : in.readInt(); i > 0; i--) {
                muted.add(in.readUTF());
            }
            Set<String> silenced = new TreeSet<>();
            for (int i = format < 3 ? 0 : in.readInt(); i > 0; i--) {
                silenced.add(in.readUTF());
            }
            return new AlertGroup(receiver, routeId, groupKey, labels, alerts, notified, muted, silenced, flushAt,
                    notifiedAt);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
