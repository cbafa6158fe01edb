COPY stage_target_window (seq, target_id, window_start, window_end, checks, failures, error_rate,
    latency_p50_ms, latency_p95_ms, latency_p99_ms, cpu_avg, cpu_max, memory_avg, memory_max, disk_avg, disk_max,
    samples)
FROM STDIN WITH (FORMAT csv)
