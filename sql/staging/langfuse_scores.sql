-- requires: langfuse_records, langfuse_score_names, langfuse_score_settings, nullif_blank, parse_bool, parse_ts
-- creates: langfuse_score_bool, staged
-- Langfuse scores → outcomes, one per trace (task_id = traceId). Inputs: langfuse_records
-- (staging/langfuse_records.sql) and, from the config ([outcomes.scores], written by costlens/ingest/langfuse.py):
-- langfuse_score_names(role, name) with role accepted | quality | human_review and the name in lower case,
-- and langfuse_score_settings(accept_threshold).
--
-- Score names are matched ignoring case; a score whose name is configured for no role is skipped, naming it.
-- Values by dataType:
--   accepted      BOOLEAN 1 / 0 (or stringValue True / False); NUMERIC value ≥ accept_threshold;
--                 CATEGORICAL yes/no words (accepted, rejected, pass, fail, thumbs_up, correct, …), else its
--                 numeric category value ≥ accept_threshold. Anything else rejects the row.
--   quality       the numeric value (BOOLEAN 1 / 0 too), which must lie in 0..1; a categorical score needs a
--                 numeric category value.
--   human_review  BOOLEAN / yes-no words; NUMERIC value > 0.
-- Several scores of one trace make ONE outcome: accepted from the most authoritative score (source ANNOTATION,
-- then API, then EVAL; the latest timestamp, then the last row, among equals); quality_score = the mean of its
-- quality scores; human_review = true if any review score says so. Every score row of a trace carries the
-- trace's merged outcome, so the runner keeps one row per task and counts the others as duplicates — each input
-- row stays accounted for. Scores of a trace already loaded from an earlier file do not change its outcome.
-- Scores without a traceId (session or dataset-run scores) are skipped: outcomes are per task (trace).

CREATE OR REPLACE TEMP MACRO langfuse_score_bool(x) AS (
    coalesce(parse_bool(x), CASE lower(trim(CAST(x AS VARCHAR)))
        WHEN 'pass' THEN true WHEN 'passed' THEN true WHEN 'approved' THEN true WHEN 'success' THEN true
        WHEN 'ok' THEN true WHEN 'good' THEN true WHEN 'correct' THEN true WHEN 'positive' THEN true
        WHEN 'thumbs_up' THEN true WHEN 'thumbs up' THEN true WHEN 'up' THEN true WHEN 'helpful' THEN true
        WHEN 'fail' THEN false WHEN 'failed' THEN false WHEN 'declined' THEN false WHEN 'failure' THEN false
        WHEN 'bad' THEN false WHEN 'incorrect' THEN false WHEN 'negative' THEN false WHEN 'thumbs_down' THEN false
        WHEN 'thumbs down' THEN false WHEN 'down' THEN false WHEN 'unhelpful' THEN false WHEN 'not helpful' THEN false
        WHEN 'not accepted' THEN false
    END)
);

CREATE OR REPLACE TEMP TABLE staged AS
WITH scores AS (
    SELECT r.source_row, r.doc, r.kind,
           CASE WHEN r.kind = 'scores' THEN json_transform(r.doc, '{"id":"VARCHAR","traceId":"VARCHAR",
               "observationId":"VARCHAR","sessionId":"VARCHAR","name":"VARCHAR","value":"VARCHAR",
               "stringValue":"VARCHAR","dataType":"VARCHAR","source":"VARCHAR","timestamp":"VARCHAR",
               "createdAt":"VARCHAR"}') END AS s
    FROM langfuse_records r
),
roles AS (
    SELECT name,
           bool_or(role = 'accepted') AS is_accepted,
           bool_or(role = 'quality') AS is_quality,
           bool_or(role = 'human_review') AS is_review
    FROM langfuse_score_names GROUP BY name
),
typed AS (
    SELECT sc.*, ro.is_accepted, ro.is_quality, ro.is_review, st.accept_threshold,
           nullif_blank(trim(s.traceId)) AS trace_id,
           trim(s.name) AS score_name,
           upper(s.dataType) AS dtype,
           try_cast(s.value AS DOUBLE) AS num,
           coalesce(nullif_blank(s.stringValue),
                    CASE WHEN try_cast(s.value AS DOUBLE) IS NULL THEN nullif_blank(s.value) END) AS str,
           CASE upper(s.source) WHEN 'ANNOTATION' THEN 3 WHEN 'API' THEN 2 WHEN 'EVAL' THEN 1 ELSE 0 END AS authority,
           coalesce(parse_ts(s.timestamp), parse_ts(s.createdAt)) AS score_ts
    FROM scores sc
    CROSS JOIN langfuse_score_settings st
    LEFT JOIN roles ro ON ro.name = lower(trim(sc.s.name))
),
valued AS (
    SELECT *,
           CASE WHEN is_accepted THEN
               CASE
                   WHEN dtype = 'BOOLEAN' THEN coalesce(CASE num WHEN 1 THEN true WHEN 0 THEN false END,
                                                        langfuse_score_bool(str))
                   WHEN dtype = 'NUMERIC' THEN num >= accept_threshold
                   ELSE coalesce(langfuse_score_bool(str), num >= accept_threshold)
               END
           END AS accepted_v,
           CASE WHEN is_quality THEN num END AS quality_v,
           CASE WHEN is_review THEN
               CASE WHEN dtype = 'NUMERIC' THEN num > 0
                    ELSE coalesce(langfuse_score_bool(str), num > 0) END
           END AS review_v,
           CASE WHEN str IS NOT NULL THEN '''' || left(str, 40) || '''' ELSE coalesce(CAST(num AS VARCHAR), 'empty') END
               AS shown_value
    FROM typed
),
checked AS (
    SELECT *,
           CASE
               WHEN doc IS NULL THEN 'not valid JSON'
               WHEN json_type(doc) <> 'OBJECT' THEN 'not a JSON object'
               WHEN kind IS NULL
                   THEN 'not a Langfuse score (expected name, value and dataType NUMERIC | CATEGORICAL | BOOLEAN)'
               WHEN kind <> 'scores'
                   THEN 'a Langfuse ' || rtrim(kind, 's') || ' record, not a score (ingest each export kind as its own file)'
               WHEN trace_id IS NULL OR NOT coalesce(is_accepted OR is_quality OR is_review, false) THEN NULL
               WHEN is_accepted AND accepted_v IS NULL
                   THEN 'score ''' || score_name || ''' (acceptance) has value ' || shown_value
                        || ', which is not a yes/no answer or a number'
               WHEN is_quality AND quality_v IS NULL
                   THEN 'score ''' || score_name || ''' (quality) has value ' || shown_value
                        || ', which is not a number'
               WHEN is_quality AND (quality_v < 0 OR quality_v > 1 OR isnan(quality_v))
                   THEN 'score ''' || score_name || ''' (quality) is ' || shown_value
                        || ', outside 0..1 (quality scores must be fractions; rescale the evaluator)'
               WHEN is_review AND review_v IS NULL
                   THEN 'score ''' || score_name || ''' (human review) has value ' || shown_value
                        || ', which is not a yes/no answer or a number'
           END AS reject_n,
           CASE
               WHEN kind IS DISTINCT FROM 'scores' THEN NULL
               WHEN trace_id IS NULL
                   THEN 'score ''' || coalesce(score_name, '') || ''' is not attached to a trace (session or dataset-run score)'
               WHEN NOT coalesce(is_accepted OR is_quality OR is_review, false)
                   THEN 'score ''' || coalesce(score_name, '') || ''' is not configured as an outcome (add it to '
                        || '[outcomes.scores] accepted, quality or human_review)'
           END AS skip_n
    FROM valued
),
merged AS (
    SELECT *,
           first_value(CASE WHEN reject_n IS NULL AND skip_n IS NULL THEN accepted_v END IGNORE NULLS) OVER (
               PARTITION BY trace_id ORDER BY
                   CASE WHEN reject_n IS NULL AND skip_n IS NULL AND accepted_v IS NOT NULL THEN authority END
                       DESC NULLS LAST,
                   score_ts DESC NULLS LAST, source_row DESC
               ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS accepted_m,
           avg(CASE WHEN reject_n IS NULL AND skip_n IS NULL THEN quality_v END) OVER (PARTITION BY trace_id)
               AS quality_m,
           bool_or(CASE WHEN reject_n IS NULL AND skip_n IS NULL THEN review_v END) OVER (PARTITION BY trace_id)
               AS review_m
    FROM checked
)
SELECT
    source_row,
    -- (a skipped score without a trace gets a placeholder task id: load/outcomes_check.sql rejects a missing
    -- task_id before it looks at skip_reason; the row is never inserted)
    CASE WHEN trace_id IS NULL AND reject_n IS NULL AND skip_n IS NOT NULL
         THEN 'langfuse-score:' || coalesce(s.id, CAST(source_row AS VARCHAR)) ELSE trace_id END AS task_id,
    accepted_m AS accepted,
    quality_m AS quality_score,
    review_m AS human_review,
    reject_n AS reject_reason,
    CASE WHEN reject_n IS NULL THEN skip_n END AS skip_reason
FROM merged;
