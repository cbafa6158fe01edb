package io.fleetpulse.alerting.silence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What POST /v1/silences takes, and the name and reason of every field it refuses. */
class SilenceJsonTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant NOW = Instant.parse("2026-12-02T10:00:00Z");

    private static SilenceRule parse(String json) throws Exception {
        return SilenceJson.parseRequest(JSON.readTree(json), "id-1", NOW);
    }

    private static Map<String, String> problems(String json) {
        return assertThrows(SilenceJson.InvalidSilenceException.class, () -> parse(json)).problems();
    }

    @Test
    void shouldTakeAOneOffSilenceStartingNowByDefault() throws Exception {
        SilenceRule rule = parse("""
                {"matchers": ["target=\\"web-1\\""], "endsAt": "2026-12-02T12:00:00Z",
                 "createdBy": "alice", "comment": "reboot"}""");
        assertEquals(NOW, rule.startsAt());
        assertEquals(Instant.parse("2026-12-02T12:00:00Z"), rule.endsAt());
        assertNull(rule.weekly());
        assertEquals("active", SilenceJson.render(rule, NOW).get("state"));
    }

    @Test
    void shouldTakeAWeeklyWindowWithoutAnEnd() throws Exception {
        SilenceRule rule = parse("""
                {"matchers": ["group=~\\"db-.*\\""], "weekly": {"schedule": "Sat 22:00-Sun 02:00", "zone": "Europe/Berlin"},
                 "createdBy": "ops", "comment": "weekly patching"}""");
        assertNull(rule.endsAt());
        Map<String, Object> shown = SilenceJson.render(rule, NOW);
        assertEquals("pending", shown.get("state"));
        assertEquals(Map.of("schedule", "Sat 22:00-Sun 02:00", "zone", "Europe/Berlin"), shown.get("weekly"));
        assertEquals("2026-12-05T21:00:00Z", shown.get("nextActiveAt"));
    }

    @Test
    void shouldNameEveryBadField() {
        Map<String, String> problems = problems("""
                {"matchers": ["target=~\\"(\\""], "startsAt": "yesterday", "endsAt": "2026-12-01T00:00:00Z",
                 "createdBy": "", "colour": "red"}""");
        assertEquals(Set.of("matchers", "startsAt", "endsAt", "createdBy", "comment", "colour"), problems.keySet());
        assertEquals("must be in the future", problems("""
                {"matchers": ["target=\\"web-1\\""], "startsAt": "2026-11-30T00:00:00Z",
                 "endsAt": "2026-12-01T00:00:00Z", "createdBy": "a", "comment": "c"}""").get("endsAt"));
    }

    @Test
    void shouldRefuseASilenceWithoutAnEndOrWithMatchersThatMatchEverything() {
        assertEquals(Set.of("endsAt"), problems("""
                {"matchers": ["target=\\"web-1\\""], "createdBy": "a", "comment": "c"}""").keySet());
        assertEquals(List.of("matchers"), List.copyOf(problems("""
                {"matchers": ["env!=\\"prod\\"", "target=~\\".*\\""], "endsAt": "2026-12-03T00:00:00Z",
                 "createdBy": "a", "comment": "c"}""").keySet()));
        assertEquals(Set.of("weekly"), problems("""
                {"matchers": ["target=\\"web-1\\""], "weekly": {"schedule": "Sat 22:00-Sun 02:00", "zone": "Nowhere"},
                 "createdBy": "a", "comment": "c"}""").keySet());
        assertEquals(Set.of("comment"), problems("""
                {"matchers": ["target=\\"web-1\\""], "endsAt": "2026-12-03T00:00:00Z", "createdBy": "a",
                 "comment": "c\\u0000"}""").keySet());
        assertEquals(Set.of("body"), assertThrows(SilenceJson.InvalidSilenceException.class,
                () -> SilenceJson.parseRequest(JSON.readTree("[]"), "id", NOW)).problems().keySet());
    }
}
