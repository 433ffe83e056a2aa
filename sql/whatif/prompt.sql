-- requires: whatif_calls, whatif_change
-- creates: none
-- Replace a feature's prompt with a new one of new_prompt_tokens tokens (counted offline by costlens/whatif.py).
-- The prompt a call carries today: its logged system prompt (prefix_tokens) where the producer logged the text;
-- otherwise old_prompt_tokens, the feature's smallest input per call in the period (every call carries the prompt,
-- so none is shorter than it: an upper bound on it). The difference is applied where the prompt sits: to the
-- cache reads of a call that read at least the old prompt from the cache (a cached prompt stays cached), else to
-- the cache writes of a call that wrote at least that much, else to its uncached input; never below zero.
-- Output tokens are unchanged. Long-context tiers follow the new total input (price.sql).
-- Inputs: whatif_calls, whatif_change(seq, feature, new_prompt_tokens, old_prompt_tokens).
UPDATE whatif_calls AS w
SET input_tokens = CASE WHEN x.place = 'input' THEN greatest(w.input_tokens + x.delta, 0) ELSE w.input_tokens END,
    cache_read_tokens = CASE WHEN x.place = 'cache_read' THEN greatest(w.cache_read_tokens + x.delta, 0)
                             ELSE w.cache_read_tokens END,
    cache_write_5m_tokens = CASE WHEN x.place = 'cache_write_5m' THEN greatest(w.cache_write_5m_tokens + x.delta, 0)
                                 ELSE w.cache_write_5m_tokens END,
    cache_write_1h_tokens = CASE WHEN x.place = 'cache_write_1h' THEN greatest(w.cache_write_1h_tokens + x.delta, 0)
                                 ELSE w.cache_write_1h_tokens END,
    affected = TRUE,
    last_change = x.seq
FROM (
    WITH calls AS (
        SELECT
            w.wid,
            c.seq,
            c.new_prompt_tokens - CASE WHEN coalesce(w.prefix_tokens, 0) > 0 THEN w.prefix_tokens
                                       ELSE c.old_prompt_tokens END AS delta,
            CASE WHEN coalesce(w.prefix_tokens, 0) > 0 THEN w.prefix_tokens ELSE c.old_prompt_tokens END AS old_tokens,
            w.input_tokens,
            w.cache_read_tokens,
            w.cache_write_5m_tokens,
            w.cache_write_1h_tokens
        FROM whatif_calls AS w
        CROSS JOIN whatif_change AS c
        WHERE w.priced AND w.feature = c.feature
          -- a call that logged no input (a failed request billed nothing) sent no prompt to change
          AND w.input_tokens + w.cache_read_tokens + w.cache_write_5m_tokens + w.cache_write_1h_tokens > 0
    )
    SELECT
        wid,
        seq,
        delta,
        CASE WHEN cache_read_tokens >= old_tokens AND cache_read_tokens > 0 THEN 'cache_read'
             WHEN cache_write_5m_tokens >= old_tokens AND cache_write_5m_tokens > 0 THEN 'cache_write_5m'
             WHEN cache_write_1h_tokens >= old_tokens AND cache_write_1h_tokens > 0 THEN 'cache_write_1h'
             ELSE 'input' END AS place
    FROM calls
    WHERE delta <> 0
) AS x
WHERE w.wid = x.wid;
