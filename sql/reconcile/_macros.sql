-- requires: normalize_provider
-- creates: recon_model_key, recon_mul_div, recon_pico, recon_provider_key
-- Macros shared by the reconciliation SQL (installed as TEMP macros by costlens.reconcile.build).

-- a × m / d in exact DECIMAL: a decimal division would give a DOUBLE. `a` is kept to 1e-12 (pico-dollars);
-- m and d are whole numbers (token counts, or money scaled to whole units by the caller); the result is
-- truncated toward zero. NULL when d rounds to 0.
CREATE OR REPLACE TEMP MACRO recon_mul_div(a, m, d) AS (
    CASE WHEN a IS NULL OR m IS NULL OR d IS NULL OR round(d) = 0 THEN NULL ELSE
        CAST(
            CAST(
                (CAST(CAST(a AS DECIMAL(38, 12)) * 1000000000000::DECIMAL(13, 0) AS HUGEINT)
                 * CAST(round(m) AS HUGEINT)) // CAST(round(d) AS HUGEINT)
            AS DECIMAL(38, 0)) * 0.000000000001::DECIMAL(12, 12)
        AS DECIMAL(38, 18))
    END
);

-- Money as whole pico-dollars, for recon_mul_div's m / d when the split is by money, not tokens.
CREATE OR REPLACE TEMP MACRO recon_pico(x) AS (
    round(CAST(x AS DECIMAL(38, 12)) * 1000000000000::DECIMAL(13, 0))
);

-- The key a model is matched on between bill and logs: bills often drop the snapshot date
-- (gpt-4o-2024-08-06 → gpt-4o, claude-sonnet-4-5-20250929 → claude-sonnet-4-5) and some logs carry a
-- route prefix (openai/gpt-4o).
CREATE OR REPLACE TEMP MACRO recon_model_key(m) AS (
    CASE WHEN m IS NULL OR trim(m) = '' THEN NULL ELSE
        regexp_replace(
            regexp_replace(lower(trim(m)), '^.*/', ''),
            '[-@_]?(\d{4}-\d{2}-\d{2}|20\d{6})$', '')
    END
);

-- Who served a bill line, in the logs' provider vocabulary: FOCUS says "Microsoft" / "AWS" /
-- "Google Cloud" as the provider and the AI service in the service name.
CREATE OR REPLACE TEMP MACRO recon_provider_key(provider, service) AS (
    CASE
        WHEN lower(coalesce(provider, '')) IN ('microsoft', 'azure', 'microsoft azure')
             OR lower(coalesce(service, '')) LIKE '%azure%' THEN 'azure.openai'
        WHEN lower(coalesce(provider, '')) IN ('aws', 'amazon web services', 'amazon')
             OR lower(coalesce(service, '')) LIKE '%bedrock%' THEN 'aws.bedrock'
        WHEN lower(coalesce(provider, '')) IN ('google cloud', 'gcp', 'google cloud platform')
             OR lower(coalesce(service, '')) LIKE '%vertex%' THEN 'gcp.vertex_ai'
        ELSE normalize_provider(provider)
    END
);
