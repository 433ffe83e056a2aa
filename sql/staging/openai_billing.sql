-- requires: count_problem, is_bad_number, normalize_tier, nullif_blank, number_problem, openai_billing_src,
--   parse_bool, parse_tokens, parse_ts, ts_window_problem
-- creates: oai_li_prefix, oai_line_items, staged
-- OpenAI usage / cost rows → canonical billing_lines. Input: openai_billing_src (built from Usage / Costs API
-- pages by openai_billing_json.sql, or projected from a dashboard CSV by costlens/ingest/openai_billing.py):
-- source_row, loc, shape (usage | cost | empty | invalid), result_object, issue, empty_note, start_raw,
-- end_raw, start_iso_raw, end_iso_raw, project_id, project_name, user_id, api_key_id, organization_id,
-- organization_name, model, batch_raw, service_tier, input_raw, cached_raw, uncached_raw, cache_write_raw,
-- output_raw, requests_raw, amount_raw, currency, line_item, quantity_raw, quantity_unit — all text.
--
-- * Usage rows → one token line per non-zero token type. OpenAI's input_tokens INCLUDES cached (and
--   cache-write) tokens: input (uncached) = input_uncached_tokens when given, else input_tokens −
--   input_cached_tokens − input_cache_write_tokens. Modality splits (input_audio_tokens, image / text
--   tokens) are subsets of these totals and are not lines of their own. num_model_requests goes on the first
--   line of its result only, so Σ request_count = requests. Usage lines carry no money: billed_cost and
--   effective_cost are NULL and charge_class = 'usage-only' flags them (see the adapter docstring).
-- * Cost rows → one line; amount.value / amount_value parsed straight to DECIMAL(38,18) (billed = effective
--   cost: OpenAI bills what it lists); model and token type parsed from line_item once per DISTINCT text.
-- * Quirks: counts written as floats ("10.0"), booleans as TRUE / FALSE, empty rows for days with no activity
--   (only the time columns filled) → skipped with a reason, never rejected.
-- * Times: start_time / end_time are epoch seconds; the *_iso columns are the fallback.

-- "priority | gpt-5, output, long context" → the tier word in front of '|' (only a known tier counts:
-- "assistants api | file search" is a product name, not a tier).
CREATE OR REPLACE TEMP MACRO oai_li_prefix(li) AS (
    lower(trim(regexp_extract(coalesce(li, ''), '^\s*([A-Za-z][A-Za-z ]*?)\s*\|', 1)))
);

-- Each distinct line_item, parsed once: model = first word before the first comma ("gpt-audio-mini-2025-12-15
-- audio, input" → gpt-audio-mini-2025-12-15), kind = the text after it. No comma → not a model line
-- ("web search tool calls", "Vector storage"): token type 'other', no model. OpenAI has one cache-write rate
-- (no 5m / 1h split): "cache writes" → cache_write_5m. "batch" in the kind ("batch input") or a "batch |"
-- prefix → a batch line; "priority |" / "flex |" / "scale |" prefixes → that service tier.
CREATE OR REPLACE TEMP TABLE oai_line_items AS
WITH items AS (SELECT DISTINCT line_item FROM openai_billing_src WHERE line_item IS NOT NULL AND trim(line_item) <> ''),
split AS (
    SELECT line_item, prefix,
           CASE WHEN prefix IN ('priority', 'flex', 'batch', 'batch api', 'scale', 'scale tier', 'default',
                                'standard')
                THEN trim(substr(line_item, strpos(line_item, '|') + 1)) ELSE trim(line_item) END AS body,
           prefix IN ('priority', 'flex', 'batch', 'batch api', 'scale', 'scale tier', 'default', 'standard')
               AS has_tier
    FROM (SELECT line_item, oai_li_prefix(line_item) AS prefix FROM items)
),
parts AS (
    SELECT *,
           CASE WHEN strpos(body, ',') > 0 THEN trim(split_part(body, ',', 1)) END AS head,
           CASE WHEN strpos(body, ',') > 0 THEN lower(trim(substr(body, strpos(body, ',') + 1))) END AS kind
    FROM split
)
SELECT
    line_item,
    nullif(split_part(head, ' ', 1), '') AS model,
    CASE
        WHEN kind IS NULL THEN 'other'
        WHEN regexp_matches(kind, '\bcache[ds]?\s*(write|writes|creation)\b') THEN 'cache_write_5m'
        WHEN regexp_matches(kind, '\bcached\b|\bcache\s*(read|reads|hit|hits)\b') THEN 'cache_read'
        WHEN regexp_matches(kind, '\binput\b') THEN 'input'
        WHEN regexp_matches(kind, '\boutput\b') THEN 'output'
        ELSE 'other'
    END AS token_type,
    (has_tier AND prefix LIKE 'batch%') OR regexp_matches(coalesce(kind, ''), '\bbatch\b')
        OR regexp_matches(lower(coalesce(head, '')), '^batch\b') AS li_batch,
    CASE WHEN has_tier THEN CASE WHEN prefix LIKE 'batch%' THEN 'batch' WHEN prefix LIKE 'scale%' THEN 'priority'
                                 ELSE normalize_tier(prefix) END END AS li_tier,
    regexp_matches(coalesce(kind, ''), '\blong[ -]?context\b') AS li_long_context
FROM parts;

CREATE OR REPLACE TEMP TABLE staged AS
WITH src AS (
    SELECT s.*,
           coalesce(parse_ts(s.start_raw), parse_ts(s.start_iso_raw)) AS period_start,
           coalesce(parse_ts(s.end_raw), parse_ts(s.end_iso_raw)) AS period_end,
           coalesce(nullif_blank(s.start_raw), nullif_blank(s.start_iso_raw)) AS start_text,
           coalesce(nullif_blank(s.end_raw), nullif_blank(s.end_iso_raw)) AS end_text,
           nullif_blank(s.project_id) AS project_id_n,
           nullif_blank(s.user_id) AS user_id_n,
           nullif_blank(s.api_key_id) AS api_key_id_n,
           nullif_blank(s.model) AS model_n,
           -- a row with nothing but its time columns: a day with no activity
           s.shape = 'empty' OR (s.shape IN ('usage', 'cost')
               AND nullif_blank(s.model) IS NULL AND nullif_blank(s.input_raw) IS NULL
               AND nullif_blank(s.output_raw) IS NULL AND nullif_blank(s.cached_raw) IS NULL
               AND nullif_blank(s.uncached_raw) IS NULL AND nullif_blank(s.requests_raw) IS NULL
               AND nullif_blank(s.amount_raw) IS NULL AND nullif_blank(s.line_item) IS NULL) AS no_activity,
           CASE WHEN s.loc IS NOT NULL THEN s.loc || ': ' ELSE '' END AS lp
    FROM openai_billing_src s
),
checked AS (
    SELECT *,
           CASE
               WHEN shape = 'invalid' OR issue IS NOT NULL THEN lp || coalesce(issue, 'not an OpenAI usage or cost row')
               WHEN no_activity THEN NULL
               WHEN start_text IS NULL THEN lp || 'missing start_time'
               -- a time outside 2000-01-01 … a year from now is damage, never a period
               WHEN period_start IS NULL AND ts_window_problem('start_time', start_text) IS NOT NULL
                   THEN lp || ts_window_problem('start_time', start_text)
               WHEN end_text IS NOT NULL AND period_end IS NULL AND ts_window_problem('end_time', end_text) IS NOT NULL
                   THEN lp || ts_window_problem('end_time', end_text)
               WHEN period_start IS NULL THEN lp || 'start_time is not a date/time: ' || left(start_text, 40)
               WHEN end_text IS NOT NULL AND period_end IS NULL
                   THEN lp || 'end_time is not a date/time: ' || left(end_text, 40)
               WHEN shape = 'usage' AND is_bad_number(input_raw) THEN lp || 'input_tokens is not a number: ' || left(input_raw, 40)
               WHEN shape = 'usage' AND is_bad_number(cached_raw) THEN lp || 'input_cached_tokens is not a number: ' || left(cached_raw, 40)
               WHEN shape = 'usage' AND is_bad_number(uncached_raw) THEN lp || 'input_uncached_tokens is not a number: ' || left(uncached_raw, 40)
               WHEN shape = 'usage' AND is_bad_number(cache_write_raw) THEN lp || 'input_cache_write_tokens is not a number: ' || left(cache_write_raw, 40)
               WHEN shape = 'usage' AND is_bad_number(output_raw) THEN lp || 'output_tokens is not a number: ' || left(output_raw, 40)
               WHEN shape = 'usage' AND is_bad_number(audio_in_raw) THEN lp || 'input_audio_tokens is not a number: ' || left(audio_in_raw, 40)
               WHEN shape = 'usage' AND is_bad_number(audio_out_raw) THEN lp || 'output_audio_tokens is not a number: ' || left(audio_out_raw, 40)
               WHEN shape = 'usage' AND is_bad_number(requests_raw) THEN lp || 'num_model_requests is not a number: ' || left(requests_raw, 40)
               -- NaN, Infinity, 1e19 or a negative count is rejected by name, never read as 0
               WHEN shape = 'usage' AND coalesce(
                        count_problem('input_tokens', input_raw), count_problem('input_cached_tokens', cached_raw),
                        count_problem('input_uncached_tokens', uncached_raw),
                        count_problem('input_cache_write_tokens', cache_write_raw),
                        count_problem('output_tokens', output_raw), count_problem('input_audio_tokens', audio_in_raw),
                        count_problem('input_cached_audio_tokens', cached_audio_raw),
                        count_problem('output_audio_tokens', audio_out_raw),
                        count_problem('num_model_requests', requests_raw)) IS NOT NULL
                   THEN lp || coalesce(
                        count_problem('input_tokens', input_raw), count_problem('input_cached_tokens', cached_raw),
                        count_problem('input_uncached_tokens', uncached_raw),
                        count_problem('input_cache_write_tokens', cache_write_raw),
                        count_problem('output_tokens', output_raw), count_problem('input_audio_tokens', audio_in_raw),
                        count_problem('input_cached_audio_tokens', cached_audio_raw),
                        count_problem('output_audio_tokens', audio_out_raw),
                        count_problem('num_model_requests', requests_raw))
               WHEN shape = 'cost' AND nullif_blank(amount_raw) IS NULL THEN lp || 'cost row without an amount'
               WHEN shape = 'cost' AND try_cast(trim(amount_raw) AS DECIMAL(38,18)) IS NULL
                   THEN lp || number_problem('amount', amount_raw, NULL)
               WHEN shape = 'cost' AND is_bad_number(quantity_raw) THEN lp || 'quantity is not a number: ' || left(quantity_raw, 40)
               WHEN shape = 'cost'
                    AND number_problem('quantity', quantity_raw, try_cast(trim(quantity_raw) AS DECIMAL(38,12))) IS NOT NULL
                   THEN lp || number_problem('quantity', quantity_raw, try_cast(trim(quantity_raw) AS DECIMAL(38,12)))
               -- tokens beyond what a count can hold (1e19): a damaged or hostile quantity
               WHEN shape = 'cost' AND abs(try_cast(trim(quantity_raw) AS DOUBLE)) >= 9.2e18
                   THEN lp || 'quantity is out of range: ' || left(trim(quantity_raw), 40) || ' (beyond 9.2e18 tokens)'
           END AS problem
    FROM src
),
-- usage rows → their token counts
usage_rows AS (
    SELECT *,
           parse_tokens(input_raw) AS input_t,
           coalesce(parse_tokens(cached_raw), 0) AS cached_t,
           coalesce(parse_tokens(cache_write_raw), 0) AS cache_write_t,
           parse_tokens(uncached_raw) AS uncached_given,
           parse_tokens(output_raw) AS output_t,
           -- the uncached audio input (cached audio stays in the cached line)
           coalesce(parse_tokens(audio_in_raw), 0) - coalesce(parse_tokens(cached_audio_raw), 0) AS audio_in_t,
           coalesce(parse_tokens(audio_out_raw), 0) AS audio_out_t,
           parse_tokens(requests_raw) AS requests_t,
           parse_bool(batch_raw) AS batch_b
    FROM checked
    WHERE shape = 'usage' AND problem IS NULL AND NOT no_activity
),
usage_counted AS (
    SELECT *,
           -- input_tokens counts every modality (text, audio, image), cached or not; the audio is a line of its
           -- own (priced at the audio rate), so the text input line is input − cached − cache writes − audio
           coalesce(uncached_given, input_t - cached_t - cache_write_t) - audio_in_t AS uncached_t,
           CASE WHEN uncached_given IS NOT NULL THEN 'input_uncached_tokens'
                WHEN cache_write_t <> 0 THEN 'input_tokens - input_cached_tokens - input_cache_write_tokens'
                ELSE 'input_tokens - input_cached_tokens' END AS input_meter
    FROM usage_rows
),
usage_lists AS (
    SELECT *,
           list_filter([
               {'token_type': 'input', 'qty': uncached_t, 'meter': input_meter, 'word': 'input'},
               {'token_type': 'cache_read', 'qty': cached_t, 'meter': 'input_cached_tokens', 'word': 'cached input'},
               {'token_type': 'cache_write_5m', 'qty': cache_write_t, 'meter': 'input_cache_write_tokens',
                'word': 'cache write'},
               {'token_type': 'output', 'qty': output_t - audio_out_t, 'meter': 'output_tokens', 'word': 'output'},
               {'token_type': 'input_audio', 'qty': audio_in_t, 'meter': 'input_audio_tokens', 'word': 'audio input'},
               {'token_type': 'output_audio', 'qty': audio_out_t, 'meter': 'output_audio_tokens',
                'word': 'audio output'}
           ], lambda x: coalesce(x.qty, 0) <> 0) AS token_lines,
           CASE WHEN uncached_t < 0 THEN lp || 'input_cached_tokens (' || cached_t || ') exceeds input_tokens ('
                                         || input_t || ')'
                WHEN output_t - audio_out_t < 0 THEN lp || 'output_audio_tokens (' || audio_out_t
                                                      || ') exceeds output_tokens (' || output_t || ')'
                WHEN output_t < 0 OR cached_t < 0 OR cache_write_t < 0 OR uncached_given < 0
                    THEN lp || 'negative token count' END AS usage_problem
    FROM usage_counted
),
usage_lines AS (
    SELECT *, unnest(token_lines) AS line, unnest(range(1, len(token_lines) + 1)) AS k
    FROM usage_lists
    WHERE usage_problem IS NULL AND len(token_lines) > 0
),
common AS (
    -- columns every OpenAI line shares
    SELECT 'openai' AS provider, 'OpenAI' AS invoice_issuer, 'OpenAI API' AS service_name,
           'AI and Machine Learning' AS service_category, 'Generative AI' AS service_subcategory,
           'Usage' AS charge_category, true AS is_ai
)
-- token lines (usage only: no money)
SELECT
    u.source_row,
    u.period_start AS charge_period_start,
    u.period_end AS charge_period_end,
    c.*,
    'usage-only' AS charge_class,
    coalesce(u.model_n, 'all models') || ', ' || u.line.word || ' tokens (usage report, no cost)'
        AS charge_description,
    u.line.meter AS sku_meter,
    u.model_n AS model,
    u.line.token_type AS token_type,
    CAST(u.line.qty AS DECIMAL(38,6)) AS quantity_tokens,
    CAST(u.line.qty AS DECIMAL(38,9)) AS consumed_quantity,
    'Tokens' AS consumed_unit,
    CAST(NULL AS DECIMAL(38,18)) AS billed_cost,
    CAST(NULL AS DECIMAL(38,18)) AS effective_cost,
    CAST(NULL AS VARCHAR) AS currency,
    nullif_blank(u.organization_id) AS billing_account_id,
    u.project_id_n AS sub_account_id,
    nullif_blank(u.project_name) AS sub_account_name,
    u.project_id_n AS project_id,
    u.api_key_id_n AS api_key_id,
    u.user_id_n AS billed_user_id,
    CASE WHEN u.batch_b THEN 'batch' ELSE normalize_tier(nullif_blank(u.service_tier)) END AS service_tier,
    -- batch is NULL when the page was not grouped by batch: then only a known tier says it was not batch
    coalesce(u.batch_b, CASE WHEN nullif_blank(u.service_tier) IS NOT NULL
                             THEN normalize_tier(u.service_tier) = 'batch' END) AS is_batch,
    CAST(NULL AS VARCHAR) AS context_window,
    CASE WHEN u.k = 1 THEN u.requests_t END AS request_count,
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
    nullif_blank(s.line_item) AS charge_description,
    nullif_blank(s.line_item) AS sku_meter,
    coalesce(li.model, s.model_n) AS model,
    coalesce(li.token_type, 'other') AS token_type,
    CASE WHEN coalesce(li.token_type, 'other') <> 'other'
              AND (nullif_blank(s.quantity_unit) IS NULL OR lower(s.quantity_unit) LIKE '%token%')
         THEN CAST(try_cast(trim(s.quantity_raw) AS DECIMAL(38,12)) AS DECIMAL(38,6)) END AS quantity_tokens,
    CAST(try_cast(trim(s.quantity_raw) AS DECIMAL(38,12)) AS DECIMAL(38,9)) AS pricing_quantity,
    nullif_blank(s.quantity_unit) AS pricing_unit,
    try_cast(trim(s.amount_raw) AS DECIMAL(38,18)) AS billed_cost,
    try_cast(trim(s.amount_raw) AS DECIMAL(38,18)) AS effective_cost,
    upper(coalesce(nullif_blank(s.currency), 'USD')) AS currency,
    nullif_blank(s.organization_id) AS billing_account_id,
    s.project_id_n AS sub_account_id,
    nullif_blank(s.project_name) AS sub_account_name,
    s.project_id_n AS project_id,
    s.api_key_id_n AS api_key_id,
    s.user_id_n AS billed_user_id,
    CASE WHEN coalesce(li.li_batch, false) THEN 'batch' ELSE coalesce(li.li_tier, 'standard') END AS service_tier,
    coalesce(li.li_batch, false) AS is_batch,
    CASE WHEN li.li_long_context THEN 'long_context' END AS context_window,
    CAST(NULL AS BIGINT) AS request_count,
    coalesce(s.result_order, 0) * 10 AS line_order,
    CAST(NULL AS VARCHAR) AS reject_reason,
    CAST(NULL AS VARCHAR) AS skip_reason
FROM checked s CROSS JOIN common c
LEFT JOIN oai_line_items li ON li.line_item = s.line_item
WHERE s.shape = 'cost' AND s.problem IS NULL AND NOT s.no_activity

UNION ALL BY NAME
-- rejected rows (bad data) and usage rows with impossible counts
SELECT source_row, period_start AS charge_period_start, true AS is_ai, problem AS reject_reason
FROM checked WHERE problem IS NOT NULL
UNION ALL BY NAME
SELECT source_row, period_start AS charge_period_start, true AS is_ai, usage_problem AS reject_reason
FROM usage_lists WHERE usage_problem IS NOT NULL

UNION ALL BY NAME
-- skipped rows: valid, but nothing billed
SELECT source_row, period_start AS charge_period_start, true AS is_ai,
       'no activity in this period (' || coalesce(lp || empty_note, 'only the time columns are filled') || ')'
           AS skip_reason
FROM checked WHERE problem IS NULL AND no_activity
UNION ALL BY NAME
SELECT source_row, period_start AS charge_period_start, true AS is_ai,
       lp || 'no token counts in this usage result'
           || CASE WHEN result_object IS NOT NULL AND result_object NOT SIMILAR TO '.*(completions|embeddings|moderations).*'
                   THEN ' (' || result_object || ' is not billed by tokens)'
                   WHEN coalesce(requests_t, 0) > 0 THEN ' (' || requests_t || ' requests, 0 tokens)'
                   ELSE '' END
           AS skip_reason
FROM usage_lists WHERE usage_problem IS NULL AND len(token_lines) = 0;

DROP TABLE oai_line_items;
