-- requires: call_charges
-- creates: charged_calls
-- No charges: a file's calls are priced as they are inserted, before their charges are loaded (those with
-- charges are priced again after: sql/load/calls_insert.sql). Not a join with calls_to_price, so the file's
-- rows are read once.
CREATE OR REPLACE TEMP VIEW charged_calls AS
SELECT ch.call_id, ch.kind, ch.detail, ch.quantity, ch.counted, CAST(NULL AS VARCHAR) AS provider,
       CAST(NULL AS VARCHAR) AS model, CAST(NULL AS VARCHAR) AS service_tier, CAST(NULL AS BOOLEAN) AS is_batch,
       CAST(NULL AS TIMESTAMP) AS ts
FROM call_charges AS ch
WHERE false;
