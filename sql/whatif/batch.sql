-- requires: whatif_calls, whatif_change
-- creates: none
-- Turn on batch for a feature: its synchronous calls are priced at the batch variant of their model.
-- Where the price book has no batch price for a model, price.sql applies the assumed batch discount
-- (whatif_settings) to exactly these calls (`batch_assumed`), and the result says so.
-- Inputs: whatif_calls, whatif_change(seq, feature).
UPDATE whatif_calls AS w
SET variant = 'batch',
    batch_assumed = TRUE,
    affected = TRUE,
    last_change = c.seq
FROM whatif_change AS c
WHERE w.priced
  AND w.variant <> 'batch'
  AND (c.feature IS NULL OR w.feature = c.feature);
