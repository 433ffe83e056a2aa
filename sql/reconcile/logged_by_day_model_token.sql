-- requires: period_calls, recon_model_key, recon_mul_div
-- creates: recon_failed, recon_logged
-- recon_logged: what the request logs say was used, in the bill's terms.
-- Grain: provider_key × model_key × day × feature_key × token_type, with the tokens, their list cost
-- from the price book (NULL when the model is unpriced) and has_variant (batch / flex / priority calls). Cache-write cost is split between 5m and 1h by
-- tokens (priced_calls keeps one cache-write cost column).
-- recon_failed: failed calls that logged no usage, per provider_key × model_key × day × feature_key: the
-- provider may still have billed their input.
-- Calls a [self_hosted] deployment served are left out: their cost is a share of its GPU bill lines
-- (intermediate/self_hosted_costs.sql), exact by construction, and no token bill lists them.
-- Inputs: period_calls; macros from reconcile/_macros.sql.
CREATE OR REPLACE TEMP TABLE recon_logged AS
WITH per_group AS (
    SELECT
        coalesce(provider, '') AS provider_key,
        coalesce(recon_model_key(model), '(no model)') AS model_key,
        day,
        feature_key,
        sum(input_tokens) AS input_tokens,
        sum(cache_read_tokens) AS cache_read_tokens,
        sum(cache_write_5m_tokens) AS cache_write_5m_tokens,
        sum(cache_write_1h_tokens) AS cache_write_1h_tokens,
        sum(output_tokens) AS output_tokens,
        CAST(sum(input_cost_usd) AS DECIMAL(38, 18)) AS input_usd,
        CAST(sum(cache_read_cost_usd) AS DECIMAL(38, 18)) AS cache_read_usd,
        CAST(sum(cache_write_cost_usd) AS DECIMAL(38, 18)) AS cache_write_usd,
        CAST(sum(output_cost_usd) AS DECIMAL(38, 18)) AS output_usd,
        bool_or(NOT priced) AS has_unpriced,
        -- batch / flex / priority traffic: a list-price difference here is a tier or batch mismatch
        bool_or(coalesce(variant, 'standard') <> 'standard') AS has_variant
    FROM period_calls
    WHERE deployment IS NULL  -- a self-hosted deployment's calls are paid by its GPU lines, not a token bill
    GROUP BY ALL
),

cache_split AS (
    SELECT
        *,
        recon_mul_div(cache_write_usd, cache_write_5m_tokens, cache_write_5m_tokens + cache_write_1h_tokens)
            AS cache_write_5m_usd
    FROM per_group
)

SELECT provider_key, model_key, day, feature_key, token_type, has_variant,
       CAST(tokens AS DECIMAL(38, 6)) AS tokens,
       CASE WHEN has_unpriced THEN NULL ELSE CAST(list_usd AS DECIMAL(38, 18)) END AS list_usd
FROM (
    SELECT provider_key, model_key, day, feature_key, has_unpriced, has_variant, 'input' AS token_type,
           input_tokens AS tokens, input_usd AS list_usd FROM cache_split
    UNION ALL
    SELECT provider_key, model_key, day, feature_key, has_unpriced, has_variant, 'cache_read',
           cache_read_tokens, cache_read_usd FROM cache_split
    UNION ALL
    SELECT provider_key, model_key, day, feature_key, has_unpriced, has_variant, 'cache_write_5m',
           cache_write_5m_tokens, coalesce(cache_write_5m_usd, 0) FROM cache_split
    UNION ALL
    SELECT provider_key, model_key, day, feature_key, has_unpriced, has_variant, 'cache_write_1h',
           cache_write_1h_tokens, cache_write_usd - coalesce(cache_write_5m_usd, 0) FROM cache_split
    UNION ALL
    SELECT provider_key, model_key, day, feature_key, has_unpriced, has_variant, 'output',
           output_tokens, output_usd FROM cache_split
) AS unpivoted
WHERE tokens > 0;

CREATE OR REPLACE TEMP TABLE recon_failed AS
SELECT
    coalesce(provider, '') AS provider_key,
    coalesce(recon_model_key(model), '(no model)') AS model_key,
    day,
    feature_key,
    count(*) AS failed_calls
FROM period_calls
WHERE status = 'error' AND deployment IS NULL
  AND coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0) + coalesce(cache_write_5m_tokens, 0)
      + coalesce(cache_write_1h_tokens, 0) + coalesce(output_tokens, 0) = 0
GROUP BY ALL;
