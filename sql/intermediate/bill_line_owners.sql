-- requires: bill_line_rules, billing_usd
-- creates: bill_line_owners
-- bill_line_owners: each current bill line (billing_usd, any period) that a rule of the config claims, with the
-- first rule whose matchers all match it (globs, any case). Rules are numbered with the [self_hosted.<name>]
-- deployments' `bill` first, then [[infrastructure.rules]] in order: a line that pays for a deployment's GPUs is
-- the deployment's (its calls carry it), never also a feature's infrastructure, so no line is counted twice.
-- Input: bill_line_rules(rule_no, deployment, feature, kind, label, service, resource, sku, account, tag_key,
-- tag_value, matchers), one row per rule and tag matcher (`matchers` rows make a rule). Output:
-- bill_line_owners(line_id, rule_no, deployment, feature, kind, label).
CREATE OR REPLACE TEMP TABLE bill_line_owners AS
WITH matched AS (
    SELECT l.line_id, r.rule_no, count(*) AS matched, any_value(r.matchers) AS matchers
    FROM billing_usd AS l
    JOIN bill_line_rules AS r
      ON (r.service IS NULL OR lower(coalesce(l.service_name, '')) GLOB lower(r.service))
     AND (r.resource IS NULL OR lower(coalesce(l.resource_id, '')) GLOB lower(r.resource))
     AND (r.sku IS NULL OR lower(coalesce(l.sku_id, '')) GLOB lower(r.sku)
          OR lower(coalesce(l.sku_meter, '')) GLOB lower(r.sku)
          OR lower(coalesce(l.charge_description, '')) GLOB lower(r.sku))
     AND (r.account IS NULL OR lower(coalesce(l.billing_account_id, '')) GLOB lower(r.account)
          OR lower(coalesce(l.sub_account_id, '')) GLOB lower(r.account)
          OR lower(coalesce(l.sub_account_name, '')) GLOB lower(r.account)
          OR lower(coalesce(l.project_id, '')) GLOB lower(r.account))
     AND (r.tag_key IS NULL OR lower(coalesce(l.tags[r.tag_key], '')) GLOB lower(r.tag_value))
    GROUP BY l.line_id, r.rule_no
),

first_rule AS (
    SELECT line_id, min(rule_no) AS rule_no FROM matched WHERE matched = matchers GROUP BY line_id
)

SELECT f.line_id, f.rule_no, r.deployment, r.feature, r.kind, r.label
FROM first_rule AS f
JOIN (SELECT DISTINCT rule_no, deployment, feature, kind, label FROM bill_line_rules) AS r USING (rule_no);
