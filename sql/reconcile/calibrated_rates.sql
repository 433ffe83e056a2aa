-- requires: recon_billed, recon_cells, recon_mul_div
-- creates: calibrated_rates
-- calibrated_rates: what was really paid, per provider_key × model_key × token_type, from the bill in the
-- period: the effective rate (billed $ / billed tokens, per Mtok) and the factor that turns costlens's list
-- cost of the logged tokens into the billed cost of the same tokens (explained / matched list cost; it
-- carries negotiated discounts and any price-book mismatch). Money stays DECIMAL; the factor is applied
-- as an exact ratio of two money sums by recon_mul_div in calibrated_priced_calls.sql.
-- Inputs: recon_billed, recon_cells.
CREATE OR REPLACE TEMP TABLE calibrated_rates AS
WITH bill AS (
    SELECT provider_key, model_key, token_type,
           sum(tokens) AS billed_tokens, sum(billed_usd) AS billed_usd, sum(bill_list_usd) AS bill_list_usd
    FROM recon_billed
    WHERE token_type <> 'other'
    GROUP BY ALL
),

matched AS (
    SELECT provider_key, model_key, token_type,
           sum(matched_tokens) AS matched_tokens,
           sum(explained_usd) AS explained_usd,
           sum(matched_logged_list_usd) FILTER (WHERE NOT logged_unpriced) AS matched_list_usd
    FROM recon_cells
    GROUP BY ALL
)

SELECT
    b.provider_key, b.model_key, b.token_type,
    CAST(b.billed_tokens AS DECIMAL(38, 6)) AS billed_tokens,
    CAST(b.billed_usd AS DECIMAL(38, 18)) AS billed_usd,
    CAST(b.bill_list_usd AS DECIMAL(38, 18)) AS bill_list_usd,
    recon_mul_div(b.billed_usd, 1000000, b.billed_tokens) AS billed_usd_per_mtok,
    recon_mul_div(b.bill_list_usd, 1000000, b.billed_tokens) AS bill_list_usd_per_mtok,
    CAST(coalesce(m.matched_tokens, 0) AS DECIMAL(38, 6)) AS matched_tokens,
    CAST(m.explained_usd AS DECIMAL(38, 18)) AS explained_usd,
    CAST(m.matched_list_usd AS DECIMAL(38, 18)) AS matched_list_usd
FROM bill AS b
LEFT JOIN matched AS m USING (provider_key, model_key, token_type)
WHERE b.billed_tokens > 0;
