-- requires: whatif_calls, whatif_change
-- creates: none
-- Cap output at max_output_tokens: output above the cap is cut (reasoning, a subset of output, too).
-- Inputs: whatif_calls, whatif_change(seq, feature, max_output_tokens).
UPDATE whatif_calls AS w
SET output_tokens = c.max_output_tokens,
    reasoning_tokens = least(w.reasoning_tokens, c.max_output_tokens),
    affected = TRUE,
    last_change = c.seq
FROM whatif_change AS c
WHERE w.priced
  AND w.output_tokens > c.max_output_tokens
  AND (c.feature IS NULL OR w.feature = c.feature);
