WITH upserted AS (
    INSERT INTO target_window_1m AS t (target_id, window_start, window_end, checks, failures, error_rate,
        latency_p50_ms, latency_p95_ms, latency_p99_ms, cpu_avg, cpu_max, memory_avg, memory_max, disk_avg, disk_max,
        samples)
    SELECT DISTINCT ON (target_id, window_start)
        target_id, window_start, window_end, checks, failures, error_rate,
        latency_p50_ms, latency_p95_ms, latency_p99_ms, cpu_avg, cpu_max, memory_avg, memory_max, disk_avg, disk_max,
        samples
    FROM stage_target_window
    ORDER BY target_id, window_start, seq DESC
    ON CONFLICT (target_id, window_start) DO UPDATE SET
        window_end = EXCLUDED.window_end,
        checks = EXCLUDED.checks,
        failures = EXCLUDED.failures,
        error_rate = EXCLUDED.error_rate,
        latency_p50_ms = EXCLUDED.latency_p50_ms,
        latency_p95_ms = EXCLUDED.latency_p95_ms,
        latency_p99_ms = EXCLUDED.latency_p99_ms,
        cpu_avg = EXCLUDED.cpu_avg,
        cpu_max = EXCLUDED.cpu_max,
        memory_avg = EXCLUDED.memory_avg,
        memory_max = EXCLUDED.memory_max,
        disk_avg = EXCLUDED.disk_avg,
        disk_max = EXCLUDED.disk_max,
        samples = EXCLUDED.samples,
        ingested_at = now()
    WHERE (t.window_end, t.checks, t.failures, t.error_rate, t.latency_p50_ms, t.latency_p95_ms, t.latency_p99_ms,
           t.cpu_avg, t.cpu_max, t.memory_avg, t.memory_max, t.disk_avg, t.disk_max, t.samples)
        IS DISTINCT FROM
          (EXCLUDED.window_end, EXCLUDED.checks, EXCLUDED.failures, EXCLUDED.error_rate, EXCLUDED.latency_p50_ms,
           EXCLUDED.latency_p95_ms, EXCLUDED.latency_p99_ms, EXCLUDED.cpu_avg, EXCLUDED.cpu_max, EXCLUDED.memory_avg,
           EXCLUDED.memory_max, EXCLUDED.disk_avg, EXCLUDED.disk_max, EXCLUDED.samples)
    RETURNING t.tableoid
)
SELECT count(*) AS written,
       count(*) FILTER (WHERE tableoid = 'target_window_1m_default'::regclass) AS in_default
FROM upserted
