-- requires: period_call_rows
-- creates: period_calls
-- The report period's calls (intermediate/period_call_rows.sql), materialised once: every metric, detector and
-- analysis reads them several times. Input: the view period_call_rows. Output: period_calls.
CREATE OR REPLACE TEMP TABLE period_calls AS SELECT * FROM period_call_rows;
