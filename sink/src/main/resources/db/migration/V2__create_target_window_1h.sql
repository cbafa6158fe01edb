-- One row per target and closed one-hour window (fleet.aggregates.1h); monthly partitions named
-- target_window_1h_pYYYYMM, kept by sink.retention.1h. Same columns as target_window_1m: the same TargetWindow
-- record, so the registry (PartitionedTable.TARGET_WINDOW_1H) reuses its COPY mapping.
CREATE TABLE target_window_1h (LIKE target_window_1m INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    PRIMARY KEY (target_id, window_start)
) PARTITION BY RANGE (window_start);

CREATE TABLE target_window_1h_default PARTITION OF target_window_1h DEFAULT;
