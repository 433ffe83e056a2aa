-- requires: period_calls
-- creates: none
-- Calls of a batch / flex / priority tier that the price book has no price for at that tier: they are priced at
-- the standard price (variant_applied false), which can overstate (batch, flex) or understate (priority) them.
-- Inputs: period_calls.
SELECT coalesce(provider, '') AS provider, model, variant, count(*) AS calls, sum(cost_usd) AS cost_usd
FROM period_calls
WHERE variant <> 'standard' AND priced AND NOT coalesce(variant_applied, TRUE)
GROUP BY ALL
ORDER BY cost_usd DESC, provider, model, variant;
