-- requires: bill_money, bill_qty, bill_tokens, bill_tokens_overflow, bill_ts, billing_null, gcp_src, kv_list_map,
--   meter_context_window, meter_is_batch, meter_model, meter_service_tier, meter_token_type, meter_words,
--   named_model, safe_tags, token_unit_factor, ts_in_window, ts_window_end, ts_window_problem
-- creates: gcp_charge_category, gcp_credits_bad, gcp_credits_sum, gcp_instants, gcp_kinds, gcp_label_sets, gcp_rows,
--   staged
-- Google Cloud Billing export rows → canonical billing_lines. Input: temp table gcp_src (one VARCHAR column per
-- export field, nested fields already flattened; arrays as JSON text; made by costlens/ingest/gcp_billing.py);
-- macros from staging/billing_meters.sql.
--
-- * Every line is kept. AI spend (is_ai): a generative-AI SKU (Gemini, Claude, Llama, Mistral, Gemma, Imagen,
--   Veo, embeddings, grounding, token SKUs, …) of Vertex AI / the Gemini API, or a partner-model service named
--   after its model; tax lines are not AI spend.
-- * model from sku.description ("Gemini 2.5 Flash GA Text Input - Predictions" → gemini-2.5-flash), token_type
--   from it ("Text Input" → input, "Text Output" / "Thinking … Output" → output, "Input Caching" → cache_read;
--   "Caching Storage" is storage, not tokens → 'other').
-- * TRAP: tokens come from usage.amount_in_pricing_units × the block of usage.pricing_unit ("count" → 1,
--   "1k tokens" → 1000), never from usage.amount (which is in usage.unit, the base unit). A pricing unit that
--   does not count tokens ("1k characters", "gibibyte hour") leaves quantity_tokens NULL. Only when the export
--   lacks amount_in_pricing_units altogether is usage.amount used, and then only if usage.unit counts tokens
--   and the SKU is not priced in characters.
-- * Money: text → DECIMAL(38,18). billed_cost = cost (before credits); effective_cost = cost + Σ credits[].amount
--   (credits are negative); list_cost = cost_at_list (detailed export).
-- * invoice.month "202501" → billing period [2025-01-01, 2025-02-01).

-- Σ credits[].amount from the credits JSON array (NULL if an amount is not a number; 0 for no credits).
CREATE OR REPLACE TEMP MACRO gcp_credits_sum(raw) AS (
    CASE
        WHEN billing_null(trim(raw)) IS NULL THEN CAST(0 AS DECIMAL(38,18))
        WHEN NOT json_valid(trim(raw)) OR json_type(CAST(trim(raw) AS JSON)) <> 'ARRAY' THEN NULL
        ELSE coalesce(list_sum(list_transform(json_extract(CAST(trim(raw) AS JSON), '$[*]'),
                                              lambda c: try_cast(c->>'amount' AS DECIMAL(38,18)))), 0)
    END
);

-- Credits with an amount that is not a number (so the row is rejected, not read as 0).
-- (CASE, not OR: list functions are evaluated for every row, so invalid JSON must never reach them.)
CREATE OR REPLACE TEMP MACRO gcp_credits_bad(raw) AS (
    CASE
        WHEN billing_null(trim(raw)) IS NULL THEN false
        WHEN NOT json_valid(trim(raw)) THEN true
        WHEN json_type(CAST(trim(raw) AS JSON)) <> 'ARRAY' THEN true
        ELSE len(list_filter(json_extract(CAST(trim(raw) AS JSON), '$[*]'),
                             lambda c: try_cast(c->>'amount' AS DECIMAL(38,18)) IS NULL)) > 0
    END
);

-- cost_type → FOCUS charge category (standard export: regular | tax | adjustment | rounding_error).
CREATE OR REPLACE TEMP MACRO gcp_charge_category(t) AS (
    CASE lower(trim(coalesce(t, 'regular')))
        WHEN 'regular' THEN 'Usage' WHEN '' THEN 'Usage'
        WHEN 'tax' THEN 'Tax'
        WHEN 'adjustment' THEN 'Adjustment' WHEN 'rounding_error' THEN 'Adjustment'
        ELSE trim(t)
    END
);

-- 1. Rows with blanks resolved.
CREATE OR REPLACE TEMP VIEW gcp_rows AS
SELECT
    source_row,
    invalid_json,
    billing_null(billing_account) AS billing_account,
    billing_null(service_id) AS service_id,
    billing_null(service) AS service,
    billing_null(sku_id) AS sku_id,
    billing_null(sku) AS sku,
    billing_null(usage_start) AS usage_start_raw,
    billing_null(usage_end) AS usage_end_raw,
    billing_null(project_id) AS project_id,
    billing_null(project_name) AS project_name,
    billing_null(trim(labels)) AS labels_raw,
    coalesce(billing_null(region), billing_null(location)) AS region,
    billing_null(cost) AS cost_raw,
    billing_null(currency) AS currency,
    billing_null(usage_amount) AS usage_amount_raw,
    billing_null(usage_unit) AS usage_unit,
    billing_null(pricing_amount) AS pricing_amount_raw,
    billing_null(pricing_unit) AS pricing_unit,
    billing_null(trim(credits)) AS credits_raw,
    billing_null(invoice_month) AS invoice_month,
    billing_null(cost_type) AS cost_type,
    billing_null(cost_at_list) AS cost_at_list_raw,
    billing_null(resource_name) AS resource_name,
    billing_null(seller_name) AS seller_name
FROM gcp_src;

-- 2. Timestamps and label sets: few distinct values, each parsed once.
CREATE OR REPLACE TEMP TABLE gcp_instants AS
SELECT raw, bill_ts(raw) AS ts
FROM (SELECT usage_start_raw AS raw FROM gcp_rows UNION SELECT usage_end_raw FROM gcp_rows)
WHERE raw IS NOT NULL;

CREATE OR REPLACE TEMP TABLE gcp_label_sets AS
-- credentials in resource tags redacted (safe_tags, sql/schema/002_macros.sql)
SELECT raw, safe_tags(kv_list_map(raw), content := false) AS tags
FROM (SELECT DISTINCT labels_raw AS raw FROM gcp_rows WHERE labels_raw IS NOT NULL);

-- 3. What each distinct kind of line is.
CREATE OR REPLACE TEMP TABLE gcp_kinds AS
WITH keys AS (
    SELECT DISTINCT service, sku, cost_type, pricing_unit, usage_unit, pricing_amount_raw IS NULL AS no_pricing_amount
    FROM gcp_rows
),
flags AS (
    SELECT *,
        gcp_charge_category(cost_type) AS charge_category,
        coalesce(regexp_matches(lower(service), '\b(vertex ai|gemini|generative language|agent platform)\b'), false)
            AS ai_service,
        coalesce(regexp_matches(meter_words(sku),
            '\b(gemini|claude|llama|mistral|codestral|mixtral|gemma|palm|bison|gecko|imagen|veo|chirp|lyria|jamba|deepseek|qwen|gpt|embedding|embeddings|grounding|tokens?)\b'), false)
            AS genai_sku,
        coalesce(regexp_matches(meter_words(service), '^(claude|llama|mistral|codestral|jamba|deepseek|qwen)\b'), false)
            AS partner_model_service
    FROM keys
),
ai AS (
    SELECT *,
        charge_category <> 'Tax' AND ((ai_service AND genai_sku) OR partner_model_service) AS is_ai
    FROM flags
),
parsed AS (
    SELECT *, CASE WHEN is_ai THEN meter_token_type(sku) END AS token_kind FROM ai
)
SELECT *,
    CASE WHEN is_ai THEN coalesce(meter_model(sku), CASE WHEN partner_model_service THEN named_model(service) END) END
        AS model,
    CASE WHEN is_ai THEN coalesce(token_kind, 'other') END AS token_type,
    CASE WHEN is_ai AND token_kind IS NOT NULL THEN coalesce(meter_service_tier(sku), 'standard') END AS service_tier,
    CASE WHEN is_ai THEN meter_is_batch(sku) END AS is_batch,
    CASE WHEN is_ai THEN meter_context_window(sku) END AS context_window,
    -- tokens per unit of usage.amount_in_pricing_units (fallback: per unit of usage.amount when the export has no
    -- amount_in_pricing_units at all)
    CASE WHEN is_ai AND token_kind IS NOT NULL AND charge_category = 'Usage' THEN token_unit_factor(pricing_unit) END
        AS pricing_factor,
    CASE WHEN is_ai AND token_kind IS NOT NULL AND charge_category = 'Usage' AND no_pricing_amount
              AND NOT regexp_matches(meter_words(sku), '\bcharacters?\b')
         THEN token_unit_factor(usage_unit) END AS usage_factor,
    CASE WHEN ai_service OR is_ai THEN 'AI and Machine Learning' END AS service_category,
    CASE WHEN is_ai THEN 'Generative AI' END AS service_subcategory
FROM parsed;

-- 4. Canonical billing lines.
CREATE OR REPLACE TEMP TABLE staged AS
WITH typed AS (
    SELECT r.*,
        bill_money(r.cost_raw) AS cost,
        bill_money(r.cost_at_list_raw) AS cost_at_list,
        gcp_credits_sum(r.credits_raw) AS credits_sum,
        gcp_credits_bad(r.credits_raw) AS credits_bad,
        bill_qty(r.usage_amount_raw) AS usage_amount,
        bill_qty(r.pricing_amount_raw) AS pricing_amount,
        ts_in_window(try_strptime(trim(r.invoice_month) || '01', '%Y%m%d')) AS invoice_start,
        try_strptime(trim(r.invoice_month) || '01', '%Y%m%d') IS NOT NULL AS invoice_month_read,
        us.ts AS charge_period_start, ue.ts AS charge_period_end,
        k.is_ai, k.model, k.token_type, k.service_tier, k.is_batch, k.context_window, k.pricing_factor,
        k.usage_factor, k.charge_category, k.service_category, k.service_subcategory,
        lb.tags
    FROM gcp_rows r
    JOIN gcp_kinds k
      ON  r.service IS NOT DISTINCT FROM k.service AND r.sku IS NOT DISTINCT FROM k.sku
      AND r.cost_type IS NOT DISTINCT FROM k.cost_type AND r.pricing_unit IS NOT DISTINCT FROM k.pricing_unit
      AND r.usage_unit IS NOT DISTINCT FROM k.usage_unit
      AND (r.pricing_amount_raw IS NULL) = k.no_pricing_amount
    LEFT JOIN gcp_instants us ON us.raw = r.usage_start_raw
    LEFT JOIN gcp_instants ue ON ue.raw = r.usage_end_raw
    LEFT JOIN gcp_label_sets lb ON lb.raw = r.labels_raw
)
SELECT
    source_row,
    charge_period_start,
    charge_period_end,
    invoice_start AS billing_period_start,
    invoice_start + INTERVAL 1 MONTH AS billing_period_end,
    'Google Cloud' AS provider,
    seller_name AS invoice_issuer,
    service AS service_name,
    service_category,
    service_subcategory,
    charge_category,
    sku_id,
    sku AS sku_meter,
    sku AS charge_description,
    is_ai,
    model,
    token_type,
    coalesce(bill_tokens(pricing_amount, pricing_factor), bill_tokens(usage_amount, usage_factor)) AS quantity_tokens,
    CAST(pricing_amount AS DECIMAL(38,9)) AS pricing_quantity,
    pricing_unit,
    CAST(usage_amount AS DECIMAL(38,9)) AS consumed_quantity,
    usage_unit AS consumed_unit,
    cost AS billed_cost,
    cost + credits_sum AS effective_cost,
    cost_at_list AS list_cost,
    currency,
    billing_account AS billing_account_id,
    project_id AS sub_account_id,
    project_name AS sub_account_name,
    project_id,
    region,
    resource_name AS resource_id,
    service_tier,
    is_batch,
    context_window,
    tags,
    CASE
        WHEN invalid_json THEN 'not valid JSON'
        WHEN cost_raw IS NULL THEN 'missing cost'
        WHEN cost IS NULL THEN 'cost is not a number: ' || left(cost_raw, 40)
        WHEN credits_bad THEN 'credits is not a list of {name, amount}: ' || left(credits_raw, 60)
        WHEN cost_at_list_raw IS NOT NULL AND cost_at_list IS NULL
            THEN 'cost_at_list is not a number: ' || left(cost_at_list_raw, 40)
        WHEN pricing_amount_raw IS NOT NULL AND pricing_amount IS NULL
            THEN 'usage.amount_in_pricing_units is not a number: ' || left(pricing_amount_raw, 40)
        WHEN usage_amount_raw IS NOT NULL AND usage_amount IS NULL
            THEN 'usage.amount is not a number: ' || left(usage_amount_raw, 40)
        WHEN bill_tokens_overflow(pricing_amount, pricing_factor)
            THEN 'usage.amount_in_pricing_units is out of range: ' || left(pricing_amount_raw, 40)
                 || ' (beyond 9.2e18 tokens)'
        WHEN pricing_amount IS NULL AND bill_tokens_overflow(usage_amount, usage_factor)
            THEN 'usage.amount is out of range: ' || left(usage_amount_raw, 40) || ' (beyond 9.2e18 tokens)'
        WHEN usage_start_raw IS NULL THEN 'missing usage_start_time'
        -- a date outside 2000-01-01 … a year from now is damage, never a period
        WHEN coalesce(ts_window_problem('usage_start_time', usage_start_raw),
                      ts_window_problem('usage_end_time', usage_end_raw)) IS NOT NULL
            THEN coalesce(ts_window_problem('usage_start_time', usage_start_raw),
                          ts_window_problem('usage_end_time', usage_end_raw))
        WHEN charge_period_start IS NULL THEN 'usage_start_time is not a date/time: ' || left(usage_start_raw, 40)
        WHEN usage_end_raw IS NOT NULL AND charge_period_end IS NULL
            THEN 'usage_end_time is not a date/time: ' || left(usage_end_raw, 40)
        WHEN invoice_month IS NOT NULL AND invoice_start IS NULL AND invoice_month_read
            THEN 'invoice.month is outside 2000-01-01 … ' || strftime(ts_window_end() - INTERVAL 1 DAY, '%Y-%m-%d')
                 || ': ' || left(invoice_month, 40)
        WHEN invoice_month IS NOT NULL AND invoice_start IS NULL
            THEN 'invoice.month is not YYYYMM: ' || left(invoice_month, 40)
    END AS reject_reason,
    CAST(NULL AS VARCHAR) AS skip_reason
FROM typed;

DROP VIEW gcp_rows;
DROP TABLE gcp_src;
DROP TABLE gcp_instants;
DROP TABLE gcp_label_sets;
DROP TABLE gcp_kinds;
