-- requires: bedrock_usage_model, bill_tokens, bill_tokens_overflow, billing_null, focus_src, meter_model,
--   meter_token_type, parse_money, parse_ts, price_desc_model, safe_tags, ts_window_problem, unit_block_size
-- creates: focus_instants, focus_kinds, focus_rows, focus_tag_sets, staged
-- FOCUS 1.0 – 1.3 billing rows → canonical billing_lines. Input: temp view focus_src (FOCUS column names,
-- all text; built by costlens/ingest/focus.py from the positional reader columns).
--
-- * Nulls: real exports write the literal NULL (and OCI writes empty strings): both become SQL NULL.
-- * Money: text → DECIMAL(38,18) directly (never through DOUBLE), so sums are exact; a dollar sign, thousands
--   separators beside a decimal point and blanks are read too (parse_money).
-- * is_ai: ServiceCategory "AI and Machine Learning" AND (ServiceSubcategory "Generative AI" OR the SKU /
--   meter / description / unit text shows LLM tokens), and NOT a FOCUS SaaS virtual currency named "tokens"
--   (PricingCurrency that is not an ISO 4217 code). Non-AI lines are kept with is_ai = false.
-- * model / token_type: parsed from the meter text (Azure "gpt 4o 0806 cached Inp glbl Tokens", AWS usage
--   types "USE1-Claude3.5Sonnet-input-tokens", GCP "Gemini 2.5 Flash GA Text Input - Predictions", AWS price
--   descriptions "… per 1K input tokens for Claude 3.5 Sonnet in …").
-- * quantity_tokens: ConsumedQuantity when ConsumedUnit counts tokens, else PricingQuantity × block size
--   (PricingUnit "1K Tokens" / "1M Tokens" / "1000 Tokens", else Azure x_PricingBlockSize /
--   x_PricingUnitDescription "1K" / "1M").

-- Meter / SKU / unit parsing macros are shared with the cloud-bill adapters: sql/staging/billing_meters.sql.

CREATE OR REPLACE TEMP VIEW focus_rows AS
SELECT
    source_row,
    billing_null(BilledCost) AS billed_raw,
    billing_null(EffectiveCost) AS effective_raw,
    billing_null(ListCost) AS list_raw,
    billing_null(ContractedCost) AS contracted_raw,
    billing_null(ChargePeriodStart) AS cps_raw,
    billing_null(ChargePeriodEnd) AS cpe_raw,
    billing_null(BillingPeriodStart) AS bps_raw,
    billing_null(BillingPeriodEnd) AS bpe_raw,
    billing_null(PricingQuantity) AS pq_raw,
    billing_null(ConsumedQuantity) AS cq_raw,
    billing_null(x_PricingBlockSize) AS block_raw,
    billing_null(PricingUnit) AS pricing_unit,
    billing_null(ConsumedUnit) AS consumed_unit,
    billing_null(PricingCurrency) AS pricing_currency,
    billing_null(x_PricingUnitDescription) AS unit_description,
    coalesce(billing_null(ServiceProviderName), billing_null(ProviderName)) AS provider,
    billing_null(InvoiceIssuerName) AS invoice_issuer,
    billing_null(ServiceName) AS service_name,
    billing_null(ServiceCategory) AS service_category,
    billing_null(ServiceSubcategory) AS service_subcategory,
    billing_null(ChargeCategory) AS charge_category,
    billing_null(ChargeClass) AS charge_class,
    billing_null(ChargeDescription) AS charge_description,
    billing_null(SkuId) AS sku_id,
    billing_null(SkuMeter) AS sku_meter_raw,
    billing_null(x_SkuMeterName) AS meter_name,
    billing_null(x_UsageType) AS usage_type,
    billing_null(x_SkuDescription) AS sku_description,
    billing_null(BillingCurrency) AS currency,
    billing_null(BillingAccountId) AS billing_account_id,
    billing_null(SubAccountId) AS sub_account_id,
    billing_null(SubAccountName) AS sub_account_name,
    coalesce(billing_null(RegionId), billing_null(RegionName)) AS region,
    billing_null(ResourceId) AS resource_id,
    trim(billing_null(Tags)) AS tags_raw
FROM focus_src;

-- 2. Timestamps: a bill has few distinct instants, so each is parsed once.
CREATE OR REPLACE TEMP TABLE focus_instants AS
SELECT raw, parse_ts(raw) AS ts
FROM (SELECT cps_raw AS raw FROM focus_rows UNION SELECT cpe_raw FROM focus_rows
      UNION SELECT bps_raw FROM focus_rows UNION SELECT bpe_raw FROM focus_rows)
WHERE raw IS NOT NULL;

-- Tags: a JSON object (Azure sometimes drops the outer braces); anything else → NULL, not a reject. Bills repeat
-- the same few tag sets, so each distinct text is parsed once.
CREATE OR REPLACE TEMP TABLE focus_tag_sets AS
WITH distinct_tags AS (SELECT DISTINCT tags_raw AS raw FROM focus_rows WHERE tags_raw IS NOT NULL),
objects AS (
    SELECT raw, CASE WHEN json_valid(raw) THEN raw
                     WHEN json_valid('{' || raw || '}') THEN '{' || raw || '}' END AS doc
    FROM distinct_tags
)
-- credentials in resource tags redacted (safe_tags, sql/schema/002_macros.sql)
SELECT raw, CASE WHEN json_type(doc) = 'OBJECT'
                 THEN safe_tags(try_cast(CAST(doc AS JSON) AS MAP(VARCHAR, VARCHAR)), content := false) END AS tags
FROM objects;

-- 3. What each distinct kind of line is (AI or not, model, token type, how to count its tokens): a bill has
--    few distinct SKU / meter / unit combinations, so the text parsing runs once per combination.
CREATE OR REPLACE TEMP TABLE focus_kinds AS
WITH keys AS (
    SELECT DISTINCT service_category, service_subcategory, pricing_currency, meter_name, sku_meter_raw, usage_type,
           sku_description, charge_description, pricing_unit, consumed_unit, unit_description, block_raw
    FROM focus_rows
),
flags AS (
    SELECT *,
        -- FOCUS 1.2+ SaaS virtual currency (PricingCurrency that is not an ISO 4217 code) named "tokens"
        coalesce(pricing_currency IS NOT NULL AND NOT regexp_full_match(trim(pricing_currency), '[A-Za-z]{3}')
                 AND regexp_matches(lower(pricing_currency), 'token'), false) AS virtual_token_currency,
        regexp_matches(lower(concat_ws(' ', sku_meter_raw, meter_name, usage_type, sku_description,
                                       charge_description, pricing_unit, consumed_unit, unit_description)),
                       'token') AS token_text,
        coalesce(lower(trim(service_category)) = 'ai and machine learning', false) AS ai_category,
        lower(trim(coalesce(service_subcategory, ''))) = 'generative ai' AS genai_subcategory,
        try_cast(trim(block_raw) AS DECIMAL(38,6)) AS block_column
    FROM keys
),
ai AS (
    SELECT *,
        ai_category AND (genai_subcategory OR token_text) AND NOT virtual_token_currency AS is_ai,
        token_text AND NOT virtual_token_currency AS token_line
    FROM flags
)
SELECT *,
    CASE WHEN is_ai THEN coalesce(
        meter_model(meter_name),
        meter_model(sku_meter_raw),
        bedrock_usage_model(sku_meter_raw),
        bedrock_usage_model(usage_type),
        meter_model(sku_description),
        price_desc_model(charge_description)) END AS model,
    CASE WHEN is_ai THEN coalesce(
        meter_token_type(meter_name),
        meter_token_type(sku_meter_raw),
        meter_token_type(usage_type),
        meter_token_type(sku_description),
        meter_token_type(charge_description),
        'other') END AS token_type,
    -- tokens per unit of ConsumedQuantity / of PricingQuantity (NULL: that quantity does not count tokens)
    CASE WHEN is_ai AND token_line THEN
        CASE WHEN regexp_matches(lower(coalesce(consumed_unit, '')), 'token') THEN coalesce(unit_block_size(consumed_unit), 1)
             WHEN lower(trim(coalesce(consumed_unit, ''))) IN ('units', 'unit', 'count') THEN 1 END
    END AS consumed_factor,
    CASE WHEN is_ai AND token_line THEN
        CASE WHEN regexp_matches(lower(coalesce(pricing_unit, '')), 'token') THEN coalesce(unit_block_size(pricing_unit), 1)
             WHEN block_column > 0 THEN block_column
             ELSE coalesce(unit_block_size(unit_description), unit_block_size(pricing_unit)) END
    END AS pricing_factor,
    -- ConsumedQuantity in tokens is the exact count; a generic "Units" consumed quantity is the last resort
    regexp_matches(lower(coalesce(consumed_unit, '')), 'token') AS consumed_first
FROM ai;

-- 4. Canonical billing lines.
CREATE OR REPLACE TEMP TABLE staged AS
WITH typed AS (
    SELECT r.*,
        -- exact decimals, also as spreadsheets write them ("$10,100.00 " in FOCUS_Spec's own examples)
        parse_money(r.billed_raw) AS billed_cost,
        parse_money(r.effective_raw) AS effective_cost,
        parse_money(r.list_raw) AS list_cost,
        parse_money(r.contracted_raw) AS contracted_cost,
        try_cast(trim(r.pq_raw) AS DECIMAL(38,12)) AS pq,
        try_cast(trim(r.cq_raw) AS DECIMAL(38,12)) AS cq,
        cps.ts AS charge_period_start,
        cpe.ts AS charge_period_end,
        bps.ts AS billing_period_start,
        bpe.ts AS billing_period_end,
        k.is_ai, k.model, k.token_type, k.consumed_factor, k.pricing_factor, k.consumed_first,
        tg.tags
    FROM focus_rows r
    JOIN focus_kinds k
      ON  r.service_category IS NOT DISTINCT FROM k.service_category
      AND r.service_subcategory IS NOT DISTINCT FROM k.service_subcategory
      AND r.pricing_currency IS NOT DISTINCT FROM k.pricing_currency
      AND r.meter_name IS NOT DISTINCT FROM k.meter_name
      AND r.sku_meter_raw IS NOT DISTINCT FROM k.sku_meter_raw
      AND r.usage_type IS NOT DISTINCT FROM k.usage_type
      AND r.sku_description IS NOT DISTINCT FROM k.sku_description
      AND r.charge_description IS NOT DISTINCT FROM k.charge_description
      AND r.pricing_unit IS NOT DISTINCT FROM k.pricing_unit
      AND r.consumed_unit IS NOT DISTINCT FROM k.consumed_unit
      AND r.unit_description IS NOT DISTINCT FROM k.unit_description
      AND r.block_raw IS NOT DISTINCT FROM k.block_raw
    LEFT JOIN focus_instants cps ON cps.raw = r.cps_raw
    LEFT JOIN focus_instants cpe ON cpe.raw = r.cpe_raw
    LEFT JOIN focus_instants bps ON bps.raw = r.bps_raw
    LEFT JOIN focus_instants bpe ON bpe.raw = r.bpe_raw
    LEFT JOIN focus_tag_sets tg ON tg.raw = r.tags_raw
)
SELECT
    source_row,
    charge_period_start,
    charge_period_end,
    billing_period_start,
    billing_period_end,
    provider,
    invoice_issuer,
    service_name,
    service_category,
    service_subcategory,
    charge_category,
    charge_class,
    charge_description,
    sku_id,
    coalesce(sku_meter_raw, meter_name, usage_type) AS sku_meter,
    is_ai,
    model,
    token_type,
    CASE WHEN consumed_first THEN coalesce(bill_tokens(cq, consumed_factor), bill_tokens(pq, pricing_factor))
         ELSE coalesce(bill_tokens(pq, pricing_factor), bill_tokens(cq, consumed_factor)) END AS quantity_tokens,
    CAST(pq AS DECIMAL(38,9)) AS pricing_quantity,
    pricing_unit,
    CAST(cq AS DECIMAL(38,9)) AS consumed_quantity,
    consumed_unit,
    billed_cost,
    effective_cost,
    list_cost,
    contracted_cost,
    currency,
    billing_account_id,
    sub_account_id,
    sub_account_name,
    region,
    resource_id,
    tags,
    CASE
        WHEN billed_raw IS NOT NULL AND billed_cost IS NULL THEN 'BilledCost is not a number: ' || left(billed_raw, 40)
        WHEN effective_raw IS NOT NULL AND effective_cost IS NULL
            THEN 'EffectiveCost is not a number: ' || left(effective_raw, 40)
        WHEN list_raw IS NOT NULL AND list_cost IS NULL THEN 'ListCost is not a number: ' || left(list_raw, 40)
        WHEN contracted_raw IS NOT NULL AND contracted_cost IS NULL
            THEN 'ContractedCost is not a number: ' || left(contracted_raw, 40)
        -- a date outside 2000-01-01 … a year from now (the year 4 DuckDB read in "4/1/25") is damage
        WHEN coalesce(ts_window_problem('ChargePeriodStart', cps_raw), ts_window_problem('ChargePeriodEnd', cpe_raw),
                      ts_window_problem('BillingPeriodStart', bps_raw), ts_window_problem('BillingPeriodEnd', bpe_raw))
             IS NOT NULL
            THEN coalesce(ts_window_problem('ChargePeriodStart', cps_raw), ts_window_problem('ChargePeriodEnd', cpe_raw),
                          ts_window_problem('BillingPeriodStart', bps_raw), ts_window_problem('BillingPeriodEnd', bpe_raw))
        WHEN cps_raw IS NOT NULL AND charge_period_start IS NULL
            THEN 'ChargePeriodStart is not a date/time: ' || left(cps_raw, 40)
        WHEN cpe_raw IS NOT NULL AND charge_period_end IS NULL
            THEN 'ChargePeriodEnd is not a date/time: ' || left(cpe_raw, 40)
        WHEN bps_raw IS NOT NULL AND billing_period_start IS NULL
            THEN 'BillingPeriodStart is not a date/time: ' || left(bps_raw, 40)
        WHEN bpe_raw IS NOT NULL AND billing_period_end IS NULL
            THEN 'BillingPeriodEnd is not a date/time: ' || left(bpe_raw, 40)
        WHEN pq_raw IS NOT NULL AND pq IS NULL THEN 'PricingQuantity is not a number: ' || left(pq_raw, 40)
        WHEN cq_raw IS NOT NULL AND cq IS NULL THEN 'ConsumedQuantity is not a number: ' || left(cq_raw, 40)
        WHEN bill_tokens_overflow(pq, pricing_factor)
            THEN 'PricingQuantity is out of range: ' || left(pq_raw, 40) || ' (beyond 9.2e18 tokens)'
        WHEN bill_tokens_overflow(cq, consumed_factor)
            THEN 'ConsumedQuantity is out of range: ' || left(cq_raw, 40) || ' (beyond 9.2e18 tokens)'
    END AS reject_reason,
    CAST(NULL AS VARCHAR) AS skip_reason
FROM typed;

DROP VIEW focus_rows;
DROP TABLE focus_instants;
DROP TABLE focus_tag_sets;
DROP TABLE focus_kinds;
