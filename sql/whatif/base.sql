-- requires: period_calls
-- creates: whatif_calls
-- What-if starting point: the period's traffic, one row per call of period_calls, with its price-book cost.
-- Changes (route.sql, batch.sql, prompt_cache.sql, cap_output.sql) UPDATE the model / variant / token columns
-- of the calls they touch and set `affected`; price.sql re-prices only those. `before_cost_usd` is the
-- computed (price-book) cost in every cost mode, so before and after are priced the same way.
-- Only priced calls can change: an unpriced call has no "before" to compare with.
-- Inputs: period_calls.
CREATE OR REPLACE TEMP TABLE whatif_calls AS
SELECT
    row_number() OVER (ORDER BY ts, call_id) AS wid,
    call_id,
    ts,
    feature_key AS feature,
    task_key,
    status,
    provider,
    model,
    variant,
    input_tokens,
    cache_read_tokens,
    cache_write_5m_tokens,
    cache_write_1h_tokens,
    output_tokens,
    reasoning_tokens,
    prefix_hash,
    prefix_tokens,
    computed_cost_usd IS NOT NULL AS priced,
    computed_cost_usd AS before_cost_usd,
    provider AS before_provider,
    model AS before_model,
    variant AS before_variant,
    FALSE AS affected,
    FALSE AS batch_assumed,
    FALSE AS cache_assumed,
    CAST(NULL AS INTEGER) AS last_change,
    CAST(NULL AS VARCHAR) AS last_from_model
FROM period_calls;
