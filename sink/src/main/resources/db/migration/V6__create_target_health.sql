-- Health scores (compacted fleet.health): the latest score of each target for each scoring window, so the table
-- is the score's history while the topic only keeps its newest value. Keyed by (target_id, window_start): a
-- rescore of the same window replaces its row, a new window adds one. Daily partitions target_health_pYYYYMMDD,
-- kept by sink.retention.health. failing_checks and reasons are JSON arrays of text, in the order the scorer gave.
CREATE TABLE target_health (
    target_id       text             NOT NULL,
    window_start    timestamptz      NOT NULL,
    window_end      timestamptz      NOT NULL,
    score           double precision NOT NULL,
    status          text             NOT NULL,
    failing_checks  jsonb            NOT NULL DEFAULT '[]',
    reasons         jsonb            NOT NULL DEFAULT '[]',
    ingested_at     timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (target_id, window_start)
) PARTITION BY RANGE (window_start);

CREATE TABLE target_health_default PARTITION OF target_health DEFAULT;
CREATE INDEX target_health_status_idx ON target_health (status, window_start);
