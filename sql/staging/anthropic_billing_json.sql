-- requires: raw_json
-- creates: anthropic_billing_src
-- Anthropic Admin API usage_report / cost_report pages → anthropic_billing_src (one row per result, text
-- columns; the same view the Console CSVs are projected onto). Input: raw_json.
--
-- A row of raw_json is a page {data [buckets], has_more, next_page} or a bare bucket {starting_at, ending_at,
-- results}. Each document, bucket and result is parsed once (json_transform into typed STRUCTs).
-- Rows that yield no result still appear, so every input is accounted for: invalid JSON / not a report page
-- → `issue` (rejected); a page with no buckets or a bucket with `results: []` → shape 'empty' (skipped).
-- `loc` names the result inside its document (data[1].results[0]) for quarantine messages.
CREATE OR REPLACE TEMP TABLE anthropic_billing_src AS
WITH docs AS (
    SELECT source_row, doc,
           json_transform(doc, '{"data":["JSON"],"starting_at":"VARCHAR","results":["JSON"]}') AS t
    FROM raw_json
),
buckets AS (
    SELECT source_row, 'data[' || (i - 1) || ']' AS bucket_loc, i AS bucket_no, bucket
    FROM (SELECT source_row, unnest(t.data) AS bucket, unnest(range(1, len(t.data) + 1)) AS i
          FROM docs WHERE t.data IS NOT NULL)
    UNION ALL
    SELECT source_row, NULL AS bucket_loc, 0 AS bucket_no, doc AS bucket
    FROM docs WHERE t.data IS NULL AND t.results IS NOT NULL
),
bucket_fields AS (
    SELECT source_row, bucket_loc, bucket_no,
           json_transform(bucket, '{"starting_at":"VARCHAR","ending_at":"VARCHAR","start_time":"VARCHAR",
               "results":["JSON"]}') AS b
    FROM buckets
),
results AS (
    SELECT source_row, b, concat_ws('.', bucket_loc, 'results[' || (j - 1) || ']') AS loc, result,
           -- the result's place in the document: line ids follow it, never the engine's row order
           bucket_no * 1000000 + j AS result_order
    FROM (SELECT source_row, bucket_loc, bucket_no, b, unnest(b.results) AS result,
                 unnest(range(1, len(b.results) + 1)) AS j
          FROM bucket_fields WHERE len(b.results) > 0)
),
typed AS (
    SELECT source_row, loc, result_order, b, result,
           json_transform(result, '{"uncached_input_tokens":"VARCHAR","cache_read_input_tokens":"VARCHAR",
               "cache_creation":{"ephemeral_5m_input_tokens":"VARCHAR","ephemeral_1h_input_tokens":"VARCHAR"},
               "cache_creation_input_tokens":"VARCHAR","output_tokens":"VARCHAR",
               "server_tool_use":{"web_search_requests":"VARCHAR"},"workspace_id":"VARCHAR",
               "api_key_id":"VARCHAR","model":"VARCHAR","service_tier":"VARCHAR","context_window":"VARCHAR",
               "inference_geo":"VARCHAR","speed":"VARCHAR","amount":"VARCHAR","currency":"VARCHAR",
               "cost_type":"VARCHAR","description":"VARCHAR","token_type":"VARCHAR"}') AS r
    FROM results
)
SELECT
    source_row,
    loc,
    result_order,
    CASE WHEN json_type(result) IS DISTINCT FROM 'OBJECT' THEN 'invalid'
         WHEN json_exists(result, '$.amount') THEN 'cost' ELSE 'usage' END AS shape,
    'api' AS origin,
    CASE
        WHEN json_type(result) IS DISTINCT FROM 'OBJECT' THEN 'result is not a JSON object'
        WHEN b.starting_at IS NULL THEN 'bucket without starting_at: not an Anthropic report bucket'
    END AS issue,
    b.starting_at AS start_raw,
    b.ending_at AS end_raw,
    r.model,
    r.api_key_id,
    CAST(NULL AS VARCHAR) AS api_key_name,
    r.workspace_id,
    CAST(NULL AS VARCHAR) AS workspace_name,
    r.service_tier AS tier_raw,
    r.context_window AS context_window_raw,
    r.inference_geo,
    r.speed,
    r.uncached_input_tokens AS uncached_raw,
    coalesce(r.cache_creation.ephemeral_5m_input_tokens, r.cache_creation_input_tokens) AS cw5_raw,
    r.cache_creation.ephemeral_1h_input_tokens AS cw1_raw,
    r.cache_read_input_tokens AS cache_read_raw,
    r.output_tokens AS output_raw,
    r.server_tool_use.web_search_requests AS web_search_raw,
    r.token_type AS token_type_raw,
    r.amount AS amount_cents_raw,
    CAST(NULL AS VARCHAR) AS cost_usd_raw,
    CAST(NULL AS VARCHAR) AS list_usd_raw,
    r.currency,
    r.cost_type,
    r.description
FROM typed

UNION ALL BY NAME
SELECT source_row, bucket_loc AS loc, CASE WHEN b.results IS NULL THEN 'invalid' ELSE 'empty' END AS shape,
       'api' AS origin,
       CASE WHEN b.results IS NULL THEN 'bucket without a results list' END AS issue,
       'the bucket''s results list is empty' AS empty_note,
       b.starting_at AS start_raw, b.ending_at AS end_raw
FROM bucket_fields
WHERE coalesce(len(b.results), 0) = 0

UNION ALL BY NAME
SELECT source_row, NULL AS loc, CASE WHEN len(t.data) = 0 THEN 'empty' ELSE 'invalid' END AS shape,
       'api' AS origin,
       CASE
           WHEN doc IS NULL THEN 'not valid JSON'
           WHEN len(t.data) = 0 THEN NULL
           ELSE 'not an Anthropic usage or cost report page (no data[] of buckets, no results[])'
       END AS issue,
       'the page holds no buckets' AS empty_note
FROM docs
WHERE doc IS NULL OR len(t.data) = 0 OR (t.data IS NULL AND t.results IS NULL);
