-- requires: period_call_rows
-- creates: period_calls, period_calls_stored
-- The report period's calls (intermediate/period_call_rows.sql), materialised once: every metric, detector and
-- analysis reads them several times. Input: the view period_call_rows. Output: period_calls, a view of the
-- rows stored compressed in the connection's scratch database (`{scratch}`, costlens.db.scratch_database):
-- at ~10M calls a TEMP table of this width is several GB, uncompressed, and spills.
CREATE OR REPLACE TABLE {scratch}.period_calls_stored AS SELECT * FROM period_call_rows;
CREATE OR REPLACE TEMP VIEW period_calls AS SELECT * FROM {scratch}.period_calls_stored;
