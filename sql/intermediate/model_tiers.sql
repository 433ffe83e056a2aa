-- requires: model_tier_overrides, price_book
-- creates: model_tiers
-- Model tiers (premium | balanced | economy) from price bands, overridable in config.
-- Band: blended $/Mtok at a 3:1 input:output mix, standard variant, base tier.
--   premium  >= 2.50 $/Mtok  (e.g. gpt-4o, gpt-4.1, claude sonnet/opus, gemini 2.5 pro)
--   economy  <  0.50 $/Mtok  (e.g. gpt-4o-mini, gpt-4.1-nano, gemini flash-lite)
--   balanced in between      (e.g. claude haiku 4.5, gemini 2.5 flash, gpt-5-mini)
-- Input: price_book, model_tier_overrides(model, tier).
CREATE OR REPLACE TEMP TABLE model_tiers AS
WITH blended AS (
    SELECT provider, model,
           max(CAST((3 * input_mtok + output_mtok) / 4 AS DOUBLE)) AS blended_mtok
    FROM price_book
    WHERE variant = 'standard' AND tier_above_tokens < 0
    GROUP BY provider, model
)
SELECT b.provider, b.model, b.blended_mtok,
       coalesce(o.tier, CASE WHEN b.blended_mtok >= 2.5 THEN 'premium'
                             WHEN b.blended_mtok < 0.5 THEN 'economy'
                             ELSE 'balanced' END) AS tier
FROM blended b
LEFT JOIN model_tier_overrides o ON o.model = b.model;
