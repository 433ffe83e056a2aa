-- requires: azure_src, bill_money, bill_product_overflow, bill_qty, bill_tokens, bill_tokens_overflow, bill_ts,
--   billing_null, meter_context_window, meter_is_batch, meter_model, meter_service_tier, meter_token_type, safe_tags,
--   tag_map, ts_window_problem, unit_block_size
-- creates: azure_ai_namespace, azure_charge_category, azure_instants, azure_kinds, azure_rows, azure_tag_sets, staged
-- Azure cost details (actual or amortized export) → canonical billing_lines. Input: temp table azure_src (one
-- VARCHAR column per field, made by costlens/ingest/azure_cost.py); macros from staging/billing_meters.sql.
--
-- * Every line is kept. AI spend (is_ai): a generative-AI meter — MeterSubCategory naming Azure OpenAI,
--   MeterCategory "Foundry Models" / "Azure OpenAI", or a token meter of an AI service — of an AI service
--   (resource provider namespace of ConsumedService / ResourceId in Microsoft's "AI and Machine Learning"
--   category, see azure_ai_namespace, or an AI meter category). Speech, vision, Azure ML compute: AI category,
--   not generative AI spend. Marketplace model meters counted in tokens are AI spend too.
-- * model from MeterName ("gpt 4o 0806 cached Inp glbl Tokens" → gpt-4o), token_type from MeterName, 'other'
--   for AI meters that are not token meters (images, provisioned throughput hours, hosting).
-- * quantity_tokens = Quantity × the block size of UnitOfMeasure ("1K" → 1000, "1M" → 1e6, "1K Tokens"):
--   Azure counts Quantity in units of measure, not in tokens. Only for token meters.
-- * Dates: Date is the usage day (US "MM/DD/YYYY" or ISO); the charge period is that day; BillingPeriodEndDate
--   is the last day of the period (inclusive), made exclusive like FOCUS.
-- * Money: text → DECIMAL(38,18). billed_cost = effective_cost = CostInBillingCurrency (the export is either
--   actual or amortized: its one cost column is what that view bills); list_cost = PayG cost
--   (paygCostInBillingCurrency, else PayGPrice × Quantity); contracted_cost = UnitPrice × Quantity.

-- Resource provider namespaces Microsoft files under "AI and Machine Learning" (finops-toolkit Services.csv).
CREATE OR REPLACE TEMP MACRO azure_ai_namespace(ns) AS (
    lower(trim(coalesce(ns, ''))) IN ('microsoft.cognitiveservices', 'microsoft.machinelearningservices',
        'microsoft.machinelearning', 'microsoft.botservice', 'microsoft.healthbot', 'microsoft.syntex',
        'microsoft.videoindexer', 'microsoft.recommendationsservice', 'microsoft.autonomousdevelopmentplatform')
);

-- ChargeType → FOCUS charge category.
CREATE OR REPLACE TEMP MACRO azure_charge_category(t) AS (
    CASE lower(trim(coalesce(t, '')))
        WHEN '' THEN NULL
        WHEN 'usage' THEN 'Usage' WHEN 'unusedreservation' THEN 'Usage' WHEN 'unusedsavingsplan' THEN 'Usage'
        WHEN 'purchase' THEN 'Purchase'
        WHEN 'refund' THEN 'Credit'
        WHEN 'tax' THEN 'Tax'
        WHEN 'roundingadjustment' THEN 'Adjustment' WHEN 'adjustment' THEN 'Adjustment'
        ELSE trim(t)
    END
);

-- 1. Rows with blanks resolved.
CREATE OR REPLACE TEMP VIEW azure_rows AS
SELECT
    source_row,
    billing_null(usage_date) AS date_raw,
    billing_null(period_start) AS period_start_raw,
    billing_null(period_end) AS period_end_raw,
    billing_null(meter_category) AS meter_category,
    billing_null(meter_subcategory) AS meter_subcategory,
    billing_null(meter_name) AS meter_name,
    billing_null(meter_id) AS meter_id,
    billing_null(meter_region) AS meter_region,
    billing_null(unit_of_measure) AS unit_of_measure,
    billing_null(quantity) AS quantity_raw,
    billing_null(unit_price) AS unit_price_raw,
    billing_null(payg_price) AS payg_price_raw,
    billing_null(cost) AS cost_raw,
    billing_null(payg_cost) AS payg_cost_raw,
    billing_null(currency) AS currency,
    billing_null(resource_id) AS resource_id,
    billing_null(resource_location) AS resource_location,
    billing_null(subscription_id) AS subscription_id,
    billing_null(subscription_name) AS subscription_name,
    billing_null(trim(tags)) AS tags_raw,
    billing_null(charge_type) AS charge_type,
    billing_null(consumed_service) AS consumed_service,
    billing_null(product_name) AS product_name,
    billing_null(billing_account) AS billing_account,
    billing_null(publisher_type) AS publisher_type,
    billing_null(publisher_name) AS publisher_name
FROM azure_src;

-- 2. Dates and tag sets: few distinct values, each parsed once.
CREATE OR REPLACE TEMP TABLE azure_instants AS
SELECT raw, bill_ts(raw) AS ts
FROM (SELECT date_raw AS raw FROM azure_rows UNION SELECT period_start_raw FROM azure_rows
      UNION SELECT period_end_raw FROM azure_rows)
WHERE raw IS NOT NULL;

CREATE OR REPLACE TEMP TABLE azure_tag_sets AS
-- credentials in resource tags redacted (safe_tags, sql/schema/002_macros.sql)
SELECT raw, safe_tags(tag_map(raw), content := false) AS tags
FROM (SELECT DISTINCT tags_raw AS raw FROM azure_rows WHERE tags_raw IS NOT NULL);

-- 3. What each distinct kind of line is. The resource provider namespace comes from ConsumedService, else
--    from the ResourceId (…/providers/Microsoft.CognitiveServices/accounts/…).
CREATE OR REPLACE TEMP TABLE azure_kinds AS
WITH keys AS (
    SELECT DISTINCT meter_category, meter_subcategory, meter_name, unit_of_measure, charge_type, product_name,
           publisher_type, lower(coalesce(nullif(lower(consumed_service), 'microsoft.eventgrid'),
                                          regexp_extract(lower(resource_id), '/providers/([a-z0-9.]+)/', 1))) AS namespace
    FROM azure_rows
),
flags AS (
    SELECT *,
        azure_charge_category(charge_type) AS charge_category,
        regexp_matches(lower(concat_ws(' ', meter_name, unit_of_measure)), '\btokens?\b') AS token_text,
        coalesce(azure_ai_namespace(namespace)
                 OR lower(meter_category) IN ('cognitive services', 'azure openai', 'foundry models', 'foundry tools',
                                              'azure ai foundry models', 'azure ai services'), false) AS ai_service,
        coalesce(regexp_matches(lower(meter_subcategory), 'openai')
                 OR lower(meter_category) IN ('azure openai', 'foundry models', 'azure ai foundry models'), false)
            AS genai_meter,
        coalesce(lower(publisher_type) = 'marketplace', false) AS marketplace
    FROM keys
),
ai AS (
    SELECT *,
        coalesce(charge_category, '') <> 'Tax'
        AND ((ai_service AND (genai_meter OR token_text)) OR (marketplace AND token_text)) AS is_ai
    FROM flags
)
SELECT *,
    CASE WHEN is_ai THEN coalesce(meter_model(meter_name), meter_model(product_name)) END AS model,
    CASE WHEN is_ai THEN coalesce(meter_token_type(meter_name), 'other') END AS token_type,
    CASE WHEN is_ai AND token_text THEN coalesce(meter_service_tier(meter_name), 'standard') END AS service_tier,
    CASE WHEN is_ai THEN meter_is_batch(meter_name) END AS is_batch,
    CASE WHEN is_ai THEN meter_context_window(meter_name) END AS context_window,
    -- tokens per unit of Quantity (only on token meters of usage lines)
    CASE WHEN is_ai AND token_text AND meter_token_type(meter_name) IS NOT NULL AND charge_category = 'Usage'
         THEN coalesce(unit_block_size(unit_of_measure), 1) END AS token_factor,
    CASE WHEN ai_service OR is_ai THEN 'AI and Machine Learning' END AS service_category,
    CASE WHEN is_ai THEN 'Generative AI' END AS service_subcategory
FROM ai;

-- 4. Canonical billing lines.
CREATE OR REPLACE TEMP TABLE staged AS
WITH typed AS (
    SELECT r.*,
        bill_money(r.cost_raw) AS cost,
        bill_money(r.payg_cost_raw) AS payg_cost,
        bill_money(r.unit_price_raw) AS unit_price,
        bill_money(r.payg_price_raw) AS payg_price,
        bill_qty(r.quantity_raw) AS quantity,
        d.ts AS usage_day, ps.ts AS billing_period_start, pe.ts AS period_end_day,
        k.is_ai, k.model, k.token_type, k.service_tier, k.is_batch, k.context_window, k.token_factor,
        k.charge_category, k.service_category, k.service_subcategory,
        tg.tags
    FROM azure_rows r
    JOIN azure_kinds k
      ON  r.meter_category IS NOT DISTINCT FROM k.meter_category
      AND r.meter_subcategory IS NOT DISTINCT FROM k.meter_subcategory
      AND r.meter_name IS NOT DISTINCT FROM k.meter_name
      AND r.unit_of_measure IS NOT DISTINCT FROM k.unit_of_measure
      AND r.charge_type IS NOT DISTINCT FROM k.charge_type
      AND r.product_name IS NOT DISTINCT FROM k.product_name
      AND r.publisher_type IS NOT DISTINCT FROM k.publisher_type
      AND lower(coalesce(nullif(lower(r.consumed_service), 'microsoft.eventgrid'),
                         regexp_extract(lower(r.resource_id), '/providers/([a-z0-9.]+)/', 1)))
          IS NOT DISTINCT FROM k.namespace
    LEFT JOIN azure_instants d ON d.raw = r.date_raw
    LEFT JOIN azure_instants ps ON ps.raw = r.period_start_raw
    LEFT JOIN azure_instants pe ON pe.raw = r.period_end_raw
    LEFT JOIN azure_tag_sets tg ON tg.raw = r.tags_raw
)
SELECT
    source_row,
    usage_day AS charge_period_start,
    usage_day + INTERVAL 1 DAY AS charge_period_end,
    billing_period_start,
    -- an end given as a day is the period's last day: exclusive end = the next midnight
    CASE WHEN period_end_day = date_trunc('day', period_end_day) THEN period_end_day + INTERVAL 1 DAY
         ELSE period_end_day END AS billing_period_end,
    'Microsoft' AS provider,
    CASE WHEN lower(publisher_type) = 'marketplace' THEN publisher_name ELSE 'Microsoft' END AS invoice_issuer,
    meter_category AS service_name,
    service_category,
    service_subcategory,
    charge_category,
    CASE WHEN lower(charge_type) = 'refund' THEN 'Correction' END AS charge_class,
    coalesce(product_name, concat_ws(' ', meter_subcategory, meter_name)) AS charge_description,
    meter_id AS sku_id,
    meter_name AS sku_meter,
    is_ai,
    model,
    token_type,
    bill_tokens(quantity, token_factor) AS quantity_tokens,
    CAST(quantity AS DECIMAL(38,9)) AS pricing_quantity,
    unit_of_measure AS pricing_unit,
    CAST(bill_tokens(quantity, token_factor) AS DECIMAL(38,9)) AS consumed_quantity,
    CASE WHEN bill_tokens(quantity, token_factor) IS NOT NULL THEN 'Tokens' END AS consumed_unit,
    cost AS billed_cost,
    cost AS effective_cost,
    coalesce(payg_cost, CASE WHEN NOT bill_product_overflow(payg_price, quantity) THEN payg_price * quantity END)
        AS list_cost,
    CASE WHEN NOT bill_product_overflow(unit_price, quantity) THEN unit_price * quantity END AS contracted_cost,
    currency,
    billing_account AS billing_account_id,
    subscription_id AS sub_account_id,
    subscription_name AS sub_account_name,
    coalesce(resource_location, meter_region) AS region,
    resource_id,
    service_tier,
    is_batch,
    context_window,
    CASE WHEN lower(publisher_type) = 'marketplace' THEN 'Microsoft' END AS host_provider,
    tags,
    CASE
        WHEN cost_raw IS NULL THEN 'missing CostInBillingCurrency'
        WHEN cost IS NULL THEN 'CostInBillingCurrency is not a number: ' || left(cost_raw, 40)
        WHEN quantity_raw IS NOT NULL AND quantity IS NULL THEN 'Quantity is not a number: ' || left(quantity_raw, 40)
        WHEN unit_price_raw IS NOT NULL AND unit_price IS NULL THEN 'UnitPrice is not a number: ' || left(unit_price_raw, 40)
        WHEN payg_price_raw IS NOT NULL AND payg_price IS NULL THEN 'PayGPrice is not a number: ' || left(payg_price_raw, 40)
        WHEN payg_cost_raw IS NOT NULL AND payg_cost IS NULL
            THEN 'paygCostInBillingCurrency is not a number: ' || left(payg_cost_raw, 40)
        WHEN bill_tokens_overflow(quantity, token_factor)
            THEN 'Quantity is out of range: ' || left(quantity_raw, 40) || ' (beyond 9.2e18 tokens)'
        WHEN (payg_cost IS NULL AND bill_product_overflow(payg_price, quantity))
             OR bill_product_overflow(unit_price, quantity)
            THEN 'Quantity is out of range: ' || left(quantity_raw, 40) || ' at its unit price is beyond $100M'
        WHEN date_raw IS NULL THEN 'missing Date'
        -- a date outside 2000-01-01 … a year from now is damage, never a period
        WHEN coalesce(ts_window_problem('Date', date_raw), ts_window_problem('BillingPeriodStartDate', period_start_raw),
                      ts_window_problem('BillingPeriodEndDate', period_end_raw)) IS NOT NULL
            THEN coalesce(ts_window_problem('Date', date_raw),
                          ts_window_problem('BillingPeriodStartDate', period_start_raw),
                          ts_window_problem('BillingPeriodEndDate', period_end_raw))
        WHEN usage_day IS NULL THEN 'Date is not a date: ' || left(date_raw, 40)
        WHEN period_start_raw IS NOT NULL AND billing_period_start IS NULL
            THEN 'BillingPeriodStartDate is not a date: ' || left(period_start_raw, 40)
        WHEN period_end_raw IS NOT NULL AND period_end_day IS NULL
            THEN 'BillingPeriodEndDate is not a date: ' || left(period_end_raw, 40)
    END AS reject_reason,
    CAST(NULL AS VARCHAR) AS skip_reason
FROM typed;

DROP VIEW azure_rows;
DROP TABLE azure_src;
DROP TABLE azure_instants;
DROP TABLE azure_tag_sets;
DROP TABLE azure_kinds;
