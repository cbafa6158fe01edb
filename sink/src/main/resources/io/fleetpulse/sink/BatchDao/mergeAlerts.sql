WITH upserted AS (
    INSERT INTO alert_event AS a (fingerprint, rule_id, target_id, group_name, labels, state, severity, summary,
        evidence_signal, evidence_value, evidence_operator, evidence_threshold, evidence_window_start,
        evidence_window_end, evidence_samples, starts_at, ends_at, occurred_at)
    SELECT DISTINCT ON (fingerprint, occurred_at, state)
        fingerprint, rule_id, target_id, group_name, labels, state, severity, summary,
        evidence_signal, evidence_value, evidence_operator, evidence_threshold, evidence_window_start,
        evidence_window_end, evidence_samples, starts_at, ends_at, occurred_at
    FROM stage_alert_event
    ORDER BY fingerprint, occurred_at, state, seq DESC
    ON CONFLICT (fingerprint, occurred_at, state) DO UPDATE SET
        rule_id = EXCLUDED.rule_id,
        target_id = EXCLUDED.target_id,
        group_name = EXCLUDED.group_name,
        labels = EXCLUDED.labels,
        severity = EXCLUDED.severity,
        summary = EXCLUDED.summary,
        evidence_signal = EXCLUDED.evidence_signal,
        evidence_value = EXCLUDED.evidence_value,
        evidence_operator = EXCLUDED.evidence_operator,
        evidence_threshold = EXCLUDED.evidence_threshold,
        evidence_window_start = EXCLUDED.evidence_window_start,
        evidence_window_end = EXCLUDED.evidence_window_end,
        evidence_samples = EXCLUDED.evidence_samples,
        starts_at = EXCLUDED.starts_at,
        ends_at = EXCLUDED.ends_at,
        ingested_at = now()
    WHERE (a.rule_id, a.target_id, a.group_name, a.labels, a.severity, a.summary, a.evidence_signal, a.evidence_value,
           a.evidence_operator, a.evidence_threshold, a.evidence_window_start, a.evidence_window_end,
           a.evidence_samples, a.starts_at, a.ends_at)
        IS DISTINCT FROM
          (EXCLUDED.rule_id, EXCLUDED.target_id, EXCLUDED.group_name, EXCLUDED.labels, EXCLUDED.severity,
           EXCLUDED.summary, EXCLUDED.evidence_signal, EXCLUDED.evidence_value, EXCLUDED.evidence_operator,
           EXCLUDED.evidence_threshold, EXCLUDED.evidence_window_start, EXCLUDED.evidence_window_end,
           EXCLUDED.evidence_samples, EXCLUDED.starts_at, EXCLUDED.ends_at)
    RETURNING a.tableoid
)
SELECT count(*) AS written,
       count(*) FILTER (WHERE tableoid = 'alert_event_default'::regclass) AS in_default
FROM upserted
