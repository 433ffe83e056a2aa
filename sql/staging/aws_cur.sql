-- requires: bedrock_model_id, bedrock_usage_model, bill_money, bill_qty, bill_tokens, bill_tokens_overflow, bill_ts,
--   billing_null, cur_src, meter_context_window, meter_service_tier, meter_token_type, named_model, safe_tags,
--   tag_map, token_unit_factor, ts_window_problem
-- creates: cur_charge_category, cur_instants, cur_kinds, cur_products, cur_resource_models, cur_rows, cur_tag_sets,
--   staged
-- AWS CUR 2.0 lines → canonical billing_lines. Input: temp table cur_src (one VARCHAR column per CUR field,
-- made by costlens/ingest/aws_cur.py); macros from staging/billing_meters.sql.
--
-- * Every line is kept. Amazon Bedrock lines are AI spend (is_ai): product code AmazonBedrock /
--   AmazonBedrockService / AmazonBedrockFoundationModels, product family "Amazon Bedrock", or a marketplace
--   product "Claude Sonnet 4.5 (Amazon Bedrock Edition)" (whose product code is an opaque marketplace id).
--   Tax lines are not AI spend; credits, refunds and discounts on Bedrock are (token_type from the usage
--   type, no token quantity, so summing tokens never counts a credit twice).
-- * model, first found: product['model'] (the standardised attribute) → the resource ARN
--   (…:foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0, inference profiles) → the marketplace
--   product name → the usage type ("USE1-Claude3.5Sonnet-input-tokens").
-- * token_type from the usage type ("-input-tokens", "InputTokenCount", "-cache-read-input-token-count",
--   "CacheWrite1hInputTokenCount", "cache_write_tokens_1h_…"), else product['inference_type']; 'other' when
--   neither names one (guardrails, knowledge bases, provisioned throughput, credits on no token type).
-- * service_tier / is_batch from "_Batch" / "-batch" / "-flex" / "-priority" (usage type, product feature,
--   operation); context_window 'long' for "LongContext" usage types.
-- * quantity_tokens = line_item_usage_amount × the token block of the pricing unit ("1K tokens" → 1000,
--   "1M tokens" → 1e6, "tokens" → 1). A pricing unit that does not count tokens ("Units") leaves it NULL:
--   never a guess.
-- * Money: text → DECIMAL(38,18). billed_cost = unblended cost; effective_cost = net unblended cost (after
--   discounts) when the export has it, else unblended; list_cost = public on-demand cost.

-- Line item type → FOCUS charge category.
CREATE OR REPLACE TEMP MACRO cur_charge_category(t) AS (
    CASE lower(trim(coalesce(t, '')))
        WHEN '' THEN NULL
        WHEN 'usage' THEN 'Usage' WHEN 'discountedusage' THEN 'Usage' WHEN 'savingsplancoveredusage' THEN 'Usage'
        WHEN 'credit' THEN 'Credit' WHEN 'refund' THEN 'Credit'
        WHEN 'bundleddiscount' THEN 'Credit' WHEN 'discount' THEN 'Credit' WHEN 'edpdiscount' THEN 'Credit'
        WHEN 'privateratediscount' THEN 'Credit' WHEN 'distributordiscount' THEN 'Credit'
        WHEN 'tax' THEN 'Tax'
        WHEN 'fee' THEN 'Purchase' WHEN 'rifee' THEN 'Purchase' WHEN 'savingsplanrecurringfee' THEN 'Purchase'
        WHEN 'savingsplanupfrontfee' THEN 'Purchase'
        WHEN 'savingsplannegation' THEN 'Adjustment'
        ELSE trim(t)
    END
);

-- 1. Rows with export nulls resolved.
CREATE OR REPLACE TEMP VIEW cur_rows AS
SELECT
    source_row,
    billing_null(usage_start) AS usage_start_raw,
    billing_null(usage_end) AS usage_end_raw,
    billing_null(period_start) AS period_start_raw,
    billing_null(period_end) AS period_end_raw,
    billing_null(line_type) AS line_type,
    billing_null(product_code) AS product_code,
    billing_null(usage_type) AS usage_type,
    billing_null(operation) AS operation,
    billing_null(description) AS description,
    billing_null(usage_amount) AS usage_amount_raw,
    billing_null(unblended_cost) AS unblended_raw,
    billing_null(net_unblended_cost) AS net_raw,
    billing_null(public_cost) AS public_raw,
    billing_null(pricing_unit) AS pricing_unit,
    billing_null(product_pricing_unit) AS product_pricing_unit,
    billing_null(trim(product)) AS product_raw,
    billing_null(product_name) AS product_name_col,
    billing_null(product_family) AS product_family_col,
    billing_null(product_region) AS product_region_col,
    billing_null(product_sku) AS product_sku,
    billing_null(servicecode) AS servicecode,
    billing_null(currency) AS currency,
    billing_null(payer_account) AS payer_account,
    billing_null(usage_account) AS usage_account,
    billing_null(usage_account_name) AS usage_account_name,
    billing_null(resource_id) AS resource_id,
    billing_null(iam_principal) AS iam_principal,
    billing_null(trim(tags)) AS tags_raw,
    billing_null(invoicing_entity) AS invoicing_entity,
    billing_null(billing_entity) AS billing_entity
FROM cur_src;

-- 2. Product attribute maps: a bill has few distinct products, each JSON text is parsed once.
CREATE OR REPLACE TEMP TABLE cur_products AS
SELECT raw,
       billing_null(doc->>'$.product_name') AS product_name,
       billing_null(doc->>'$.servicename') AS servicename,
       billing_null(doc->>'$.model') AS model,
       billing_null(doc->>'$.provider') AS model_provider,
       billing_null(doc->>'$.inference_type') AS inference_type,
       billing_null(doc->>'$.feature') AS feature,
       billing_null(doc->>'$.region') AS region,
       billing_null(doc->>'$.pricing_unit') AS pricing_unit,
       billing_null(coalesce(doc->>'$.product_family', doc->>'$.productFamily')) AS product_family
FROM (SELECT raw, CASE WHEN json_valid(raw) AND json_type(CAST(raw AS JSON)) = 'OBJECT' THEN CAST(raw AS JSON) END AS doc
      FROM (SELECT DISTINCT product_raw AS raw FROM cur_rows WHERE product_raw IS NOT NULL));

-- 3. Timestamps and tag sets: few distinct values, each parsed once.
CREATE OR REPLACE TEMP TABLE cur_instants AS
SELECT raw, bill_ts(raw) AS ts
FROM (SELECT usage_start_raw AS raw FROM cur_rows UNION SELECT usage_end_raw FROM cur_rows
      UNION SELECT period_start_raw FROM cur_rows UNION SELECT period_end_raw FROM cur_rows)
WHERE raw IS NOT NULL;

CREATE OR REPLACE TEMP TABLE cur_tag_sets AS
-- credentials in resource tags redacted (safe_tags, sql/schema/002_macros.sql)
SELECT raw, safe_tags(tag_map(raw), content := false) AS tags
FROM (SELECT DISTINCT tags_raw AS raw FROM cur_rows WHERE tags_raw IS NOT NULL);

-- 4. What each distinct kind of line is: the text parsing runs once per combination.
CREATE OR REPLACE TEMP TABLE cur_kinds AS
WITH keys AS (
    SELECT DISTINCT line_type, product_code, usage_type, operation, product_raw, product_name_col,
           product_family_col, servicecode, pricing_unit, product_pricing_unit
    FROM cur_rows
),
attrs AS (
    SELECT k.*,
        coalesce(k.product_name_col, p.product_name) AS product_name,
        p.servicename, p.model AS product_model, p.inference_type, p.feature,
        coalesce(k.product_family_col, p.product_family) AS product_family,
        coalesce(k.pricing_unit, k.product_pricing_unit, p.pricing_unit) AS unit_text,
        cur_charge_category(k.line_type) AS charge_category
    FROM keys k LEFT JOIN cur_products p ON p.raw = k.product_raw
),
flags AS (
    SELECT *,
        coalesce(lower(product_code) IN ('amazonbedrock', 'amazonbedrockservice', 'amazonbedrockfoundationmodels')
                 OR lower(servicecode) IN ('amazonbedrock', 'amazonbedrockservice', 'amazonbedrockfoundationmodels')
                 OR lower(product_family) = 'amazon bedrock'
                 OR regexp_matches(lower(concat_ws(' ', product_name, servicename)), '\(amazon bedrock edition\)'),
                 false) AS is_bedrock,
        regexp_matches(lower(concat_ws(' ', product_name, servicename)), '\(amazon bedrock edition\)') AS is_edition
    FROM attrs
),
ai AS (
    SELECT *, is_bedrock AND coalesce(charge_category, '') <> 'Tax' AS is_ai FROM flags
),
parsed AS (
    SELECT *,
        CASE WHEN is_ai THEN coalesce(meter_token_type(usage_type), meter_token_type(inference_type)) END AS token_kind,
        CASE WHEN is_ai THEN coalesce(meter_service_tier(usage_type), meter_service_tier(feature),
                                      meter_service_tier(operation)) END AS tier_named
    FROM ai
)
SELECT *,
    CASE WHEN is_ai THEN named_model(product_model) END AS attr_model,
    CASE WHEN is_ai THEN coalesce(
        CASE WHEN is_edition THEN coalesce(named_model(product_name), named_model(servicename)) END,
        bedrock_usage_model(usage_type)) END AS text_model,
    CASE WHEN is_ai THEN coalesce(token_kind, 'other') END AS token_type,
    CASE WHEN is_ai AND (token_kind IS NOT NULL OR tier_named IS NOT NULL) THEN coalesce(tier_named, 'standard') END
        AS service_tier,
    CASE WHEN is_ai THEN coalesce(tier_named = 'batch', false) END AS is_batch,
    CASE WHEN is_ai THEN coalesce(meter_context_window(usage_type), meter_context_window(feature)) END
        AS context_window,
    -- tokens per unit of line_item_usage_amount (NULL: the quantity is not a token count)
    CASE WHEN is_ai AND token_kind IS NOT NULL AND charge_category = 'Usage' THEN token_unit_factor(unit_text) END
        AS token_factor,
    CASE WHEN is_bedrock THEN 'AI and Machine Learning' END AS service_category,
    CASE WHEN is_bedrock THEN 'Generative AI' END AS service_subcategory
FROM parsed;

-- 5. Models named by resource ids (foundation-model / inference-profile ARNs), only for AI lines.
CREATE OR REPLACE TEMP TABLE cur_resource_models AS
SELECT resource_id, bedrock_model_id(resource_id) AS model
FROM (SELECT DISTINCT r.resource_id FROM cur_rows r
      JOIN cur_kinds k
        ON  r.line_type IS NOT DISTINCT FROM k.line_type AND r.product_code IS NOT DISTINCT FROM k.product_code
        AND r.usage_type IS NOT DISTINCT FROM k.usage_type AND r.operation IS NOT DISTINCT FROM k.operation
        AND r.product_raw IS NOT DISTINCT FROM k.product_raw
        AND r.product_name_col IS NOT DISTINCT FROM k.product_name_col
        AND r.product_family_col IS NOT DISTINCT FROM k.product_family_col
        AND r.servicecode IS NOT DISTINCT FROM k.servicecode AND r.pricing_unit IS NOT DISTINCT FROM k.pricing_unit
        AND r.product_pricing_unit IS NOT DISTINCT FROM k.product_pricing_unit
      WHERE k.is_ai AND r.resource_id IS NOT NULL);

-- 6. Canonical billing lines.
CREATE OR REPLACE TEMP TABLE staged AS
WITH typed AS (
    SELECT r.*,
        bill_money(r.unblended_raw) AS unblended_cost,
        bill_money(r.net_raw) AS net_cost,
        bill_money(r.public_raw) AS public_cost,
        bill_qty(r.usage_amount_raw) AS usage_amount,
        us.ts AS charge_period_start, ue.ts AS charge_period_end,
        ps.ts AS billing_period_start, pe.ts AS billing_period_end,
        k.is_ai, k.token_type, k.service_tier, k.is_batch, k.context_window, k.token_factor, k.charge_category,
        k.service_category, k.service_subcategory, k.product_name, k.product_family,
        coalesce(k.attr_model, rm.model, k.text_model) AS model,
        coalesce(r.product_region_col, p.region) AS region,
        tg.tags
    FROM cur_rows r
    JOIN cur_kinds k
      ON  r.line_type IS NOT DISTINCT FROM k.line_type AND r.product_code IS NOT DISTINCT FROM k.product_code
      AND r.usage_type IS NOT DISTINCT FROM k.usage_type AND r.operation IS NOT DISTINCT FROM k.operation
      AND r.product_raw IS NOT DISTINCT FROM k.product_raw
      AND r.product_name_col IS NOT DISTINCT FROM k.product_name_col
      AND r.product_family_col IS NOT DISTINCT FROM k.product_family_col
      AND r.servicecode IS NOT DISTINCT FROM k.servicecode AND r.pricing_unit IS NOT DISTINCT FROM k.pricing_unit
      AND r.product_pricing_unit IS NOT DISTINCT FROM k.product_pricing_unit
    LEFT JOIN cur_products p ON p.raw = r.product_raw
    LEFT JOIN cur_resource_models rm ON k.is_ai AND rm.resource_id = r.resource_id
    LEFT JOIN cur_instants us ON us.raw = r.usage_start_raw
    LEFT JOIN cur_instants ue ON ue.raw = r.usage_end_raw
    LEFT JOIN cur_instants ps ON ps.raw = r.period_start_raw
    LEFT JOIN cur_instants pe ON pe.raw = r.period_end_raw
    LEFT JOIN cur_tag_sets tg ON tg.raw = r.tags_raw
)
SELECT
    source_row,
    charge_period_start,
    charge_period_end,
    billing_period_start,
    billing_period_end,
    'AWS' AS provider,
    invoicing_entity AS invoice_issuer,
    coalesce(product_name, product_code) AS service_name,
    service_category,
    service_subcategory,
    charge_category,
    CASE WHEN lower(line_type) = 'refund' THEN 'Correction' END AS charge_class,
    description AS charge_description,
    product_sku AS sku_id,
    usage_type AS sku_meter,
    is_ai,
    CASE WHEN is_ai THEN model END AS model,
    token_type,
    bill_tokens(usage_amount, token_factor) AS quantity_tokens,
    CAST(usage_amount AS DECIMAL(38,9)) AS pricing_quantity,
    pricing_unit,
    CAST(bill_tokens(usage_amount, token_factor) AS DECIMAL(38,9)) AS consumed_quantity,
    CASE WHEN bill_tokens(usage_amount, token_factor) IS NOT NULL THEN 'Tokens' END AS consumed_unit,
    unblended_cost AS billed_cost,
    coalesce(net_cost, unblended_cost) AS effective_cost,
    public_cost AS list_cost,
    currency,
    payer_account AS billing_account_id,
    usage_account AS sub_account_id,
    usage_account_name AS sub_account_name,
    region,
    resource_id,
    iam_principal AS billed_user_id,
    service_tier,
    is_batch,
    context_window,
    CASE WHEN lower(billing_entity) = 'aws marketplace' THEN 'AWS' END AS host_provider,
    tags,
    CASE
        WHEN unblended_raw IS NOT NULL AND unblended_cost IS NULL
            THEN 'line_item_unblended_cost is not a number: ' || left(unblended_raw, 40)
        WHEN net_raw IS NOT NULL AND net_cost IS NULL
            THEN 'line_item_net_unblended_cost is not a number: ' || left(net_raw, 40)
        WHEN public_raw IS NOT NULL AND public_cost IS NULL
            THEN 'pricing_public_on_demand_cost is not a number: ' || left(public_raw, 40)
        WHEN usage_amount_raw IS NOT NULL AND usage_amount IS NULL
            THEN 'line_item_usage_amount is not a number: ' || left(usage_amount_raw, 40)
        WHEN bill_tokens_overflow(usage_amount, token_factor)
            THEN 'line_item_usage_amount is out of range: ' || left(usage_amount_raw, 40)
                 || ' (beyond 9.2e18 tokens)'
        WHEN usage_start_raw IS NULL THEN 'missing line_item_usage_start_date'
        -- a date outside 2000-01-01 … a year from now is damage, never a period
        WHEN coalesce(ts_window_problem('line_item_usage_start_date', usage_start_raw),
                      ts_window_problem('line_item_usage_end_date', usage_end_raw)) IS NOT NULL
            THEN coalesce(ts_window_problem('line_item_usage_start_date', usage_start_raw),
                          ts_window_problem('line_item_usage_end_date', usage_end_raw))
        WHEN charge_period_start IS NULL THEN 'line_item_usage_start_date is not a date/time: ' || left(usage_start_raw, 40)
        WHEN usage_end_raw IS NOT NULL AND charge_period_end IS NULL
            THEN 'line_item_usage_end_date is not a date/time: ' || left(usage_end_raw, 40)
        WHEN unblended_raw IS NULL AND net_raw IS NULL THEN 'missing line_item_unblended_cost'
    END AS reject_reason,
    CAST(NULL AS VARCHAR) AS skip_reason
FROM typed;

DROP VIEW cur_rows;
DROP TABLE cur_src;
DROP TABLE cur_products;
DROP TABLE cur_instants;
DROP TABLE cur_tag_sets;
DROP TABLE cur_kinds;
DROP TABLE cur_resource_models;
