-- Columns added after schema 1's tables were first created: ADD COLUMN IF NOT EXISTS keeps an older
-- database usable (its rows get NULL).

-- The export's own rate from its billing currency to USD (Azure costInUsd ÷ costInBillingCurrency, GCP
-- 1 ÷ currency_conversion_rate), where it gives one; else [currency] rates convert (intermediate/billing_usd.sql).
ALTER TABLE billing_lines ADD COLUMN IF NOT EXISTS fx_to_usd DECIMAL(38, 18);
