-- requires: leak_confidence, leak_detector, leak_feature_totals, leak_monthly, leak_scale, leak_severity, leak_th
-- creates: none
-- Every detector's rows → findings in the columns of costlens.leaks.model.COLUMNS (one wrapper for all kinds).
-- Input: TEMP VIEW leak_detector, made by costlens/leaks/detect.py from the SELECT of sql/leaks/<kind>.sql —
-- one row per finding with these detector columns:
--   kind, feature, model, task_class, calls_affected, wasted_usd, affected_cost_usd,
--   evidence (JSON), explanation, lever, quality_risk,
--   confidence_calls   — the count that sets confidence (usually calls_affected),
--   confidence_at_most — 'high', or 'medium' where a finding rests on a traffic pattern only,
--   savings_factors    — the thresholds' prefix of the savings band: <prefix>_low_factor, <prefix>_high_factor.
-- Also reads leak_feature_totals (severity is the wasted share of the feature's spend) and leak_thresholds.
-- Adds the monthly estimate, confidence, severity and savings band; drops findings at or below
-- estimate.min_wasted_usd.
SELECT
    d.kind,
    d.feature,
    d.model,
    d.task_class,
    d.calls_affected,
    d.wasted_usd,
    leak_monthly(d.wasted_usd) AS est_monthly_savings_usd,
    CASE WHEN d.confidence_at_most = 'medium' AND leak_confidence(d.confidence_calls) = 'high' THEN 'medium'
         ELSE leak_confidence(d.confidence_calls) END AS confidence,
    leak_severity(d.wasted_usd, ft.cost_usd) AS severity,
    d.evidence,
    d.explanation,
    d.lever,
    leak_scale(leak_monthly(d.wasted_usd), leak_th(d.savings_factors || '_low_factor')) AS savings_low_usd,
    leak_scale(leak_monthly(d.wasted_usd), leak_th(d.savings_factors || '_high_factor')) AS savings_high_usd,
    d.quality_risk,
    d.affected_cost_usd
FROM leak_detector AS d
JOIN leak_feature_totals AS ft ON ft.feature_key = d.feature
WHERE d.wasted_usd > leak_th('estimate.min_wasted_usd')
ORDER BY d.wasted_usd DESC, d.feature, d.model, d.evidence ->> 'sub_kind'
