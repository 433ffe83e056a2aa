-- requires: bill_line_owners, billing_usd, priced_calls, self_hosted_deployments, self_hosted_models
-- creates: self_hosted_calls, self_hosted_months, self_hosted_served
-- Self-hosted inference priced like an API (docs/definitions.md#self-hosted-deployments).
-- self_hosted_served: every call a [self_hosted.<name>] deployment served — the first deployment, in config
--   order, whose provider is the call's or one of whose model globs matches its model (a client's span of a
--   request to vLLM names the SDK's provider, openai, and the served model; vLLM's own span names provider
--   vllm), while it ran (running_from … running_until). All months: a deployment's cost is per calendar month (UTC),
--   whatever the report period.
-- self_hosted_months: per deployment and month, what it cost — gpu_count × gpu_hour_usd × the hours it ran,
--   or the billed cost of the bill lines it claims (bill_line_owners) charged in the month — its GPU-hours (the
--   rate's hours, or the hours the claimed lines' charge periods cover, at most the month's), the tokens it
--   served, its peak (peak_tokens_per_second_per_gpu, else the busiest clock hour of the month's calls ÷ GPUs),
--   utilisation (served tokens ÷ the peak over every GPU-second), idle GPU-hours and idle cost.
-- self_hosted_calls: the month's cost shared among the month's calls by weighted tokens (prompt tokens ×
--   input_weight + generated tokens × output_weight; by call when none has a token), in exact decimals: each
--   call's share is a difference of floors of the running total, so the shares add up to the month's cost to
--   the last digit. A month with calls and no cost (its bill lines not loaded yet) leaves its calls unpriced.
-- Inputs: priced_calls (view), billing_usd, bill_line_owners, self_hosted_deployments(deployment, position,
-- provider, gpu_type, gpu_count, gpu_hour_usd, by_bill, input_weight_milli, output_weight_milli,
-- peak_tokens_per_second_per_gpu, running_from, running_until),
-- self_hosted_models(deployment, model_glob).
CREATE OR REPLACE TEMP TABLE self_hosted_served AS
WITH claims AS (
    -- by provider, and by model glob (two joins rather than a list function: the same SQL runs on Spark)
    SELECT c.call_id, d.deployment, d.position, d.running_from, d.running_until
    FROM priced_calls AS c
    JOIN self_hosted_deployments AS d ON lower(coalesce(c.provider, '')) = lower(d.provider)
    UNION ALL
    SELECT c.call_id, d.deployment, d.position, d.running_from, d.running_until
    FROM priced_calls AS c
    JOIN self_hosted_models AS m ON lower(coalesce(c.model, '')) GLOB lower(m.model_glob)
    JOIN self_hosted_deployments AS d ON d.deployment = m.deployment
),

first_claim AS (
    SELECT k.call_id, arg_min(k.deployment, k.position) AS deployment
    FROM claims AS k
    JOIN priced_calls AS c ON c.call_id = k.call_id
    WHERE (k.running_from IS NULL OR c.ts >= CAST(k.running_from AS TIMESTAMP))
      AND (k.running_until IS NULL OR c.ts < CAST(k.running_until AS TIMESTAMP) + INTERVAL 1 DAY)
    GROUP BY k.call_id
)

SELECT
    c.call_id,
    c.ts,
    date_trunc('month', c.ts) AS month,
    c.input_tokens + c.cache_read_tokens + c.cache_write_5m_tokens + c.cache_write_1h_tokens AS prompt_tokens,
    c.output_tokens,
    f.deployment
FROM first_claim AS f
JOIN priced_calls AS c ON c.call_id = f.call_id;

CREATE OR REPLACE TEMP TABLE self_hosted_months AS
WITH call_months AS (
    SELECT deployment, month, count(*) AS calls, sum(prompt_tokens) AS prompt_tokens,
           sum(output_tokens) AS output_tokens
    FROM self_hosted_served
    GROUP BY deployment, month
),

busiest_hour AS (
    SELECT deployment, month, max(tokens) AS tokens
    FROM (SELECT deployment, month, date_trunc('hour', ts) AS hour, sum(prompt_tokens + output_tokens) AS tokens
          FROM self_hosted_served
          GROUP BY deployment, month, date_trunc('hour', ts)) AS h
    GROUP BY deployment, month
),

-- a rate-priced deployment runs every hour from running_from (else its first call's month) to the end of
-- running_until (else of its last call's month)
rate_span AS (
    SELECT d.deployment,
           coalesce(CAST(d.running_from AS TIMESTAMP), min(m.month)) AS run_start,
           coalesce(CAST(d.running_until AS TIMESTAMP) + INTERVAL 1 DAY, max(m.month) + INTERVAL 1 MONTH) AS run_end
    FROM self_hosted_deployments AS d
    LEFT JOIN call_months AS m ON m.deployment = d.deployment
    WHERE NOT d.by_bill
    GROUP BY d.deployment, d.running_from, d.running_until
),

rate_months AS (
    SELECT s.deployment, m.month,
           date_diff('hour', greatest(m.month, s.run_start), least(m.month + INTERVAL 1 MONTH, s.run_end)) AS hours
    FROM rate_span AS s
    CROSS JOIN LATERAL (SELECT unnest(generate_series(date_trunc('month', s.run_start), s.run_end - INTERVAL 1 HOUR,
                                                      INTERVAL 1 MONTH)) AS month) AS m
    WHERE s.run_start IS NOT NULL AND s.run_end > s.run_start
),

bill_months AS (
    SELECT o.deployment, date_trunc('month', b.charge_period_start) AS month, sum(b.billed_cost) AS cost_usd,
           count(*) AS bill_lines
    FROM bill_line_owners AS o
    JOIN billing_usd AS b ON b.line_id = o.line_id
    WHERE o.deployment IS NOT NULL AND b.charge_period_start IS NOT NULL
    GROUP BY o.deployment, date_trunc('month', b.charge_period_start)
),

-- the hours the claimed lines cover: each distinct charge period once (an instance's line and its disk's line
-- cover the same hours), at most the month's hours
bill_hours AS (
    SELECT deployment, month,
           least(sum(date_diff('hour', s, e)), date_diff('hour', month, month + INTERVAL 1 MONTH)) AS hours
    FROM (SELECT DISTINCT o.deployment, date_trunc('month', b.charge_period_start) AS month,
                 b.charge_period_start AS s,
                 least(coalesce(b.charge_period_end, b.charge_period_start + INTERVAL 1 HOUR),
                       date_trunc('month', b.charge_period_start) + INTERVAL 1 MONTH) AS e
          FROM bill_line_owners AS o
          JOIN billing_usd AS b ON b.line_id = o.line_id
          WHERE o.deployment IS NOT NULL AND b.charge_period_start IS NOT NULL) AS p
    GROUP BY deployment, month
),

cost_months AS (
    SELECT r.deployment, r.month, CAST(d.gpu_hour_usd * d.gpu_count * r.hours AS DECIMAL(38, 18)) AS cost_usd,
           'rate' AS cost_basis, CAST(0 AS BIGINT) AS bill_lines, CAST(d.gpu_count * r.hours AS BIGINT) AS gpu_hours
    FROM rate_months AS r
    JOIN self_hosted_deployments AS d ON d.deployment = r.deployment
    UNION ALL
    SELECT b.deployment, b.month, CAST(b.cost_usd AS DECIMAL(38, 18)), 'bill', b.bill_lines,
           CAST(d.gpu_count * coalesce(h.hours, 0) AS BIGINT)
    FROM bill_months AS b
    JOIN self_hosted_deployments AS d ON d.deployment = b.deployment
    LEFT JOIN bill_hours AS h ON h.deployment = b.deployment AND h.month = b.month
),

months AS (
    SELECT coalesce(k.deployment, c.deployment) AS deployment, coalesce(k.month, c.month) AS month,
           k.cost_usd, k.cost_basis, coalesce(k.bill_lines, 0) AS bill_lines, coalesce(k.gpu_hours, 0) AS gpu_hours,
           coalesce(c.calls, 0) AS calls, coalesce(c.prompt_tokens, 0) AS prompt_tokens,
           coalesce(c.output_tokens, 0) AS output_tokens
    FROM cost_months AS k
    FULL OUTER JOIN call_months AS c ON c.deployment = k.deployment AND c.month = k.month
),

rated AS (
    SELECT m.*, d.gpu_type, d.gpu_count,
           coalesce(d.peak_tokens_per_second_per_gpu, CAST(h.tokens AS DOUBLE) / 3600.0 / d.gpu_count)
               AS peak_tokens_per_second_per_gpu,
           CASE WHEN d.peak_tokens_per_second_per_gpu IS NOT NULL THEN 'config'
                WHEN h.tokens > 0 THEN 'busiest hour' END AS peak_basis,
           CAST(m.prompt_tokens + m.output_tokens AS DOUBLE) / nullif(m.gpu_hours * 3600.0, 0)
               AS tokens_per_second_per_gpu
    FROM months AS m
    JOIN self_hosted_deployments AS d ON d.deployment = m.deployment
    LEFT JOIN busiest_hour AS h ON h.deployment = m.deployment AND h.month = m.month
)

SELECT *,
       least(1.0, tokens_per_second_per_gpu / nullif(peak_tokens_per_second_per_gpu, 0)) AS utilisation,
       CASE WHEN gpu_hours > 0 THEN
           gpu_hours * (1.0 - coalesce(least(1.0, tokens_per_second_per_gpu / nullif(peak_tokens_per_second_per_gpu, 0)), 0.0))
       END AS idle_gpu_hours,
       CAST(cost_usd * (1.0 - coalesce(least(1.0, tokens_per_second_per_gpu / nullif(peak_tokens_per_second_per_gpu, 0)), 0.0))
            AS DECIMAL(38, 18)) AS idle_cost_usd
FROM rated;

CREATE OR REPLACE TEMP TABLE self_hosted_calls AS
WITH weighted AS (
    SELECT s.call_id, s.deployment, s.month, s.ts,
           CAST(s.prompt_tokens AS HUGEINT) * d.input_weight_milli AS in_units,
           CAST(s.output_tokens AS HUGEINT) * d.output_weight_milli AS out_units
    FROM self_hosted_served AS s
    JOIN self_hosted_deployments AS d ON d.deployment = s.deployment
),

month_units AS (
    SELECT deployment, month, sum(in_units + out_units) AS units, count(*) AS calls
    FROM weighted
    GROUP BY deployment, month
),

running AS (
    SELECT w.call_id, w.deployment, w.month, w.in_units, m.cost_usd,
           CASE WHEN u.units = 0 THEN 1 ELSE w.in_units + w.out_units END AS units,
           sum(CASE WHEN u.units = 0 THEN 1 ELSE w.in_units + w.out_units END)
               OVER (PARTITION BY w.deployment, w.month ORDER BY w.ts, w.call_id ROWS UNBOUNDED PRECEDING) AS upto,
           CASE WHEN u.units = 0 THEN u.calls ELSE u.units END AS total,
           -- the month's cost in pico-dollars (whole), its sub-pico rest given to the last call
           CAST(trunc(m.cost_usd * 1000000000000) AS HUGEINT) AS pico
    FROM weighted AS w
    JOIN month_units AS u ON u.deployment = w.deployment AND u.month = w.month
    JOIN self_hosted_months AS m ON m.deployment = w.deployment AND m.month = w.month
    WHERE m.cost_usd IS NOT NULL
),

shares AS (
    SELECT *, pico * upto // total - pico * (upto - units) // total AS share_pico
    FROM running
)

SELECT
    call_id,
    deployment,
    month,
    CAST(share_pico AS DECIMAL(38, 0)) * CAST(0.000000000001 AS DECIMAL(38, 12))
        + CASE WHEN upto = total THEN cost_usd - CAST(pico AS DECIMAL(38, 0)) * CAST(0.000000000001 AS DECIMAL(38, 12))
               ELSE CAST(0 AS DECIMAL(38, 18)) END AS cost_usd,
    -- the prompt's part of the share (by its weighted tokens), the rest the output's
    CAST(coalesce(share_pico * in_units // nullif(units, 0), 0) AS DECIMAL(38, 0)) * CAST(0.000000000001 AS DECIMAL(38, 12)) AS input_cost_usd
FROM shares;
