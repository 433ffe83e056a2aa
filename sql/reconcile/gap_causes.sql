-- requires: recon_billed, recon_failed, recon_logged, recon_mul_div, recon_scopes, recon_settings
-- creates: recon_cells
-- recon_cells: bill against logs, and every billed dollar given a cause.
-- Grain: provider_key × model_key × day × token_type, for the providers the bill covers and the days it
-- spans. Token lines of billing scopes judged not logged (recon_scopes) are counted whole as
-- unlogged_scope_usd; the rest of the bill is compared with the logged tokens:
--   matched   = min(billed, logged) tokens; explained_usd = their billed cost (what the logs explain);
--   excess    = billed tokens above the logs, valued at the cell's billed rate, split into
--               failed_usd    input billed for failed calls that logged no usage (input cells on days with
--                             such calls; less the input that output-side excess says is unlogged traffic),
--               rounding_usd  what is left when it is within rounding_usd,
--               unlogged_usd  what is left when the logs missed traffic (an output/cache excess that day,
--                             or no logged tokens in the cell),
--               unexplained_usd anything else (input-only excess with no failed calls);
--   deficit   = logged tokens above the bill, at list price: logged_not_billed_usd (or rounding).
-- Price bridge on the matched tokens: discount_usd = billed − the bill's own list cost (negotiated
-- discounts, credits); list_mismatch_usd = the bill's list cost − costlens's price-book cost (a tier or
-- batch mismatch where the cell's logged calls include batch / flex / priority traffic — has_variant — else
-- a price-book mismatch).
-- So per cell: billed_usd = explained + failed + rounding + unlogged + unexplained, and
-- explained = matched logged list + list_mismatch + discount.
-- Inputs: recon_billed, recon_scopes, recon_logged, recon_failed, recon_settings(rounding_usd).
CREATE OR REPLACE TEMP TABLE recon_cells AS
WITH scoped AS (
    SELECT b.*, s.logged
    FROM recon_billed AS b
    JOIN recon_scopes AS s USING (provider_key, model_key, scope_kind, scope)
    WHERE b.token_type <> 'other'
),

billed AS (
    SELECT
        provider_key, model_key, day, token_type,
        coalesce(sum(tokens) FILTER (WHERE logged), 0) AS billed_tokens,
        coalesce(sum(billed_usd) FILTER (WHERE logged), 0) AS billed_usd,
        coalesce(sum(bill_list_usd) FILTER (WHERE logged), 0) AS bill_list_usd,
        coalesce(sum(billed_usd) FILTER (WHERE NOT logged), 0) AS unlogged_scope_usd,
        coalesce(sum(tokens) FILTER (WHERE NOT logged), 0) AS unlogged_scope_tokens
    FROM scoped
    GROUP BY ALL
),

bill_span AS (
    SELECT provider_key, min(day) AS first_day, max(day) AS last_day
    FROM recon_billed
    GROUP BY ALL
),

logged AS (
    SELECT
        l.provider_key, l.model_key, l.day, l.token_type,
        sum(l.tokens) AS logged_tokens,
        CASE WHEN bool_or(l.list_usd IS NULL) THEN NULL ELSE sum(l.list_usd) END AS logged_list_usd,
        bool_or(l.has_variant) AS has_variant
    FROM recon_logged AS l
    JOIN bill_span AS bs ON bs.provider_key = l.provider_key AND l.day BETWEEN bs.first_day AND bs.last_day
    GROUP BY ALL
),

cells AS (
    SELECT
        provider_key, model_key, day, token_type,
        CAST(coalesce(b.billed_tokens, 0) AS DECIMAL(38, 6)) AS billed_tokens,
        CAST(coalesce(b.billed_usd, 0) AS DECIMAL(38, 18)) AS billed_usd,
        CAST(coalesce(b.bill_list_usd, 0) AS DECIMAL(38, 18)) AS bill_list_usd,
        CAST(coalesce(b.unlogged_scope_usd, 0) AS DECIMAL(38, 18)) AS unlogged_scope_usd,
        CAST(coalesce(b.unlogged_scope_tokens, 0) AS DECIMAL(38, 6)) AS unlogged_scope_tokens,
        CAST(coalesce(l.logged_tokens, 0) AS DECIMAL(38, 6)) AS logged_tokens,
        CASE WHEN l.provider_key IS NULL THEN 0 ELSE l.logged_list_usd END AS logged_list_usd,
        coalesce(l.has_variant, false) AS has_variant
    FROM billed AS b
    FULL OUTER JOIN logged AS l USING (provider_key, model_key, day, token_type)
),

valued AS (
    SELECT
        *,
        least(billed_tokens, logged_tokens) AS matched_tokens,
        greatest(billed_tokens - logged_tokens, 0) AS excess_tokens,
        greatest(logged_tokens - billed_tokens, 0) AS deficit_tokens,
        coalesce(recon_mul_div(billed_usd, least(billed_tokens, logged_tokens), billed_tokens), 0)
            AS explained_usd,
        coalesce(recon_mul_div(bill_list_usd, least(billed_tokens, logged_tokens), billed_tokens), 0)
            AS matched_bill_list_usd,
        CASE WHEN logged_tokens = 0 THEN 0
             ELSE recon_mul_div(logged_list_usd, least(billed_tokens, logged_tokens), logged_tokens) END
            AS matched_logged_list_usd
    FROM cells
),

day_signals AS (
    SELECT
        provider_key, model_key, day,
        coalesce(sum(excess_tokens) FILTER (WHERE token_type <> 'input'), 0) AS other_excess_tokens,
        coalesce(sum(excess_tokens) FILTER (WHERE token_type = 'output'), 0) AS output_excess_tokens,
        coalesce(sum(logged_tokens) FILTER (WHERE token_type = 'input'), 0) AS logged_input_tokens,
        coalesce(sum(logged_tokens) FILTER (WHERE token_type = 'output'), 0) AS logged_output_tokens
    FROM valued
    GROUP BY ALL
),

failed AS (
    SELECT provider_key, model_key, day, sum(failed_calls) AS failed_calls
    FROM recon_failed
    GROUP BY ALL
),

with_failed AS (
    SELECT
        v.*,
        coalesce(f.failed_calls, 0) AS failed_calls,
        coalesce(d.other_excess_tokens, 0) AS day_other_excess_tokens,
        CASE
            WHEN v.token_type = 'input' AND coalesce(f.failed_calls, 0) > 0 AND v.excess_tokens > 0 THEN
                greatest(v.excess_tokens - CASE
                    -- input that rides along with the output the logs miss is unlogged traffic, not failures
                    WHEN d.logged_output_tokens > 0 THEN CAST(round(
                        d.output_excess_tokens * d.logged_input_tokens / d.logged_output_tokens) AS DECIMAL(38, 6))
                    ELSE 0 END, 0)
            ELSE 0
        END AS failed_tokens
    FROM valued AS v
    LEFT JOIN failed AS f USING (provider_key, model_key, day)
    LEFT JOIN day_signals AS d USING (provider_key, model_key, day)
),

split AS (
    SELECT
        w.*,
        w.billed_usd - w.explained_usd AS excess_usd,
        coalesce(recon_mul_div(w.billed_usd - w.explained_usd, w.failed_tokens, w.excess_tokens), 0) AS failed_usd,
        coalesce(w.logged_list_usd, 0) - coalesce(w.matched_logged_list_usd, 0) AS deficit_list_usd
    FROM with_failed AS w
)

SELECT
    sp.provider_key, sp.model_key, sp.day, sp.token_type,
    sp.billed_tokens, sp.billed_usd, sp.bill_list_usd, sp.unlogged_scope_tokens, sp.unlogged_scope_usd,
    sp.logged_tokens, sp.logged_list_usd, sp.matched_tokens, sp.excess_tokens, sp.deficit_tokens,
    sp.failed_calls, sp.failed_tokens,
    sp.explained_usd,
    sp.matched_bill_list_usd,
    coalesce(sp.matched_logged_list_usd, sp.matched_bill_list_usd) AS matched_logged_list_usd,
    sp.matched_logged_list_usd IS NULL AS logged_unpriced,
    sp.explained_usd - sp.matched_bill_list_usd AS discount_usd,
    sp.matched_bill_list_usd - coalesce(sp.matched_logged_list_usd, sp.matched_bill_list_usd) AS list_mismatch_usd,
    sp.has_variant,
    sp.failed_usd,
    CASE WHEN abs(sp.excess_usd - sp.failed_usd) <= st.rounding_usd THEN sp.excess_usd - sp.failed_usd ELSE 0 END
        AS rounding_usd,
    CASE WHEN abs(sp.excess_usd - sp.failed_usd) > st.rounding_usd
              AND (sp.token_type <> 'input' OR sp.day_other_excess_tokens > 0 OR sp.logged_tokens = 0)
         THEN sp.excess_usd - sp.failed_usd ELSE 0 END AS unlogged_usd,
    CASE WHEN abs(sp.excess_usd - sp.failed_usd) > st.rounding_usd
              AND NOT (sp.token_type <> 'input' OR sp.day_other_excess_tokens > 0 OR sp.logged_tokens = 0)
         THEN sp.excess_usd - sp.failed_usd ELSE 0 END AS unexplained_usd,
    CASE WHEN sp.deficit_list_usd > st.rounding_usd THEN sp.deficit_list_usd ELSE 0 END AS logged_not_billed_usd,
    CASE WHEN sp.deficit_list_usd <= st.rounding_usd THEN sp.deficit_list_usd ELSE 0 END AS logged_rounding_usd,
    sp.billed_tokens = 0 AND sp.logged_tokens > 0 AS absent_from_bill
FROM split AS sp
CROSS JOIN recon_settings AS st;
