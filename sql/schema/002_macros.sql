-- Shared conversions used by every staging file, so no adapter re-invents them.

-- Any time a producer writes → UTC TIMESTAMP, or NULL when it has none of these shapes: ISO 8601 (a date, or a
-- date-time with T or a space, seconds and fractions optional, zone Z / ±hh / ±hhmm / ±hh:mm / none = UTC, or a
-- zone name such as " UTC"); US month/day/year as spreadsheets and bills write it (M/D/YY = 20YY, or 19YY from 69; M/D/YYYY; an
-- optional H:MM[:SS] [AM|PM]); epoch seconds / milliseconds / microseconds / nanoseconds (by magnitude), as text
-- or number. Nothing else is guessed: DuckDB's own cast reads "4/1/25" as the year 4.
CREATE OR REPLACE MACRO read_ts(x) AS (
    -- Speed: the common form, ISO 8601 in UTC ('…Z'), is a plain TIMESTAMP cast (the same value as the
    -- TIMESTAMPTZ path below, at a third of the cost); coalesce evaluates the general path only for the rest.
    coalesce(
        CASE WHEN ends_with(CAST(x AS VARCHAR), 'Z') AND CAST(x AS VARCHAR)[5] = '-'
             THEN try_cast(CAST(x AS VARCHAR) AS TIMESTAMP) END,
        CASE
            WHEN x IS NULL OR trim(CAST(x AS VARCHAR)) = '' OR upper(trim(CAST(x AS VARCHAR))) = 'NULL' THEN NULL
            -- text with a '-' is never epoch time: skip the regular expression
            WHEN NOT contains(CAST(x AS VARCHAR), '-') AND regexp_full_match(trim(CAST(x AS VARCHAR)), '[0-9]+(\.[0-9]+)?') THEN
                CASE
                    WHEN length(split_part(trim(CAST(x AS VARCHAR)), '.', 1)) >= 18
                        THEN make_timestamp(try_cast(try_cast(split_part(trim(CAST(x AS VARCHAR)), '.', 1) AS HUGEINT) // 1000 AS BIGINT))
                    WHEN length(split_part(trim(CAST(x AS VARCHAR)), '.', 1)) >= 15
                        THEN make_timestamp(try_cast(split_part(trim(CAST(x AS VARCHAR)), '.', 1) AS BIGINT))
                    WHEN length(split_part(trim(CAST(x AS VARCHAR)), '.', 1)) >= 12
                        THEN make_timestamp(CAST(round(CAST(trim(CAST(x AS VARCHAR)) AS DOUBLE) * 1000) AS BIGINT))
                    ELSE make_timestamp(CAST(round(CAST(trim(CAST(x AS VARCHAR)) AS DOUBLE) * 1000000) AS BIGINT))
                END
            WHEN regexp_full_match(trim(CAST(x AS VARCHAR)),
                                   '[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?'
                                   || '(Z|[+-][0-9]{2}(:?[0-9]{2})?| ?[A-Za-z][A-Za-z_]*(/[A-Za-z_]+)*)?')
                THEN CAST(try_cast(trim(CAST(x AS VARCHAR)) AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP)
            WHEN regexp_full_match(trim(CAST(x AS VARCHAR)),
                                   '[0-9]{1,2}/[0-9]{1,2}/([0-9]{2}|[0-9]{4})( [0-9]{1,2}:[0-9]{2}(:[0-9]{2})?( ?[AaPp][Mm])?)?')
                -- %y before %Y: "4/1/25" is 2025, never the year 25 (a four-digit year does not fit %y)
                THEN try_strptime(regexp_replace(trim(CAST(x AS VARCHAR)), ' ?([AaPp][Mm])$', ' \1'),
                                  ['%m/%d/%y', '%m/%d/%Y', '%m/%d/%y %H:%M', '%m/%d/%Y %H:%M', '%m/%d/%y %H:%M:%S',
                                   '%m/%d/%Y %H:%M:%S', '%m/%d/%y %I:%M %p', '%m/%d/%Y %I:%M %p',
                                   '%m/%d/%y %I:%M:%S %p', '%m/%d/%Y %I:%M:%S %p'])
        END)
);

-- The times a record may carry: from 2000-01-01 to a year after today. Anything outside is a damaged value
-- (a year 4 from "4/1/25", an epoch 0, 9999-12-31), which would stretch every report's period: rejected.
CREATE OR REPLACE MACRO ts_window_end() AS (CAST(current_date + INTERVAL 1 YEAR AS TIMESTAMP) + INTERVAL 1 DAY);
CREATE OR REPLACE MACRO ts_in_window(t) AS (
    CASE WHEN t >= TIMESTAMP '2000-01-01' AND t < ts_window_end() THEN t END
);

-- A time as read_ts reads it, inside the window; NULL otherwise (ts_problem says why).
CREATE OR REPLACE MACRO parse_ts(x) AS (ts_in_window(read_ts(x)));

-- Why a time that reads is not loaded, naming the field and the value: it is outside the window. NULL when it
-- is inside, absent or no time at all (each staging says so in its own words).
CREATE OR REPLACE MACRO ts_window_problem(label, x) AS (
    CASE WHEN read_ts(x) IS NOT NULL AND parse_ts(x) IS NULL
         THEN label || ' is outside 2000-01-01 … ' || strftime(ts_window_end() - INTERVAL 1 DAY, '%Y-%m-%d') || ': '
              || left(trim(CAST(x AS VARCHAR)), 40)
    END
);

-- Token counts: tolerate "10.0" (OpenAI CSV exports) but not "ten"; NULL stays NULL.
-- Speed: a plain integer (nearly every value) is one BIGINT cast; only the rest take the DECIMAL path.
CREATE OR REPLACE MACRO parse_tokens(x) AS (
    coalesce(
        try_cast(CAST(x AS VARCHAR) AS BIGINT),
        CASE
            WHEN x IS NULL OR trim(CAST(x AS VARCHAR)) IN ('', 'NULL', 'null') THEN NULL
            ELSE try_cast(try_cast(trim(CAST(x AS VARCHAR)) AS DECIMAL(38,6)) AS BIGINT)
        END)
);

-- A value that is present but is not a number (so the row can be rejected instead of read as 0).
CREATE OR REPLACE MACRO is_bad_number(x) AS (
    x IS NOT NULL AND trim(CAST(x AS VARCHAR)) NOT IN ('', 'NULL', 'null')
    AND try_cast(trim(CAST(x AS VARCHAR)) AS DOUBLE) IS NULL
);

CREATE OR REPLACE MACRO parse_bool(x) AS (
    CASE lower(trim(CAST(x AS VARCHAR)))
        WHEN 'true' THEN true WHEN 't' THEN true WHEN '1' THEN true WHEN 'yes' THEN true WHEN 'y' THEN true
        WHEN 'accepted' THEN true WHEN '1.0' THEN true
        WHEN 'false' THEN false WHEN 'f' THEN false WHEN '0' THEN false WHEN 'no' THEN false WHEN 'n' THEN false
        WHEN 'rejected' THEN false WHEN '0.0' THEN false
        ELSE NULL
    END
);

-- Empty strings and the literal NULL some exports write → SQL NULL.
CREATE OR REPLACE MACRO nullif_blank(x) AS (
    CASE WHEN x IS NULL OR trim(CAST(x AS VARCHAR)) IN ('', 'NULL') THEN NULL ELSE CAST(x AS VARCHAR) END
);

-- Provider names as producers write them → the canonical names of DESIGN §2.
CREATE OR REPLACE MACRO normalize_provider(x) AS (
    CASE
        -- Speed: the two canonical names most calls carry skip the lists below
        WHEN x = 'openai' OR x = 'anthropic' THEN x
        WHEN x IS NULL OR trim(x) = '' THEN NULL
        WHEN lower(trim(x)) IN ('azure.ai.openai', 'azure_openai', 'azure-openai', 'azure', 'azure.openai', 'az.ai.openai')
            THEN 'azure.openai'
        WHEN lower(trim(x)) IN ('gcp.gemini', 'gemini', 'google_ai_studio', 'google-ai-studio', 'google', 'gcp.gen_ai')
            THEN 'google'
        WHEN lower(trim(x)) IN ('gcp.vertex_ai', 'vertex_ai', 'vertex-ai', 'vertexai', 'vertex_ai-language-models')
            THEN 'gcp.vertex_ai'
        WHEN lower(trim(x)) IN ('aws.bedrock', 'bedrock', 'aws_bedrock', 'amazon-bedrock', 'bedrock_converse')
            THEN 'aws.bedrock'
        WHEN lower(trim(x)) IN ('mistral_ai', 'mistralai', 'mistral') THEN 'mistral'
        WHEN lower(trim(x)) IN ('x_ai', 'xai', 'x-ai') THEN 'x_ai'
        WHEN lower(trim(x)) IN ('openai', 'open_ai') THEN 'openai'
        WHEN lower(trim(x)) IN ('anthropic', 'claude') THEN 'anthropic'
        ELSE lower(trim(x))
    END
);

-- Service tier words → standard | priority | flex | batch.
CREATE OR REPLACE MACRO normalize_tier(x) AS (
    CASE lower(trim(CAST(x AS VARCHAR)))
        WHEN 'priority' THEN 'priority' WHEN 'flex' THEN 'flex' WHEN 'batch' THEN 'batch'
        WHEN 'scale' THEN 'priority'
        WHEN NULL THEN NULL
        ELSE 'standard'
    END
);

-- OTLP JSON attribute values: {"stringValue"|"intValue"|"doubleValue"|"boolValue"|"arrayValue"} → text
-- (an array gives its first element: finish reasons).
CREATE OR REPLACE MACRO otlp_value(v) AS (
    coalesce(v->>'$.stringValue', v->>'$.intValue', v->>'$.doubleValue', v->>'$.boolValue',
             v->>'$.arrayValue.values[0].stringValue', v->>'$.arrayValue.values[0].intValue')
);

-- The value of attribute `k` in an OTLP attribute list (first one if a producer repeats a key).
CREATE OR REPLACE MACRO otlp_attr(attrs, k) AS (
    otlp_value(list_filter(attrs, lambda a: a.key = k)[1].value)
);

-- A token count that is present but cannot be read as a whole number of tokens (text, NaN, Infinity, a value
-- beyond BIGINT such as 1e19): the row is rejected instead of loading 0.
CREATE OR REPLACE MACRO is_bad_token_count(x) AS (
    x IS NOT NULL AND trim(CAST(x AS VARCHAR)) NOT IN ('', 'NULL', 'null') AND parse_tokens(x) IS NULL
);

-- Why a count (tokens, requests) cannot be loaded, naming the field (`label`); NULL when it can or is absent.
-- Text, NaN / Infinity, a value beyond BIGINT (1e19, 1e300) and a negative count are each rejected, never
-- read as 0. Text keeps the short reason older staging wrote ("… is not a number").
CREATE OR REPLACE MACRO count_problem(label, x) AS (
    CASE
        WHEN x IS NULL THEN NULL
        -- Speed: a plain non-negative integer (nearly every value) is one cast
        WHEN try_cast(CAST(x AS VARCHAR) AS BIGINT) >= 0 THEN NULL
        WHEN trim(CAST(x AS VARCHAR)) IN ('', 'NULL', 'null') THEN NULL
        WHEN try_cast(trim(CAST(x AS VARCHAR)) AS DOUBLE) IS NULL THEN label || ' is not a number'
        WHEN NOT isfinite(try_cast(trim(CAST(x AS VARCHAR)) AS DOUBLE))
            THEN label || ' is not a finite number: ' || left(trim(CAST(x AS VARCHAR)), 40)
        WHEN parse_tokens(x) IS NULL THEN label || ' is out of range: ' || left(trim(CAST(x AS VARCHAR)), 40)
        WHEN parse_tokens(x) < 0 THEN label || ' is negative: ' || left(trim(CAST(x AS VARCHAR)), 40)
    END
);

-- Money text → an exact DECIMAL(38,18) (never through DOUBLE): plain or scientific notation, or as a
-- spreadsheet writes it ("$10,100.00 ": a dollar sign, thousands separators, blanks; FOCUS_Spec's own
-- examples do). NaN, Infinity and amounts beyond the type give NULL, so the row can be rejected.
CREATE OR REPLACE MACRO parse_money(x) AS (
    coalesce(
        try_cast(CAST(x AS VARCHAR) AS DECIMAL(38,18)),
        -- thousands separators only beside a dollar sign or a decimal point: "1,234" alone may be a decimal comma
        CASE WHEN regexp_full_match(CAST(x AS VARCHAR),
                                    '\s*-?\s*\$\s*-?([0-9]{1,3}(,[0-9]{3})+|[0-9]*)(\.[0-9]*)?\s*|\s*-?[0-9]{1,3}(,[0-9]{3})+\.[0-9]+\s*')
             THEN try_cast(replace(replace(replace(CAST(x AS VARCHAR), '$', ''), ',', ''), ' ', '') AS DECIMAL(38,18))
        END)
);

-- Why a number (`x`, as text) cannot be loaded, given its `parsed` value (NULL = unreadable): text, NaN /
-- Infinity, or a value its column cannot hold; NULL when it is absent or was read.
CREATE OR REPLACE MACRO number_problem(label, x, parsed) AS (
    CASE
        WHEN x IS NULL OR parsed IS NOT NULL OR trim(CAST(x AS VARCHAR)) IN ('', 'NULL', 'null') THEN NULL
        WHEN try_cast(trim(CAST(x AS VARCHAR)) AS DOUBLE) IS NULL
            THEN label || ' is not a number: ' || left(trim(CAST(x AS VARCHAR)), 40)
        WHEN NOT isfinite(try_cast(trim(CAST(x AS VARCHAR)) AS DOUBLE))
            THEN label || ' is not a finite number: ' || left(trim(CAST(x AS VARCHAR)), 40)
        ELSE label || ' is out of range: ' || left(trim(CAST(x AS VARCHAR)), 40)
    END
);

-- Why an amount of money cannot be loaded, naming the field; NULL when it can or is absent.
CREATE OR REPLACE MACRO money_problem(label, x) AS (number_problem(label, x, parse_money(x)));

-- Whether a JSON text has more than `n` opening brackets (a cheap test: only such a text can nest deeper than
-- n levels; costlens/ingest/readers.py measures the depth of those).
CREATE OR REPLACE MACRO json_brackets_over(x, n) AS (
    strlen(CAST(x AS VARCHAR)) - strlen(replace(replace(CAST(x AS VARCHAR), '{', ''), '[', '')) > n
);

-- One row of a staged `charges` list (see call_charges): a billed quantity beyond the token columns.
CREATE OR REPLACE MACRO charge(kind, quantity, unit, detail, source_field, counted := true) AS (
    {'kind': kind, 'quantity': CAST(quantity AS DECIMAL(38, 6)), 'unit': unit, 'detail': CAST(detail AS VARCHAR),
     'source_field': source_field, 'counted': counted}
);

-- The numeric leaves of a usage object, two levels deep ({"a": 1, "b": {"c": 2}} → a, b.c), as
-- (field, quantity). Arrays are left to the staging that knows them.
CREATE OR REPLACE MACRO json_number_leaves(j) AS (
    flatten(list_transform(coalesce(json_keys(j), []), lambda k:
        CASE WHEN json_type(j, '$."' || k || '"') IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
             THEN [{'field': k, 'quantity': try_cast(json_extract_string(j, '$."' || k || '"') AS DECIMAL(38, 6))}]
             WHEN json_type(j, '$."' || k || '"') = 'OBJECT'
             THEN list_transform(
                      list_filter(coalesce(json_keys(j, '$."' || k || '"'), []), lambda k2:
                          json_type(j, '$."' || k || '"."' || k2 || '"') IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')),
                      lambda k2: {'field': k || '.' || k2,
                                  'quantity': try_cast(json_extract_string(j, '$."' || k || '"."' || k2 || '"')
                                                       AS DECIMAL(38, 6))})
             ELSE [] END))
);

-- Usage fields a staging file does not read (its `known` list): non-zero numbers only. They become
-- unpriced_usage rows (per producer and field), so a quantity costlens does not price is never silent.
CREATE OR REPLACE MACRO unread_usage(j, known) AS (
    list_filter(json_number_leaves(j), lambda l: NOT list_contains(known, l.field) AND l.quantity <> 0)
);

-- The keys of a logged request's metadata object that no column takes (custom properties), as tags.
CREATE OR REPLACE MACRO metadata_tags(metadata) AS (
    CASE WHEN json_type(metadata) = 'OBJECT' THEN nullif(json_transform(json_merge_patch('{}', metadata,
        '{"feature":null,"costlens.feature":null,"app.feature":null,"use_case":null,"task_id":null,
          "costlens.task_id":null,"task.id":null,"session_id":null,"conversation_id":null,
          "thread_id":null,"gen_ai.conversation.id":null,"trace_id":null,"team":null,
          "customer":null,"customer_id":null,"user_id":null,"user":null,"environment":null,
          "env":null,"provider":null,"batch":null,"is_batch":null,"cost_usd":null}'),
        '"MAP(VARCHAR, VARCHAR)"'), MAP {}) END
);

-- Model identity: the forms producers write for one model → the name the price book knows. Applied to every
-- producer's calls when they are loaded (costlens prices MODEL shows each step):
--   * Bedrock ARNs of a foundation model or a cross-region inference profile → the model / profile id
--     (arn:aws:bedrock:us-east-1:…:inference-profile/us.anthropic.claude-… → us.anthropic.claude-…);
--     an application inference profile's ARN names no model and stays as it is (map it in [models.aliases]);
--   * Vertex AI resource names (projects/…/locations/…/publishers/google/models/gemini-2.5-flash) and the
--     Gemini API's models/… prefix → the bare model id;
--   * LiteLLM-style provider prefixes (openai/gpt-4o, vertex_ai/gemini-…, bedrock/…) → the bare id, except
--     for routers whose own model ids contain a slash (OpenRouter, Together, Fireworks, Hugging Face).
-- Bedrock's us. / eu. / global. profile prefixes and :0 suffixes, and dated snapshots, are kept: the catalog
-- prices them (regional and global profiles differ).
CREATE OR REPLACE MACRO model_prefix_provider(prefix) AS (
    CASE lower(prefix)
        WHEN 'openai' THEN 'openai' WHEN 'anthropic' THEN 'anthropic' WHEN 'azure' THEN 'azure.openai'
        WHEN 'azure_ai' THEN 'azure.openai' WHEN 'bedrock' THEN 'aws.bedrock' WHEN 'bedrock_converse' THEN 'aws.bedrock'
        WHEN 'vertex_ai' THEN 'gcp.vertex_ai' WHEN 'vertex_ai_beta' THEN 'gcp.vertex_ai' WHEN 'gemini' THEN 'google'
        WHEN 'google' THEN 'google' WHEN 'mistral' THEN 'mistral' WHEN 'groq' THEN 'groq' WHEN 'deepseek' THEN 'deepseek'
        WHEN 'xai' THEN 'x_ai' WHEN 'cohere' THEN 'cohere' WHEN 'cerebras' THEN 'cerebras'
    END
);

CREATE OR REPLACE MACRO canonical_model(provider, model) AS (
    CASE
        WHEN model IS NULL THEN NULL
        WHEN starts_with(model, 'arn:aws:bedrock:') AND NOT contains(model, ':application-inference-profile/')
            THEN regexp_extract(model, '/([^/]+)$', 1)
        WHEN regexp_matches(model, '^(projects/[^/]+/locations/[^/]+/)?publishers/[^/]+/models/.+')
            THEN regexp_extract(model, '/models/(.+)$', 1)
        WHEN starts_with(model, 'models/') THEN substr(model, 8)
        WHEN contains(model, '/') AND model_prefix_provider(split_part(model, '/', 1)) IS NOT NULL
             AND coalesce(lower(provider), '') NOT IN ('openrouter', 'together', 'together_ai', 'fireworks',
                                                        'fireworks_ai', 'huggingface', 'hf')
            THEN substr(model, length(split_part(model, '/', 1)) + 2)
        ELSE model
    END
);

-- The provider a model name itself shows, for calls whose producer names none.
CREATE OR REPLACE MACRO model_provider(model) AS (
    CASE
        WHEN model IS NULL THEN NULL
        WHEN starts_with(model, 'arn:aws:bedrock:') THEN 'aws.bedrock'
        WHEN regexp_matches(model, '^projects/[^/]+/locations/[^/]+/publishers/') THEN 'gcp.vertex_ai'
        WHEN contains(model, '/') AND model_prefix_provider(split_part(model, '/', 1)) IS NOT NULL
            THEN model_prefix_provider(split_part(model, '/', 1))
        WHEN regexp_matches(model, '^(us|eu|apac|jp|au|ca|global|us-gov)\.(anthropic|amazon|meta|mistral|cohere|deepseek|writer|twelvelabs)\.')
             OR regexp_matches(model, '^(anthropic|amazon|meta|mistral|cohere|ai21|deepseek|writer|stability|twelvelabs)\.[a-z]')
            THEN 'aws.bedrock'
        WHEN regexp_matches(model, '^claude[^@]*@') THEN 'gcp.vertex_ai'
    END
);

-- An OTel trace / span id as lower-case hex, whatever the exporter wrote: hex with or without 0x, or the
-- base64 a protobuf JSON encoder gives bytes.
CREATE OR REPLACE MACRO otel_id(x) AS (
    CASE
        WHEN x IS NULL OR trim(x) = '' THEN NULL
        WHEN regexp_full_match(trim(x), '(0x)?[0-9A-Fa-f]+') THEN lower(regexp_replace(trim(x), '^0x', ''))
        ELSE coalesce(lower(hex(try(from_base64(trim(x))))), trim(x))
    END
);

-- A parent span id: an all-zero id (what some exporters write for a root span) means no parent.
CREATE OR REPLACE MACRO otel_parent_id(x) AS (
    CASE WHEN regexp_full_match(trim(coalesce(x, '')), '(0x)?0*|[A]+=*') THEN NULL ELSE otel_id(x) END
);

-- A span kind as CLIENT / SERVER / INTERNAL / PRODUCER / CONSUMER (from "SpanKind.CLIENT", "SPAN_KIND_CLIENT", 3).
CREATE OR REPLACE MACRO otel_kind(x) AS (
    CASE upper(regexp_replace(coalesce(CAST(x AS VARCHAR), ''), '^(SpanKind\.|SPAN_KIND_)', '', 'i'))
        WHEN '1' THEN 'INTERNAL' WHEN '2' THEN 'SERVER' WHEN '3' THEN 'CLIENT' WHEN '4' THEN 'PRODUCER'
        WHEN '5' THEN 'CONSUMER' WHEN '' THEN NULL
        ELSE upper(regexp_replace(CAST(x AS VARCHAR), '^(SpanKind\.|SPAN_KIND_)', '', 'i'))
    END
);

-- A model's family: lower case, no route prefix, no snapshot date (gpt-4o-2024-08-06 → gpt-4o): two spans of
-- one request may name the request model and the dated model that answered.
CREATE OR REPLACE MACRO model_family(m) AS (
    regexp_replace(regexp_replace(lower(trim(m)), '^.*/', ''), '[-@_]?(\d{4}-\d{2}-\d{2}|20\d{6})$', '')
);
