-- requires: whatif_calls, whatif_change
-- creates: none
-- Route a feature's calls (optionally only those on one model) to another model. Tokens are kept as they
-- are (same prompts, same answer lengths: an assumption the result states); the call keeps its variant.
-- Inputs: whatif_calls, whatif_change(seq, feature, target_provider, target_model, from_model).
UPDATE whatif_calls AS w
SET last_from_model = w.model,
    provider = c.target_provider,
    model = c.target_model,
    affected = TRUE,
    last_change = c.seq
FROM whatif_change AS c
WHERE w.priced
  AND (c.feature IS NULL OR w.feature = c.feature)
  AND (c.from_model IS NULL OR w.model = c.from_model)
  AND NOT (coalesce(w.provider, '') = coalesce(c.target_provider, '') AND w.model = c.target_model);
