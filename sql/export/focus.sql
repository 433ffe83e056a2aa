-- requires: call_charges, charge_price_book, charge_price_book_frozen, export_allocated, export_feature_config,
--   export_options, period_calls, price_book, price_book_frozen, report_period
-- creates: focus_csv_text, focus_datetime_text, focus_decimal_text, focus_export
-- focus_export: the period's LLM spend as a FOCUS 1.2 Cost and Usage dataset, one row per
-- (charge day, provider, model, pricing variant, feature, team, environment, token type, unit price).
-- Grain note: the unit price is part of the key so that every row keeps ListCost = ListUnitPrice × PricingQuantity
-- and ContractedCost = ContractedUnitPrice × PricingQuantity exactly (long-context tiers, batch / flex / priority
-- variants and price changes inside a day each get their own row).
--
-- Inputs:
--   period_calls      the report's priced calls of the period (sql/intermediate/period_calls.sql, computed cost mode)
--   price_book, price_book_frozen  re-joined exactly as sql/intermediate/fresh_priced_calls.sql does (live prices, or a
--                     closed month's snapshot), for the $/Mtok of each token type
--   report_period     (start_ts, end_ts)
--   export_feature_config (feature, team, cost_center, task_class) from costlens.toml
--   export_allocated  (charge_day, provider, model, feature, allocated_usd): billed spend that reconciliation
--                     allocated to features; empty unless something filled it
-- Unpriced calls have no cost, and FOCUS requires BilledCost: they are left out (the caller counts and warns).
-- Money stays DECIMAL(38,18): tokens × $/Mtok × DECIMAL 0.000001 per call, as priced_calls computes it, so the
-- rows add up to the report's total exactly.

-- A DECIMAL as plain text with every digit it has and no padding zeros: 0.002500000000000000 → 0.0025,
-- 9670.000000 → 9670.0. One decimal digit always stays, so readers that guess types from the text (pandas,
-- hence focus-validator) see a decimal column even when every value of it is whole.
CREATE OR REPLACE TEMP MACRO focus_decimal_text(x) AS (
    CASE WHEN x IS NULL THEN NULL
         ELSE regexp_replace(CAST(x AS VARCHAR), '(\.[0-9]*?[0-9])0+$', '\1') END
);

-- A text cell a spreadsheet will not run as a formula (same rule as costlens/report/render_tables.neutralise):
-- text starting with = + - @ tab or CR, also after leading spaces, gets a leading apostrophe.
CREATE OR REPLACE TEMP MACRO focus_csv_text(x) AS (
    CASE WHEN regexp_matches(x, '^ *[=+\-@\t\r]') THEN '''' || x ELSE x END
);

-- ISO 8601 UTC with the Z suffix, as FOCUS DateTimeFormat asks.
CREATE OR REPLACE TEMP MACRO focus_datetime_text(x) AS (strftime(x, '%Y-%m-%dT%H:%M:%SZ'));

CREATE OR REPLACE TEMP TABLE focus_export AS
WITH provider_names (provider, provider_name, service_name) AS (
    VALUES
        ('openai', 'OpenAI', 'OpenAI API'),
        ('anthropic', 'Anthropic', 'Claude API'),
        ('azure.openai', 'Microsoft', 'Azure OpenAI'),
        ('aws.bedrock', 'AWS', 'Amazon Bedrock'),
        ('gcp.vertex_ai', 'Google Cloud', 'Vertex AI'),
        ('google', 'Google', 'Gemini API'),
        ('mistral', 'Mistral AI', 'Mistral AI API'),
        ('x_ai', 'xAI', 'xAI API'),
        ('deepseek', 'DeepSeek', 'DeepSeek API'),
        ('cohere', 'Cohere', 'Cohere API'),
        ('groq', 'Groq', 'GroqCloud'),
        ('together', 'Together AI', 'Together AI API'),
        ('fireworks', 'Fireworks AI', 'Fireworks AI API'),
        ('openrouter', 'OpenRouter', 'OpenRouter API')
),

frozen_keys AS (
    -- closed months frozen by costlens.pricing.freeze are priced from their snapshot, as priced_calls does
    SELECT DISTINCT month, provider, model, variant FROM price_book_frozen
),

book AS (
    SELECT CAST(NULL AS DATE) AS frozen_month, * FROM price_book
    UNION ALL BY NAME
    SELECT month AS frozen_month, * EXCLUDE (month, catalog_version, frozen_at) FROM price_book_frozen
),

calls_keyed AS (
    SELECT c.*, fk.month AS frozen_month
    FROM period_calls AS c
    LEFT JOIN frozen_keys AS fk
        ON fk.month = CAST(date_trunc('month', c.ts) AS DATE)
        AND fk.provider = coalesce(c.provider, '') AND fk.model = c.model AND fk.variant = c.variant
    WHERE c.priced
),

calls_priced AS (
    -- the calls the report prices, with the book row that priced them (at most one matches); the caller checks
    -- that the rows add up to the report's priced cost, so this join cannot drift from priced_calls unseen
    SELECT
        c.call_id, c.day AS charge_day, c.provider, c.model, c.variant, c.feature_key, c.team_key, c.environment,
        c.input_tokens, c.cache_read_tokens, c.cache_write_5m_tokens, c.cache_write_1h_tokens,
        greatest(least(c.reasoning_tokens, c.output_tokens), 0) AS reasoning_tokens,
        c.output_tokens - greatest(least(c.reasoning_tokens, c.output_tokens), 0) AS answer_tokens,
        pb.input_mtok, pb.cache_read_mtok, pb.cache_write_5m_mtok, pb.cache_write_1h_mtok, pb.output_mtok,
        pb.reasoning_mtok, pb.request_usd, pb.discount_pct
    FROM calls_keyed AS c
    JOIN book AS pb
        ON pb.frozen_month IS NOT DISTINCT FROM c.frozen_month
        AND pb.provider = coalesce(c.provider, '')
        AND pb.model = c.model
        AND pb.variant = c.variant
        AND c.ts >= pb.valid_from AND c.ts < pb.valid_to
        AND CAST(hour(c.ts) * 3600 + minute(c.ts) * 60 + second(c.ts) AS INTEGER) >= pb.tod_from_s
        AND CAST(hour(c.ts) * 3600 + minute(c.ts) * 60 + second(c.ts) AS INTEGER) < pb.tod_to_s
        AND c.total_input_tokens > pb.tier_above_tokens AND c.total_input_tokens <= pb.tier_upto_tokens
),

charge_book AS (
    -- prices of the charges beyond the token columns (tools, images, audio tokens), frozen months as priced_calls
    SELECT DATE '0001-01-01' AS frozen_month, * FROM charge_price_book
    UNION ALL BY NAME
    SELECT month AS frozen_month, * EXCLUDE (month, catalog_version, frozen_at) FROM charge_price_book_frozen
),

extra_charges AS (
    -- the calls' other billed quantities, one row per call and kind: a tool call, an image, an audio token
    SELECT
        c.call_id, c.day AS charge_day, c.provider, c.model, c.variant, c.feature_key, c.team_key, c.environment,
        cb.discount_pct, ch.kind AS token_type, ch.quantity, cb.usd_per_unit AS unit_price,
        CASE WHEN cb.family = 'tokens' THEN 0.000001::DECIMAL(7, 6) ELSE 1::DECIMAL(7, 6) END AS per_unit,
        cb.family
    FROM call_charges AS ch
    JOIN period_calls AS c USING (call_id)
    LEFT JOIN (SELECT DISTINCT month, provider, model, variant, kind FROM charge_price_book_frozen) AS fk
        ON fk.month = CAST(date_trunc('month', c.ts) AS DATE) AND fk.provider = coalesce(c.provider, '')
        AND fk.model = c.model AND fk.variant = c.variant AND fk.kind = ch.kind
    JOIN charge_book AS cb
        ON cb.frozen_month = coalesce(fk.month, DATE '0001-01-01') AND cb.provider = coalesce(c.provider, '')
        AND cb.model = c.model AND cb.variant = c.variant AND cb.kind = ch.kind
        AND cb.detail IS NOT DISTINCT FROM ch.detail AND c.ts >= cb.valid_from AND c.ts < cb.valid_to
    WHERE c.priced AND ch.counted
),

usage_charges AS (
    -- one row per call and token type it used; `per_unit` turns the quantity into pricing units
    SELECT
        cp.* EXCLUDE (
            input_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, reasoning_tokens,
            answer_tokens, input_mtok, cache_read_mtok, cache_write_5m_mtok, cache_write_1h_mtok, output_mtok,
            reasoning_mtok, request_usd
        ),
        -- reasoning is billed as output unless the catalog prices it apart
        CASE WHEN k.kind = 'reasoning' AND cp.reasoning_mtok = cp.output_mtok THEN 'output' ELSE k.kind END
            AS token_type,
        CASE k.kind WHEN 'input' THEN cp.input_tokens WHEN 'cache_read' THEN cp.cache_read_tokens
                    WHEN 'cache_write_5m' THEN cp.cache_write_5m_tokens WHEN 'cache_write_1h' THEN cp.cache_write_1h_tokens
                    WHEN 'output' THEN cp.answer_tokens WHEN 'reasoning' THEN cp.reasoning_tokens
                    ELSE CASE WHEN cp.request_usd > 0 THEN 1 ELSE 0 END END AS quantity,
        CASE k.kind WHEN 'input' THEN cp.input_mtok WHEN 'cache_read' THEN cp.cache_read_mtok
                    WHEN 'cache_write_5m' THEN cp.cache_write_5m_mtok WHEN 'cache_write_1h' THEN cp.cache_write_1h_mtok
                    WHEN 'output' THEN cp.output_mtok WHEN 'reasoning' THEN cp.reasoning_mtok
                    ELSE cp.request_usd END AS unit_price,
        CASE WHEN k.kind = 'request' THEN 1::DECIMAL(7, 6) ELSE 0.000001::DECIMAL(7, 6) END AS per_unit,
        CAST(NULL AS VARCHAR) AS family
    FROM calls_priced AS cp
    -- one row per token type (a cross join with the kinds rather than unnest of a list of structs: the same rows,
    -- in SQL Spark runs too)
    CROSS JOIN (VALUES ('input'), ('cache_read'), ('cache_write_5m'), ('cache_write_1h'), ('output'), ('reasoning'),
                       ('request')) AS k(kind)
    UNION ALL BY NAME
    -- token prices are per million (per_unit 1e-6); charge prices are per unit: the quantity is scaled back
    SELECT * EXCLUDE (unit_price), unit_price * 1000000 AS unit_price
    FROM extra_charges WHERE family = 'tokens'
    UNION ALL BY NAME
    SELECT * FROM extra_charges WHERE family <> 'tokens'
),

charges_costed AS (
    SELECT
        *,
        CAST(quantity * unit_price * per_unit AS DECIMAL(38, 18)) AS cost_usd,
        -- price_book holds the discounted (contracted) price; the list price is the catalog's, undone from the
        -- discount through the shortest decimal text of the ratio (2.125 / 0.85 → 2.5)
        CASE WHEN discount_pct > 0 AND discount_pct < 100
             THEN CAST(CAST(unit_price * 100 / (100 - discount_pct) AS VARCHAR) AS DECIMAL(38, 18))
             ELSE unit_price END AS list_unit_price
    FROM usage_charges
    WHERE quantity > 0
),

usage_rows AS (
    SELECT
        charge_day, provider, model, variant, feature_key AS feature, team_key, environment, token_type,
        unit_price, list_unit_price, per_unit,
        sum(quantity) AS consumed_quantity,
        sum(cost_usd) AS billed_cost,
        sum(CAST(quantity * list_unit_price * per_unit AS DECIMAL(38, 18))) AS list_cost,
        count(DISTINCT call_id) AS call_count,
        'direct' AS allocation_method
    FROM charges_costed
    GROUP BY ALL
),

allocated_rows AS (
    -- reconciliation's share of unattributed billed spend: one allocation per row, its amount as the unit price
    SELECT
        CAST(a.charge_day AS DATE) AS charge_day, a.provider, a.model, 'standard' AS variant,
        coalesce(nullif(trim(a.feature), ''), '(unattributed)') AS feature, fc.team AS team_key,
        CAST(NULL AS VARCHAR) AS environment, 'allocated' AS token_type,
        CAST(a.allocated_usd AS DECIMAL(38, 18)) AS unit_price,
        CAST(a.allocated_usd AS DECIMAL(38, 18)) AS list_unit_price,
        1::DECIMAL(7, 6) AS per_unit,
        CAST(1 AS HUGEINT) AS consumed_quantity,
        CAST(a.allocated_usd AS DECIMAL(38, 18)) AS billed_cost,
        CAST(a.allocated_usd AS DECIMAL(38, 18)) AS list_cost,
        CAST(0 AS BIGINT) AS call_count,
        'allocated' AS allocation_method
    FROM export_allocated AS a
    CROSS JOIN report_period AS r
    LEFT JOIN export_feature_config AS fc ON fc.feature = a.feature
    WHERE CAST(a.charge_day AS TIMESTAMP) >= r.start_ts AND CAST(a.charge_day AS TIMESTAMP) < r.end_ts
      AND a.allocated_usd IS NOT NULL
      -- the file adds up to the report's total; the allocation only when asked (export_options)
      AND (SELECT include_allocation FROM export_options)
),

all_rows AS (
    SELECT * FROM usage_rows
    UNION ALL BY NAME
    SELECT * FROM allocated_rows
),

described AS (
    SELECT
        r.*,
        coalesce(pn.provider_name, nullif(trim(r.provider), ''), 'Unknown') AS provider_name,
        coalesce(pn.service_name, coalesce(nullif(trim(r.provider), ''), 'Unknown') || ' API') AS service_name,
        -- on a cloud marketplace the model's maker publishes what the cloud provides
        CASE
            WHEN r.provider NOT IN ('azure.openai', 'aws.bedrock', 'gcp.vertex_ai') OR r.model IS NULL
                THEN coalesce(pn.provider_name, nullif(trim(r.provider), ''), 'Unknown')
            WHEN regexp_matches(lower(r.model), 'claude') THEN 'Anthropic'
            WHEN regexp_matches(lower(r.model), '(^|[./:-])(gpt|o[1-9]|chatgpt|text-embedding|dall-e|whisper|tts)')
                THEN 'OpenAI'
            WHEN regexp_matches(lower(r.model), 'gemini|gemma|imagen|palm') THEN 'Google'
            WHEN regexp_matches(lower(r.model), 'llama') THEN 'Meta'
            WHEN regexp_matches(lower(r.model), 'mistral|mixtral|codestral|pixtral') THEN 'Mistral AI'
            WHEN regexp_matches(lower(r.model), 'command|cohere|embed-') THEN 'Cohere'
            WHEN regexp_matches(lower(r.model), 'titan|nova') THEN 'Amazon'
            WHEN regexp_matches(lower(r.model), 'deepseek') THEN 'DeepSeek'
            ELSE coalesce(pn.provider_name, r.provider)
        END AS publisher_name,
        CASE r.token_type
            WHEN 'input' THEN 'input tokens'
            WHEN 'cache_read' THEN 'cache read input tokens'
            WHEN 'cache_write_5m' THEN 'cache write (5 min) input tokens'
            WHEN 'cache_write_1h' THEN 'cache write (1 h) input tokens'
            WHEN 'output' THEN 'output tokens'
            WHEN 'reasoning' THEN 'reasoning tokens'
            WHEN 'request' THEN 'requests'
            WHEN 'allocated' THEN 'allocated unattributed spend'
            ELSE replace(r.token_type, '_', ' ')
        END AS meter,
        r.per_unit < 1 AS is_token_priced,
        date_trunc('month', r.charge_day) AS billing_month,
        fc.cost_center,
        fc.task_class
    FROM all_rows AS r
    LEFT JOIN provider_names AS pn ON pn.provider = r.provider
    LEFT JOIN export_feature_config AS fc ON fc.feature = r.feature
)

SELECT
    -- FOCUS 1.2 columns, in the specification's alphabetical order
    d.billed_cost AS BilledCost,
    'costlens:' || coalesce(nullif(trim(d.provider), ''), 'unknown') AS BillingAccountId,
    d.provider_name AS BillingAccountName,
    'USD' AS BillingCurrency,
    timezone('UTC', CAST(d.billing_month + INTERVAL 1 MONTH AS TIMESTAMP)) AS BillingPeriodEnd,
    timezone('UTC', CAST(d.billing_month AS TIMESTAMP)) AS BillingPeriodStart,
    'Usage' AS ChargeCategory,
    CAST(NULL AS VARCHAR) AS ChargeClass,
    coalesce(d.model, 'unknown model') || ' ' || d.meter || ' (' || d.variant || ' pricing)' AS ChargeDescription,
    'Usage-Based' AS ChargeFrequency,
    timezone('UTC', CAST(d.charge_day + INTERVAL 1 DAY AS TIMESTAMP)) AS ChargePeriodEnd,
    timezone('UTC', CAST(d.charge_day AS TIMESTAMP)) AS ChargePeriodStart,
    CAST(NULL AS VARCHAR) AS CommitmentDiscountCategory,
    CAST(NULL AS VARCHAR) AS CommitmentDiscountId,
    CAST(NULL AS VARCHAR) AS CommitmentDiscountName,
    CAST(NULL AS DECIMAL(38, 6)) AS CommitmentDiscountQuantity,
    CAST(NULL AS VARCHAR) AS CommitmentDiscountStatus,
    CAST(NULL AS VARCHAR) AS CommitmentDiscountType,
    CAST(NULL AS VARCHAR) AS CommitmentDiscountUnit,
    CAST(d.consumed_quantity AS DECIMAL(38, 6)) AS ConsumedQuantity,
    CASE WHEN d.is_token_priced THEN 'Tokens' WHEN d.token_type = 'request' THEN 'Requests'
         WHEN d.token_type = 'allocated' THEN 'Allocations' ELSE 'Units' END AS ConsumedUnit,
    d.billed_cost AS ContractedCost,
    d.unit_price AS ContractedUnitPrice,
    d.billed_cost AS EffectiveCost,
    d.provider_name AS InvoiceIssuerName,
    d.list_cost AS ListCost,
    d.list_unit_price AS ListUnitPrice,
    'Standard' AS PricingCategory,
    CAST(d.consumed_quantity * d.per_unit AS DECIMAL(38, 6)) AS PricingQuantity,
    CASE WHEN d.is_token_priced THEN '1M Tokens' WHEN d.token_type = 'request' THEN 'Requests'
         WHEN d.token_type = 'allocated' THEN 'Allocations' ELSE 'Units' END AS PricingUnit,
    d.provider_name AS ProviderName,
    d.publisher_name AS PublisherName,
    CAST(NULL AS VARCHAR) AS RegionId,
    CAST(NULL AS VARCHAR) AS RegionName,
    CAST(NULL AS VARCHAR) AS ResourceId,
    CAST(NULL AS VARCHAR) AS ResourceName,
    CAST(NULL AS VARCHAR) AS ResourceType,
    'AI and Machine Learning' AS ServiceCategory,
    d.service_name AS ServiceName,
    'Generative AI' AS ServiceSubcategory,
    coalesce(d.provider, 'unknown') || '/' || coalesce(d.model, 'unknown') || '/' || d.token_type AS SkuId,
    d.meter AS SkuMeter,
    coalesce(d.provider, 'unknown') || '/' || coalesce(d.model, 'unknown') || '/' || d.token_type || '/'
        || d.variant || '/' || focus_decimal_text(d.unit_price) AS SkuPriceId,  -- one price per SkuPriceId
    CAST(NULL AS VARCHAR) AS SubAccountId,
    CAST(NULL AS VARCHAR) AS SubAccountName,
    CAST(CASE WHEN nullif(d.team_key, '(no team)') IS NULL THEN json_object('feature', d.feature)
              ELSE json_object('feature', d.feature, 'team', d.team_key) END AS VARCHAR) AS Tags,
    -- costlens columns (FOCUS custom columns carry the x_ prefix)
    d.feature AS x_Feature,
    d.task_class AS x_TaskClass,
    nullif(d.team_key, '(no team)') AS x_Team,
    d.cost_center AS x_CostCenter,
    d.environment AS x_Environment,
    d.model AS x_Model,
    d.token_type AS x_TokenType,
    d.variant AS x_PricingVariant,
    d.call_count AS x_CostlensCallCount,
    d.allocation_method AS x_AllocationMethod
FROM described AS d
ORDER BY d.charge_day, ProviderName, d.model, d.variant, d.feature, d.team_key, d.environment, d.token_type,
         d.unit_price;
