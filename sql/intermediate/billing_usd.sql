-- requires: billing_lines, fx_rates
-- creates: billing_rated, billing_unconverted, billing_usd
-- billing_usd: the billing lines with their money in USD, the report currency. Money in two currencies is
-- never added: a line in another currency is converted with the export's own rate (fx_to_usd) where it has
-- one, else with the [currency] rate valid on its charge day; a line with neither is left out of billing_usd
-- and listed in billing_unconverted, so the report can say which bill was not compared and why.
-- Only current lines: a bill line a newer export of the same scope and day replaced is history
-- (load/billing_snapshots.sql). Inputs: billing_lines, fx_rates(currency, valid_from, usd) from the config.
CREATE OR REPLACE TEMP VIEW billing_rated AS
SELECT b.*,
       -- the rate to 8 decimals, the amounts to the pico-dollar: DECIMAL(38,12) × DECIMAL(20,8) cannot overflow
       CASE WHEN b.currency IS NULL OR upper(trim(b.currency)) = 'USD' THEN CAST(1 AS DECIMAL(20, 8))
            ELSE CAST(coalesce(b.fx_to_usd, f.usd) AS DECIMAL(20, 8)) END AS fx_rate,
       CASE WHEN b.currency IS NULL OR upper(trim(b.currency)) = 'USD' THEN NULL
            WHEN b.fx_to_usd IS NOT NULL THEN 'export'
            WHEN f.usd IS NOT NULL THEN 'config ' || strftime(f.valid_from, '%Y-%m-%d') END AS fx_source
FROM (SELECT * FROM billing_lines WHERE superseded_by IS NULL) b  -- a newer export replaced the others
LEFT JOIN (
    -- each rate with the day the next one of its currency takes over: the rate in force is the one whose span
    -- holds the charge (one at most: the config allows one rate per currency and day)
    SELECT *, lead(valid_from) OVER (PARTITION BY currency ORDER BY valid_from) AS valid_until FROM fx_rates
) f
    ON upper(trim(b.currency)) = f.currency AND b.charge_period_start >= CAST(f.valid_from AS TIMESTAMP)
    AND (f.valid_until IS NULL OR b.charge_period_start < CAST(f.valid_until AS TIMESTAMP));

CREATE OR REPLACE TEMP VIEW billing_usd AS
SELECT * REPLACE (
           -- USD lines keep every digit; converted lines are exact to the pico-dollar at the given rate
           CASE WHEN fx_source IS NULL THEN billed_cost
                ELSE CAST(CAST(billed_cost AS DECIMAL(38, 12)) * fx_rate AS DECIMAL(38, 18)) END AS billed_cost,
           CASE WHEN fx_source IS NULL THEN effective_cost
                ELSE CAST(CAST(effective_cost AS DECIMAL(38, 12)) * fx_rate AS DECIMAL(38, 18)) END AS effective_cost,
           CASE WHEN fx_source IS NULL THEN list_cost
                ELSE CAST(CAST(list_cost AS DECIMAL(38, 12)) * fx_rate AS DECIMAL(38, 18)) END AS list_cost,
           CASE WHEN fx_source IS NULL THEN contracted_cost
                ELSE CAST(CAST(contracted_cost AS DECIMAL(38, 12)) * fx_rate AS DECIMAL(38, 18)) END AS contracted_cost,
           CASE WHEN fx_source IS NULL THEN currency ELSE 'USD' END AS currency),
       currency AS billing_currency,
       billed_cost AS billed_cost_in_billing_currency
FROM billing_rated
WHERE fx_rate IS NOT NULL;

CREATE OR REPLACE TEMP VIEW billing_unconverted AS
SELECT * FROM billing_rated WHERE fx_rate IS NULL;
