-- requires: langfuse_meta_tags, langfuse_records, nullif_blank, parse_ts, safe_tags, ts_window_problem
-- creates: langfuse_tag_value, staged
-- Langfuse traces → trace_context: attribution known per trace, picked up by calls with the same trace_id
-- at report time (sql/intermediate/period_call_rows.sql) when the call carries none of its own.
-- Input: langfuse_records (staging/langfuse_records.sql).
--
--   trace_id    = id;  ts = timestamp
--   feature     = metadata costlens.feature / feature / app.feature / use_case, else a "feature:x" tag,
--                 else the trace name (Langfuse's usual way to name a use case)
--   task_id     = metadata costlens.task_id / task_id / task.id, else the trace id (a trace is one task)
--   session_id  = sessionId;  user_id = userId;  environment = environment
--   team        = metadata team, else a "team:x" tag;  customer = metadata customer / customer_id, else a
--                 "customer:x" tag
--   tags        = the trace's tags ("key:value" → key = value, a bare tag → tag = true; the first of a repeated
--                 key wins), release, version, and the scalar metadata entries no column takes.

CREATE OR REPLACE TEMP MACRO langfuse_tag_value(tags, k) AS (
    nullif_blank(trim(substr(list_filter(tags, lambda t: lower(split_part(t, ':', 1)) = k
                                         AND strpos(t, ':') > 0)[1],
                             length(k) + 2)))
);

CREATE OR REPLACE TEMP TABLE staged AS
WITH traces AS (
    SELECT r.source_row, r.doc, r.kind,
           CASE WHEN r.kind = 'traces' THEN json_transform(r.doc, '{"id":"VARCHAR","timestamp":"VARCHAR",
               "name":"VARCHAR","sessionId":"VARCHAR","userId":"VARCHAR","metadata":"JSON","tags":"JSON",
               "release":"VARCHAR","version":"VARCHAR","environment":"VARCHAR"}') END AS t
    FROM langfuse_records r
),
parsed AS (
    SELECT *,
           CASE WHEN json_type(t.tags) = 'ARRAY'
                THEN list_filter(list_transform(CAST(json_extract(t.tags, '$[*]') AS JSON[]), lambda x: nullif_blank(x->>'$')),
                                 lambda x: x IS NOT NULL) END AS tag_list,
           CASE WHEN json_type(t.metadata) = 'OBJECT' THEN json_transform(t.metadata, '{"feature":"VARCHAR",
               "costlens.feature":"VARCHAR","app.feature":"VARCHAR","use_case":"VARCHAR","task_id":"VARCHAR",
               "costlens.task_id":"VARCHAR","task.id":"VARCHAR","team":"VARCHAR","customer":"VARCHAR",
               "customer_id":"VARCHAR"}') END AS meta
    FROM traces
),
tagged AS (
    SELECT *,
           list_transform(tag_list, lambda x: CASE WHEN strpos(x, ':') > 0
               THEN {'key': trim(split_part(x, ':', 1)), 'value': trim(substr(x, strpos(x, ':') + 1))}
               ELSE {'key': trim(x), 'value': 'true'} END) AS tag_entries
    FROM parsed
)
SELECT
    source_row,
    nullif_blank(t.id) AS trace_id,
    parse_ts(t.timestamp) AS ts,
    coalesce(nullif_blank(coalesce(meta."costlens.feature", meta.feature, meta."app.feature", meta.use_case)),
             langfuse_tag_value(tag_list, 'feature'), nullif_blank(t.name)) AS feature,
    coalesce(nullif_blank(coalesce(meta."costlens.task_id", meta.task_id, meta."task.id")), nullif_blank(t.id))
        AS task_id,
    nullif_blank(t.sessionId) AS session_id,
    nullif_blank(t.userId) AS user_id,
    coalesce(nullif_blank(meta.team), langfuse_tag_value(tag_list, 'team')) AS team,
    coalesce(nullif_blank(coalesce(meta.customer, meta.customer_id)), langfuse_tag_value(tag_list, 'customer'))
        AS customer,
    nullif_blank(t.environment) AS environment,
    -- secrets redacted, prompt text dropped (safe_tags, sql/schema/002_macros.sql)
    safe_tags(map_concat(
        coalesce(langfuse_meta_tags(t.metadata), MAP {}),
        map_from_entries(list_filter([
            {'key': 'langfuse.release', 'value': nullif_blank(t.release)},
            {'key': 'langfuse.version', 'value': nullif_blank(t.version)}], lambda kv: kv.value IS NOT NULL)),
        coalesce(map_from_entries(list_filter(tag_entries, lambda e, i:
            list_position(list_transform(tag_entries, lambda x: x.key), e.key) = i)), MAP {}))) AS tags,
    CASE
        WHEN doc IS NULL THEN 'not valid JSON'
        WHEN json_type(doc) <> 'OBJECT' THEN 'not a JSON object'
        WHEN kind IS NULL THEN 'not a Langfuse trace (expected id, timestamp and trace fields such as sessionId, userId, tags)'
        WHEN kind <> 'traces'
            THEN 'a Langfuse ' || rtrim(kind, 's') || ' record, not a trace (ingest each export kind as its own file)'
        WHEN ts_window_problem('timestamp', t.timestamp) IS NOT NULL THEN ts_window_problem('timestamp', t.timestamp)
        WHEN nullif_blank(t.timestamp) IS NOT NULL AND parse_ts(t.timestamp) IS NULL
            THEN 'timestamp is not a timestamp: ''' || left(t.timestamp, 40) || ''''
    END AS reject_reason
FROM tagged;
