-- requires: none
-- creates: replacements
-- Columns added after schema 1's tables were first created: ADD COLUMN IF NOT EXISTS keeps an older
-- database usable (its rows get NULL).

-- The export's own rate from its billing currency to USD (Azure costInUsd ÷ costInBillingCurrency, GCP
-- 1 ÷ currency_conversion_rate), where it gives one; else [currency] rates convert (intermediate/billing_usd.sql).
ALTER TABLE billing_lines ADD COLUMN IF NOT EXISTS fx_to_usd DECIMAL(38, 18);

-- Bills are snapshots: a newer export of the same billing scope and charge day supersedes an older one's lines
-- (load/billing_snapshots.sql). Superseded lines stay, for lineage; only current lines (superseded_by NULL) count.
ALTER TABLE billing_lines ADD COLUMN IF NOT EXISTS superseded_by VARCHAR;   -- the export (sha256) that replaced it
ALTER TABLE billing_lines ADD COLUMN IF NOT EXISTS superseded_run BIGINT;

-- The manifest knows a file by its path, size, modification time AND change time: an in-place edit that keeps
-- the size and the modification time still moves the change time, so the file is hashed and read again.
ALTER TABLE ingested_files ADD COLUMN IF NOT EXISTS ctime_ns BIGINT;

-- What a delivery replaced: bill lines of an older export of the same scope and days, outcomes of tasks a
-- newer outcomes file re-rates. Shown by `costlens runs` and in the reconciliation.
CREATE TABLE IF NOT EXISTS replacements (
    run_id          BIGINT,
    target          VARCHAR NOT NULL,     -- billing_lines | outcomes
    source_file     VARCHAR NOT NULL,     -- the delivery that replaced
    replaced_file   VARCHAR NOT NULL,     -- the earlier delivery
    scope           VARCHAR,              -- billing: the export's scope; outcomes: NULL
    first_day       DATE,
    last_day        DATE,
    rows_replaced   BIGINT NOT NULL,
    amount          DECIMAL(38, 18)       -- billing: the replaced lines' billed cost
);
