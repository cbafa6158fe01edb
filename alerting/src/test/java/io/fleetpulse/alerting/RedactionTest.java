package io.fleetpulse.alerting;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class RedactionTest {

    @Test
    void shouldShowOnlyWhereAUrlPoints() {
        assertEquals("https://hooks.slack.com/****", Redaction.maskUrl("https://hooks.slack.com/services/T/B/token"));
        assertEquals("http://localhost:8080/****", Redaction.maskUrl("http://localhost:8080/?key=abc"));
        assertEquals("http://localhost:8080/****", Redaction.maskUrl("http://u:p@localhost:8080"));
        assertEquals("https://example.com", Redaction.maskUrl("https://example.com/"));
        assertEquals("****", Redaction.maskUrl("not a url with token abc"));
        assertEquals("****", Redaction.maskUrl("relative/path/token"));
    }

    @Test
    void shouldMaskEverySecretButNotTinyFragments() {
        assertEquals("key **** and ****", Redaction.redact("key abcd1234 and efgh5678", "abcd1234", "efgh5678", null));
        assertEquals("a/b/c", Redaction.redact("a/b/c", "/"));
        assertEquals(null, Redaction.redact(null, "secret"));
    }
}
