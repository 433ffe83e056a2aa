-- requires: whatif_calls, whatif_change
-- creates: none
-- Turn on prompt caching for a feature's calls that read and write no cache today.
-- Cacheable part: the logged stable prefix (prefix_hash + prefix_tokens) where present; otherwise the assumed
-- cacheable share of the input (whatif_change.cacheable_share), keyed per feature and flagged `cache_assumed`.
-- Only prefixes of at least min_cacheable_tokens count (the providers' minimum cacheable length).
-- Hit or write: a call reads the cache when the previous call with the same (provider, model, prefix) came
-- at most ttl_s seconds earlier (each use refreshes the lifetime); otherwise it writes the prefix (5-minute
-- write price). Total input is unchanged, so long-context tiers are unchanged.
-- Inputs: whatif_calls, whatif_change(seq, feature, cacheable_share, min_cacheable_tokens, ttl_s).
UPDATE whatif_calls AS w
SET input_tokens = w.input_tokens - x.cacheable_tokens,
    cache_read_tokens = w.cache_read_tokens + CASE WHEN x.hit THEN x.cacheable_tokens ELSE 0 END,
    cache_write_5m_tokens = w.cache_write_5m_tokens + CASE WHEN x.hit THEN 0 ELSE x.cacheable_tokens END,
    cache_assumed = x.assumed,
    affected = TRUE,
    last_change = x.seq
FROM (
    WITH eligible AS (
        SELECT
            w.wid,
            w.ts,
            coalesce(w.provider, '') AS provider,
            w.model,
            c.seq,
            c.min_cacheable_tokens,
            c.ttl_s,
            w.prefix_hash IS NOT NULL AND coalesce(w.prefix_tokens, 0) > 0 AS logged,
            CASE WHEN w.prefix_hash IS NOT NULL AND coalesce(w.prefix_tokens, 0) > 0 THEN 'prefix:' || w.prefix_hash
                 ELSE 'feature:' || w.feature END AS cache_key,
            CASE WHEN w.prefix_hash IS NOT NULL AND coalesce(w.prefix_tokens, 0) > 0
                     THEN least(w.prefix_tokens, w.input_tokens)
                 ELSE CAST(floor(w.input_tokens * c.cacheable_share) AS BIGINT) END AS cacheable_tokens
        FROM whatif_calls AS w
        CROSS JOIN whatif_change AS c
        WHERE w.priced
          AND (c.feature IS NULL OR w.feature = c.feature)
          AND w.cache_read_tokens = 0 AND w.cache_write_5m_tokens = 0 AND w.cache_write_1h_tokens = 0
    ),

    cacheable AS (
        SELECT * FROM eligible WHERE cacheable_tokens > 0 AND cacheable_tokens >= min_cacheable_tokens
    )

    SELECT
        wid,
        seq,
        cacheable_tokens,
        NOT logged AS assumed,
        coalesce(
            epoch(ts) - epoch(lag(ts) OVER (PARTITION BY provider, model, cache_key ORDER BY ts, wid)) <= ttl_s,
            FALSE
        ) AS hit
    FROM cacheable
) AS x
WHERE w.wid = x.wid;
