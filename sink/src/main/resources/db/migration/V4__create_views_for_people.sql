-- Views for the common questions, over the partitioned parents (so they follow partitions and retention).
-- docs/sink.md shows them in use; TableRegistryIT runs every documented query against the migrated schema.

-- Which servers were worst last week: error rate over the 1-minute windows of the last 7 days.
CREATE VIEW worst_targets_last_week AS
SELECT target_id,
       sum(checks)                                        AS checks,
       sum(failures)                                      AS failures,
       sum(failures)::double precision / nullif(sum(checks), 0) AS error_rate,
       max(latency_p95_ms)                                AS worst_latency_p95_ms
FROM target_window_1m
WHERE window_start > now() - interval '7 days'
GROUP BY target_id;

-- MTTR per rule: how long resolved alerts lasted (ends_at - starts_at of each RESOLVED transition).
CREATE VIEW rule_mttr AS
SELECT rule_id,
       count(*)                              AS resolved,
       avg(ends_at - starts_at)              AS mttr,
       max(ends_at - starts_at)              AS longest,
       max(occurred_at)                      AS last_resolved_at
FROM alert_event
WHERE state = 'RESOLVED' AND ends_at IS NOT NULL
GROUP BY rule_id;

-- Notification outcomes per receiver: what was sent, and what was held back and why (SILENCED, THROTTLED ...).
CREATE VIEW notification_outcomes AS
SELECT receiver, outcome, count(*) AS decisions, max(decided_at) AS last_decided_at
FROM notification
GROUP BY receiver, outcome;

-- Dead letters by reason; a letter re-sent after a crash is one record, not two.
CREATE VIEW dead_letters_by_reason AS
SELECT service, source_topic, reason,
       count(DISTINCT (source_topic, source_partition, source_offset)) AS records,
       max(failed_at) AS last_failed_at
FROM dead_letter
GROUP BY service, source_topic, reason;
