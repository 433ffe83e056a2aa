-- requires: none
-- creates: billing_scope, canonical_model, charge, count_problem, is_bad_number, is_bad_token_count,
--   is_dated_version, json_brackets_over, json_keys_once, json_number_leaves, json_number_leaves_by_path,
--   json_number_leaves_of_map, json_pointer_step, metadata_tags, model_family, model_prefix_provider,
--   model_provider, money_problem, normalize_provider, normalize_tier, nullif_blank, number_problem, otel_id,
--   otel_kind, otel_parent_id, otlp_attr, otlp_value, parse_bool, parse_money, parse_tokens, parse_ts, quoted_value,
--   read_ts, request_text, request_words, safe_tags, tag_content_json, tag_content_key, tag_descriptor_key,
--   tag_entries_checked, tag_entry_checked, tag_entry_plain, tag_free_text, tag_has_credential, tag_high_entropy, tag_key_words,
--   tag_map_plain, tag_scalar, tag_secret_key, text_blank, text_count, text_ts, ts_in_window, ts_window_end,
--   ts_window_problem, unread_usage
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
            -- round() said, not left to the cast: DuckDB's cast rounds "10.7" to 11, Spark's truncates to 10
            ELSE try_cast(round(try_cast(trim(CAST(x AS VARCHAR)) AS DECIMAL(38,6))) AS BIGINT)
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

-- Provider names as producers write them → the canonical names of docs/definitions.md#providers.
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
-- Speed: the object is parsed once into a map of its members (each nested object once more), not once per
-- member path; an object DuckDB cannot make a map of (a key written twice) is read member by member by path.
CREATE OR REPLACE MACRO json_number_leaves(j) AS (
    CASE WHEN json_type(j) IS DISTINCT FROM 'OBJECT' THEN []
         ELSE coalesce(json_number_leaves_of_map(json_transform(j, '"MAP(VARCHAR, JSON)"')),
                       json_number_leaves_by_path(j)) END
);
-- NULL when the map, or a nested object's, could not be made (so the caller reads the object by path)
CREATE OR REPLACE MACRO json_number_leaves_of_map(m) AS (
    list_transform([flatten(list_transform(map_entries(m), lambda e:
        CASE WHEN json_type(e.value) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
             THEN [{'field': e.key, 'quantity': try_cast(json_extract_string(e.value, '$') AS DECIMAL(38, 6))}]
             WHEN json_type(e.value) = 'OBJECT'
             THEN coalesce(list_transform(
                      list_filter(map_entries(json_transform(e.value, '"MAP(VARCHAR, JSON)"')), lambda e2:
                          json_type(e2.value) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')),
                      lambda e2: {'field': e.key || '.' || e2.key,
                                  'quantity': try_cast(json_extract_string(e2.value, '$') AS DECIMAL(38, 6))}),
                      [NULL])
             ELSE [] END))], lambda leaves: CASE WHEN len(leaves) = list_count(leaves) THEN leaves END)[1]
);
-- by JSON Pointer (/key/key2, with ~ and / escaped), so any key text is a valid path
CREATE OR REPLACE MACRO json_pointer_step(k) AS ('/' || replace(replace(k, '~', '~0'), '/', '~1'));
-- an object's keys in order, a key written twice once (its first value is the one a path reads)
CREATE OR REPLACE MACRO json_keys_once(j, path) AS (
    list_filter(coalesce(json_keys(j, path), []),
                lambda once_key, once_at: list_position(coalesce(json_keys(j, path), []), once_key) = once_at)
);
CREATE OR REPLACE MACRO json_number_leaves_by_path(j) AS (
    flatten(list_transform(json_keys_once(j, '$'), lambda k:
        CASE WHEN json_type(j, json_pointer_step(k)) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
             THEN [{'field': k, 'quantity': try_cast(json_extract_string(j, json_pointer_step(k)) AS DECIMAL(38, 6))}]
             WHEN json_type(j, json_pointer_step(k)) = 'OBJECT'
             THEN list_transform(
                      list_filter(json_keys_once(j, json_pointer_step(k)), lambda k2:
                          json_type(j, json_pointer_step(k) || json_pointer_step(k2))
                              IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')),
                      lambda k2: {'field': k || '.' || k2,
                                  'quantity': try_cast(json_extract_string(j, json_pointer_step(k)
                                                                           || json_pointer_step(k2))
                                                       AS DECIMAL(38, 6))})
             ELSE [] END))
);

-- Usage fields a staging file does not read (its `known` list): non-zero numbers only. They become
-- unpriced_usage rows (per producer and field), so a quantity costlens does not price is never silent.
CREATE OR REPLACE MACRO unread_usage(j, known) AS (
    list_filter(json_number_leaves(j), lambda l: NOT list_contains(known, l.field) AND l.quantity <> 0)
);

-- Secrets stay out of tags. Every producer's tags (app-log metadata, Helicone properties, Langfuse metadata and
-- trace tags, LiteLLM tags and caller metadata, Claude Code fields, billing resource tags) pass through
-- safe_tags at ingest:
--   * a value that holds a credential (Bearer …, sk-… / sk-proj-… / sk-ant-…, AKIA… / ASIA… AWS keys, AIza…
--     Google keys, xox?-… Slack, ghp_… / github_pat_…, hf_…, glpat-…, JWTs, -----BEGIN … PRIVATE KEY-----,
--     user:password@ in a URL, api_key=… / password: … inside text) → '[redacted]', the key kept;
--   * any value of a key named like a secret (key, api_key, apiKey, token, secret, password, authorization,
--     cookie, credential, auth, …) → '[redacted]'; a key that only describes one (api_key_alias, token_count,
--     key_id, …) keeps a plain value but not a high-entropy one (hex, or mixed-case base64 of 20+ characters);
--   * a key that is itself a credential (a bare tag `sk-…`) → the entry is dropped;
--   * unless --keep-content (the runner sets the variable costlens_keep_content): entries that carry prompt or
--     response text are dropped — keys such as prompt, messages, input, output, completion, response, content,
--     system, query, instructions, text, body (not prompt_tokens, prompt_version, response_id: a last word
--     that describes), JSON holding such keys, and long free text (over 256 characters, or a sentence of 8+
--     words). Numbers and booleans under such keys are kept (usage counts).
-- `content := false` (billing resource tags, never prompt text) applies the credential rules only.
-- NULL when nothing is left.

-- A tag key in lower case, camelCase split: apiKey → api_key, userPrompt → user_prompt.
CREATE OR REPLACE MACRO tag_key_words(k) AS (
    lower(regexp_replace(coalesce(k, ''), '([a-z0-9])([A-Z])', '\1_\2', 'g'))
);

-- A value that is, or contains, a credential in a known form.
CREATE OR REPLACE MACRO tag_has_credential(v) AS (
    v IS NOT NULL AND length(v) >= 8 AND regexp_matches(v,
        '(^|[^A-Za-z0-9])((?i:bearer)\s+[A-Za-z0-9._~+/=-]{8,}|sk-[A-Za-z0-9_-]{16,}|[rs]k_(live|test)_[A-Za-z0-9]{16,}'
           '|(AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}|AIza[0-9A-Za-z_-]{30,}'
           '|xox[abposr]-[A-Za-z0-9-]{10,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{20,}'
           '|glpat-[A-Za-z0-9_-]{20,}|hf_[A-Za-z0-9]{30,}|eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*)'
           '|-----BEGIN[A-Z ]*PRIVATE KEY-----'
           '|[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@'
           '|(?i:api[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret|secret[_-]?key|password|passwd)'
           '["'']?\s*[=:]\s*["'']?[^\s"''&,;]{6,}')
);

-- A random-looking token: 20+ hex characters, or 20+ base64 / base64url characters mixing upper case, lower case
-- and digits.
CREATE OR REPLACE MACRO tag_high_entropy(v) AS (
    length(v) >= 20 AND regexp_full_match(v, '[A-Za-z0-9+/_.=-]{20,}')
    AND (regexp_full_match(v, '[0-9a-fA-F]+') OR (lower(v) <> v AND upper(v) <> v AND regexp_matches(v, '[0-9]')))
);

-- A key (as tag_key_words) named like a secret: api_key, apikey, x_api_key, access_token, client_secret, password,
-- authorization, cookie, credentials, auth, bearer, jwt … but not a lookup key (cache_key, idempotency_key …).
CREATE OR REPLACE MACRO tag_secret_key(w) AS (
    regexp_matches(w, '(^|[^a-z0-9])((api|access|secret|private|signing|master|client|encryption|admin|service'
           '|account|ssh|x)?keys?|[a-z]*token|[a-z]*secrets?|[a-z]*passw(or)?ds?|pwd|passphrase|[a-z]*authorization'
           '|auth|bearer|[a-z]*cookies?|credentials?|jwt)([^a-z0-9]|$)')
    AND NOT regexp_matches(w, '(^|[^a-z0-9])(cache|idempotency|partition|sort|primary|foreign|routing|dedupe?'
           '|lookup|group|shard|object|row|map|bucket|index)[^a-z0-9]+keys?[^a-z0-9]*$')
);

-- A key (as tag_key_words) whose last word says what the value describes (an id, a name, a count, a version …).
CREATE OR REPLACE MACRO tag_descriptor_key(w) AS (
    regexp_matches(w, '[^a-z0-9](id|ids|uuid|guid|alias|name|names|type|types|kind|count|counts|length|len|chars'
           '|size|bytes|limit|limits|version|ver|variant|provider|method|scheme|mode|source|format|status|code'
           '|expiry|expires|expiration|ttl|at|time|ts|ms|seconds|latency|duration|created|updated|used|usage|budget'
           '|spend|cost|owner|label|labels|prefix|suffix|hint|hash|sha|sha256|digest|fingerprint|enabled|set'
           '|present|required|tokens|language|lang|role|roles|model|index|idx|number|num|score|rating|category'
           '|effort|tier|level|truncated|filter|policy|flag|flags|lines|words|url|uri|path|file|date|region'
           '|location|team|user|group|env|environment|rotation|rotated|age|last4)[^a-z0-9]*$')
);

-- A key (as tag_key_words) that carries prompt or response text; gen_ai.system is the OTel provider attribute.
CREATE OR REPLACE MACRO tag_content_key(w) AS (
    regexp_matches(w, '(^|[^a-z0-9])(prompts?|messages?|inputs?|outputs?|completions?|responses?|contents?|system'
           '|quer(y|ies)|instructions?|questions?|answers?|text|body|transcripts?|history)([^a-z0-9]|$)')
    AND w <> 'gen_ai.system'
);

-- Free text: over 256 characters, or a sentence (8+ words in 48+ characters).
CREATE OR REPLACE MACRO tag_free_text(v) AS (
    length(v) > 256 OR (length(v) >= 48 AND length(v) - length(replace(v, ' ', '')) >= 7)
);

-- JSON text (a nested metadata value) holding a content key.
CREATE OR REPLACE MACRO tag_content_json(v) AS (
    left(ltrim(v), 1) IN ('{', '[')
    AND regexp_matches(v, '"(?i:prompts?|messages?|inputs?|outputs?|completions?|responses?|contents?|system'
           '|query|instructions?|text|body)"\s*:')
);

-- A number or a boolean (a usage count under a content-like key is not text).
CREATE OR REPLACE MACRO tag_scalar(v) AS (
    v IS NULL OR regexp_full_match(v, '\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*|(?i:true|false)')
);

-- One entry → {key, value}: the key NULL when the entry is dropped, the value '[redacted]' when it holds a secret.
-- w: the key's words (tag_key_words). One CASE, so each test runs only on the entries the previous ones left.
CREATE OR REPLACE MACRO tag_entry_checked(k, v, w, drop_content) AS (
    CASE WHEN tag_has_credential(k) THEN {'key': CAST(NULL AS VARCHAR), 'value': CAST(NULL AS VARCHAR)}
         WHEN drop_content AND coalesce(tag_free_text(k) OR tag_free_text(v) OR tag_content_json(v), false)
             THEN {'key': CAST(NULL AS VARCHAR), 'value': CAST(NULL AS VARCHAR)}
         WHEN tag_has_credential(v) THEN {'key': k, 'value': '[redacted]'}
         WHEN tag_secret_key(w) THEN
             CASE WHEN coalesce(v, '') = '' THEN {'key': k, 'value': v}
                  WHEN NOT tag_descriptor_key(w) OR tag_high_entropy(v) THEN {'key': k, 'value': '[redacted]'}
                  ELSE {'key': k, 'value': v} END
         WHEN drop_content AND tag_content_key(w) AND NOT tag_descriptor_key(w) AND NOT tag_scalar(v)
             THEN {'key': CAST(NULL AS VARCHAR), 'value': CAST(NULL AS VARCHAR)}
         ELSE {'key': k, 'value': v}
    END
);

-- Speed: an entry with no secret-like or content-like word in its key, no credential, no JSON and fewer than 48
-- characters is kept without classifying its key word by word (a superset test of tag_entry_checked's rules).
CREATE OR REPLACE MACRO tag_entry_plain(k, v) AS (
    length(k) < 48 AND coalesce(length(v), 0) < 48 AND NOT coalesce(left(ltrim(v), 1) IN ('{', '['), false)
    AND NOT regexp_matches(lower(k), 'key|token|secret|passw|pwd|passphrase|auth|bearer|cookie|credential|jwt'
           '|prompt|message|input|output|completion|response|content|system|quer|instruction|question|answer|text'
           '|body|transcript|histor')
    AND NOT tag_has_credential(k || chr(1) || coalesce(v, ''))
);

CREATE OR REPLACE MACRO tag_entries_checked(tags, drop_content) AS (
    nullif(map_from_entries(list_filter(list_transform(map_entries(tags), lambda e:
        CASE WHEN tag_entry_plain(e.key, e.value) THEN {'key': e.key, 'value': e.value}
             ELSE list_transform([tag_key_words(e.key)],
                                 lambda w: tag_entry_checked(e.key, e.value, w, drop_content))[1] END),
        lambda e: e.key IS NOT NULL)), MAP {})
);

-- Speed: most tag maps hold nothing to redact or drop. A few regular expressions over all keys (one text) and all
-- keys and values (another) prove that, and the map is returned as it is; only the rest are taken entry by entry.
-- The tests are a superset of the entry rules: a credential, JSON, or 48+ characters in any key or value; a
-- secret-like or content-like word in a key — but for keys ending in a lower-case descriptive word after a
-- separator (prompt_version, api_key_alias), which only matter when some value could be a high-entropy token.
-- A CASE, so each test runs only on the maps the previous ones left.
CREATE OR REPLACE MACRO tag_map_plain(keys, all_text) AS (
    CASE WHEN tag_has_credential(all_text) THEN false
         WHEN regexp_matches(all_text, '[^\x01]{48}|(^|\x01)\s*[\[{]') THEN false
         WHEN NOT regexp_matches(lower(keys), 'key|token|secret|passw|pwd|passphrase|auth|bearer|cookie|credential'
                                    '|jwt|prompt|message|input|output|completion|response|content|system|quer'
                                    '|instruction|question|answer|text|body|transcript|histor') THEN true
         WHEN regexp_matches(lower(regexp_replace(keys,
                  '[^\x01]*[^A-Za-z0-9\x01](id|ids|uuid|guid|alias|name|names|type|types|kind|count|counts|length|len'
                     '|chars|size|bytes|limit|limits|version|ver|variant|provider|method|scheme|mode|source|format'
                     '|status|code|expiry|expires|expiration|ttl|at|time|ts|ms|seconds|latency|duration|created'
                     '|updated|used|usage|budget|spend|cost|owner|label|labels|prefix|suffix|hint|hash|sha|sha256'
                     '|digest|fingerprint|enabled|set|present|required|tokens|language|lang|role|roles|model|index'
                     '|idx|number|num|score|rating|category|effort|tier|level|truncated|filter|policy|flag|flags'
                     '|lines|words|url|uri|path|file|date|region|location|team|user|group|env|environment|rotation'
                     '|rotated|age|last4)(\x01|$)', chr(1), 'g')),
                  'key|token|secret|passw|pwd|passphrase|auth|bearer|cookie|credential|jwt|prompt|message|input'
                     '|output|completion|response|content|system|quer|instruction|question|answer|text|body'
                     '|transcript|histor') THEN false
         WHEN NOT regexp_matches(lower(keys), 'key|token|secret|passw|pwd|passphrase|auth|bearer|cookie|credential'
                                    '|jwt') THEN true
         ELSE NOT regexp_matches(all_text, '(^|\x01)[A-Za-z0-9+/_.=-]{20,}(\x01|$)')
    END
);

-- The flag that keeps prompt text (getvariable) is read outside the entries' lambdas: once per map, not per entry.
CREATE OR REPLACE MACRO safe_tags(tags, content := true) AS (
    CASE WHEN tags IS NULL OR cardinality(tags) = 0 THEN NULL
         WHEN tag_map_plain(array_to_string(map_keys(tags), chr(1)),
                            array_to_string(map_keys(tags), chr(1)) || chr(1) || array_to_string(map_values(tags), chr(1)))
             THEN tags
         WHEN content AND NOT coalesce(getvariable('costlens_keep_content'), false)
             THEN tag_entries_checked(tags, true)
         ELSE tag_entries_checked(tags, false)
    END
);

-- The keys of a logged request's metadata object that no column takes (custom properties), as tags (secrets and
-- prompt text removed: safe_tags).
CREATE OR REPLACE MACRO metadata_tags(metadata) AS (
    safe_tags(CASE WHEN json_type(metadata) = 'OBJECT' THEN json_transform(json_merge_patch('{}', metadata,
        '{"feature":null,"costlens.feature":null,"app.feature":null,"use_case":null,"task_id":null,
          "costlens.task_id":null,"task.id":null,"session_id":null,"conversation_id":null,
          "thread_id":null,"gen_ai.conversation.id":null,"trace_id":null,"team":null,
          "customer":null,"customer_id":null,"user_id":null,"user":null,"environment":null,
          "env":null,"provider":null,"batch":null,"is_batch":null,"cost_usd":null}'),
        '"MAP(VARCHAR, VARCHAR)"') END)
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

-- The billing scope an export covers, per line: the export kind (its format, and whether it is a usage-only
-- report or a cost export), who issued it and the account / sub-account. Two exports of one scope and charge
-- day are the same bill at two moments (load/billing_snapshots.sql).
CREATE OR REPLACE MACRO billing_scope(source_format, charge_class, invoice_issuer, provider, billing_account_id,
                                      sub_account_id) AS (
    concat_ws(' / ', source_format, CASE WHEN charge_class = 'usage-only' THEN 'usage' ELSE 'cost' END,
              coalesce(invoice_issuer, provider, '?'), coalesce(billing_account_id, '-'), coalesce(sub_account_id, '-'))
);

-- A dated version of a model name: the name, a dash, then a release date (2024-07-18, 20250805) or a four-digit
-- snapshot (0613). `gpt-4o-mini-2024-07-18` is a dated version of `gpt-4o-mini`; `gpt-4o-mini` is not one of
-- `gpt-4o`.
CREATE OR REPLACE MACRO is_dated_version(dated, alias) AS
    starts_with(dated, alias || '-')
    AND regexp_full_match(substr(dated, length(alias) + 2), '\d{4}-\d{2}-\d{2}|\d{8}|\d{4}');

-- Text cells as producers export them (Helicone, LiteLLM, generic CSV / JSON with a mapping).
-- Blank, NULL, null or None is no value (the length test first: trimming long JSON texts is costly).
CREATE OR REPLACE MACRO text_blank(x) AS (x IS NULL OR (length(x) <= 8 AND trim(x) IN ('', 'NULL', 'null', 'None')));

-- A time: ISO 8601 with the date first takes the fast path, any other form read_ts; NULL outside the window.
CREATE OR REPLACE MACRO text_ts(x) AS (
    ts_in_window(coalesce(CASE WHEN x[5] = '-' THEN timezone('UTC', try_cast(x AS TIMESTAMPTZ)) END, read_ts(x)))
);

-- A token count: a plain integer takes the fast path, any other form parse_tokens.
CREATE OR REPLACE MACRO text_count(x) AS (coalesce(try_cast(x AS BIGINT), parse_tokens(x)));

-- A value as a quarantine reason quotes it: in single quotes, cut to 40 characters.
CREATE OR REPLACE MACRO quoted_value(x) AS ('''' || left(CAST(x AS VARCHAR), 40) || '''');

-- The request's own text for the semantic-cache sketch (load/prompt_sketches.sql): a JSON message list without
-- its system / developer messages (instructions are a stable prefix shared by every request of a feature and
-- would make unrelated requests look alike); any other text as it is.
CREATE OR REPLACE MACRO request_text(messages) AS (
    CASE WHEN messages IS NULL THEN NULL
         WHEN left(ltrim(messages), 1) = '[' AND json_valid(messages) THEN CAST(list_filter(
             CAST(json_extract(messages, '$[*]') AS JSON[]),
             lambda m: coalesce(m ->> 'role', '') NOT IN ('system', 'developer')) AS VARCHAR)
         ELSE messages END
);

-- Normalised words of a request: lower case, letters and digits only; the JSON keys and role names of message
-- lists are dropped, so "Reset my password?" and `[{"role":"user","content":"reset my password"}]` are alike,
-- and so are request settings with their values (a Langfuse input such as {"model": "gemini-2.5-flash",
-- "contents": "What is Langfuse?"} is the three words of its question). Quotes may be escaped (JSON in a string).
CREATE OR REPLACE MACRO request_words(t) AS (
    list_filter(regexp_split_to_array(lower(regexp_replace(regexp_replace(t,
        '\\?"(model|temperature|top_p|top_k|max_tokens|max_output_tokens|max_completion_tokens|stream|seed|n)\\?"'
        || '\s*:\s*(\\?"[^"\\]*\\?"|[-+0-9.eE]+|true|false|null)', ' ', 'g'),
        '\\?"(role|content|contents|type|text|parts|name|user|assistant|model|tool|tools|tool_choice|input|'
        || 'input_text|output_text|message|messages|prompt|args|kwargs|labels|safety_settings|config|'
        || 'generation_config|response_format)\\?"', ' ', 'g')), '[^\p{L}\p{N}]+'), lambda w: w <> '')
);
