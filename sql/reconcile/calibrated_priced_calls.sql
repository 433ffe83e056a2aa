-- requires: calibrated_rates, recon_model_key, recon_mul_div, recon_pico
-- creates: priced_calls
-- priced_calls, re-costed at billed prices (`report --prices billed`): a TEMP view that shadows the
-- persistent main.priced_calls for this connection only, so every metric downstream uses it.
-- Per token type of a call's provider and model (matched on recon_model_key): where the bill matched
-- logged tokens, cost = list cost × explained / matched list cost (exact DECIMAL ratio); where costlens has
-- no list price but the bill has a rate, cost = tokens × billed $/Mtok; else the list cost stays.
-- price_basis says which: billed | list | mixed (some token types billed, some list).
-- Inputs: {list_priced_calls}, the persistent main.priced_calls qualified with the database's catalog (costlens/reconcile/calibrate.py), calibrated_rates.
CREATE OR REPLACE TEMP VIEW priced_calls AS
WITH rates AS (
    SELECT
        provider_key, model_key,
        any_value(explained_usd) FILTER (WHERE token_type = 'input') AS in_paid,
        any_value(matched_list_usd) FILTER (WHERE token_type = 'input') AS in_list,
        any_value(billed_usd_per_mtok) FILTER (WHERE token_type = 'input') AS in_rate,
        any_value(explained_usd) FILTER (WHERE token_type = 'cache_read') AS cr_paid,
        any_value(matched_list_usd) FILTER (WHERE token_type = 'cache_read') AS cr_list,
        any_value(billed_usd_per_mtok) FILTER (WHERE token_type = 'cache_read') AS cr_rate,
        any_value(explained_usd) FILTER (WHERE token_type = 'cache_write_5m') AS cw_paid,
        any_value(matched_list_usd) FILTER (WHERE token_type = 'cache_write_5m') AS cw_list,
        any_value(explained_usd) FILTER (WHERE token_type = 'output') AS out_paid,
        any_value(matched_list_usd) FILTER (WHERE token_type = 'output') AS out_list,
        any_value(billed_usd_per_mtok) FILTER (WHERE token_type = 'output') AS out_rate
    FROM calibrated_rates
    GROUP BY ALL
),

joined AS (
    SELECT p.*, r.* EXCLUDE (provider_key, model_key), r.provider_key IS NOT NULL AS _has_bill
    FROM {list_priced_calls} AS p
    LEFT JOIN rates AS r
        ON r.provider_key = coalesce(p.provider, '') AND r.model_key = recon_model_key(p.model)
),

recost AS (
    SELECT
        * EXCLUDE (in_paid, in_list, in_rate, cr_paid, cr_list, cr_rate, cw_paid, cw_list, out_paid, out_list,
                   out_rate, _has_bill),
        CASE WHEN in_list > 0 AND input_cost_usd IS NOT NULL
                 THEN recon_mul_div(input_cost_usd, recon_pico(in_paid), recon_pico(in_list))
             WHEN input_cost_usd IS NULL AND in_rate IS NOT NULL
                 THEN CAST(input_tokens * in_rate * 0.000001::DECIMAL(7, 6) AS DECIMAL(38, 18))
             ELSE input_cost_usd END AS _in,
        CASE WHEN cr_list > 0 AND cache_read_cost_usd IS NOT NULL
                 THEN recon_mul_div(cache_read_cost_usd, recon_pico(cr_paid), recon_pico(cr_list))
             WHEN cache_read_cost_usd IS NULL AND cr_rate IS NOT NULL
                 THEN CAST(cache_read_tokens * cr_rate * 0.000001::DECIMAL(7, 6) AS DECIMAL(38, 18))
             ELSE cache_read_cost_usd END AS _cr,
        CASE WHEN cw_list > 0 AND cache_write_cost_usd IS NOT NULL
                 THEN recon_mul_div(cache_write_cost_usd, recon_pico(cw_paid), recon_pico(cw_list))
             ELSE cache_write_cost_usd END AS _cw,
        CASE WHEN out_list > 0 AND output_cost_usd IS NOT NULL
                 THEN recon_mul_div(output_cost_usd, recon_pico(out_paid), recon_pico(out_list))
             WHEN output_cost_usd IS NULL AND out_rate IS NOT NULL
                 THEN CAST(output_tokens * out_rate * 0.000001::DECIMAL(7, 6) AS DECIMAL(38, 18))
             ELSE output_cost_usd END AS _out,
        CASE
            WHEN NOT _has_bill THEN 'list'
            WHEN (input_tokens = 0 OR in_list > 0 OR in_rate IS NOT NULL)
                 AND (cache_read_tokens = 0 OR cr_list > 0 OR cr_rate IS NOT NULL)
                 AND (cache_write_5m_tokens + cache_write_1h_tokens = 0 OR cw_list > 0)
                 AND (output_tokens = 0 OR out_list > 0 OR out_rate IS NOT NULL) THEN 'billed'
            WHEN in_list > 0 OR cr_list > 0 OR cw_list > 0 OR out_list > 0 OR in_rate IS NOT NULL
                 OR out_rate IS NOT NULL THEN 'mixed'
            ELSE 'list'
        END AS price_basis
    FROM joined
)

SELECT
    * EXCLUDE (_in, _cr, _cw, _out, input_cost_usd, cache_read_cost_usd, cache_write_cost_usd, output_cost_usd,
               cost_usd, priced),
    _in IS NOT NULL AND _cr IS NOT NULL AND _cw IS NOT NULL AND _out IS NOT NULL AS priced,
    _in AS input_cost_usd,
    _cr AS cache_read_cost_usd,
    _cw AS cache_write_cost_usd,
    _out AS output_cost_usd,
    _in + _cr + _cw + _out + coalesce(request_cost_usd, 0) + coalesce(charges_cost_usd, 0) AS cost_usd
FROM recost;
