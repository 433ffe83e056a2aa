-- requires: raw_json
-- creates: langfuse_mapped_keys, langfuse_meta_tags, langfuse_record_kind, langfuse_records, langfuse_trace_of
-- Langfuse public API exports → one row per record. Input: raw_json (costlens/ingest/readers.py).
-- Output: langfuse_records(source_row, doc, kind), plus the macros the three Langfuse staging files share.
--
-- A file is a JSON array of records, JSON lines of records, or API pages {"data": [...], "meta": {...}}
-- (one page per file, or one page per line). Pages are unwrapped; their records are then numbered 1, 2, 3…
-- through the file in page order (a user finds row n as the n-th record of the export). A file without any
-- page keeps the reader's numbering (line number, or element number of a top-level array).
--
-- `kind` is what the record itself looks like (same rules as costlens/ingest/langfuse.py record_kind):
--   observations: an object with traceId, startTime and a Langfuse observation type (GENERATION, SPAN, …);
--   scores:       name, value or stringValue, and a Langfuse dataType (NUMERIC | CATEGORICAL | BOOLEAN)
--                 or source (API | EVAL | ANNOTATION);
--   traces:       id and timestamp, no traceId, and at least two trace-only fields (sessionId, userId,
--                 release, tags, public, htmlPath, bookmarked, externalId, observations, scores, totalCost).

CREATE OR REPLACE TEMP MACRO langfuse_record_kind(d) AS (
    CASE
        WHEN d IS NULL OR json_type(d) <> 'OBJECT' THEN NULL
        WHEN json_exists(d, '$.traceId') AND json_exists(d, '$.startTime')
             AND upper(d->>'$.type') IN ('GENERATION', 'SPAN', 'EVENT', 'AGENT', 'TOOL', 'CHAIN', 'RETRIEVER',
                                         'EVALUATOR', 'EMBEDDING', 'GUARDRAIL')
            THEN 'observations'
        WHEN json_exists(d, '$.name') AND (json_exists(d, '$.value') OR json_exists(d, '$.stringValue'))
             AND (upper(d->>'$.dataType') IN ('NUMERIC', 'CATEGORICAL', 'BOOLEAN')
                  OR upper(d->>'$.source') IN ('API', 'EVAL', 'ANNOTATION'))
            THEN 'scores'
        WHEN json_exists(d, '$.id') AND json_exists(d, '$.timestamp') AND NOT json_exists(d, '$.traceId')
             AND CAST(json_exists(d, '$.sessionId') AS INTEGER) + CAST(json_exists(d, '$.userId') AS INTEGER)
                 + CAST(json_exists(d, '$.release') AS INTEGER) + CAST(json_exists(d, '$.tags') AS INTEGER)
                 + CAST(json_exists(d, '$.public') AS INTEGER) + CAST(json_exists(d, '$.htmlPath') AS INTEGER)
                 + CAST(json_exists(d, '$.bookmarked') AS INTEGER) + CAST(json_exists(d, '$.externalId') AS INTEGER)
                 + CAST(json_exists(d, '$.observations') AS INTEGER) + CAST(json_exists(d, '$.scores') AS INTEGER)
                 + CAST(json_exists(d, '$.totalCost') AS INTEGER) >= 2
            THEN 'traces'
    END
);

-- Metadata keys that become columns (never tags). Lower case.
CREATE OR REPLACE TEMP MACRO langfuse_mapped_keys() AS (
    ['feature', 'costlens.feature', 'app.feature', 'use_case', 'task_id', 'costlens.task_id', 'task.id',
     'session_id', 'sessionid', 'langfuse_session_id', 'conversation_id', 'gen_ai.conversation.id', 'thread_id',
     'user_id', 'userid', 'langfuse_user_id', 'team', 'customer', 'customer_id', 'provider', 'ls_provider',
     'gen_ai.system', 'gen_ai.provider.name', 'finish_reason', 'stop_reason', 'service_tier', 'environment',
     'langfuse_tags']
);

-- The scalar entries of a metadata object that no column takes (strings up to 256 characters, numbers,
-- booleans), as tags. Nested objects and long strings (prompts, payloads) are never copied.
CREATE OR REPLACE TEMP MACRO langfuse_meta_tags(m) AS (
    CASE WHEN json_type(m) = 'OBJECT' THEN map_from_entries(list_transform(
        list_filter(map_entries(json_transform(m, '"MAP(VARCHAR, JSON)"')),
                    lambda e: e.value IS NOT NULL
                              AND json_type(e.value) IN ('VARCHAR', 'BIGINT', 'UBIGINT', 'DOUBLE', 'BOOLEAN')
                              AND length(e.value->>'$') <= 256
                              AND NOT list_contains(langfuse_mapped_keys(), lower(e.key))),
        lambda e: {'key': e.key, 'value': e.value->>'$'}))
    END
);

-- A whole trace: the UI's "download trace" file {"trace": {…}, "observations": [{…}, …]} (the trace repeats
-- the observations under trace.observations: only the top-level list is read, so no call counts twice), or
-- one trace as GET /api/public/traces/{id} returns it, observations embedded as objects. Its observations
-- are the records, each carrying the trace's attribution under `_trace` (name → feature, session, user, tags).
CREATE OR REPLACE TEMP MACRO langfuse_trace_of(doc) AS (
    CASE WHEN json_type(doc, '$.trace') = 'OBJECT' AND json_type(doc, '$.observations') = 'ARRAY'
              THEN doc->'$.trace'
         WHEN json_type(doc, '$.observations') = 'ARRAY' AND json_type(doc, '$.observations[0]') = 'OBJECT'
              AND json_exists(doc, '$.id') AND NOT json_exists(doc, '$.traceId')
              THEN doc END
);

CREATE OR REPLACE TEMP TABLE langfuse_records AS
WITH lines AS (
    SELECT source_row, doc,
           coalesce(json_type(doc) = 'OBJECT' AND json_type(doc, '$.data') = 'ARRAY'
                    AND NOT json_exists(doc, '$.id') AND NOT json_exists(doc, '$.traceId'), false) AS is_page,
           langfuse_trace_of(doc) AS trace_doc
    FROM raw_json
),
pages AS (SELECT bool_or(is_page OR trace_doc IS NOT NULL) AS any_page FROM lines),
items AS (
    SELECT source_row, 0 AS item_no, doc FROM lines WHERE NOT is_page AND trace_doc IS NULL
    UNION ALL
    SELECT source_row, generate_subscripts(elements, 1) AS item_no, unnest(elements) AS doc
    FROM (SELECT source_row, json_extract(doc, '$.data[*]') AS elements FROM lines WHERE is_page)
    UNION ALL
    SELECT source_row, item_no,
           json_merge_patch(obs, json_object('_trace', json_object(
               'name', trace_doc->>'$.name', 'sessionId', trace_doc->>'$.sessionId',
               'userId', trace_doc->>'$.userId', 'environment', trace_doc->>'$.environment',
               'tags', trace_doc->'$.tags', 'metadata', trace_doc->'$.metadata'))) AS doc
    FROM (SELECT source_row, trace_doc, generate_subscripts(elements, 1) AS item_no, unnest(elements) AS obs
          FROM (SELECT source_row, trace_doc, json_extract(doc, '$.observations[*]') AS elements
                FROM lines WHERE trace_doc IS NOT NULL))
)
SELECT CASE WHEN p.any_page THEN row_number() OVER (ORDER BY i.source_row, i.item_no) ELSE i.source_row END
           AS source_row,
       i.doc,
       langfuse_record_kind(i.doc) AS kind
FROM items i CROSS JOIN pages p;
