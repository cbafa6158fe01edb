package io.fleetpulse.stream;

/** Rule books the rule-file tests read and the topology tests run. */
final class TestRules {

    /** A check signal selecting one check: only {@code db} results feed it. */
    static final RuleBook DB_DOWN = RuleBook.parse("""
            rules:
              - id: db-down
                kind: threshold
                signal: check_failed
                check: db
                op: ">="
                value: 1
                severity: critical
                summary: "{target}: {check} is failing"
            """, "db-down");

    /** M of N on a flapping check, and an error rate judged only on windows with at least 3 checks. */
    static final RuleBook FLAPPING_CHECK_AND_THIN_WINDOWS = RuleBook.parse("""
            rules:
              - id: flapping
                kind: threshold
                signal: check_failed
                op: ">="
                value: 1
                m_of_n: { m: 3, n: 5 }
                severity: warning
              - id: errors
                kind: threshold
                signal: error_rate_1m
                op: ">"
                value: 0.5
                min_samples: 3
                severity: warning
            """, "flapping");

    private TestRules() {
    }
}
