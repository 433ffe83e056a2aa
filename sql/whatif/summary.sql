-- requires: whatif_calls, whatif_priced
-- creates: none
-- Before / after cost per feature: unchanged calls keep their cost, changed calls take their new price.
-- Inputs: whatif_calls, whatif_priced.
SELECT
    w.feature,
    count(*) AS calls,
    count(*) FILTER (WHERE NOT w.priced) AS unpriced_calls,
    count(*) FILTER (WHERE w.affected) AS calls_affected,
    coalesce(sum(w.before_cost_usd), 0) AS before_usd,
    coalesce(sum(CASE WHEN w.affected THEN p.after_cost_usd ELSE w.before_cost_usd END), 0) AS after_usd,
    count(*) FILTER (WHERE w.affected AND NOT coalesce(p.priced_after, FALSE)) AS unpriced_after,
    count(*) FILTER (WHERE p.batch_discount_assumed) AS batch_discount_assumed,
    count(*) FILTER (WHERE w.affected AND w.cache_assumed) AS cache_assumed
FROM whatif_calls AS w
LEFT JOIN whatif_priced AS p USING (wid)
GROUP BY w.feature
ORDER BY before_usd DESC, w.feature;
