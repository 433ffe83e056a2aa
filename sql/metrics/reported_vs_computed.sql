-- requires: period_calls
-- creates: none
-- Where a producer states a cost, compare it with the price-book cost of the same calls, per producer and
-- model: a difference usually means a stale price table upstream, a negotiated price, or tokens it missed.
-- Input: period_calls.
SELECT source_format AS producer,
       model,
       count(*) AS calls,
       sum(reported_cost_usd) AS reported_cost_usd,
       sum(computed_cost_usd) AS computed_cost_usd,
       count(*) FILTER (WHERE computed_cost_usd IS NULL) AS unpriced_calls,
       sum(reported_cost_usd) - sum(computed_cost_usd) AS difference_usd
FROM period_calls
WHERE reported_cost_usd IS NOT NULL
GROUP BY ALL
ORDER BY abs(coalesce(difference_usd, 0)) DESC, producer, model;
