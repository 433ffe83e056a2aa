-- requires: raw_json
-- creates: openai_billing_src
-- OpenAI Usage API / Costs API pages → openai_billing_src (one row per result, text columns named after the
-- API fields; the same view the dashboard CSVs are projected onto). Input: raw_json (one row per JSON line,
-- per element of a top-level array, or the single document).
--
-- A row of raw_json is a page {object "page", data [buckets], has_more, next_page} or a bare bucket
-- {object "bucket", start_time, end_time, results}. Each document is parsed once, each bucket once, each
-- result once (json_transform into typed STRUCTs).
--
-- Rows that yield no result still appear, so every input is accounted for:
--   * invalid JSON / not a page or bucket → `issue` (rejected by openai_billing.sql);
--   * a page with no buckets, a bucket with `results: []` → shape 'empty' (skipped: no activity).
-- `loc` names the result inside its document (data[1].results[0]) for quarantine messages.
-- JSON numbers come back as their shortest round-trip text ("0.06", "4.5e-05"), which is exactly what the
-- producer wrote for any amount that fits a double; it is parsed straight to DECIMAL, never via DOUBLE.
CREATE OR REPLACE TEMP TABLE openai_billing_src AS
WITH docs AS (
    SELECT source_row, doc,
           json_transform(doc, '{"object":"VARCHAR","data":["JSON"],"start_time":"VARCHAR",
               "results":["JSON"],"result":["JSON"]}') AS t
    FROM raw_json
),
buckets AS (
    -- a page: one row per bucket (data[i])
    SELECT source_row, 'data[' || (i - 1) || ']' AS bucket_loc, i AS bucket_no, bucket
    FROM (SELECT source_row, unnest(t.data) AS bucket, unnest(range(1, len(t.data) + 1)) AS i
          FROM docs WHERE t.data IS NOT NULL)
    UNION ALL
    -- a bare bucket line
    SELECT source_row, NULL AS bucket_loc, 0 AS bucket_no, doc AS bucket
    FROM docs WHERE t.data IS NULL AND coalesce(t.results, t.result) IS NOT NULL
),
bucket_fields AS (
    SELECT source_row, bucket_loc, bucket_no,
           json_transform(bucket, '{"object":"VARCHAR","start_time":"VARCHAR","end_time":"VARCHAR",
               "start_time_iso":"VARCHAR","end_time_iso":"VARCHAR","starting_at":"VARCHAR",
               "results":["JSON"],"result":["JSON"]}') AS b
    FROM buckets
),
results AS (
    SELECT source_row, bucket_loc, b,
           concat_ws('.', bucket_loc, 'results[' || (j - 1) || ']') AS loc, result,
           -- the result's place in the document: line ids follow it, never the engine's row order
           bucket_no * 1000000 + j AS result_order
    FROM (SELECT source_row, bucket_loc, bucket_no, b, unnest(coalesce(b.results, b.result)) AS result,
                 unnest(range(1, len(coalesce(b.results, b.result)) + 1)) AS j
          FROM bucket_fields WHERE len(coalesce(b.results, b.result)) > 0)
),
typed AS (
    SELECT source_row, loc, result_order, b, result,
           json_transform(result, '{"object":"VARCHAR","input_tokens":"VARCHAR","output_tokens":"VARCHAR",
               "input_audio_tokens":"VARCHAR","input_cached_audio_tokens":"VARCHAR","output_audio_tokens":"VARCHAR",
               "input_cached_tokens":"VARCHAR","input_uncached_tokens":"VARCHAR",
               "input_cache_write_tokens":"VARCHAR","num_model_requests":"VARCHAR","project_id":"VARCHAR",
               "project_name":"VARCHAR","user_id":"VARCHAR","api_key_id":"VARCHAR","organization_id":"VARCHAR",
               "organization_name":"VARCHAR","model":"VARCHAR","batch":"VARCHAR","service_tier":"VARCHAR",
               "amount":{"value":"VARCHAR","currency":"VARCHAR"},"line_item":"VARCHAR","quantity":"VARCHAR",
               "quantity_unit":"VARCHAR"}') AS r
    FROM results
)
SELECT
    source_row,
    loc,
    result_order,
    CASE
        WHEN json_type(result) IS DISTINCT FROM 'OBJECT' THEN 'invalid'
        WHEN r.object LIKE 'organization.costs%' OR json_exists(result, '$.amount') THEN 'cost'
        ELSE 'usage'
    END AS shape,
    r.object AS result_object,
    CASE
        WHEN json_type(result) IS DISTINCT FROM 'OBJECT' THEN 'result is not a JSON object'
        WHEN b.starting_at IS NOT NULL THEN 'bucket has starting_at, not start_time: not an OpenAI bucket'
        WHEN (r.object LIKE 'organization.costs%' OR json_exists(result, '$.amount')) AND r.amount.value IS NULL
            THEN 'cost result without amount.value'
    END AS issue,
    b.start_time AS start_raw,
    b.end_time AS end_raw,
    b.start_time_iso AS start_iso_raw,
    b.end_time_iso AS end_iso_raw,
    r.project_id, r.project_name, r.user_id, r.api_key_id, r.organization_id, r.organization_name,
    r.model,
    r.batch AS batch_raw,
    r.service_tier,
    r.input_tokens AS input_raw,
    r.input_cached_tokens AS cached_raw,
    r.input_uncached_tokens AS uncached_raw,
    r.input_cache_write_tokens AS cache_write_raw,
    r.input_audio_tokens AS audio_in_raw,
    r.input_cached_audio_tokens AS cached_audio_raw,
    r.output_tokens AS output_raw,
    r.output_audio_tokens AS audio_out_raw,
    r.num_model_requests AS requests_raw,
    r.amount.value AS amount_raw,
    r.amount.currency AS currency,
    r.line_item,
    r.quantity AS quantity_raw,
    r.quantity_unit
FROM typed

UNION ALL BY NAME
-- buckets with no results: a period with no activity
SELECT source_row, bucket_loc AS loc,
       CASE WHEN coalesce(b.results, b.result) IS NULL THEN 'invalid' ELSE 'empty' END AS shape,
       CASE WHEN coalesce(b.results, b.result) IS NULL THEN 'bucket without a results list' END AS issue,
       'the bucket''s results list is empty' AS empty_note,
       b.start_time AS start_raw, b.end_time AS end_raw, b.start_time_iso AS start_iso_raw,
       b.end_time_iso AS end_iso_raw
FROM bucket_fields
WHERE coalesce(len(coalesce(b.results, b.result)), 0) = 0

UNION ALL BY NAME
-- documents that hold no bucket at all
SELECT source_row, NULL AS loc,
       CASE WHEN len(t.data) = 0 THEN 'empty' ELSE 'invalid' END AS shape,
       CASE
           WHEN doc IS NULL THEN 'not valid JSON'
           WHEN len(t.data) = 0 THEN NULL
           ELSE 'not an OpenAI usage or costs page (no data[] of buckets, no results[])'
       END AS issue,
       'the page holds no buckets' AS empty_note
FROM docs
WHERE doc IS NULL OR len(t.data) = 0 OR (t.data IS NULL AND coalesce(t.results, t.result) IS NULL);
