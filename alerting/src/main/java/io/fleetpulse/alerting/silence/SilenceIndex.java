package io.fleetpulse.alerting.silence;

import io.fleetpulse.events.Silence;
import io.fleetpulse.schemas.Topics;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.streams.KeyValue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The silences of fleet.silences, parsed once per version: {@link #refresh} takes the raw records of the topic's
 * local copy (decide's global store) and parses only those that changed, so judging an alert costs matching, not
 * decoding. A record that cannot be read (not a Silence, a bad matcher or zone) is skipped and logged once: it
 * silences nothing. Not thread-safe: one per processor.
 */
public final class SilenceIndex {

    private static final Logger LOG = LoggerFactory.getLogger(SilenceIndex.class);

    private record Parsed(byte[] raw, SilenceRule rule) {
    }

    private Map<String, Parsed> byId = new HashMap<>();

    /** Replaces what is held by the records {@code all} yields (id → the single-object-encoded Silence). */
    public void refresh(Iterator<KeyValue<String, byte[]>> all) {
        Map<String, Parsed> next = new HashMap<>();
        while (all.hasNext()) {
            KeyValue<String, byte[]> entry = all.next();
            if (entry.value == null) {
                continue;
            }
            Parsed held = byId.get(entry.key);
            if (held != null && Arrays.equals(held.raw, entry.value)) {
                next.put(entry.key, held);
                continue;
            }
            next.put(entry.key, new Parsed(entry.value, parse(entry.key, entry.value)));
        }
        byId = next;
    }

    private static SilenceRule parse(String id, byte[] raw) {
        try {
            Silence silence = Topics.SILENCES.valueSerde().deserializer().deserialize(Topics.SILENCES.name(), raw);
            return SilenceRule.fromAvro(silence);
        } catch (RuntimeException e) {
            LOG.warn("{} record {} cannot be read, so it silences nothing: {}", Topics.SILENCES.name(), id,
                    e.getMessage());
            return null;
        }
    }

    /** The first active silence (by id, so the answer is stable) that silences {@code alertLabels} at {@code now}. */
    public Optional<SilenceRule> silencing(Map<String, String> alertLabels, Instant now) {
        SilenceRule found = null;
        for (Parsed parsed : byId.values()) {
            SilenceRule rule = parsed.rule;
            if (rule != null && rule.silences(alertLabels, now) && (found == null || rule.id().compareTo(found.id()) < 0)) {
                found = rule;
            }
        }
        return Optional.ofNullable(found);
    }

    /** Every readable silence held, in no particular order. */
    public List<SilenceRule> all() {
        List<SilenceRule> rules = new ArrayList<>();
        byId.values().forEach(p -> {
            if (p.rule != null) {
                rules.add(p.rule);
            }
        });
        return rules;
    }
}
