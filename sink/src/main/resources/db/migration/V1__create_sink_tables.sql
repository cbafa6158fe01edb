-- FleetPulse sink schema. Time-series tables are range-partitioned on their event-time column; the sink's
-- PartitionManager creates the dated partitions (ahead of time and back over the retention window) and drops
-- expired ones. Each table also has a DEFAULT partition so a row outside every dated range is kept, counted
-- and warned about instead of failing the whole batch.

-- One row per target and closed one-minute window (fleet.aggregates.1m); daily partitions
-- named target_window_1m_pYYYYMMDD.
CREATE TABLE target_window_1m (
    target_id       text             NOT NULL,
    window_start    timestamptz      NOT NULL,
    window_end      timestamptz      NOT NULL,
    checks          bigint           NOT NULL,
    failures        bigint           NOT NULL,
    error_rate      double precision NOT NULL,
    latency_p50_ms  double precision,
    latency_p95_ms  double precision,
    latency_p99_ms  double precision,
    cpu_avg         double precision,
    cpu_max         double precision,
    memory_avg      double precision,
    memory_max      double precision,
    disk_avg        double precision,
    disk_max        double precision,
    samples         bigint           NOT NULL,
    -- When this row was last inserted or changed; a replay of identical values leaves it alone.
    ingested_at     timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (target_id, window_start)
) PARTITION BY RANGE (window_start);

CREATE TABLE target_window_1m_default PARTITION OF target_window_1m DEFAULT;

-- One row per alert state transition (fleet.alerts); monthly partitions named alert_event_pYYYYMM.
CREATE TABLE alert_event (
    fingerprint            text             NOT NULL,
    rule_id                text             NOT NULL,
    target_id              text             NOT NULL,
    group_name             text             NOT NULL,
    labels                 jsonb            NOT NULL DEFAULT '{}',
    state                  text             NOT NULL,
    severity               text             NOT NULL,
    summary                text             NOT NULL,
    evidence_signal        text             NOT NULL,
    evidence_value         double precision NOT NULL,
    evidence_operator      text             NOT NULL,
    evidence_threshold     double precision NOT NULL,
    evidence_window_start  timestamptz,
    evidence_window_end    timestamptz,
    evidence_samples       integer          NOT NULL,
    starts_at              timestamptz      NOT NULL,
    ends_at                timestamptz,
    occurred_at            timestamptz      NOT NULL,
    ingested_at            timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (fingerprint, occurred_at, state)
) PARTITION BY RANGE (occurred_at);

CREATE TABLE alert_event_default PARTITION OF alert_event DEFAULT;

-- "What fired for this target lately" is the common question on-call people ask.
CREATE INDEX alert_event_target_idx ON alert_event (target_id, occurred_at);

-- The sink's consumer positions: the next offset to read per (group, topic, partition). Written in the same
-- transaction as the rows, so this table, not Kafka's committed offsets, is the source of truth.
CREATE TABLE sink_offset (
    consumer_group  text        NOT NULL,
    topic           text        NOT NULL,
    partition       integer     NOT NULL,
    next_offset     bigint      NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, partition)
);
