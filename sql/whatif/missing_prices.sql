-- requires: whatif_calls, whatif_price_book
-- creates: none
-- Price keys of changed calls that whatif_price_book cannot price yet (e.g. a routing target no call used),
-- with the time range to resolve them over. Same join conditions as price.sql / fresh_priced_calls.sql.
-- Inputs: whatif_calls, whatif_price_book.
WITH changed AS (
    SELECT
        wid, coalesce(provider, '') AS provider, model, variant, ts,
        CAST(hour(ts) * 3600 + minute(ts) * 60 + second(ts) AS INTEGER) AS tod_s,
        input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens AS total_input_tokens
    FROM whatif_calls
    WHERE affected
),

unmatched AS (
    SELECT c.*
    FROM changed AS c
    WHERE NOT EXISTS (
        SELECT 1 FROM whatif_price_book AS pb
        WHERE pb.provider = c.provider AND pb.model = c.model AND pb.variant = c.variant
          AND c.ts >= pb.valid_from AND c.ts < pb.valid_to
          AND c.tod_s >= pb.tod_from_s AND c.tod_s < pb.tod_to_s
          AND c.total_input_tokens > pb.tier_above_tokens AND c.total_input_tokens <= pb.tier_upto_tokens
    )
)

SELECT u.provider, u.model, u.variant, min(c.ts) AS ts_min, max(c.ts) AS ts_max, count(DISTINCT u.wid) AS calls
FROM unmatched AS u
JOIN changed AS c USING (provider, model, variant)
GROUP BY ALL
ORDER BY ALL;
