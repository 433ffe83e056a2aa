-- requires: bill_line_owners, billing_usd, call_filter, feature_config, infrastructure_tag_keys, report_period,
--   unit_economics_all
-- creates: feature_costs, infrastructure_lines
-- The whole cost of each feature (docs/definitions.md#whole-cost-of-a-feature): model tokens, tool charges,
-- infrastructure and human review.
-- infrastructure_lines: the period's current bill lines that are not model usage (NOT is_ai) and serve a
-- feature, in USD (billing_usd): by the first [[infrastructure.rules]] entry whose matchers all match (globs, any
-- case; intermediate/bill_line_owners.sql), else by a tag (the first of [infrastructure] feature_tags the line carries) naming a known feature —
-- one with calls in the period or configured under [features]. A line is one feature's, never split. Its kind
-- is the rule's, else from its FOCUS ServiceCategory. A line a [self_hosted.<name>] deployment claims is left
-- out: its cost is in the deployment's calls (intermediate/self_hosted_costs.sql), so in model tokens.
-- feature_costs: per feature, model tokens = the calls' cost less tool charges (server-side tools, fees);
-- tool charges; infrastructure = its lines' billed cost; human review = the rework cost of its tasks with an
-- outcome (the worksheet's rework_cost_usd). Cost per accepted outcome over all of the feature's accepted tasks:
-- inference only (tokens and tools) and whole (all four).
-- Under --customer or --plan (call_filter.customers, .plans) no line is attributed: a feature's infrastructure serves all its
-- customers, and charging it whole to the ones shown would overstate their cost.
-- Inputs: billing_usd, report_period, unit_economics_all (feature rows), feature_config,
-- bill_line_owners(line_id, deployment, feature, kind, label), infrastructure_tag_keys(key, position).
CREATE OR REPLACE TEMP TABLE infrastructure_lines AS
WITH lines AS (
    SELECT b.line_id, b.service_name, b.service_category, b.resource_id, b.sku_id, b.sku_meter,
           b.charge_description, b.billing_account_id, b.sub_account_id, b.sub_account_name, b.project_id, b.tags,
           b.billed_cost, b.charge_period_start
    FROM billing_usd AS b
    CROSS JOIN report_period AS p
    CROSS JOIN call_filter AS f
    WHERE NOT b.is_ai AND b.charge_period_start >= p.start_ts AND b.charge_period_start < p.end_ts
      AND f.customers IS NULL AND f.plans IS NULL
),

known_features AS (
    SELECT key AS feature FROM unit_economics_all WHERE dimension = 'feature'
    UNION
    SELECT feature FROM feature_config
),

tag_match AS (
    SELECT l.line_id, arg_min(trim(l.tags[k.key]), k.position) AS feature, arg_min(k.key, k.position) AS tag_key
    FROM lines AS l
    JOIN infrastructure_tag_keys AS k ON nullif(trim(l.tags[k.key]), '') IS NOT NULL
    JOIN known_features AS f ON f.feature = trim(l.tags[k.key])
    GROUP BY l.line_id
)

SELECT
    l.line_id,
    coalesce(r.feature, t.feature) AS feature,
    coalesce(r.kind, CASE lower(coalesce(l.service_category, ''))
                         WHEN 'databases' THEN 'database'
                         WHEN 'compute' THEN 'compute'
                         WHEN 'storage' THEN 'storage'
                         WHEN 'ai and machine learning' THEN 'ai_services'
                         WHEN 'analytics' THEN 'analytics'
                         WHEN 'networking' THEN 'networking'
                         ELSE 'other' END) AS kind,
    CASE WHEN r.feature IS NOT NULL THEN r.label ELSE 'tag ' || t.tag_key END AS attributed_by,
    l.service_name,
    l.resource_id,
    l.billed_cost
FROM lines AS l
LEFT JOIN bill_line_owners AS r ON r.line_id = l.line_id
LEFT JOIN tag_match AS t ON t.line_id = l.line_id
WHERE coalesce(r.feature, t.feature) IS NOT NULL
  AND r.deployment IS NULL;  -- a self-hosted deployment's line is carried by its calls (model tokens)

CREATE OR REPLACE TEMP TABLE feature_costs AS
WITH infra AS (
    SELECT feature, sum(billed_cost) AS infrastructure_usd, count(*) AS infrastructure_lines
    FROM infrastructure_lines
    GROUP BY feature
),

usage AS (
    SELECT key AS feature, cost_usd, tool_cost_usd, rework_cost_usd, accepted_tasks
    FROM unit_economics_all
    WHERE dimension = 'feature'
)

SELECT
    coalesce(u.feature, i.feature) AS feature,
    coalesce(u.cost_usd, 0) - coalesce(u.tool_cost_usd, 0) AS model_tokens_usd,
    coalesce(u.tool_cost_usd, 0) AS tool_charges_usd,
    coalesce(i.infrastructure_usd, 0) AS infrastructure_usd,
    coalesce(u.rework_cost_usd, 0) AS human_review_usd,
    coalesce(u.cost_usd, 0) + coalesce(i.infrastructure_usd, 0) + coalesce(u.rework_cost_usd, 0) AS total_usd,
    coalesce(i.infrastructure_lines, 0) AS infrastructure_lines,
    coalesce(u.accepted_tasks, 0) AS accepted_tasks,
    CAST(u.cost_usd AS DOUBLE) / nullif(u.accepted_tasks, 0) AS inference_cost_per_accepted_outcome_usd,
    CAST(coalesce(u.cost_usd, 0) + coalesce(i.infrastructure_usd, 0) + coalesce(u.rework_cost_usd, 0) AS DOUBLE)
        / nullif(u.accepted_tasks, 0) AS total_cost_per_accepted_outcome_usd
FROM usage AS u
FULL OUTER JOIN infra AS i ON i.feature = u.feature;
