-- requires: period_calls
-- creates: none
-- `costlens daily`: the period's calls per day and model, each day's total and the period's total (the rows
-- with model / day NULL). Tokens by kind as the report counts them (input = uncached input; cache writes of
-- both lifetimes together); cost is the exact sum of the priced calls, unpriced calls are counted apart.
-- Inputs: period_calls.
SELECT
    c.day,
    c.model,
    grouping(c.day) = 1 AS all_days,
    grouping(c.model) = 1 AS all_models,
    any_value(coalesce(c.provider, '')) AS provider,
    count(*) AS calls,
    count(*) FILTER (WHERE NOT c.priced) AS unpriced_calls,
    coalesce(sum(c.input_tokens), 0) AS input_tokens,
    coalesce(sum(c.output_tokens), 0) AS output_tokens,
    coalesce(sum(c.cache_read_tokens), 0) AS cache_read_tokens,
    coalesce(sum(c.cache_write_5m_tokens + c.cache_write_1h_tokens), 0) AS cache_write_tokens,
    CAST(coalesce(sum(c.cost_usd), 0) AS DECIMAL(38, 18)) AS cost_usd
FROM period_calls c
GROUP BY GROUPING SETS ((c.day, c.model), (c.day), ())
ORDER BY all_days, c.day, all_models DESC, c.model;
