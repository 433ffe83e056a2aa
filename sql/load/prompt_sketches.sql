-- requires: request_words, staged
-- creates: staged_sketches
-- The semantic-cache sketch of each staged request that has its own text (`query_text`, staged by adapters
-- that see the messages: sql/schema/002_macros.sql request_text): a one-permutation MinHash (Li, Owen and
-- Zhang, 2012) of the set of its normalised word pairs. Each pair is hashed once (32 bits); the hash picks one
-- of 64 bins (hash % 64) and a bin keeps its least hash, so a bin's value names its bin. Two requests' Jaccard
-- similarity is estimated as equal values ÷ bins filled in either (sql/leaks/cache_miss.sql). One word is its
-- own pair. Nothing of the text is kept: 64 hashes cannot be read back into words.
-- Keyed by the row of `staged` (its rowid), joined back by the runner's conform step.
CREATE OR REPLACE TEMP TABLE staged_sketches AS
WITH request AS (
    SELECT rowid AS staged_row, request_words(query_text) AS words
    FROM staged
    WHERE query_text IS NOT NULL
),

pair_hashes AS (
    SELECT
        staged_row,
        len(words) AS words,
        CAST(hash(unnest(CASE WHEN len(words) = 1 THEN [{'a': words[1], 'b': ''}]
                              ELSE list_zip(words[1:-2], words[2:]) END)) >> 32 AS UINTEGER) AS h
    FROM request
    WHERE len(words) > 0
),

bins AS (
    SELECT staged_row, words, min(h) AS least_hash
    FROM pair_hashes
    GROUP BY staged_row, words, h % 64
)

SELECT staged_row, list(least_hash ORDER BY least_hash % 64) AS sketch, words
FROM bins
GROUP BY staged_row, words;
