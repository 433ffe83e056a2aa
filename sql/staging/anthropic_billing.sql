-- requires: anthropic_billing_src, count_problem, is_bad_number, nullif_blank, parse_tokens, parse_ts,
--   ts_window_problem
-- creates: ant_models, ant_slug, staged
-- Anthropic usage / cost rows → canonical billing_lines. Input: anthropic_billing_src (built from Admin API
-- pages by anthropic_billing_json.sql, or projected from a Console CSV by costlens/ingest/anthropic_billing.py):
-- source_row, loc, shape (usage | cost | empty | invalid), origin (api | csv), issue, empty_note, start_raw,
-- end_raw, model, api_key_id, api_key_name, workspace_id, workspace_name, tier_raw, context_window_raw,
-- inference_geo, speed, uncached_raw, cw5_raw, cw1_raw, cache_read_raw, output_raw, web_search_raw,
-- token_type_raw, amount_cents_raw, cost_usd_raw, list_usd_raw, currency, cost_type, description — all text.
--
-- * Usage rows → one line per non-zero count: input (uncached_input_tokens / usage_input_tokens_no_cache —
--   Anthropic's uncached input already EXCLUDES cache reads and writes), cache_read, cache_write_5m,
--   cache_write_1h, output, and web search requests (token_type 'other', counted in consumed_quantity).
--   No money: billed_cost / effective_cost NULL, charge_class = 'usage-only'.
-- * Cost rows → one line. API `amount` is a decimal STRING in the currency's lowest unit (cents): parsed to
--   DECIMAL and scaled exactly (USD: × 0.01), never via DOUBLE. Console `cost_usd` / `list_price_usd` are
--   dollars. billed = effective cost; list cost from list_price_usd.
-- * Models: API and usage CSV give ids ("claude-sonnet-4-20250514"); the cost CSV gives display names,
--   mapped by rule (once per distinct name): "Claude Haiku 4.5" → claude-haiku-4-5, "Claude Opus 4.1" →
--   claude-opus-4-1, and for the 3.x generation, named version-first in ids, "Claude Haiku 3.5" /
--   "Claude 3.5 Haiku" → claude-3-5-haiku.
-- * context_window: API "0-200k" | "200k-1M"; Console "≤ 200k" | "> 200k" → the API values.
-- * Console dates (usage_date_utc) are UTC days: the charge period is that day.

CREATE OR REPLACE TEMP MACRO ant_slug(t) AS (
    trim(regexp_replace(lower(trim(t)), '[^a-z0-9]+', '-', 'g'), '-')
);

CREATE OR REPLACE TEMP TABLE ant_models AS
WITH names AS (SELECT DISTINCT model AS raw FROM anthropic_billing_src WHERE nullif_blank(model) IS NOT NULL),
parsed AS (
    SELECT raw,
           regexp_extract(lower(trim(raw)), '^claude\s+(haiku|sonnet|opus)\s+([0-9]+(?:\.[0-9]+)?)(.*)$',
                          ['family', 'ver', 'rest']) AS dn
    FROM names
)
SELECT raw,
       CASE
           -- already a model id: lower case, no spaces
           WHEN regexp_full_match(trim(raw), '[a-z0-9][a-z0-9._:@-]*') THEN trim(raw)
           -- display name "Claude <Family> <version>": ids put the version first before Claude 4
           WHEN dn.family <> '' AND try_cast(split_part(dn.ver, '.', 1) AS INTEGER) < 4
               THEN ant_slug('claude ' || dn.ver || ' ' || dn.family || dn.rest)
           WHEN dn.family <> '' THEN ant_slug('claude ' || dn.family || ' ' || dn.ver || dn.rest)
           -- "Claude 3.5 Haiku", anything else: words joined by '-'
           ELSE ant_slug(raw)
       END AS model_id
FROM parsed;

CREATE OR REPLACE TEMP TABLE staged AS
WITH src AS (
    SELECT s.*,
           parse_ts(s.start_raw) AS period_start,
           coalesce(parse_ts(s.end_raw),
                    CASE WHEN regexp_full_match(trim(coalesce(s.start_raw, '')), '[0-9]{4}-[0-9]{2}-[0-9]{2}')
                         THEN parse_ts(s.start_raw) + INTERVAL 1 DAY END) AS period_end,
           m.model_id,
           CASE WHEN s.loc IS NOT NULL THEN s.loc || ': ' ELSE '' END AS lp,
           CASE WHEN s.origin = 'csv' THEN 'usage_date_utc' ELSE 'starting_at' END AS start_name,
           CASE
               WHEN nullif_blank(s.tier_raw) IS NULL THEN NULL
               WHEN lower(s.tier_raw) LIKE '%batch%' THEN 'batch'
               WHEN lower(s.tier_raw) LIKE 'priority%' THEN 'priority'
               WHEN lower(s.tier_raw) LIKE 'flex%' THEN 'flex'
               ELSE 'standard'
           END AS tier,
           CASE
               WHEN nullif_blank(s.context_window_raw) IS NULL THEN NULL
               WHEN trim(s.context_window_raw) IN ('0-200k', '200k-1M') THEN trim(s.context_window_raw)
               WHEN regexp_matches(s.context_window_raw, '≤|<|^\s*0') THEN '0-200k'
               WHEN regexp_matches(s.context_window_raw, '>|≥') THEN '200k-1M'
               ELSE trim(s.context_window_raw)
           END AS context_window_n,
           CASE WHEN lower(trim(s.inference_geo)) NOT IN ('', 'not_available', 'null') THEN trim(s.inference_geo) END
               AS region_n,
           CASE WHEN nullif_blank(s.speed) IS NOT NULL THEN MAP {'anthropic.speed': trim(s.speed)} END AS tags_n,
           coalesce(nullif_blank(s.workspace_id), nullif_blank(s.workspace_name)) AS workspace_n,
           coalesce(nullif_blank(s.api_key_id), nullif_blank(s.api_key_name)) AS api_key_n,
           CASE WHEN s.shape = 'usage' THEN CASE WHEN s.origin = 'csv'
               THEN coalesce(count_problem('usage_input_tokens_no_cache', s.uncached_raw),
                             count_problem('usage_input_tokens_cache_read', s.cache_read_raw),
                             count_problem('usage_input_tokens_cache_write_5m', s.cw5_raw),
                             count_problem('usage_input_tokens_cache_write_1h', s.cw1_raw),
                             count_problem('usage_output_tokens', s.output_raw),
                             count_problem('web_search_count', s.web_search_raw))
               ELSE coalesce(count_problem('uncached_input_tokens', s.uncached_raw),
                             count_problem('cache_read_input_tokens', s.cache_read_raw),
                             count_problem('cache_creation.ephemeral_5m_input_tokens', s.cw5_raw),
                             count_problem('cache_creation.ephemeral_1h_input_tokens', s.cw1_raw),
                             count_problem('output_tokens', s.output_raw),
                             count_problem('server_tool_use.web_search_requests', s.web_search_raw)) END
           END AS count_problem
    FROM anthropic_billing_src s
    LEFT JOIN ant_models m ON m.raw = s.model
),
checked AS (
    SELECT *,
           CASE
               WHEN shape = 'invalid' OR issue IS NOT NULL THEN lp || coalesce(issue, 'not an Anthropic usage or cost row')
               WHEN shape = 'empty' THEN NULL
               WHEN nullif_blank(start_raw) IS NULL THEN lp || 'missing ' || start_name
               -- a time outside 2000-01-01 … a year from now is damage, never a period
               WHEN ts_window_problem(start_name, start_raw) IS NOT NULL THEN lp || ts_window_problem(start_name, start_raw)
               WHEN ts_window_problem('ending_at', end_raw) IS NOT NULL THEN lp || ts_window_problem('ending_at', end_raw)
               WHEN period_start IS NULL THEN lp || start_name || ' is not a date/time: ' || left(start_raw, 40)
               WHEN nullif_blank(end_raw) IS NOT NULL AND period_end IS NULL
                   THEN lp || 'ending_at is not a date/time: ' || left(end_raw, 40)
               WHEN shape = 'usage' AND is_bad_number(uncached_raw)
                   THEN lp || 'uncached input tokens is not a number: ' || left(uncached_raw, 40)
               WHEN shape = 'usage' AND is_bad_number(cache_read_raw)
                   THEN lp || 'cache read tokens is not a number: ' || left(cache_read_raw, 40)
               WHEN shape = 'usage' AND is_bad_number(cw5_raw)
                   THEN lp || '5m cache write tokens is not a number: ' || left(cw5_raw, 40)
               WHEN shape = 'usage' AND is_bad_number(cw1_raw)
                   THEN lp || '1h cache write tokens is not a number: ' || left(cw1_raw, 40)
               WHEN shape = 'usage' AND is_bad_number(output_raw)
                   THEN lp || 'output tokens is not a number: ' || left(output_raw, 40)
               WHEN shape = 'usage' AND is_bad_number(web_search_raw)
                   THEN lp || 'web search count is not a number: ' || left(web_search_raw, 40)
               -- NaN, Infinity, 1e19 or a negative count is rejected by its field's name, never read as 0
               WHEN shape = 'usage' AND count_problem IS NOT NULL THEN lp || count_problem
               WHEN shape = 'cost' AND origin = 'api' AND nullif_blank(amount_cents_raw) IS NULL
                   THEN lp || 'cost result without an amount'
               WHEN shape = 'cost' AND origin = 'api' AND try_cast(trim(amount_cents_raw) AS DECIMAL(38,16)) IS NULL
                   THEN lp || 'amount is not a decimal number of cents: ' || left(amount_cents_raw, 40)
               WHEN shape = 'cost' AND origin = 'csv' AND nullif_blank(cost_usd_raw) IS NULL
                   THEN 'missing cost_usd'
               WHEN shape = 'cost' AND origin = 'csv' AND try_cast(trim(cost_usd_raw) AS DECIMAL(38,18)) IS NULL
                   THEN 'cost_usd is not a number: ' || left(cost_usd_raw, 40)
               WHEN shape = 'cost' AND origin = 'csv' AND nullif_blank(list_usd_raw) IS NOT NULL
                    AND try_cast(trim(list_usd_raw) AS DECIMAL(38,18)) IS NULL
                   THEN 'list_price_usd is not a number: ' || left(list_usd_raw, 40)
           END AS problem
    FROM src
),
usage_lists AS (
    SELECT *,
           list_filter([
               {'token_type': 'input', 'qty': parse_tokens(uncached_raw), 'word': 'input',
                'meter': CASE WHEN origin = 'csv' THEN 'usage_input_tokens_no_cache' ELSE 'uncached_input_tokens' END},
               {'token_type': 'cache_read', 'qty': parse_tokens(cache_read_raw), 'word': 'cache read',
                'meter': CASE WHEN origin = 'csv' THEN 'usage_input_tokens_cache_read' ELSE 'cache_read_input_tokens' END},
               {'token_type': 'cache_write_5m', 'qty': parse_tokens(cw5_raw), 'word': '5m cache write',
                'meter': CASE WHEN origin = 'csv' THEN 'usage_input_tokens_cache_write_5m'
                              ELSE 'cache_creation.ephemeral_5m_input_tokens' END},
               {'token_type': 'cache_write_1h', 'qty': parse_tokens(cw1_raw), 'word': '1h cache write',
                'meter': CASE WHEN origin = 'csv' THEN 'usage_input_tokens_cache_write_1h'
                              ELSE 'cache_creation.ephemeral_1h_input_tokens' END},
               {'token_type': 'output', 'qty': parse_tokens(output_raw), 'word': 'output',
                'meter': CASE WHEN origin = 'csv' THEN 'usage_output_tokens' ELSE 'output_tokens' END},
               {'token_type': 'other', 'qty': parse_tokens(web_search_raw), 'word': 'web search',
                'meter': CASE WHEN origin = 'csv' THEN 'web_search_count' ELSE 'server_tool_use.web_search_requests' END}
           ], lambda x: coalesce(x.qty, 0) <> 0) AS usage_items
    FROM checked
    WHERE shape = 'usage' AND problem IS NULL
),
usage_lines AS (
    SELECT *, unnest(usage_items) AS line, unnest(range(1, len(usage_items) + 1)) AS k
    FROM usage_lists
    WHERE len(usage_items) > 0 AND len(list_filter(usage_items, lambda x: x.qty < 0)) = 0
),
common AS (
    SELECT 'anthropic' AS provider, 'Anthropic' AS invoice_issuer, 'Claude API' AS service_name,
           'AI and Machine Learning' AS service_category, 'Generative AI' AS service_subcategory,
           'Usage' AS charge_category, true AS is_ai
)
-- usage lines (no money)
SELECT
    u.source_row,
    u.period_start AS charge_period_start,
    u.period_end AS charge_period_end,
    c.*,
    'usage-only' AS charge_class,
    coalesce(u.model_id, 'all models') || ', ' || u.line.word
        || CASE WHEN u.line.token_type = 'other' THEN ' requests' ELSE ' tokens' END
        || ' (usage report, no cost)' AS charge_description,
    u.line.meter AS sku_meter,
    u.model_id AS model,
    u.line.token_type AS token_type,
    CASE WHEN u.line.token_type <> 'other' THEN CAST(u.line.qty AS DECIMAL(38,6)) END AS quantity_tokens,
    CAST(u.line.qty AS DECIMAL(38,9)) AS consumed_quantity,
    CASE WHEN u.line.token_type = 'other' THEN 'Requests' ELSE 'Tokens' END AS consumed_unit,
    CAST(NULL AS DECIMAL(38,18)) AS billed_cost,
    CAST(NULL AS DECIMAL(38,18)) AS effective_cost,
    u.workspace_n AS sub_account_id,
    nullif_blank(u.workspace_name) AS sub_account_name,
    u.workspace_n AS workspace_id,
    u.api_key_n AS api_key_id,
    u.tier AS service_tier,
    u.tier = 'batch' AS is_batch,
    u.context_window_n AS context_window,
    u.region_n AS region,
    u.tags_n AS tags,
    coalesce(u.result_order, 0) * 10 + u.k AS line_order,
    CAST(NULL AS VARCHAR) AS reject_reason,
    CAST(NULL AS VARCHAR) AS skip_reason
FROM usage_lines u CROSS JOIN common c

UNION ALL BY NAME
-- cost lines
SELECT
    s.source_row,
    s.period_start AS charge_period_start,
    s.period_end AS charge_period_end,
    c.*,
    coalesce(nullif_blank(s.description),
             concat_ws(', ', nullif_blank(s.model), nullif_blank(s.token_type_raw), nullif_blank(s.cost_type)))
        AS charge_description,
    coalesce(nullif_blank(s.token_type_raw), nullif_blank(s.cost_type)) AS sku_meter,
    s.model_id AS model,
    CASE
        WHEN lower(trim(coalesce(s.cost_type, ''))) IN ('web_search', 'code_execution', 'session_usage') THEN 'other'
        ELSE CASE lower(trim(coalesce(s.token_type_raw, '')))
            WHEN 'uncached_input_tokens' THEN 'input' WHEN 'input_no_cache' THEN 'input'
            WHEN 'output_tokens' THEN 'output' WHEN 'output' THEN 'output'
            WHEN 'cache_read_input_tokens' THEN 'cache_read' WHEN 'input_cache_read' THEN 'cache_read'
            WHEN 'cache_creation.ephemeral_5m_input_tokens' THEN 'cache_write_5m'
            WHEN 'input_cache_write_5m' THEN 'cache_write_5m'
            WHEN 'cache_creation.ephemeral_1h_input_tokens' THEN 'cache_write_1h'
            WHEN 'input_cache_write_1h' THEN 'cache_write_1h'
            ELSE 'other' END
    END AS token_type,
    -- each branch cast on its own: a CASE over DECIMALs of different scales would fall back to DOUBLE
    CASE
        WHEN s.origin = 'csv' THEN try_cast(trim(s.cost_usd_raw) AS DECIMAL(38,18))
        -- lowest currency unit → currency: cents for USD (and most currencies), none for zero-decimal ones
        WHEN upper(trim(coalesce(s.currency, 'USD'))) IN ('JPY', 'KRW', 'CLP', 'ISK', 'VND', 'PYG', 'UGX', 'XAF',
                                                           'XOF', 'XPF', 'KMF', 'GNF', 'DJF', 'BIF', 'RWF', 'VUV')
            THEN CAST(try_cast(trim(s.amount_cents_raw) AS DECIMAL(38,16)) AS DECIMAL(38,18))
        WHEN upper(trim(coalesce(s.currency, 'USD'))) IN ('BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND')
            THEN CAST(try_cast(trim(s.amount_cents_raw) AS DECIMAL(38,15)) * 0.001 AS DECIMAL(38,18))
        ELSE CAST(try_cast(trim(s.amount_cents_raw) AS DECIMAL(38,16)) * 0.01 AS DECIMAL(38,18))
    END AS billed_cost,
    CASE WHEN s.origin = 'csv' THEN try_cast(trim(s.list_usd_raw) AS DECIMAL(38,18)) END AS list_cost,
    CASE WHEN s.origin = 'csv' THEN 'USD' ELSE upper(trim(coalesce(nullif_blank(s.currency), 'USD'))) END AS currency,
    s.workspace_n AS sub_account_id,
    nullif_blank(s.workspace_name) AS sub_account_name,
    s.workspace_n AS workspace_id,
    s.api_key_n AS api_key_id,
    s.tier AS service_tier,
    s.tier = 'batch' AS is_batch,
    s.context_window_n AS context_window,
    s.region_n AS region,
    s.tags_n AS tags,
    coalesce(s.result_order, 0) * 10 AS line_order,
    CAST(NULL AS VARCHAR) AS reject_reason,
    CAST(NULL AS VARCHAR) AS skip_reason
FROM checked s CROSS JOIN common c
WHERE s.shape = 'cost' AND s.problem IS NULL

UNION ALL BY NAME
SELECT source_row, period_start AS charge_period_start, true AS is_ai, problem AS reject_reason
FROM checked WHERE problem IS NOT NULL
UNION ALL BY NAME
SELECT source_row, period_start AS charge_period_start, true AS is_ai, lp || 'negative token count' AS reject_reason
FROM usage_lists WHERE len(list_filter(usage_items, lambda x: x.qty < 0)) > 0

UNION ALL BY NAME
SELECT source_row, period_start AS charge_period_start, true AS is_ai,
       'no activity in this period (' || lp || coalesce(empty_note, 'empty row') || ')' AS skip_reason
FROM checked WHERE problem IS NULL AND shape = 'empty'
UNION ALL BY NAME
SELECT source_row, period_start AS charge_period_start, true AS is_ai,
       lp || 'no usage in this row (every token and request count is 0)' AS skip_reason
FROM usage_lists WHERE len(usage_items) = 0;

-- effective cost = billed cost (Anthropic bills what it lists)
UPDATE staged SET effective_cost = billed_cost WHERE billed_cost IS NOT NULL;

DROP TABLE ant_models;
