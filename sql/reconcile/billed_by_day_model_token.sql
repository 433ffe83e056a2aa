-- requires: billing_usd, recon_model_key, recon_provider_key, report_period
-- creates: recon_billed, recon_lines, recon_scope_tags
-- recon_billed: the AI lines of the billing exports in the report period.
-- Grain: provider_key × model_key × day × token_type × billing scope (project / workspace / api key /
-- sub-account / account). Money comes from the cost lines; tokens from the cost lines when they carry a
-- quantity (FOCUS, cloud exports), else from the usage-only lines of the same cell (OpenAI / Anthropic
-- export usage and cost separately: charge_class 'usage-only' marks the token-only lines). A cell with
-- money but no token count anywhere becomes token_type 'other' (request fees, tools, unparsed meters).
-- recon_scope_tags: the feature-like tags (costlens.feature / feature / app / use_case / application) each
-- scope's lines carry.
-- Inputs: billing_usd (the billing lines in USD: intermediate/billing_usd.sql), report_period(start_ts, end_ts);
-- macros from reconcile/_macros.sql.
CREATE OR REPLACE TEMP TABLE recon_lines AS
SELECT
    recon_provider_key(b.provider, b.service_name) AS provider_key,
    coalesce(recon_model_key(b.model), '(no model)') AS model_key,
    CAST(date_trunc('day', b.charge_period_start) AS DATE) AS day,
    CASE WHEN b.token_type IN ('input', 'output', 'cache_read', 'cache_write_5m', 'cache_write_1h')
              AND b.model IS NOT NULL
         THEN b.token_type ELSE 'other' END AS token_type,
    CASE WHEN b.project_id IS NOT NULL THEN 'project'
         WHEN b.workspace_id IS NOT NULL THEN 'workspace'
         WHEN b.api_key_id IS NOT NULL THEN 'api_key'
         WHEN coalesce(b.sub_account_name, b.sub_account_id) IS NOT NULL THEN 'sub_account'
         ELSE 'account' END AS scope_kind,
    coalesce(b.project_id, b.workspace_id, b.api_key_id, b.sub_account_name, b.sub_account_id,
             b.billing_account_id, '(account)') AS scope,
    nullif(trim(coalesce(b.tags['costlens.feature'], b.tags['feature'], b.tags['app'], b.tags['use_case'],
                         b.tags['application'])), '') AS tag_feature,
    coalesce(b.charge_class = 'usage-only', false) AS usage_only,
    b.quantity_tokens,
    b.billed_cost,
    coalesce(b.list_cost, b.billed_cost) AS list_cost,
    b.currency
FROM billing_usd AS b
CROSS JOIN report_period AS r
WHERE b.is_ai AND b.charge_period_start >= r.start_ts AND b.charge_period_start < r.end_ts;

CREATE OR REPLACE TEMP TABLE recon_billed AS
WITH cells AS (
    SELECT
        provider_key, model_key, day, token_type, scope_kind, scope,
        count(*) FILTER (WHERE NOT usage_only) AS lines,
        count(quantity_tokens) FILTER (WHERE NOT usage_only) AS lines_with_tokens,
        sum(quantity_tokens) FILTER (WHERE NOT usage_only) AS cost_line_tokens,
        sum(quantity_tokens) FILTER (WHERE usage_only) AS usage_line_tokens,
        coalesce(sum(billed_cost) FILTER (WHERE NOT usage_only), 0) AS billed_usd,
        coalesce(sum(list_cost) FILTER (WHERE NOT usage_only), 0) AS bill_list_usd
    FROM recon_lines
    GROUP BY ALL
),

counted AS (
    SELECT *, CASE WHEN lines_with_tokens > 0 THEN cost_line_tokens ELSE usage_line_tokens END AS cell_tokens
    FROM cells
)

SELECT
    provider_key, model_key, day,
    CASE WHEN token_type <> 'other' AND cell_tokens IS NOT NULL THEN token_type ELSE 'other' END AS token_type,
    scope_kind, scope, lines,
    CAST(CASE WHEN token_type <> 'other' THEN cell_tokens END AS DECIMAL(38, 6)) AS tokens,
    CAST(billed_usd AS DECIMAL(38, 18)) AS billed_usd,
    CAST(bill_list_usd AS DECIMAL(38, 18)) AS bill_list_usd
FROM counted;

CREATE OR REPLACE TEMP TABLE recon_scope_tags AS
SELECT DISTINCT provider_key, model_key, scope_kind, scope, tag_feature
FROM recon_lines
WHERE tag_feature IS NOT NULL;
