-- requires: nullif_blank, parse_money, quoted_value, read_ts, revenue_labels, revenue_src
-- creates: staged
-- Revenue rows → canonical revenue (customer, month, revenue_usd, plan). Inputs: view revenue_src (source_row,
-- doc_problem and the canonical fields as text, from costlens/ingest/revenue.py) and revenue_labels (the
-- column each field was read from, for reject messages).
-- month: "2026-11", "2026-11-01" or any time read_ts reads, as the first day of its
-- month. revenue: a plain decimal or "$1,234.50" (parse_money); negative amounts (credit notes) are kept.
-- A value that is present but not understood rejects the row, naming the column; it is never read as NULL.
CREATE OR REPLACE TEMP TABLE staged AS
WITH src AS (
    SELECT s.source_row, s.doc_problem,
           trim(nullif_blank(s.customer)) AS customer,
           trim(nullif_blank(s.month)) AS month_raw,
           trim(nullif_blank(s.revenue)) AS revenue_raw,
           trim(nullif_blank(s.plan)) AS plan,
           upper(trim(nullif_blank(s.currency))) AS currency,
           l.*
    FROM revenue_src s CROSS JOIN revenue_labels l
),

typed AS (
    SELECT *,
        CAST(date_trunc('month', CASE WHEN regexp_full_match(month_raw, '[0-9]{4}-[0-9]{1,2}')
                                      THEN try_strptime(month_raw || '-01', '%Y-%m-%d')
                                      ELSE read_ts(month_raw) END) AS DATE) AS month,
        parse_money(revenue_raw) AS revenue_usd
    FROM src
)

SELECT
    source_row,
    customer,
    month,
    revenue_usd,
    plan,
    coalesce(doc_problem, CASE
        WHEN month_raw IS NOT NULL AND month IS NULL
            THEN label_month || ' is not a month (2026-11, 2026-11-01 or a date): ' || quoted_value(month_raw)
        WHEN revenue_raw IS NOT NULL AND revenue_usd IS NULL
            THEN label_revenue || ' is not an amount: ' || quoted_value(revenue_raw)
        WHEN currency IS NOT NULL AND currency <> 'USD'
            THEN label_currency || ' is ' || quoted_value(currency)
                 || ': revenue is read in US dollars (convert the amounts, or drop the column if they already are)'
    END) AS reject_reason,
    CASE WHEN doc_problem IS NULL AND customer IS NOT NULL AND month_raw IS NULL AND revenue_raw IS NULL
         THEN 'no revenue values in this row (month and revenue are empty)'
    END AS skip_reason
FROM typed;
