-- Views over the inventory, health and alerts; docs/sink.md shows them in use and TableRegistryIT runs them.

-- The fleet now: every current target with its group and its latest health score (NULL status: never scored).
CREATE VIEW fleet_status AS
SELECT t.target_id, t.group_name, h.score, h.status, h.failing_checks, h.reasons, h.window_end AS scored_at
FROM current_targets t
LEFT JOIN LATERAL (SELECT score, status, failing_checks, reasons, window_end FROM target_health th
                   WHERE th.target_id = t.target_id ORDER BY window_start DESC LIMIT 1) h ON true;

-- Error rate per group and hour, from the hourly windows. A target's group is that of its newest version (also
-- for a removed target, so its past hours stay in its group); a target never seen in fleet.targets has NULL.
CREATE VIEW group_error_rate_hourly AS
SELECT g.group_name, w.window_start AS hour,
       count(DISTINCT w.target_id)                                  AS targets,
       sum(w.checks)                                                AS checks,
       sum(w.failures)                                              AS failures,
       sum(w.failures)::double precision / nullif(sum(w.checks), 0) AS error_rate
FROM target_window_1h w
LEFT JOIN (SELECT DISTINCT ON (target_id) target_id, group_name FROM targets ORDER BY target_id, updated_at DESC) g
       USING (target_id)
GROUP BY g.group_name, w.window_start;

-- Flapping: a rule that fired three times or more for one target within the last 24 hours.
CREATE VIEW flapping_rules AS
SELECT rule_id, target_id,
       count(*) FILTER (WHERE state = 'FIRING')   AS fired,
       count(*) FILTER (WHERE state = 'RESOLVED') AS resolved,
       min(occurred_at)                           AS first_at,
       max(occurred_at)                           AS last_at
FROM alert_event
WHERE occurred_at > now() - interval '24 hours'
GROUP BY rule_id, target_id
HAVING count(*) FILTER (WHERE state = 'FIRING') >= 3;
