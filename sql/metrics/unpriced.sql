-- requires: period_calls, unpriced_models
-- creates: none
-- Models that could not be priced in the period: listed with their traffic, never counted as $0.
-- Inputs: period_calls, unpriced_models.
SELECT c.provider, c.model, c.variant, count(*) AS calls,
       sum(c.context_tokens) AS input_tokens, sum(c.output_tokens) AS output_tokens,
       any_value(u.reason) AS reason
FROM period_calls c
LEFT JOIN unpriced_models u
       ON u.provider = coalesce(c.provider, '') AND u.model = c.model AND u.variant = c.variant
WHERE NOT c.priced
GROUP BY ALL
ORDER BY calls DESC;
