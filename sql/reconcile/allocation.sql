-- requires: recon_alloc_settings, recon_billed, recon_cells, recon_failed, recon_logged, recon_mul_div, recon_pico,
--   recon_scope_rules, recon_scopes
-- creates: recon_allocation, recon_allocation_detail, recon_feature_spend
-- recon_feature_spend: the billed spend each feature owns, per provider_key × model_key × day × feature:
-- explained_usd (its share of the cell's explained spend, by its logged tokens) and failed_usd (billed input
-- of its failed calls, by its share of the failed calls that day).
-- recon_allocation_detail / recon_allocation: the billed spend no feature owns (unlogged traffic, other AI
-- charges, unexplained, rounding, and the sub-pico-dollar dust of the exact splits), given to features:
-- a billing scope with a rule (recon_scope_rules) goes to its feature; otherwise the configured default
-- feature (recon_alloc_settings.default_feature), else in proportion to the features' explained spend on
-- that provider in the period (on all providers if it has none; '(unallocated)' if nothing is logged).
-- Each piece is split exactly: the largest share takes the remainder, so the parts add up to the piece.
-- Grain of recon_allocation: charge_day × provider × model × feature (allocated_usd DECIMAL(38,18)).
-- Inputs: recon_cells, recon_logged, recon_failed, recon_billed, recon_scopes, recon_scope_rules(scope,
-- feature), recon_alloc_settings(default_feature).
CREATE OR REPLACE TEMP TABLE recon_feature_spend AS
WITH feature_cells AS (
    SELECT l.provider_key, l.model_key, l.day, l.feature_key,
           recon_mul_div(c.explained_usd, l.tokens, c.logged_tokens) AS explained_usd
    FROM recon_logged AS l
    JOIN recon_cells AS c USING (provider_key, model_key, day, token_type)
    WHERE c.logged_tokens > 0
),

explained AS (
    SELECT provider_key, model_key, day, feature_key, sum(explained_usd) AS explained_usd
    FROM feature_cells
    GROUP BY ALL
),

failed_cells AS (
    SELECT provider_key, model_key, day, sum(failed_usd) AS failed_usd
    FROM recon_cells
    GROUP BY ALL
    HAVING sum(failed_usd) <> 0
),

failed_share AS (
    SELECT f.provider_key, f.model_key, f.day, f.feature_key,
           recon_mul_div(fc.failed_usd, f.failed_calls,
                         sum(f.failed_calls) OVER (PARTITION BY f.provider_key, f.model_key, f.day)) AS failed_usd
    FROM recon_failed AS f
    JOIN failed_cells AS fc USING (provider_key, model_key, day)
)

SELECT provider_key, model_key, day, feature_key,
       CAST(coalesce(e.explained_usd, 0) AS DECIMAL(38, 18)) AS explained_usd,
       CAST(coalesce(fs.failed_usd, 0) AS DECIMAL(38, 18)) AS failed_usd
FROM explained AS e
FULL OUTER JOIN failed_share AS fs USING (provider_key, model_key, day, feature_key);

CREATE OR REPLACE TEMP TABLE recon_allocation_detail AS
WITH owned_by_day AS (
    SELECT provider_key, model_key, day, sum(explained_usd + failed_usd) AS owned_usd
    FROM recon_feature_spend
    GROUP BY ALL
),

logged_scope_bill AS (
    -- the token lines of logged scopes, less what the features own: unlogged, unexplained, rounding, dust
    SELECT c.provider_key, c.model_key, c.day, CAST(NULL AS VARCHAR) AS scope,
           sum(c.billed_usd) AS billed_usd
    FROM recon_cells AS c
    GROUP BY ALL
),

pieces AS (
    SELECT b.provider_key, b.model_key, b.day, b.scope,
           b.billed_usd - coalesce(o.owned_usd, 0) AS amount_usd,
           'billed spend of logged scopes not explained by logged calls' AS reason
    FROM logged_scope_bill AS b
    LEFT JOIN owned_by_day AS o USING (provider_key, model_key, day)
    UNION ALL
    SELECT b.provider_key, b.model_key, b.day,
           CASE WHEN s.logged THEN NULL ELSE b.scope END,
           sum(b.billed_usd),
           CASE WHEN s.logged THEN 'AI charges without a token quantity'
                ELSE 'unlogged traffic in billing scope ' || b.scope END
    FROM recon_billed AS b
    JOIN recon_scopes AS s USING (provider_key, model_key, scope_kind, scope)
    WHERE b.token_type = 'other' OR NOT s.logged
    GROUP BY ALL
),

nonzero AS (
    SELECT p.*, r.feature AS rule_feature
    FROM pieces AS p
    LEFT JOIN recon_scope_rules AS r ON r.scope = p.scope
    WHERE p.amount_usd <> 0
),

provider_weights AS (
    SELECT provider_key, feature_key, sum(explained_usd) AS weight_usd
    FROM recon_feature_spend
    GROUP BY ALL
    HAVING sum(explained_usd) > 0
),

all_weights AS (
    SELECT feature_key, sum(weight_usd) AS weight_usd FROM provider_weights GROUP BY ALL
),

targets AS (
    -- one row per (piece, feature, weight)
    SELECT n.*, n.rule_feature AS feature, 1 AS weight_usd, 'scope rule' AS basis
    FROM nonzero AS n WHERE n.rule_feature IS NOT NULL
    UNION ALL
    SELECT n.*, s.default_feature, 1, 'default feature'
    FROM nonzero AS n CROSS JOIN recon_alloc_settings AS s
    WHERE n.rule_feature IS NULL AND s.default_feature IS NOT NULL
    UNION ALL
    SELECT n.*, w.feature_key, w.weight_usd, 'proportional to logged spend on ' || n.provider_key
    FROM nonzero AS n CROSS JOIN recon_alloc_settings AS s
    JOIN provider_weights AS w ON w.provider_key = n.provider_key
    WHERE n.rule_feature IS NULL AND s.default_feature IS NULL
    UNION ALL
    SELECT n.*, w.feature_key, w.weight_usd, 'proportional to logged spend (no logged spend on ' || n.provider_key || ')'
    FROM nonzero AS n CROSS JOIN recon_alloc_settings AS s
    JOIN all_weights AS w ON true
    WHERE n.rule_feature IS NULL AND s.default_feature IS NULL
      AND NOT EXISTS (SELECT 1 FROM provider_weights AS pw WHERE pw.provider_key = n.provider_key)
    UNION ALL
    SELECT n.*, '(unallocated)', 1, 'nothing logged to allocate by'
    FROM nonzero AS n CROSS JOIN recon_alloc_settings AS s
    WHERE n.rule_feature IS NULL AND s.default_feature IS NULL AND NOT EXISTS (SELECT 1 FROM all_weights)
),

shares AS (
    SELECT
        t.*,
        recon_mul_div(t.amount_usd, recon_pico(t.weight_usd),
                      sum(recon_pico(t.weight_usd)) OVER (PARTITION BY t.provider_key, t.model_key, t.day, t.scope, t.reason))
            AS share_usd,
        row_number() OVER (PARTITION BY t.provider_key, t.model_key, t.day, t.scope, t.reason
                           ORDER BY t.weight_usd DESC, t.feature) AS share_rank
    FROM targets AS t
)

SELECT
    day AS charge_day, provider_key AS provider, model_key AS model, feature, scope, reason, basis,
    CAST(share_usd + CASE WHEN share_rank = 1
        THEN amount_usd - sum(share_usd) OVER (PARTITION BY provider_key, model_key, day, scope, reason) ELSE 0 END
        AS DECIMAL(38, 18)) AS allocated_usd
FROM shares;

CREATE OR REPLACE TEMP TABLE recon_allocation AS
SELECT charge_day, provider, model, feature, CAST(sum(allocated_usd) AS DECIMAL(38, 18)) AS allocated_usd
FROM recon_allocation_detail
GROUP BY ALL;
