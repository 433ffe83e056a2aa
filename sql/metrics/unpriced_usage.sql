-- requires: call_charges, calls, period_calls, unpriced_charges, unpriced_usage
-- creates: none
-- Billed quantities of the period the cost does not include (README "Never silent"), one row per kind,
-- producer and field:
--   unread_field     a usage field a producer wrote that costlens does not read (from the files that gave
--                    the period's calls);
--   unpriced_charge  a charge (tool, image, audio tokens, …) with no price for its model;
--   hidden_tokens    tokens a total reports beyond its parts (Gemini thinking folded into a total), with
--                    an estimate at the call's own output rate.
-- Inputs: period_calls, calls, call_charges, unpriced_usage, unpriced_charges, report_period.
WITH period_files AS (
    SELECT DISTINCT c.source_sha256
    FROM calls c, report_period r
    WHERE c.ts >= r.start_ts AND c.ts < r.end_ts
),
period_charges AS (
    SELECT ch.*, p.provider, p.model, p.variant, p.source_format, p.priced, p.output_cost_usd, p.output_tokens
    FROM call_charges ch
    JOIN period_calls p USING (call_id)
),
rows AS (
    SELECT 'unread_field' AS kind, u.producer, u.field, sum(u.calls) AS calls, sum(u.quantity) AS quantity,
           'a usage field costlens does not read or price' AS reason, CAST(NULL AS DECIMAL(38, 18)) AS est_cost_usd
    FROM unpriced_usage u
    WHERE u.source_sha256 IN (SELECT source_sha256 FROM period_files)
    GROUP BY ALL
    UNION ALL
    SELECT 'unpriced_charge', any_value(g.source_format), g.kind || coalesce(' (' || g.detail || ')', ''),
           count(DISTINCT g.call_id), sum(g.quantity),
           coalesce(any_value(u.reason), 'no price') || ' [' || coalesce(nullif(g.provider, ''), '?') || ' / '
               || g.model || ']',
           NULL
    FROM period_charges g
    JOIN unpriced_charges u
      ON u.provider = coalesce(g.provider, '') AND u.model = g.model AND u.variant = g.variant AND u.kind = g.kind
    WHERE g.counted AND g.priced
    GROUP BY g.provider, g.model, g.kind, g.detail
    UNION ALL
    SELECT 'hidden_tokens', any_value(g.source_format), g.source_field, count(DISTINCT g.call_id), sum(g.quantity),
           'tokens in the total beyond its parts (e.g. thinking the producer folds into the total): not billed '
               || 'into the cost; the estimate prices them at the call''s output rate',
           CAST(sum(CASE WHEN g.output_tokens > 0
                         THEN g.quantity * g.output_cost_usd / g.output_tokens END) AS DECIMAL(38, 18))
    FROM period_charges g
    WHERE NOT g.counted AND g.kind = 'hidden_tokens'
    GROUP BY g.source_field
)
SELECT kind, producer, field, CAST(calls AS BIGINT) AS calls, quantity, reason, est_cost_usd
FROM rows
ORDER BY kind, calls DESC, field;
