-- priced_calls: one row per call with its exact cost (DESIGN §2).
-- Grain: calls. Joins the price_book row of the call's (provider, model, variant) whose validity window,
-- time-of-day window and input-size tier contain the call; price_book is built so that at most one does.
-- A call without a row (unknown model, no token price) has priced = false and NULL costs, never 0.
-- Needs the pricing_variant() macro: costlens.pricing.catalog.install_macros(con).
-- Money stays DECIMAL(38,18): tokens × $/Mtok × DECIMAL 0.000001 (a decimal division would give a DOUBLE).
CREATE OR REPLACE VIEW priced_calls AS
WITH keyed AS (
    SELECT
        c.*,
        pricing_variant(c.service_tier, c.is_batch) AS variant,
        c.input_tokens + c.cache_read_tokens + c.cache_write_5m_tokens + c.cache_write_1h_tokens
            AS total_input_tokens,
        CAST(hour(c.ts) * 3600 + minute(c.ts) * 60 + second(c.ts) AS INTEGER) AS _tod_s,
        -- reasoning is a subset of output: never bill more of it than there is output
        greatest(least(c.reasoning_tokens, c.output_tokens), 0) AS _reasoning_tokens
    FROM calls AS c
),

matched AS (
    SELECT
        k.*,
        pb.source IS NOT NULL AS priced,
        pb.input_mtok AS _input_mtok,
        pb.cache_read_mtok AS _cache_read_mtok,
        pb.cache_write_5m_mtok AS _cache_write_5m_mtok,
        pb.cache_write_1h_mtok AS _cache_write_1h_mtok,
        pb.output_mtok AS _output_mtok,
        pb.reasoning_mtok AS _reasoning_mtok,
        pb.request_usd AS _request_usd,
        pb.variant_applied,
        pb.discount_pct,
        pb.source AS price_source
    FROM keyed AS k
    LEFT JOIN price_book AS pb
        ON pb.provider = coalesce(k.provider, '')
        AND pb.model = k.model
        AND pb.variant = k.variant
        AND k.ts >= pb.valid_from AND k.ts < pb.valid_to
        AND k._tod_s >= pb.tod_from_s AND k._tod_s < pb.tod_to_s
        AND k.total_input_tokens > pb.tier_above_tokens AND k.total_input_tokens <= pb.tier_upto_tokens
),

costed AS (
    SELECT
        *,
        CAST(input_tokens * _input_mtok * 0.000001::DECIMAL(7, 6) AS DECIMAL(38, 18)) AS input_cost_usd,
        CAST(cache_read_tokens * _cache_read_mtok * 0.000001::DECIMAL(7, 6) AS DECIMAL(38, 18))
            AS cache_read_cost_usd,
        CAST(
            (cache_write_5m_tokens * _cache_write_5m_mtok + cache_write_1h_tokens * _cache_write_1h_mtok)
            * 0.000001::DECIMAL(7, 6) AS DECIMAL(38, 18)
        ) AS cache_write_cost_usd,
        CAST(
            ((output_tokens - _reasoning_tokens) * _output_mtok + _reasoning_tokens * _reasoning_mtok)
            * 0.000001::DECIMAL(7, 6) AS DECIMAL(38, 18)
        ) AS output_cost_usd,
        CAST(_request_usd AS DECIMAL(38, 18)) AS request_cost_usd
    FROM matched
)

SELECT
    * EXCLUDE (
        _tod_s, _reasoning_tokens, _input_mtok, _cache_read_mtok, _cache_write_5m_mtok, _cache_write_1h_mtok,
        _output_mtok, _reasoning_mtok, _request_usd
    ),
    input_cost_usd + cache_read_cost_usd + cache_write_cost_usd + output_cost_usd + request_cost_usd AS cost_usd
FROM costed
