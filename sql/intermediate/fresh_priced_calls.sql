-- requires: calls_to_price, charge_book_rows, charge_price_book_frozen, charged_calls, price_book_frozen,
--   price_book_rows
-- creates: fresh_priced_calls
-- fresh_priced_calls: the calls of `calls_to_price` priced now from the price book, one row per call with its
-- exact cost (docs/definitions.md#cost-of-a-call). costlens/pricing/stored.py stores the result in `calls`
-- (intermediate/store_call_costs.sql), which the priced_calls view reads: a call is priced once, and again only
-- when the book row that priced it changes.
-- Grain: calls. Joins the price_book row of the call's (provider, model, variant) whose validity window,
-- time-of-day window and input-size tier contain the call; price_book is built so that at most one does.
-- A call without a row (unknown model, no token price) has priced = false and NULL costs, never 0.
-- Charges beyond the token columns (call_charges: tools, images, audio tokens, fees) are priced from
-- charge_price_book (frozen months from charge_price_book_frozen) and added to the call's cost by family:
-- charge_token_cost_usd (audio / image tokens), tool_cost_usd, fee_cost_usd; unpriced_charges counts the
-- call's charges without a price (shown in coverage, never $0).
-- _price_row_id is the identity (a hash of every column) of the book row that priced the call; _charged says
-- whether it has counted charges. charged_calls is the charges of calls_to_price (intermediate/charged_calls.sql),
-- or none when a file's calls are priced as they are inserted (load/charged_calls_none.sql): their charges are
-- not loaded yet, so a call with charges is stored with priced_with NULL and priced after them.
-- Needs the pricing_variant() macro: costlens.pricing.catalog.install_macros(con).
-- Money stays DECIMAL(38,18): tokens × $/Mtok × DECIMAL 0.000001 (a decimal division would give a DOUBLE).
-- Closed months frozen by costlens.pricing.freeze are priced from their snapshot (price_book_frozen) for the
-- keys it holds; everything else from the live price_book. One join either way: the book is the union of
-- both, told apart by _frozen_month (0001-01-01 = live: a plain equality keeps the join a hash join).
CREATE OR REPLACE TEMP VIEW fresh_priced_calls AS
WITH frozen_keys AS (
    SELECT DISTINCT month, provider, model, variant FROM price_book_frozen
),
book AS (
    -- Speed: $/token per kind, computed once per price row. When every $/Mtok has at most 12 decimals
    -- (all catalog prices) and is below $1M, $/token is exact at 18 decimals and fits DECIMAL(18, 18) (a
    -- 64-bit integer): tokens × $/token then equals the per-call formula below bit for bit at a fraction of
    -- its cost (a 64 × 64-bit product that cannot overflow, no 24-decimal intermediate to round back).
    SELECT *,
        CASE WHEN _exact THEN CAST(input_mtok * 0.000001::DECIMAL(7, 6) AS DECIMAL(18, 18)) END AS _input_ptok,
        CASE WHEN _exact THEN CAST(cache_read_mtok * 0.000001::DECIMAL(7, 6) AS DECIMAL(18, 18)) END AS _cache_read_ptok,
        CASE WHEN _exact THEN CAST(cache_write_5m_mtok * 0.000001::DECIMAL(7, 6) AS DECIMAL(18, 18)) END
            AS _cache_write_5m_ptok,
        CASE WHEN _exact THEN CAST(cache_write_1h_mtok * 0.000001::DECIMAL(7, 6) AS DECIMAL(18, 18)) END
            AS _cache_write_1h_ptok,
        CASE WHEN _exact THEN CAST(output_mtok * 0.000001::DECIMAL(7, 6) AS DECIMAL(18, 18)) END AS _output_ptok,
        CASE WHEN _exact THEN CAST(reasoning_mtok * 0.000001::DECIMAL(7, 6) AS DECIMAL(18, 18)) END AS _reasoning_ptok
    FROM (
        SELECT *,
            coalesce(input_mtok = round(input_mtok, 12) AND cache_read_mtok = round(cache_read_mtok, 12)
                AND cache_write_5m_mtok = round(cache_write_5m_mtok, 12)
                AND cache_write_1h_mtok = round(cache_write_1h_mtok, 12)
                AND output_mtok = round(output_mtok, 12) AND reasoning_mtok = round(reasoning_mtok, 12)
                AND greatest(input_mtok, cache_read_mtok, cache_write_5m_mtok, cache_write_1h_mtok, output_mtok,
                             reasoning_mtok) < 1000000
                AND least(input_mtok, cache_read_mtok, cache_write_5m_mtok, cache_write_1h_mtok, output_mtok,
                          reasoning_mtok) > -1000000, false) AS _exact
        FROM price_book_rows
    )
),

charge_frozen_keys AS (
    SELECT DISTINCT month, provider, model, variant, kind FROM charge_price_book_frozen
),

charged AS (
    SELECT call_id, kind, detail, quantity, coalesce(provider, '') AS provider, model,
           pricing_variant(service_tier, is_batch) AS variant, ts
    FROM charged_calls
    WHERE counted
),

charge_costs AS (
    SELECT g.call_id,
           sum(CAST(g.quantity * b.usd_per_unit AS DECIMAL(38, 18))) FILTER (WHERE b.family = 'tokens')
               AS charge_token_cost_usd,
           sum(CAST(g.quantity * b.usd_per_unit AS DECIMAL(38, 18))) FILTER (WHERE b.family = 'tool')
               AS tool_cost_usd,
           sum(CAST(g.quantity * b.usd_per_unit AS DECIMAL(38, 18))) FILTER (WHERE b.family = 'request')
               AS fee_cost_usd,
           count(*) FILTER (WHERE b.usd_per_unit IS NULL) AS unpriced_charges
    FROM charged AS g
    LEFT JOIN charge_frozen_keys AS fk
        ON fk.month = CAST(date_trunc('month', g.ts) AS DATE) AND fk.provider = g.provider AND fk.model = g.model
        AND fk.variant = g.variant AND fk.kind = g.kind
    LEFT JOIN charge_book_rows AS b
        ON b._frozen_month = coalesce(fk.month, DATE '0001-01-01') AND b.provider = g.provider
        AND b.model = g.model AND b.variant = g.variant AND b.kind = g.kind
        AND b.detail IS NOT DISTINCT FROM g.detail AND g.ts >= b.valid_from AND g.ts < b.valid_to
    GROUP BY g.call_id
),

keyed0 AS (
    SELECT
        c.*,
        pricing_variant(c.service_tier, c.is_batch) AS variant,
        c.input_tokens + c.cache_read_tokens + c.cache_write_5m_tokens + c.cache_write_1h_tokens
            AS total_input_tokens,
        CAST(hour(c.ts) * 3600 + minute(c.ts) * 60 + second(c.ts) AS INTEGER) AS _tod_s,
        -- reasoning is a subset of output: never bill more of it than there is output
        greatest(least(c.reasoning_tokens, c.output_tokens), 0) AS _reasoning_tokens
    FROM calls_to_price AS c
),

keyed AS (
    SELECT k.*, coalesce(fk.month, DATE '0001-01-01') AS _frozen_month
    FROM keyed0 AS k
    LEFT JOIN frozen_keys AS fk
        ON fk.month = CAST(date_trunc('month', k.ts) AS DATE)
        AND fk.provider = coalesce(k.provider, '') AND fk.model = k.model AND fk.variant = k.variant
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
        pb._input_ptok, pb._cache_read_ptok, pb._cache_write_5m_ptok, pb._cache_write_1h_ptok, pb._output_ptok,
        pb._reasoning_ptok, pb._exact,
        pb.variant_applied,
        pb.discount_pct,
        pb.source AS price_source,
        pb._row_id AS _price_row_id
    FROM keyed AS k
    LEFT JOIN book AS pb
        ON pb._frozen_month = k._frozen_month
        AND pb.provider = coalesce(k.provider, '')
        AND pb.model = k.model
        AND pb.variant = k.variant
        AND k.ts >= pb.valid_from AND k.ts < pb.valid_to
        AND k._tod_s >= pb.tod_from_s AND k._tod_s < pb.tod_to_s
        AND k.total_input_tokens > pb.tier_above_tokens AND k.total_input_tokens <= pb.tier_upto_tokens
),

costed AS (
    SELECT
        *,
        CASE WHEN _exact THEN input_tokens * _input_ptok
             ELSE CAST(input_tokens * _input_mtok * 0.000001::DECIMAL(7, 6) AS DECIMAL(38, 18)) END AS input_cost_usd,
        CASE WHEN _exact THEN cache_read_tokens * _cache_read_ptok
             ELSE CAST(cache_read_tokens * _cache_read_mtok * 0.000001::DECIMAL(7, 6) AS DECIMAL(38, 18)) END
            AS cache_read_cost_usd,
        CASE WHEN _exact THEN cache_write_5m_tokens * _cache_write_5m_ptok + cache_write_1h_tokens * _cache_write_1h_ptok
             ELSE CAST(
                (cache_write_5m_tokens * _cache_write_5m_mtok + cache_write_1h_tokens * _cache_write_1h_mtok)
                * 0.000001::DECIMAL(7, 6) AS DECIMAL(38, 18)) END
            AS cache_write_cost_usd,
        CASE WHEN _exact THEN (output_tokens - _reasoning_tokens) * _output_ptok + _reasoning_tokens * _reasoning_ptok
             ELSE CAST(
                ((output_tokens - _reasoning_tokens) * _output_mtok + _reasoning_tokens * _reasoning_mtok)
                * 0.000001::DECIMAL(7, 6) AS DECIMAL(38, 18)) END
            AS output_cost_usd,
        CAST(_request_usd AS DECIMAL(38, 18)) AS request_cost_usd
    FROM matched
),

with_charges AS (
    SELECT c.*,
           CASE WHEN c.priced THEN coalesce(cc.charge_token_cost_usd, 0) END AS charge_token_cost_usd,
           CASE WHEN c.priced THEN coalesce(cc.tool_cost_usd, 0) END AS tool_cost_usd,
           CASE WHEN c.priced THEN coalesce(cc.fee_cost_usd, 0) END AS fee_cost_usd,
           coalesce(cc.unpriced_charges, 0) AS unpriced_charges,
           cc.call_id IS NOT NULL AS _charged
    FROM costed AS c
    LEFT JOIN charge_costs AS cc ON cc.call_id = c.call_id
)

SELECT
    * EXCLUDE (
        _frozen_month, _tod_s, _reasoning_tokens, _input_mtok, _cache_read_mtok, _cache_write_5m_mtok, _cache_write_1h_mtok,
        _output_mtok, _reasoning_mtok, _request_usd, _input_ptok, _cache_read_ptok, _cache_write_5m_ptok,
        _cache_write_1h_ptok, _output_ptok, _reasoning_ptok, _exact
    ),
    charge_token_cost_usd + tool_cost_usd + fee_cost_usd AS charges_cost_usd,
    input_cost_usd + cache_read_cost_usd + cache_write_cost_usd + output_cost_usd + request_cost_usd
        + charge_token_cost_usd + tool_cost_usd + fee_cost_usd AS cost_usd
FROM with_charges
