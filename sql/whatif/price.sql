-- requires: whatif_calls, whatif_price_book, whatif_settings
-- creates: whatif_priced
-- Re-price the changed calls exactly as fresh_priced_calls.sql prices calls (same joins, DECIMAL(38,18) money),
-- against whatif_price_book (price_book plus the keys the changes need). Calls that `batch.sql` moved to a
-- batch variant the catalog has no price for (variant_applied false) get the assumed batch discount.
-- Inputs: whatif_calls, whatif_price_book, whatif_settings(assumed_batch_discount).
CREATE OR REPLACE TEMP TABLE whatif_priced AS
WITH keyed AS (
    SELECT
        w.*,
        w.input_tokens + w.cache_read_tokens + w.cache_write_5m_tokens + w.cache_write_1h_tokens
            AS total_input_tokens,
        CAST(hour(w.ts) * 3600 + minute(w.ts) * 60 + second(w.ts) AS INTEGER) AS _tod_s,
        greatest(least(w.reasoning_tokens, w.output_tokens), 0) AS _reasoning_tokens
    FROM whatif_calls AS w
    WHERE w.affected
),

matched AS (
    SELECT
        k.*,
        pb.source IS NOT NULL AS priced_after,
        pb.input_mtok AS _input_mtok,
        pb.cache_read_mtok AS _cache_read_mtok,
        pb.cache_write_5m_mtok AS _cache_write_5m_mtok,
        pb.cache_write_1h_mtok AS _cache_write_1h_mtok,
        pb.output_mtok AS _output_mtok,
        pb.reasoning_mtok AS _reasoning_mtok,
        pb.request_usd AS _request_usd,
        pb.variant_applied,
        pb.source AS price_source
    FROM keyed AS k
    LEFT JOIN whatif_price_book AS pb
        ON pb.provider = coalesce(k.provider, '')
        AND pb.model = k.model
        AND pb.variant = k.variant
        AND k.ts >= pb.valid_from AND k.ts < pb.valid_to
        AND k._tod_s >= pb.tod_from_s AND k._tod_s < pb.tod_to_s
        AND k.total_input_tokens > pb.tier_above_tokens AND k.total_input_tokens <= pb.tier_upto_tokens
),

costed AS (
    SELECT
        wid,
        batch_assumed,
        priced_after,
        variant_applied,
        price_source,
        CAST(input_tokens * _input_mtok * 0.000001::DECIMAL(7, 6) AS DECIMAL(38, 18))
        + CAST(cache_read_tokens * _cache_read_mtok * 0.000001::DECIMAL(7, 6) AS DECIMAL(38, 18))
        + CAST(
            (cache_write_5m_tokens * _cache_write_5m_mtok + cache_write_1h_tokens * _cache_write_1h_mtok)
            * 0.000001::DECIMAL(7, 6) AS DECIMAL(38, 18)
        )
        + CAST(
            ((output_tokens - _reasoning_tokens) * _output_mtok + _reasoning_tokens * _reasoning_mtok)
            * 0.000001::DECIMAL(7, 6) AS DECIMAL(38, 18)
        )
        + CAST(_request_usd AS DECIMAL(38, 18)) AS cost_usd
    FROM matched
)

SELECT
    c.wid,
    c.priced_after,
    c.price_source,
    c.batch_assumed AND NOT coalesce(c.variant_applied, TRUE) AS batch_discount_assumed,
    CASE WHEN c.batch_assumed AND NOT coalesce(c.variant_applied, TRUE)
             THEN CAST(c.cost_usd * (1 - s.assumed_batch_discount) AS DECIMAL(38, 18))
         ELSE c.cost_usd END AS after_cost_usd
FROM costed AS c
CROSS JOIN whatif_settings AS s;
