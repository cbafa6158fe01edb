package io.fleetpulse.alerting.silence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.alerting.route.Matcher;
import io.fleetpulse.events.Silence;
import io.fleetpulse.schemas.Topics;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KeyValue;
import org.junit.jupiter.api.Test;

/** Which alerts a silence matches, when it is active, pending or expired, and how the index picks one. */
class SilenceRuleTest {

    private static final Instant T0 = Instant.parse("2026-12-02T10:00:00Z");
    private static final Map<String, String> WEB_1 = Map.of("target", "web-1", "severity", "critical",
            "group", "frontend", "rule", "cpu-high", "env", "prod");

    static SilenceRule silence(String id, List<String> matchers, Instant startsAt, Instant endsAt) {
        return new SilenceRule(id, matchers.stream().map(Matcher::parse).toList(), startsAt, endsAt, null, "alice",
                "maintenance", startsAt);
    }

    @Test
    void shouldMatchWhenEveryMatcherHoldsWithTheRoutesSyntax() {
        assertTrue(silence("s", List.of("target=\"web-1\""), T0, T0.plusSeconds(60)).matches(WEB_1));
        assertTrue(silence("s", List.of("target=~\"web-.*\"", "severity!=\"info\"", "group=frontend"), T0,
                T0.plusSeconds(60)).matches(WEB_1));
        assertFalse(silence("s", List.of("target=\"web-1\"", "env!~\"prod|staging\""), T0, T0.plusSeconds(60))
                .matches(WEB_1), "one matcher fails");
        assertFalse(silence("s", List.of("target=\"web\""), T0, T0.plusSeconds(60)).matches(WEB_1),
                "a value must match whole");
    }

    @Test
    void shouldBePendingThenActiveThenExpiredWithTheEndExcluded() {
        SilenceRule rule = silence("s", List.of("target=\"web-1\""), T0, T0.plusSeconds(60));
        assertEquals(SilenceRule.State.PENDING, rule.state(T0.minusMillis(1)));
        assertEquals(SilenceRule.State.ACTIVE, rule.state(T0));
        assertEquals(SilenceRule.State.ACTIVE, rule.state(T0.plusMillis(59_999)));
        assertEquals(SilenceRule.State.EXPIRED, rule.state(T0.plusSeconds(60)));
        assertFalse(rule.silences(WEB_1, T0.plusSeconds(60)));
    }

    @Test
    void shouldExpireByMovingItsEndToNowAndKeepTheRest() {
        SilenceRule rule = silence("s", List.of("target=\"web-1\""), T0, T0.plusSeconds(3600));
        SilenceRule expired = rule.expiredAt(T0.plusSeconds(10));
        assertEquals(T0.plusSeconds(10), expired.endsAt());
        assertEquals(SilenceRule.State.EXPIRED, expired.state(T0.plusSeconds(10)));
        assertEquals(rule.matchers(), expired.matchers());
        assertEquals(T0.minusSeconds(5), silence("p", List.of("a=b"), T0, T0.plusSeconds(9)).expiredAt(
                T0.minusSeconds(5)).startsAt(), "a pending one expired before it started ends where it starts");
    }

    @Test
    void shouldBeActiveOnlyInsideItsWeeklyWindowAndBeforeItsOverallEnd() {
        SilenceRule window = new SilenceRule("w", List.of(Matcher.parse("group=\"frontend\"")), T0,
                Instant.parse("2026-12-13T00:00:00Z"), WeeklyWindows.parse("Sat 22:00-Sun 02:00", "Europe/Berlin"),
                "ops", "weekly patching", T0);
        assertEquals(SilenceRule.State.PENDING, window.state(T0), "Wednesday: between windows");
        assertEquals(Instant.parse("2026-12-05T21:00:00Z"), window.nextActiveAt(T0).orElseThrow());
        assertTrue(window.silences(WEB_1, Instant.parse("2026-12-05T23:00:00Z")));
        assertEquals(SilenceRule.State.EXPIRED, window.state(Instant.parse("2026-12-13T00:00:00Z")),
                "its overall end, mid-window, ends it");
    }

    @Test
    void shouldRoundTripThroughTheTopicsRecord() {
        SilenceRule rule = new SilenceRule("w", List.of(Matcher.parse("target=~\"db-.*\"")), T0, null,
                WeeklyWindows.parse("Mon-Fri 02:00-04:00", "UTC"), "ops", "backups", T0);
        Silence stored = rule.toAvro();
        assertEquals(List.of("target=~\"db-.*\""), stored.getMatchers());
        assertEquals(rule, SilenceRule.fromAvro(stored));
    }

    @Test
    void shouldPickTheActiveMatchingSilenceWithTheLowestIdAndSkipWhatCannotBeRead() {
        SilenceIndex index = new SilenceIndex();
        index.refresh(List.of(
                record(silence("b", List.of("target=\"web-1\""), T0, T0.plusSeconds(60))),
                record(silence("a", List.of("severity=\"critical\""), T0, T0.plusSeconds(60))),
                record(silence("0-expired", List.of("target=\"web-1\""), T0.minusSeconds(60), T0)),
                KeyValue.pair("bad", new byte[] {1, 2, 3})).iterator());

        assertEquals("a", index.silencing(WEB_1, T0).orElseThrow().id());
        assertTrue(index.silencing(Map.of("target", "web-2"), T0).isEmpty());
        assertEquals(3, index.all().size(), "the unreadable record is skipped");
    }

    private static KeyValue<String, byte[]> record(SilenceRule rule) {
        return KeyValue.pair(rule.id(), Topics.SILENCES.valueSerde().serializer().serialize(Topics.SILENCES.name(),
                rule.toAvro()));
    }
}
