package io.fleetpulse.alerting.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class MatcherTest {

    private final Map<String, String> labels = Map.of("env", "prod", "severity", "critical", "dc", "eu-1");

    @Test
    void shouldMatchEqualityAndItsNegation() {
        assertTrue(Matcher.parse("env=\"prod\"").matches(labels));
        assertFalse(Matcher.parse("env=\"staging\"").matches(labels));
        assertTrue(Matcher.parse("env!=staging").matches(labels));
        assertFalse(Matcher.parse("env != prod").matches(labels));
    }

    @Test
    void shouldAnchorRegexesToTheWholeValue() {
        assertTrue(Matcher.parse("dc=~\"eu-.*\"").matches(labels));
        assertFalse(Matcher.parse("dc=~\"eu\"").matches(labels), "a regex matches the whole value, not a part");
        assertFalse(Matcher.parse("dc=~\"u-1\"").matches(labels));
        assertTrue(Matcher.parse("severity=~\"critical|warning\"").matches(labels));
        assertFalse(Matcher.parse("severity!~\"critical|warning\"").matches(labels));
        assertTrue(Matcher.parse("dc!~\"us-.*\"").matches(labels));
    }

    @Test
    void shouldTakeAMissingLabelAsTheEmptyString() {
        assertTrue(Matcher.parse("team=\"\"").matches(labels));
        assertFalse(Matcher.parse("team!=\"\"").matches(labels));
        assertTrue(Matcher.parse("env!=\"\"").matches(labels));
        assertTrue(Matcher.parse("team=~\".*\"").matches(labels));
        assertFalse(Matcher.parse("team=~\".+\"").matches(labels));
    }

    @Test
    void shouldUnescapeQuotedValues() {
        Matcher matcher = Matcher.parse("summary=\"say \\\"hi\\\"\"");
        assertEquals("say \"hi\"", matcher.value());
        assertTrue(matcher.matches(Map.of("summary", "say \"hi\"")));
        assertEquals(matcher, Matcher.parse(matcher.toString()));
    }

    @Test
    void shouldRejectWhatIsNoMatcher() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Matcher.parse("env"))
                .getMessage().contains("is not a matcher"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Matcher.parse("env=~\"(\""))
                .getMessage().contains("invalid regex"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Matcher.parse("env=\"prod"))
                .getMessage().contains("closing quote"));
    }
}
