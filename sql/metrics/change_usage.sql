-- requires: period_calls
-- creates: none
-- Usage and cost of the period's priced calls per (feature, provider, model, variant) and cost kind: the inputs of
-- the volume / efficiency / mix / price split of the change in spend (costlens/change.py sums over features; the
-- report keeps the rows as `usage_by_kind`, so `costlens diff` can split the change between two saved reports).
-- Kinds and their quantities:
--   input        uncached input tokens            cache_read   cache read tokens
--   cache_write  cache write tokens (5m + 1h)      output       output tokens (reasoning included)
--   call         calls: per-request fees, and in the 'reported' cost mode the producer's own cost above or
--                below the price-book cost (so Σ cost over kinds = Σ period_calls.cost_usd, exactly)
-- A kind's tokens count only where the price book priced that kind, so quantity × average price = cost.
-- Money stays DECIMAL(38,18). Unpriced calls (cost_usd NULL) are left out: they are listed elsewhere, never $0.
-- Input: period_calls (materialised for the window). Output: one row per (feature, provider, model, variant, kind).
WITH priced AS (
    SELECT
        feature_key AS feature,
        coalesce(provider, '') AS provider,
        model,
        variant,
        CASE WHEN input_cost_usd IS NOT NULL THEN input_tokens ELSE 0 END AS input_q,
        CASE WHEN cache_read_cost_usd IS NOT NULL THEN cache_read_tokens ELSE 0 END AS cache_read_q,
        CASE WHEN cache_write_cost_usd IS NOT NULL THEN cache_write_5m_tokens + cache_write_1h_tokens ELSE 0 END
            AS cache_write_q,
        CASE WHEN output_cost_usd IS NOT NULL THEN output_tokens ELSE 0 END AS output_q,
        coalesce(input_cost_usd, 0) AS input_c,
        coalesce(cache_read_cost_usd, 0) AS cache_read_c,
        coalesce(cache_write_cost_usd, 0) AS cache_write_c,
        coalesce(output_cost_usd, 0) AS output_c,
        cost_usd - coalesce(input_cost_usd, 0) - coalesce(cache_read_cost_usd, 0)
            - coalesce(cache_write_cost_usd, 0) - coalesce(output_cost_usd, 0) AS call_c
    FROM period_calls
    WHERE cost_usd IS NOT NULL
),
per_key AS (
    SELECT feature, provider, model, variant,
           sum(input_q) AS input_q, sum(cache_read_q) AS cache_read_q, sum(cache_write_q) AS cache_write_q,
           sum(output_q) AS output_q, count(*) AS call_q,
           sum(input_c) AS input_c, sum(cache_read_c) AS cache_read_c, sum(cache_write_c) AS cache_write_c,
           sum(output_c) AS output_c, sum(call_c) AS call_c
    FROM priced
    GROUP BY feature, provider, model, variant
),
kinds AS (
    SELECT feature, provider, model, variant, 'input' AS kind, input_q AS quantity, input_c AS cost_usd FROM per_key
    UNION ALL
    SELECT feature, provider, model, variant, 'cache_read', cache_read_q, cache_read_c FROM per_key
    UNION ALL
    SELECT feature, provider, model, variant, 'cache_write', cache_write_q, cache_write_c FROM per_key
    UNION ALL
    SELECT feature, provider, model, variant, 'output', output_q, output_c FROM per_key
    UNION ALL
    SELECT feature, provider, model, variant, 'call', call_q, call_c FROM per_key
)
SELECT k.feature, k.provider, k.model, k.variant, k.kind,
       CAST(k.quantity AS HUGEINT) AS quantity,
       CAST(k.cost_usd AS DECIMAL(38, 18)) AS cost_usd
FROM kinds k
WHERE k.quantity <> 0 OR k.cost_usd <> 0
ORDER BY k.feature, k.provider, k.model, k.variant, k.kind;
