-- requires: claude_lines, count_problem, money_problem, normalize_tier, nullif_blank, parse_bool, parse_tokens,
--   parse_ts, safe_tags, ts_window_problem
-- creates: staged
-- Claude Code session logs (~/.claude/projects/<encoded-cwd>/<sessionId>.jsonl and
-- <encoded-cwd>/<sessionId>/subagents/*.jsonl) → canonical calls. Input: claude_lines(source_row, doc,
-- source_file, source_sha256): one file's lines, or a batch of files' (see costlens/ingest/claude_code.py).
-- Output: `staged`, each row naming its file.
--
-- Every line of the file gives one row (so every line is accounted for):
--   * `assistant` lines are model calls: message{id, model, stop_reason, usage{…}}, requestId, timestamp.
--     Claude Code writes one line per content block while a response streams (thinking, text, tool_use…), each
--     repeating the message id and requestId; usually only the last carries the final output count. The call id
--     is (message.id, requestId), so the runner's de-duplication keeps ONE row per request: the line with the
--     largest token total (ties: the last line). The same id in a later file (a resumed session copies the
--     conversation it resumes) is a duplicate of the call already loaded, not a new call.
--   * API error lines (isApiErrorMessage true, or apiErrorStatus / error without the flag): failed calls,
--     status error, http_status from apiErrorStatus (else "API Error: NNN" in the text), error_type from
--     `error`. Claude Code writes them with model "<synthetic>": the call went to the model the session was
--     using, so the nearest real model earlier in the file (else later) is used, tagged
--     costlens.model_source = session. With no model anywhere in the file the line is skipped.
--   * other "<synthetic>" assistant lines ("No response requested.", interruptions) are written by Claude Code
--     itself, not by a model: skipped.
--   * every other line (user, progress, system, summary, file-history-snapshot, queue-operation, and types
--     newer versions add) is not a model call: skipped, with its type in the reason.
-- Tokens: Anthropic's input_tokens EXCLUDES cache reads and writes, so it is canonical input as it is. Cache
-- writes: the cache_creation{ephemeral_5m_input_tokens, ephemeral_1h_input_tokens} split when present, else all
-- cache_creation_input_tokens are 5-minute writes (the only kind before the split existed). Thinking is inside
-- output_tokens (no separate count): reasoning_tokens stays 0.
-- Attribution: task_id = session_id = sessionId (subagent lines carry their parent's sessionId, so a subagent's
-- calls belong to the task that launched it); feature = the project folder: the last path component of the
-- session's first cwd in the file, else the encoded project folder name in the file's path.
-- Old logs carry costUSD (Claude Code's own estimate) → reported_cost_usd, and durationMs → latency_ms.
-- Speed: each line is parsed once into a typed STRUCT (json_transform); message content (which can hold
-- base64 images) is never extracted, except the first text block of an error line.
CREATE OR REPLACE TEMP TABLE staged AS
WITH lines AS (
    SELECT r.source_row, r.doc, r.source_sha256, r.source_file,
           json_transform(r.doc, '{"type":"VARCHAR","subtype":"VARCHAR","uuid":"VARCHAR","sessionId":"VARCHAR",
               "cwd":"VARCHAR","gitBranch":"VARCHAR","version":"VARCHAR","timestamp":"VARCHAR",
               "requestId":"VARCHAR","isSidechain":"VARCHAR","agentId":"VARCHAR","isApiErrorMessage":"VARCHAR",
               "error":"JSON","apiErrorStatus":"VARCHAR","costUSD":"VARCHAR","durationMs":"VARCHAR",
               "message":{"id":"VARCHAR","model":"VARCHAR","stop_reason":"VARCHAR",
                   "usage":{"input_tokens":"VARCHAR","output_tokens":"VARCHAR",
                       "cache_creation_input_tokens":"VARCHAR","cache_read_input_tokens":"VARCHAR",
                       "cache_creation":{"ephemeral_5m_input_tokens":"VARCHAR","ephemeral_1h_input_tokens":"VARCHAR"},
                       "service_tier":"VARCHAR","inference_geo":"VARCHAR",
                       "server_tool_use":{"web_search_requests":"VARCHAR"}}}}') AS t
    FROM claude_lines r
),
classified AS (
    SELECT *,
           t.message.usage AS u,
           nullif_blank(t.message.model) AS model_raw,
           coalesce(t.type = 'assistant', false) AS is_assistant,
           coalesce(t.type = 'assistant', false) AND coalesce(
               parse_bool(t.isApiErrorMessage),
               t.apiErrorStatus IS NOT NULL OR (t.error IS NOT NULL AND json_type(t.error) <> 'NULL')) AS is_error,
           CASE WHEN t.type = 'assistant' AND nullif_blank(t.message.model) <> '<synthetic>'
                THEN nullif_blank(t.message.model) END AS real_model,
           nullif_blank(t.cwd) AS cwd_n,
           -- where the file sits in the projects tree: <encoded-cwd>/<session>.jsonl or
           -- <encoded-cwd>/<session>/subagents/<agent>.jsonl
           nullif(regexp_extract(source_file, '([^/\\]+)[/\\](?:[^/\\]+[/\\]subagents[/\\])?[^/\\]+$', 1), '')
               AS path_project,
           coalesce(nullif(regexp_extract(source_file, '([^/\\]+)[/\\]subagents[/\\][^/\\]+$', 1), ''),
                    nullif(regexp_extract(source_file, '([^/\\]+?)(?:\.jsonl)?(?:\.gz)?$', 1), '')) AS path_session
    FROM lines
),
windowed AS (
    SELECT *,
           -- the model the session was using around this line (for error lines written as "<synthetic>")
           coalesce(
               last_value(real_model IGNORE NULLS) OVER (PARTITION BY source_file ORDER BY source_row
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
               first_value(real_model IGNORE NULLS) OVER (PARTITION BY source_file ORDER BY source_row
                   ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)) AS session_model,
           -- the session's project folder: its first cwd in this file
           first_value(cwd_n IGNORE NULLS) OVER (PARTITION BY source_file, t.sessionId ORDER BY source_row
               ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS session_cwd,
           -- error text, only for error lines (content can be large: never read it for the others)
           CASE WHEN is_error THEN coalesce(doc->>'$.message.content[0].text',
                                            CASE WHEN json_type(doc, '$.message.content') = 'VARCHAR'
                                                 THEN doc->>'$.message.content' END) END AS error_text
    FROM classified
),
typed AS (
    SELECT *,
           CASE WHEN is_error AND (model_raw IS NULL OR model_raw = '<synthetic>') THEN session_model
                ELSE model_raw END AS model_n,
           is_error AND (model_raw IS NULL OR model_raw = '<synthetic>') AND session_model IS NOT NULL
               AS model_inferred,
           parse_tokens(u.input_tokens) AS in_t,
           coalesce(parse_tokens(u.cache_read_input_tokens), 0) AS cr_t,
           CASE WHEN u.cache_creation.ephemeral_5m_input_tokens IS NOT NULL
                     OR u.cache_creation.ephemeral_1h_input_tokens IS NOT NULL
                THEN coalesce(parse_tokens(u.cache_creation.ephemeral_5m_input_tokens), 0)
                ELSE coalesce(parse_tokens(u.cache_creation_input_tokens), 0) END AS cw5_t,
           coalesce(parse_tokens(u.cache_creation.ephemeral_1h_input_tokens), 0) AS cw1_t,
           parse_tokens(u.output_tokens) AS out_t,
           coalesce(count_problem('message.usage.input_tokens', u.input_tokens),
                    count_problem('message.usage.cache_read_input_tokens', u.cache_read_input_tokens),
                    count_problem('message.usage.cache_creation_input_tokens', u.cache_creation_input_tokens),
                    count_problem('message.usage.cache_creation.ephemeral_5m_input_tokens',
                                  u.cache_creation.ephemeral_5m_input_tokens),
                    count_problem('message.usage.cache_creation.ephemeral_1h_input_tokens',
                                  u.cache_creation.ephemeral_1h_input_tokens),
                    count_problem('message.usage.output_tokens', u.output_tokens),
                    count_problem('message.usage.server_tool_use.web_search_requests',
                                  u.server_tool_use.web_search_requests)) AS count_problem,
           CASE json_type(t.error)
               WHEN 'VARCHAR' THEN nullif_blank(t.error->>'$')
               WHEN 'OBJECT' THEN coalesce(nullif_blank(t.error->>'$.error.type'), nullif_blank(t.error->>'$.type'),
                                           nullif_blank(t.error->>'$.code'))
           END AS error_field,
           -- "API Error: 529 {"type":"error","error":{"type":"overloaded_error",…}}"
           nullif(regexp_extract(error_text, '"type"\s*:\s*"([a-z_]+_error)"', 1), '') AS error_text_type,
           coalesce(try_cast(t.apiErrorStatus AS INTEGER),
                    try_cast(CASE WHEN json_type(t.error) = 'OBJECT' THEN t.error->>'$.status' END AS INTEGER),
                    try_cast(nullif(regexp_extract(error_text, '^\s*API Error:\s*([0-9]{3})\b', 1), '') AS INTEGER))
               AS http_status_n
    FROM windowed
)
SELECT
    source_row,
    source_file,
    source_sha256,
    coalesce(nullif_blank(t.message.id) || ':' || nullif_blank(t.requestId),
             nullif_blank(t.message.id),
             'claude_code:' || nullif_blank(t.uuid)) AS call_id,
    CASE WHEN nullif_blank(t.message.id) IS NULL AND nullif_blank(t.uuid) IS NULL THEN CAST(json(doc) AS VARCHAR) END
        AS identity_content,
    parse_ts(t.timestamp) AS ts,
    try_cast(t.durationMs AS DOUBLE) AS latency_ms,
    'anthropic' AS provider,
    model_n AS model,
    'chat' AS operation,
    normalize_tier(u.service_tier) AS service_tier,
    coalesce(lower(u.service_tier) = 'batch', false) AS is_batch,
    coalesce(in_t, 0) AS input_tokens,
    cr_t AS cache_read_tokens,
    cw5_t AS cache_write_5m_tokens,
    cw1_t AS cache_write_1h_tokens,
    coalesce(out_t, 0) AS output_tokens,
    0 AS reasoning_tokens,
    CASE WHEN is_error THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN is_error THEN coalesce(error_field, error_text_type, 'api_error') END AS error_type,
    CASE WHEN is_error THEN http_status_n END AS http_status,
    nullif_blank(t.message.stop_reason) AS finish_reason,
    coalesce(nullif_blank(t.sessionId), path_session) AS task_id,
    coalesce(nullif_blank(t.sessionId), path_session) AS session_id,
    coalesce(nullif(regexp_extract(session_cwd, '([^/\\]+)[/\\]*$', 1), ''), path_project) AS feature,
    safe_tags(map_from_entries(list_filter([
        {'key': 'git_branch', 'value': nullif_blank(t.gitBranch)},
        {'key': 'claude_code_version', 'value': nullif_blank(t.version)},
        {'key': 'cwd', 'value': cwd_n},
        {'key': 'agent_id', 'value': nullif_blank(t.agentId)},
        {'key': 'sidechain', 'value': CASE WHEN parse_bool(t.isSidechain) THEN 'true' END},
        {'key': 'web_search_requests', 'value': nullif(u.server_tool_use.web_search_requests, '0')},
        {'key': 'inference_geo', 'value': nullif_blank(u.inference_geo)},
        {'key': 'costlens.model_source', 'value': CASE WHEN model_inferred THEN 'session' END}],
        lambda kv: kv.value IS NOT NULL)), content := false) AS tags,  -- credentials redacted (safe_tags)
    try_cast(t.costUSD AS DECIMAL(38,18)) AS reported_cost_usd,
    CASE
        WHEN doc IS NULL THEN 'not valid JSON'
        WHEN json_type(doc) <> 'OBJECT' THEN 'not a JSON object'
        WHEN NOT is_assistant THEN NULL
        WHEN NOT is_error AND model_raw = '<synthetic>' THEN NULL
        WHEN is_error AND model_n IS NULL THEN NULL
        -- a time outside 2000-01-01 … a year from now (9999-12-31, an epoch 0) is damage, never a period
        WHEN ts_window_problem('timestamp', t.timestamp) IS NOT NULL THEN ts_window_problem('timestamp', t.timestamp)
        WHEN NOT is_error AND u IS NULL THEN 'assistant line has no message.usage, so its tokens are unknown'
        WHEN NOT is_error AND in_t IS NULL AND out_t IS NULL AND count_problem IS NULL
            THEN 'message.usage has no token counts (expected input_tokens / output_tokens)'
        -- NaN, Infinity, 1e19 or a negative count is rejected by name, never read as 0
        WHEN count_problem IS NOT NULL THEN count_problem
        WHEN money_problem('costUSD', t.costUSD) IS NOT NULL THEN 'costUSD is not a number'
    END AS reject_reason,
    CASE
        WHEN doc IS NULL OR json_type(doc) <> 'OBJECT' THEN NULL
        WHEN t.type = 'system' AND t.subtype = 'api_error'
            THEN 'not a model call (system api_error line: a retry notice without usage)'
        WHEN NOT is_assistant
            THEN 'not a model call (' || coalesce(nullif_blank(t.type) || ' line', 'line without a type') || ')'
        WHEN NOT is_error AND model_raw = '<synthetic>'
            THEN 'not a model call (a <synthetic> message written by Claude Code itself)'
        WHEN is_error AND model_n IS NULL
            THEN 'API error line names no model and no other line of the file does: the model it failed on is unknown'
    END AS skip_reason
FROM typed;
