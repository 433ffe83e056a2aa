-- requires: recon_billed, recon_logged, recon_scope_tags, recon_settings
-- creates: recon_scopes
-- recon_scopes: is each billing scope's AI spend covered by the request logs?
-- Grain: provider_key × model_key × scope_kind × scope. A scope is `logged` (its traffic is what the logs
-- record) or not, with the reason, first rule that applies:
--   1. the logs have no calls at all for this provider and model in the period → not logged;
--   2. the scope's lines carry a feature tag (costlens.feature / feature / app / use_case) equal to a feature
--      the logs have for this provider → logged;
--   3. tags are comparable (some scope of this provider matches a logged feature) and this scope's tag is
--      not a logged feature → not logged;
--   4. the only scope of this provider and model, or the one with the most billed spend → logged;
--   5. on every day and token type it appears, the scope's tokens fit inside the bill's excess over the
--      logs (≥ fit_share of them) → not logged; else logged.
-- Inputs: recon_billed, recon_scope_tags, recon_logged, recon_settings(fit_share).
CREATE OR REPLACE TEMP TABLE recon_scopes AS
WITH scope_cells AS (
    SELECT provider_key, model_key, day, token_type, scope_kind, scope, sum(tokens) AS tokens
    FROM recon_billed
    WHERE token_type <> 'other'
    GROUP BY ALL
),

cell_billed AS (
    SELECT provider_key, model_key, day, token_type, sum(tokens) AS billed_tokens
    FROM scope_cells
    GROUP BY ALL
),

cell_logged AS (
    SELECT provider_key, model_key, day, token_type, sum(tokens) AS logged_tokens
    FROM recon_logged
    GROUP BY ALL
),

fit AS (
    SELECT
        s.provider_key, s.model_key, s.scope_kind, s.scope,
        sum(s.tokens) AS scope_tokens,
        sum(least(s.tokens, greatest(b.billed_tokens - coalesce(l.logged_tokens, 0), 0))) AS fitting_tokens
    FROM scope_cells AS s
    JOIN cell_billed AS b USING (provider_key, model_key, day, token_type)
    LEFT JOIN cell_logged AS l USING (provider_key, model_key, day, token_type)
    GROUP BY ALL
),

logged_features AS (
    SELECT DISTINCT provider_key, feature_key FROM recon_logged
),

logged_models AS (
    SELECT DISTINCT provider_key, model_key FROM recon_logged
),

scope_tags AS (
    SELECT
        t.provider_key, t.model_key, t.scope_kind, t.scope,
        string_agg(DISTINCT t.tag_feature, ', ' ORDER BY t.tag_feature) AS tag_features,
        bool_or(lf.feature_key IS NOT NULL) AS tag_matches_log
    FROM recon_scope_tags AS t
    LEFT JOIN logged_features AS lf ON lf.provider_key = t.provider_key AND lf.feature_key = t.tag_feature
    GROUP BY ALL
),

scope_info AS (
    SELECT
        b.provider_key, b.model_key, b.scope_kind, b.scope,
        CAST(sum(b.billed_usd) AS DECIMAL(38, 18)) AS billed_usd,
        min(b.day) AS first_day,
        max(b.day) AS last_day,
        count(DISTINCT b.day) AS days,
        any_value(t.tag_features) AS tag_features,
        coalesce(bool_or(t.tag_matches_log), false) AS tag_matches_log
    FROM recon_billed AS b
    LEFT JOIN scope_tags AS t USING (provider_key, model_key, scope_kind, scope)
    GROUP BY ALL
),

ranked AS (
    SELECT
        si.*,
        count(*) OVER (PARTITION BY si.provider_key, si.model_key) AS scopes_of_model,
        row_number() OVER (PARTITION BY si.provider_key, si.model_key ORDER BY si.billed_usd DESC, si.scope)
            AS spend_rank,
        bool_or(si.tag_matches_log) OVER (PARTITION BY si.provider_key) AS tags_comparable,
        lm.model_key IS NOT NULL AS model_logged,
        f.scope_tokens,
        f.fitting_tokens
    FROM scope_info AS si
    LEFT JOIN logged_models AS lm USING (provider_key, model_key)
    LEFT JOIN fit AS f USING (provider_key, model_key, scope_kind, scope)
)

SELECT
    r.provider_key, r.model_key, r.scope_kind, r.scope, r.billed_usd, r.first_day, r.last_day, r.days,
    r.tag_features,
    CASE
        WHEN NOT r.model_logged THEN false
        WHEN r.tag_matches_log THEN true
        WHEN r.tags_comparable AND r.tag_features IS NOT NULL THEN false
        WHEN r.scopes_of_model = 1 OR r.spend_rank = 1 THEN true
        WHEN r.scope_tokens > 0 AND r.fitting_tokens >= r.scope_tokens * CAST(s.fit_share AS DECIMAL(10, 6)) THEN false
        ELSE true
    END AS logged,
    CASE
        WHEN NOT r.model_logged THEN 'no logged calls for this provider and model in the period'
        WHEN r.tag_matches_log THEN 'tagged ' || r.tag_features || ', a feature the logs carry'
        WHEN r.tags_comparable AND r.tag_features IS NOT NULL
            THEN 'tagged ' || r.tag_features || ', which no logged call carries'
        WHEN r.scopes_of_model = 1 THEN 'the only billing scope for this model'
        WHEN r.spend_rank = 1 THEN 'the billing scope with the most spend for this model'
        WHEN r.scope_tokens > 0 AND r.fitting_tokens >= r.scope_tokens * CAST(s.fit_share AS DECIMAL(10, 6))
            THEN 'its tokens lie entirely above what the logs record on the days it appears'
        ELSE 'its tokens are within what the logs record'
    END AS reason
FROM ranked AS r
CROSS JOIN recon_settings AS s;
