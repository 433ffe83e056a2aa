-- requires: nullif_blank, outcomes_labels, outcomes_src, parse_bool, quoted_value
-- creates: outcome_bool, staged
-- Task outcomes → canonical outcomes. Inputs: temp table outcomes_src (source_row, doc_problem, and the
-- canonical fields as text, from costlens/ingest/outcomes.py) and outcomes_labels (one row: the column
-- name each field was read from, for reject messages).
-- A value that is present but not understood rejects the row, naming the column; it is never read as NULL.

-- Booleans: parse_bool's spellings plus the words review tools use.
CREATE OR REPLACE TEMP MACRO outcome_bool(x) AS (
    coalesce(parse_bool(x), CASE lower(trim(CAST(x AS VARCHAR)))
        WHEN 'pass' THEN true WHEN 'passed' THEN true WHEN 'approved' THEN true WHEN 'success' THEN true
        WHEN 'ok' THEN true WHEN 'good' THEN true WHEN 'thumbs_up' THEN true WHEN 'up' THEN true
        WHEN 'fail' THEN false WHEN 'failed' THEN false WHEN 'declined' THEN false WHEN 'failure' THEN false
        WHEN 'bad' THEN false WHEN 'thumbs_down' THEN false WHEN 'down' THEN false WHEN 'not accepted' THEN false
    END)
);

-- Money / minutes: plain decimals, "$12.50" tolerated for money.
CREATE OR REPLACE TEMP TABLE staged AS
WITH src AS (
    SELECT s.source_row, s.doc_problem,
           trim(nullif_blank(s.task_id)) AS task_id,
           nullif_blank(s.accepted) AS accepted_raw,
           trim(nullif_blank(s.quality_score)) AS quality_raw,
           nullif_blank(s.human_review) AS review_raw,
           trim(nullif_blank(s.rework_minutes)) AS rework_raw,
           trim(nullif_blank(s.rework_cost_usd)) AS rework_cost_raw,
           trim(nullif_blank(s.delay_minutes)) AS delay_raw,
           l.*
    FROM outcomes_src s CROSS JOIN outcomes_labels l
),
typed AS (
    SELECT *,
        outcome_bool(accepted_raw) AS accepted,
        CASE WHEN quality_raw LIKE '%\%' ESCAPE '\'
             THEN try_cast(trim(rtrim(quality_raw, '%')) AS DOUBLE) / 100.0
             ELSE try_cast(quality_raw AS DOUBLE) END AS quality_score,
        outcome_bool(review_raw) AS human_review,
        try_cast(rework_raw AS DOUBLE) AS rework_minutes,
        try_cast(trim(ltrim(rework_cost_raw, '$')) AS DECIMAL(38,18)) AS rework_cost_usd,
        try_cast(delay_raw AS DOUBLE) AS delay_minutes
    FROM src
)
SELECT
    source_row,
    task_id,
    accepted,
    quality_score,
    human_review,
    rework_minutes,
    rework_cost_usd,
    delay_minutes,
    coalesce(doc_problem, CASE
        WHEN accepted_raw IS NOT NULL AND accepted IS NULL
            THEN label_accepted || ' is not a boolean (true/false, yes/no, 1/0, accepted/rejected): '
                 || quoted_value(accepted_raw)
        WHEN quality_raw IS NOT NULL AND quality_score IS NULL
            THEN label_quality_score || ' is not a number: ' || quoted_value(quality_raw)
        WHEN review_raw IS NOT NULL AND human_review IS NULL
            THEN label_human_review || ' is not a boolean (true/false, yes/no, 1/0): ' || quoted_value(review_raw)
        WHEN rework_raw IS NOT NULL AND rework_minutes IS NULL
            THEN label_rework_minutes || ' is not a number: ' || quoted_value(rework_raw)
        WHEN rework_cost_raw IS NOT NULL AND rework_cost_usd IS NULL
            THEN label_rework_cost_usd || ' is not a number: ' || quoted_value(rework_cost_raw)
        WHEN delay_raw IS NOT NULL AND delay_minutes IS NULL
            THEN label_delay_minutes || ' is not a number: ' || quoted_value(delay_raw)
        -- NaN / Infinity minutes would make the rework and delay cost NaN / infinite
        WHEN NOT isfinite(rework_minutes) THEN label_rework_minutes || ' is not a finite number: ' || quoted_value(rework_raw)
        WHEN NOT isfinite(delay_minutes) THEN label_delay_minutes || ' is not a finite number: ' || quoted_value(delay_raw)
        WHEN quality_score IS NOT NULL AND (quality_score < 0 OR quality_score > 1 OR isnan(quality_score))
            THEN label_quality_score || ' must be between 0 and 1: ' || quoted_value(quality_raw)
    END) AS reject_reason,
    CASE WHEN doc_problem IS NULL AND task_id IS NOT NULL AND accepted_raw IS NULL AND quality_raw IS NULL
              AND review_raw IS NULL AND rework_raw IS NULL AND rework_cost_raw IS NULL AND delay_raw IS NULL
         THEN 'no outcome values in this row (accepted, quality_score, human_review, rework, delay are all empty)'
    END AS skip_reason
FROM typed;
