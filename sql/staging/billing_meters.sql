-- requires: parse_money, parse_ts
-- creates: bedrock_model_id, bedrock_usage_model, bill_money, bill_product_overflow, bill_qty, bill_tokens,
--   bill_tokens_overflow, bill_ts, billing_null, kv_list_map, meter_camel, meter_context_window, meter_is_batch,
--   meter_model, meter_model_fix, meter_model_name, meter_service_tier, meter_token_type, meter_words, named_model,
--   price_desc_model, tag_map, token_unit_factor, unit_block_size
-- Shared parsing for provider bills: the text of a meter / SKU / usage type → model, token type, batch, tier,
-- context window; unit texts → tokens per pricing block; bill dates, money and tag texts. Used by every
-- billing adapter (aws_cur.sql, azure_cost.sql, gcp_billing.sql; focus.sql can use the same macros), so the
-- knowledge of how providers spell "gpt 4o 0806 cached Inp glbl Tokens" lives in one place.
--
-- All macros are TEMP and pure (text in, value out). The text parsers (meter_*, bedrock_*, named_model,
-- price_desc_model, unit_block_size, token_unit_factor, bill_ts, tag_map, kv_list_map) are meant to run once per
-- DISTINCT text (a bill repeats a few meters millions of times); bill_money / bill_qty / billing_null are cheap
-- per-row conversions. Run this file before an adapter's staging SQL:
-- Adapter.run_sql(con, "staging/billing_meters.sql").

-- Exports write nulls as the literal NULL (OCI and Azure: empty strings): both become SQL NULL. Cheap on wide
-- bills: only short values can be blank or NULL.
CREATE OR REPLACE TEMP MACRO billing_null(x) AS (
    CASE WHEN length(x) <= 4 AND trim(x) IN ('', 'NULL', 'null') THEN NULL ELSE x END
);

-- Money and quantities: text straight to DECIMAL (never through DOUBLE), so sums are exact. Scientific
-- notation ("1.5E-7", as Parquet doubles print) is accepted, and money as spreadsheets write it ("$1,234.50",
-- see parse_money). NULL when blank; NULL (→ reject) when not a finite number.
CREATE OR REPLACE TEMP MACRO bill_money(x) AS (parse_money(trim(billing_null(x))));
CREATE OR REPLACE TEMP MACRO bill_qty(x) AS (try_cast(trim(billing_null(x)) AS DECIMAL(38,12)));

-- Tokens of a line: quantity × tokens per unit, exact. A product beyond BIGINT (a damaged or hostile quantity
-- such as 1e19) would overflow the DECIMAL arithmetic and fail the whole file: bill_tokens is NULL then and
-- bill_tokens_overflow says so, so that line alone is rejected. Likewise a price × quantity beyond $100M
-- (bill_product_overflow): no real bill line is that large, and its DECIMAL(38,30) product would overflow.
CREATE OR REPLACE TEMP MACRO bill_tokens_overflow(q, factor) AS (
    coalesce(abs(CAST(q AS DOUBLE) * CAST(factor AS DOUBLE)) >= 9.2e18, false)
);
CREATE OR REPLACE TEMP MACRO bill_tokens(q, factor) AS (
    CASE WHEN NOT bill_tokens_overflow(q, factor) THEN CAST(q * factor AS DECIMAL(38,6)) END
);
CREATE OR REPLACE TEMP MACRO bill_product_overflow(a, b) AS (
    coalesce(abs(CAST(a AS DOUBLE) * CAST(b AS DOUBLE)) >= 1e8, false)
);

-- Bill dates: parse_ts (sql/schema/002_macros.sql) reads every form bills write — ISO 8601 (with Z / offset /
-- none = UTC), BigQuery's "2025-01-15 00:00:00 UTC", the US "M/D/YYYY" (optionally with a time) of Azure cost
-- exports and the "M/D/YY" of FOCUS_Spec's examples — inside its window of sane dates; ts_problem says why not.
CREATE OR REPLACE TEMP MACRO bill_ts(x) AS (parse_ts(billing_null(x)));

-- Tags as a JSON object → MAP. Azure sometimes drops the outer braces (`"team": "ai", "env": "prod"`); values
-- that are not strings keep their JSON text. Anything else → NULL (not a reject).
CREATE OR REPLACE TEMP MACRO tag_map(raw) AS (
    CASE
        WHEN billing_null(trim(raw)) IS NULL THEN NULL
        WHEN json_valid(trim(raw)) AND json_type(CAST(trim(raw) AS JSON)) = 'OBJECT'
            THEN try_cast(CAST(trim(raw) AS JSON) AS MAP(VARCHAR, VARCHAR))
        WHEN NOT json_valid(trim(raw)) AND json_valid('{' || trim(raw) || '}')
             AND json_type(CAST('{' || trim(raw) || '}' AS JSON)) = 'OBJECT'
            THEN try_cast(CAST('{' || trim(raw) || '}' AS JSON) AS MAP(VARCHAR, VARCHAR))
    END
);

-- GCP labels: a JSON array of {key, value} (BigQuery) → MAP (a repeated key keeps its first value); a JSON
-- object is read like tag_map. Empty → NULL.
CREATE OR REPLACE TEMP MACRO kv_list_map(raw) AS (
    CASE
        WHEN billing_null(trim(raw)) IS NULL OR NOT json_valid(trim(raw)) THEN NULL
        WHEN json_type(CAST(trim(raw) AS JSON)) = 'ARRAY' THEN
            list_transform([list_filter(
                list_transform(json_extract(CAST(trim(raw) AS JSON), '$[*]'), lambda e: {'key': e->>'key', 'value': e->>'value'}),
                lambda e: e.key IS NOT NULL)], lambda entries:
                nullif(map_from_entries(list_filter(entries,
                    lambda e, i: list_position(list_transform(entries, lambda x: x.key), e.key) = i)), MAP {}))[1]
        ELSE tag_map(raw)
    END
);

-- Lower-case words: separators (- _ : / , ( ) " +) become spaces; dots stay (model versions like 3.5, 4.1).
CREATE OR REPLACE TEMP MACRO meter_words(t) AS (
    trim(regexp_replace(regexp_replace(lower(coalesce(t, '')), '[-_:/,()"+]', ' ', 'g'), '\s+', ' ', 'g'))
);

-- CamelCase and glued digits → words (AWS usage types: "Claude3.5Sonnet" → "Claude-3.5-Sonnet",
-- "InputTokenCount" → "Input-Token-Count").
CREATE OR REPLACE TEMP MACRO meter_camel(t) AS (
    regexp_replace(regexp_replace(regexp_replace(coalesce(t, ''),
        '([a-z])([A-Z])', '\1-\2', 'g'), '([A-Za-z])([0-9])', '\1-\2', 'g'), '([0-9])([A-Z])', '\1-\2', 'g')
);

-- A model id spelled with '-': Claude versions use '-' ("claude-3-5-sonnet", "claude-sonnet-4-5"), Azure "gpt 35" →
-- gpt-3.5.
CREATE OR REPLACE TEMP MACRO meter_model_fix(m) AS (
    list_transform([m], lambda x: CASE
        WHEN x IS NULL OR x = '' THEN NULL
        -- AWS billing names put the version first from Claude 4 on ("Claude4.6Sonnet"): claude-sonnet-4-6
        WHEN regexp_matches(x, '^claude-[4-9]([.-][0-9]+)?-(sonnet|opus|haiku)')
            THEN regexp_replace(replace(x, '.', '-'), '^claude-([4-9](?:-[0-9]+)?)-(sonnet|opus|haiku)', 'claude-\2-\1')
        WHEN x LIKE 'claude%' THEN replace(x, '.', '-')
        WHEN x LIKE 'gpt-35%' THEN 'gpt-3.5' || substr(x, 7)
        ELSE x
    END)[1]
);

-- Words in front of the token-type keyword → a model id: deployment / region / tier / date suffixes dropped
-- (Azure "glbl", "dzone", "Btch"; GCP "GA", "Thinking", "Text"; dates 0806 / 20240620), a leading
-- "Azure OpenAI" dropped, words joined by '-'.
CREATE OR REPLACE TEMP MACRO meter_model_name(w) AS (
    meter_model_fix(trim(regexp_replace(
        regexp_replace(
            regexp_replace(' ' || trim(coalesce(w, '')),
                '(\s(ga|text|glbl|global|gl|regnl|regional|rgnl|rgn|dzone|datazone|data zone|batch|btch|std|standard|long context|longcontext|lctx|ft|thinking|\d{4}|\d{6}|\d{8}|\d{4} \d{2} \d{2}))+\s*$', ''),
            '^\s*(az|azure|aoai|azure openai|openai)\s', ' '),
        '\s+', '-', 'g'), '-'))
);

-- Meter text (Azure meter names, GCP SKU descriptions, FOCUS SkuMeter, AWS product attributes): the words
-- before the first token-type keyword name the model ("gpt 4o 0806 cached Inp glbl Tokens" → gpt-4o,
-- "Gemini 2.5 Flash GA Text Input - Predictions" → gemini-2.5-flash).
CREATE OR REPLACE TEMP MACRO meter_model(t) AS (
    meter_model_name(regexp_extract(' ' || meter_words(t) || ' ',
        '^(.*?)\s(?:inp|input|outp|output|cached|cchd|cache|prompt|completion|reasoning|tokens?|characters?|images?)\s', 1))
);

-- AWS usage types: "USE1-Claude3.5Sonnet-input-tokens" → claude-3-5-sonnet, "USE1-NovaPro-output-tokens" →
-- nova-pro, "USE1-openai.gpt-oss-120b-mantle-input-tokens-standard" → gpt-oss-120b (region prefix,
-- marketplace "MP:", provider prefix and the "mantle" endpoint dropped). Marketplace usage types
-- ("USE1-MP:USE1_InputTokenCount-Units") name no model: NULL.
CREATE OR REPLACE TEMP MACRO bedrock_usage_model(t) AS (
    meter_model(meter_camel(regexp_replace(regexp_replace(regexp_replace(regexp_replace(coalesce(t, ''),
        '^([A-Z]{2,4}[0-9]?|Global)[-_]', ''), '^MP:([A-Z]{2,4}[0-9]?_)?', ''),
        '^(anthropic|meta|amazon|openai|mistral|cohere|ai21|deepseek|qwen|writer|google|moonshot|minimax|nvidia|stability|luma|twelvelabs)\.', ''),
        '-mantle-', '-')))
);

-- A Bedrock model id, inference profile id or ARN → model: "arn:aws:bedrock:us-east-1::foundation-model/
-- anthropic.claude-3-5-sonnet-20240620-v1:0" → claude-3-5-sonnet, "us.anthropic.claude-sonnet-4-20250514-v1:0"
-- → claude-sonnet-4, "amazon.nova-pro-v1:0" → nova-pro, "meta.llama3-3-70b-instruct-v1:0" → llama-3.3-70b-instruct.
-- Application inference profiles, provisioned models and anything that is not a model id → NULL.
CREATE OR REPLACE TEMP MACRO bedrock_model_id(t) AS (
    meter_model_fix(nullif(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        regexp_extract(lower(coalesce(t, '')),
            '^(?:arn:aws[a-z-]*:bedrock:[^:]*:[^:]*:(?:foundation-model|inference-profile)/)?(?:(?:us|eu|apac|ap|us-gov|ca|jp|au|global)\.)?(?:anthropic|meta|amazon|openai|mistral|cohere|ai21|deepseek|qwen|writer|google|moonshot|minimax|nvidia|stability|luma|twelvelabs)\.([a-z0-9][a-z0-9.-]*?)(?:-v[0-9]+)?(?::[0-9a-z]+)*$', 1),
        '-(\d{8}|\d{4}-\d{2}-\d{2})$', ''), '-(\d{8}|\d{4}-\d{2}-\d{2})(-|$)', '\2'), '-v[0-9]+$', ''),
        '^llama(\d)-(\d)-', 'llama-\1.\2-'), '^llama(\d)-', 'llama-\1-'), ''))
);

-- A model named by itself (AWS product attributes "Claude Sonnet 4.6", "Claude Sonnet 4.5 (Amazon Bedrock
-- Edition)", "gpt-oss-120b") → claude-sonnet-4-6, claude-sonnet-4-5, gpt-oss-120b.
CREATE OR REPLACE TEMP MACRO named_model(t) AS (
    meter_model_name(meter_words(regexp_replace(coalesce(t, ''), '\s*\([^)]*edition\)\s*$', '', 'i')))
);

-- Price descriptions: "$0.003 per 1K input tokens for Claude 3.5 Sonnet in US East (N. Virginia)"; a
-- description that is not a price sentence is read like a meter name.
CREATE OR REPLACE TEMP MACRO price_desc_model(t) AS (
    coalesce(
        meter_model_name(meter_words(regexp_extract(lower(coalesce(t, '')),
            'tokens?\s+(?:for|of)\s+(.+?)(?:\s+in\s|\s*\(|$)', 1))),
        CASE WHEN NOT regexp_matches(coalesce(t, ''), '\$|\bper\b') THEN meter_model(t) END)
);

-- Token type named in one text field (NULL when it names none): input | output | cache_read | cache_write_5m |
-- cache_write_1h. Storage of a cache ("Text Input Caching Storage") is not a token charge: NULL.
CREATE OR REPLACE TEMP MACRO meter_token_type(t) AS (
    -- (the words are computed once and bound to w: a macro argument used many times would be expanded many times)
    list_transform([CASE WHEN t IS NOT NULL THEN meter_words(meter_camel(t)) END], lambda w: CASE
        WHEN w IS NULL THEN NULL
        WHEN regexp_matches(w, '\bstorage\b') THEN NULL
        WHEN regexp_matches(w, '\bcache[ds]? ?(write|writes|creation|create)\b')
             AND regexp_matches(w, '\b(1 ?h|1 ?hr|1 ?hour|60 ?m|60 ?min)\b')
            THEN 'cache_write_1h'
        WHEN regexp_matches(w, '\bcache[ds]? ?(write|writes|creation|create)\b') THEN 'cache_write_5m'
        WHEN regexp_matches(w, '\bcache[ds]? ?(read|reads|hit|hits)\b|\bcached\b|\bcchd\b|\bcaching\b') THEN 'cache_read'
        WHEN regexp_matches(w, '\b(inp|input|prompt)\b') AND NOT regexp_matches(w, '\b(outp|output|completion)\b')
            THEN 'input'
        WHEN regexp_matches(w, '\b(outp|output|completion|reasoning)\b') AND NOT regexp_matches(w, '\b(inp|input|prompt)\b')
            THEN 'output'
        -- Embedding models bill input tokens only.
        WHEN regexp_matches(w, '\bembed(ding|dings)?\b') THEN 'input'
    END)[1]
);

-- Batch pricing named in the text (AWS "_Batch", Azure "Btch", GCP "Batch Predictions").
CREATE OR REPLACE TEMP MACRO meter_is_batch(t) AS (
    regexp_matches(meter_words(meter_camel(t)), '\b(batch|btch)\b')
);

-- Service tier named in the text: batch | priority | flex, else NULL (the caller decides the default).
CREATE OR REPLACE TEMP MACRO meter_service_tier(t) AS (
    list_transform([CASE WHEN t IS NOT NULL THEN meter_words(meter_camel(t)) END], lambda w: CASE
        WHEN w IS NULL THEN NULL
        WHEN regexp_matches(w, '\b(batch|btch)\b') THEN 'batch'
        WHEN regexp_matches(w, '\b(priority|prio)\b') THEN 'priority'
        WHEN regexp_matches(w, '\bflex\b') THEN 'flex'
    END)[1]
);

-- Long-context pricing tier named in the text (AWS "LongContext", GCP "(Long)", "Long Context"): 'long'.
CREATE OR REPLACE TEMP MACRO meter_context_window(t) AS (
    CASE WHEN regexp_matches(lower(coalesce(t, '')), '\(long\)')
              OR regexp_matches(meter_words(meter_camel(t)), '\b(long ?context|lctx)\b') THEN 'long' END
);

-- Units per pricing block, from a unit text: "1K Tokens" → 1000, "1M" → 1000000, "1000 Tokens" → 1000,
-- "100K" → 100000, "1/Hour" → 1, "Million Tokens" → 1000000, "Tokens" → 1. NULL when the text names no block
-- (Azure: that means 1, e.g. "Text", "10000s"). Matches Microsoft's PricingUnits.csv for every Azure unit.
CREATE OR REPLACE TEMP MACRO unit_block_size(u) AS (
    CASE
        WHEN u IS NULL THEN NULL
        WHEN regexp_matches(lower(trim(u)), '^[0-9][0-9,]*(\.[0-9]+)?\s*[kmb]?(\s|$|/)') THEN
            CAST(replace(regexp_extract(lower(trim(u)), '^([0-9][0-9,]*(\.[0-9]+)?)', 1), ',', '') AS DECIMAL(38,6))
            * CASE regexp_extract(lower(trim(u)), '^[0-9][0-9,]*(?:\.[0-9]+)?\s*([kmb])?(?:\s|$|/)', 1)
                  WHEN 'k' THEN 1000 WHEN 'm' THEN 1000000 WHEN 'b' THEN 1000000000 ELSE 1 END
        WHEN regexp_matches(lower(u), '\b(million|mtok|mtokens)\b') THEN 1000000
        WHEN regexp_matches(lower(u), '\b(thousand|ktok|ktokens)\b') THEN 1000
        WHEN regexp_matches(lower(u), '\btokens?\b') THEN 1
    END
);

-- Tokens per unit of a quantity whose unit text counts tokens ("1K tokens", "1M Tokens", "tokens", GCP
-- "count"); NULL when the unit does not count tokens ("Units", "Hrs", "1k characters", "gibibyte hour").
CREATE OR REPLACE TEMP MACRO token_unit_factor(u) AS (
    CASE WHEN regexp_matches(lower(coalesce(u, '')), '\b(tokens?|count)\b')
              AND NOT regexp_matches(lower(u), '\b(char|chars|characters?|requests?|images?|seconds?|hours?|pages?)\b')
         THEN coalesce(unit_block_size(u), 1) END
);
