-- The alerting audit (fleet.notifications): one row per delivery decision or attempt; monthly partitions named
-- notification_pYYYYMM, kept by sink.retention.notifications. "Why was I not paged" is a query on outcome.
CREATE TABLE notification (
    notification_id  text        NOT NULL,
    fingerprint      text        NOT NULL,
    rule_id          text        NOT NULL,
    target_id        text        NOT NULL,
    receiver         text        NOT NULL,
    receiver_type    text        NOT NULL,
    receiver_id      text,
    deployment       text,
    alert_state      text        NOT NULL,
    outcome          text        NOT NULL,
    attempt          integer     NOT NULL,
    http_status      integer,
    error            text,
    decided_at       timestamptz NOT NULL,
    ingested_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (notification_id, attempt, outcome, decided_at)
) PARTITION BY RANGE (decided_at);

CREATE TABLE notification_default PARTITION OF notification DEFAULT;
CREATE INDEX notification_fingerprint_idx ON notification (fingerprint, decided_at);

-- Every service's dead letters (fleet.dlq); monthly partitions named dead_letter_pYYYYMM, kept by sink.retention.dlq.
-- A letter re-sent after a crash carries a new failed_at, so it is a second row: count distinct source offsets.
CREATE TABLE dead_letter (
    service           text        NOT NULL,
    source_topic      text        NOT NULL,
    source_partition  integer     NOT NULL,
    source_offset     bigint      NOT NULL,
    reason            text        NOT NULL,
    error             text        NOT NULL,
    original_key      bytea,
    original_value    bytea,
    failed_at         timestamptz NOT NULL,
    ingested_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service, source_topic, source_partition, source_offset, failed_at)
) PARTITION BY RANGE (failed_at);

CREATE TABLE dead_letter_default PARTITION OF dead_letter DEFAULT;
