-- requires: call_charges, calls_to_price
-- creates: charged_calls
-- The charges beyond the token columns (call_charges) of the calls being priced, with the keys that price them.
CREATE OR REPLACE TEMP VIEW charged_calls AS
SELECT ch.call_id, ch.kind, ch.detail, ch.quantity, ch.counted, c.provider, c.model, c.service_tier, c.is_batch, c.ts
FROM call_charges AS ch
JOIN calls_to_price AS c USING (call_id);
