-- requires: leak_calls, leak_examples, leak_th, leak_thresholds_json, self_hosted_calls, self_hosted_months
-- creates: none
-- gpu_underuse (docs/definitions.md#gpu_underuse): the idle part of the self-hosted GPUs the feature's calls pay
-- for. A deployment's month is shared among its calls whole (intermediate/self_hosted_costs.sql), idle hours
-- included; the idle part of a call's share is share × (1 − the month's utilisation), i.e. idle GPU-hours × the
-- rate, split by the calls' weighted tokens. One finding per feature and deployment with utilisation below
-- gpu_underuse.max_utilisation. Run only when the config has [self_hosted] deployments (costlens.leaks.detect).
-- Inputs: leak_calls, self_hosted_calls, self_hosted_months, leak_thresholds.
WITH idle AS (
    SELECT
        c.call_id, c.feature_key, c.model, c.task_class, c.cost_usd, s.deployment, s.month, m.utilisation,
        m.peak_basis, m.gpu_hours, m.idle_gpu_hours, m.gpu_type, m.gpu_count,
        CAST(s.cost_usd * (1.0 - m.utilisation) AS DECIMAL(38, 18)) AS idle_usd
    FROM leak_calls AS c
    JOIN self_hosted_calls AS s ON s.call_id = c.call_id
    JOIN self_hosted_months AS m ON m.deployment = s.deployment AND m.month = s.month
    WHERE m.utilisation IS NOT NULL AND m.utilisation < leak_th('gpu_underuse.max_utilisation')
),

found AS (
    SELECT
        feature_key AS feature,
        deployment,
        CASE WHEN count(DISTINCT model) = 1 THEN any_value(model) END AS model,
        any_value(task_class) AS task_class,
        count(*) AS calls_affected,
        sum(idle_usd) AS wasted_usd,
        sum(cost_usd) AS affected_cost_usd,
        min(utilisation) AS min_utilisation,
        max(utilisation) AS max_utilisation,
        bool_and(peak_basis = 'config') AS peak_configured,
        any_value(gpu_type) AS gpu_type,
        any_value(gpu_count) AS gpu_count,

        leak_examples(call_id, idle_usd) AS example_call_ids
    FROM idle
    GROUP BY feature_key, deployment
),

-- the GPU-hours and idle GPU-hours of the months the feature's calls fall in (the whole deployment's: its
-- features share them), each month once
months AS (
    SELECT feature_key, deployment, sum(gpu_hours) AS gpu_hours, sum(idle_gpu_hours) AS idle_gpu_hours
    FROM (SELECT DISTINCT feature_key, deployment, month, gpu_hours, idle_gpu_hours FROM idle) AS m
    GROUP BY feature_key, deployment
)

SELECT
    'gpu_underuse' AS kind,
    f.feature,
    f.model,
    f.task_class,
    f.calls_affected,
    f.wasted_usd,
    f.calls_affected AS confidence_calls,
    -- measured against the busiest hour, the peak is a floor of the GPUs' capacity: idle is at least this
    CASE WHEN f.peak_configured THEN 'high' ELSE 'medium' END AS confidence_at_most,
    'gpu_underuse.savings' AS savings_factors,
    json_object(
        'counts', json_object('calls_affected', f.calls_affected, 'gpu_hours', g.gpu_hours,
                              'idle_gpu_hours', round(g.idle_gpu_hours, 2)),
        'deployment', f.deployment,
        'gpu_type', f.gpu_type,
        'gpu_count', f.gpu_count,
        'utilisation', round(f.min_utilisation, 4),
        'utilisation_max', round(f.max_utilisation, 4),
        'peak_basis', CASE WHEN f.peak_configured THEN 'config' ELSE 'busiest hour' END,
        'example_call_ids', f.example_call_ids,
        'thresholds', leak_thresholds_json('gpu_underuse')
    ) AS evidence,
    'its calls on self-hosted deployment ' || f.deployment || ' pay for GPUs '
        || CAST(round(100 * (1 - f.max_utilisation), 1) AS VARCHAR) || ' % idle: scale replicas with traffic, '
        || 'consolidate deployments, or move the traffic to an API' AS explanation,
    'gpu_right_sizing' AS lever,
    'low' AS quality_risk,
    f.affected_cost_usd
FROM found AS f
JOIN months AS g ON g.feature_key = f.feature AND g.deployment = f.deployment
