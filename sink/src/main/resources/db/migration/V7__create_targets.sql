-- The inventory's history (compacted fleet.targets): one row per target version, keyed by (target_id,
-- updated_at), so a changed URL or group adds a row and a replayed version changes nothing. A tombstone
-- (decommission) writes no row: it sets removed_at, the record's Kafka timestamp, on the target's versions up to
-- then that were not removed yet. Monthly partitions targets_pYYYYMM by updated_at, kept by sink.retention.targets
-- (long by default: a target that is never edited keeps only its first version).
CREATE TABLE targets (
    target_id            text        NOT NULL,
    health_url           text        NOT NULL,
    metrics_url          text,
    group_name           text        NOT NULL,
    labels               jsonb       NOT NULL DEFAULT '{}',
    check_interval_ms    bigint      NOT NULL,
    metrics_interval_ms  bigint,
    timeout_ms           bigint      NOT NULL,
    critical_checks      jsonb       NOT NULL DEFAULT '[]',
    absence_timeout_ms   bigint      NOT NULL,
    updated_at           timestamptz NOT NULL,
    removed_at           timestamptz,
    ingested_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (target_id, updated_at)
) PARTITION BY RANGE (updated_at);

CREATE TABLE targets_default PARTITION OF targets DEFAULT;

-- "Current" is the newest version of each target, unless the target was removed after it.
CREATE VIEW current_targets AS
SELECT target_id, health_url, metrics_url, group_name, labels, check_interval_ms, metrics_interval_ms, timeout_ms,
       critical_checks, absence_timeout_ms, updated_at
FROM (SELECT DISTINCT ON (target_id) * FROM targets ORDER BY target_id, updated_at DESC) newest
WHERE removed_at IS NULL;
