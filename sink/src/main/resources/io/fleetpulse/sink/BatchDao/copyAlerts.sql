COPY stage_alert_event (seq, fingerprint, rule_id, target_id, group_name, labels, state, severity, summary,
    evidence_signal, evidence_value, evidence_operator, evidence_threshold, evidence_window_start,
    evidence_window_end, evidence_samples, starts_at, ends_at, occurred_at)
FROM STDIN WITH (FORMAT csv)
