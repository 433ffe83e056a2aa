-- requires: none
-- creates: call_sketches, price_book_keys, replacements, revenue
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

-- Price once (docs/architecture.md#stored-costs): every call's cost, as sql/intermediate/fresh_priced_calls.sql
-- computes it, is stored on the call when it is loaded (intermediate/store_call_costs.sql) and read by the
-- priced_calls view. priced_with names what priced it: the book row's identity (a hash of every column of the
-- row, frozen month included), or, for a call no row priced, the whole token book's fingerprint (a new book
-- re-checks it); charges_priced_with the charge book's fingerprint for a call with counted charges. A call whose
-- identity is no longer in the current book is priced again; NULL: not priced yet.
ALTER TABLE calls ADD COLUMN IF NOT EXISTS priced_with UBIGINT;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS charges_priced_with UBIGINT;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS stored_priced BOOLEAN;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS stored_variant_applied BOOLEAN;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS stored_discount_pct DECIMAL(9, 6);
ALTER TABLE calls ADD COLUMN IF NOT EXISTS stored_price_source VARCHAR;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS stored_input_cost_usd DECIMAL(38, 18);
ALTER TABLE calls ADD COLUMN IF NOT EXISTS stored_cache_read_cost_usd DECIMAL(38, 18);
ALTER TABLE calls ADD COLUMN IF NOT EXISTS stored_cache_write_cost_usd DECIMAL(38, 18);
ALTER TABLE calls ADD COLUMN IF NOT EXISTS stored_output_cost_usd DECIMAL(38, 18);
ALTER TABLE calls ADD COLUMN IF NOT EXISTS stored_request_cost_usd DECIMAL(38, 18);
ALTER TABLE calls ADD COLUMN IF NOT EXISTS stored_charge_token_cost_usd DECIMAL(38, 18);
ALTER TABLE calls ADD COLUMN IF NOT EXISTS stored_tool_cost_usd DECIMAL(38, 18);
ALTER TABLE calls ADD COLUMN IF NOT EXISTS stored_fee_cost_usd DECIMAL(38, 18);
ALTER TABLE calls ADD COLUMN IF NOT EXISTS stored_unpriced_charges BIGINT;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS stored_cost_usd DECIMAL(38, 18);

-- The keys (and the time span of their calls) the price book was last resolved for, and from what inputs
-- (meta 'price_book_inputs': catalog version, [prices], aliases): ingest prices a file's calls as it inserts
-- them, and resolves the book again only when a key or a time span is new (costlens/pricing/stored.py).
CREATE TABLE IF NOT EXISTS price_book_keys (
    provider VARCHAR NOT NULL,
    model    VARCHAR NOT NULL,
    variant  VARCHAR NOT NULL,
    ts_min   TIMESTAMP NOT NULL,
    ts_max   TIMESTAMP NOT NULL
);

-- A privacy-preserving sketch of each request's own text, for the semantic-cache estimate
-- (sql/leaks/cache_miss.sql, sub-kind semantic_cache): a one-permutation MinHash of the request's word pairs
-- (load/prompt_sketches.sql). The text itself is never stored (only with --keep-content, in call_content).
-- Apart from `calls`, which every report scans: only the cache detector reads it.
CREATE TABLE IF NOT EXISTS call_sketches (
    call_id     VARCHAR NOT NULL,
    sketch      UINTEGER[] NOT NULL,   -- per non-empty bin (value % bins), the bin's least 32-bit pair hash
    words       INTEGER NOT NULL,      -- normalised words of the request
    run_id      BIGINT
);

-- What each customer paid per month (costlens/ingest/revenue.py), set against AI cost per customer and plan
-- (sql/metrics/customer_economics.sql). One amount per customer and month: the latest delivery wins.
CREATE TABLE IF NOT EXISTS revenue (
    customer         VARCHAR NOT NULL,
    month            DATE NOT NULL,             -- the first day of the month the revenue belongs to
    revenue_usd      DECIMAL(38,18) NOT NULL,
    plan             VARCHAR,
    source_format    VARCHAR NOT NULL,
    source_file      VARCHAR NOT NULL,
    source_sha256    VARCHAR NOT NULL,
    source_row       BIGINT NOT NULL,
    run_id           BIGINT
);
