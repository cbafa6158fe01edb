package io.fleetpulse.alerting.silence;

import com.fasterxml.jackson.databind.JsonNode;
import io.fleetpulse.alerting.route.Matcher;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The API's JSON form of a silence: what {@code POST /v1/silences} takes (checked field by field, every problem
 * named) and what the reads return.
 *
 * <pre>{@code
 * {"matchers": ["target=\"web-1\"", "severity=~\"critical|warning\""],
 *  "startsAt": "2026-12-05T21:00:00Z", "endsAt": "2026-12-05T23:00:00Z",      // one-off (startsAt defaults to now)
 *  "weekly": {"schedule": "Sat 22:00-Sun 02:00", "zone": "Europe/Berlin"},     // or a maintenance window
 *  "createdBy": "alice", "comment": "kernel upgrade"}
 * }</pre>
 */
public final class SilenceJson {

    private static final Set<String> FIELDS = Set.of("matchers", "startsAt", "endsAt", "weekly", "createdBy", "comment");

    private SilenceJson() {
    }

    /** A request that could not be taken: each bad field and what is wrong with it. */
    public static final class InvalidSilenceException extends IllegalArgumentException {

        private final Map<String, String> problems;

        InvalidSilenceException(Map<String, String> problems) {
            super("invalid silence: " + problems);
            this.problems = Map.copyOf(problems);
        }

        public Map<String, String> problems() {
            return problems;
        }
    }

    /**
     * The silence a creation request asks for, with {@code id} and {@code now} (the default start, and the time the
     * end must be after).
     *
     * @throws InvalidSilenceException naming every bad field
     */
    public static SilenceRule parseRequest(JsonNode body, String id, Instant now) {
        Map<String, String> problems = new LinkedHashMap<>();
        if (body == null || !body.isObject()) {
            throw new InvalidSilenceException(Map.of("body", "expected a JSON object"));
        }
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                problems.put(name, "unknown field; allowed: " + String.join(", ", FIELDS.stream().sorted().toList()));
            }
        }
        List<Matcher> matchers = matchers(body.get("matchers"), problems);
        Instant startsAt = instant(body, "startsAt", problems);
        Instant endsAt = instant(body, "endsAt", problems);
        WeeklyWindows weekly = weekly(body.get("weekly"), problems);
        String createdBy = text(body, "createdBy", problems);
        String comment = text(body, "comment", problems);
        Instant start = startsAt == null ? now : startsAt;
        if (endsAt == null && weekly == null && !problems.containsKey("endsAt") && !problems.containsKey("weekly")) {
            problems.put("endsAt", "required (an ISO-8601 instant, e.g. 2026-12-05T23:00:00Z) unless weekly is given");
        }
        if (endsAt != null && !endsAt.isAfter(start)) {
            problems.put("endsAt", "must be after startsAt (" + start + ")");
        } else if (endsAt != null && !endsAt.isAfter(now)) {
            problems.put("endsAt", "must be in the future");
        }
        if (!problems.isEmpty()) {
            throw new InvalidSilenceException(problems);
        }
        return new SilenceRule(id, matchers, start, endsAt, weekly, createdBy, comment, now);
    }

    private static List<Matcher> matchers(JsonNode node, Map<String, String> problems) {
        if (node == null || !node.isArray() || node.isEmpty()) {
            problems.put("matchers", "required: a non-empty array of matchers, e.g. [\"target=\\\"web-1\\\"\"]");
            return List.of();
        }
        List<Matcher> matchers = new ArrayList<>();
        List<String> bad = new ArrayList<>();
        for (JsonNode item : node) {
            if (!item.isTextual()) {
                bad.add(item + " is not a string");
                continue;
            }
            try {
                matchers.add(Matcher.parse(item.asText()));
            } catch (IllegalArgumentException e) {
                bad.add(e.getMessage());
            }
        }
        if (!bad.isEmpty()) {
            problems.put("matchers", String.join("; ", bad));
        } else if (matchers.stream().allMatch(m -> m.matches(Map.of()))) {
            // as Alertmanager: a silence every alert without those labels matches would silence nearly everything
            problems.put("matchers", "at least one matcher must not match the empty string (e.g. target=\"web-1\")");
        }
        return matchers;
    }

    private static Instant instant(JsonNode body, String field, Map<String, String> problems) {
        JsonNode node = body.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        try {
            return Instant.parse(node.asText());
        } catch (DateTimeParseException e) {
            problems.put(field, "'" + node.asText() + "' is not an ISO-8601 instant (e.g. 2026-12-05T23:00:00Z)");
            return null;
        }
    }

    private static WeeklyWindows weekly(JsonNode node, Map<String, String> problems) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject() || !node.path("schedule").isTextual() || !node.path("zone").isTextual()) {
            problems.put("weekly", "expected {\"schedule\": \"Sat 22:00-Sun 02:00\", \"zone\": \"Europe/Berlin\"}");
            return null;
        }
        try {
            return WeeklyWindows.parse(node.get("schedule").asText(), node.get("zone").asText());
        } catch (IllegalArgumentException e) {
            problems.put("weekly", e.getMessage());
            return null;
        }
    }

    private static String text(JsonNode body, String field, Map<String, String> problems) {
        JsonNode node = body.get(field);
        if (node == null || !node.isTextual() || node.asText().isBlank()) {
            problems.put(field, "required: a non-empty string");
            return null;
        }
        if (node.asText().indexOf('\0') >= 0) {
            // it travels into the audit records, and the sink's PostgreSQL text cannot hold NUL
            problems.put(field, "must not contain a NUL character");
            return null;
        }
        return node.asText().strip();
    }

    /** A silence as the reads show it, with its state (and next start, when pending) at {@code now}. */
    public static Map<String, Object> render(SilenceRule silence, Instant now) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", silence.id());
        SilenceRule.State state = silence.state(now);
        out.put("state", state.id());
        out.put("matchers", silence.matchers().stream().map(Matcher::toString).toList());
        out.put("startsAt", silence.startsAt().toString());
        out.put("endsAt", silence.endsAt() == null ? null : silence.endsAt().toString());
        if (silence.weekly() != null) {
            out.put("weekly", Map.of("schedule", silence.weekly().describe(), "zone", silence.weekly().zone().getId()));
        }
        if (state == SilenceRule.State.PENDING) {
            out.put("nextActiveAt", silence.nextActiveAt(now).map(Instant::toString).orElse(null));
        }
        out.put("createdBy", silence.createdBy());
        out.put("comment", silence.comment());
        out.put("updatedAt", silence.updatedAt().toString());
        return out;
    }
}
