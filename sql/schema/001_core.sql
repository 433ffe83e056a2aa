-- requires: none
-- creates: billing_lines, call_charges, call_content, calls, charge_price_book, charge_price_book_frozen,
--   ingest_run_seq, ingest_runs, ingested_files, meta, outcomes, price_book, price_book_frozen, quarantine,
--   trace_context, unpriced_charges, unpriced_models, unpriced_usage
-- Canonical tables (docs/architecture.md#canonical-tables). One convention for tokens: additive, never
-- overlapping (docs/definitions.md#token-convention).
-- Timestamps are UTC (TIMESTAMP without zone, documented as UTC). Money is DECIMAL(38,18).

CREATE TABLE IF NOT EXISTS meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR
);

CREATE SEQUENCE IF NOT EXISTS ingest_run_seq START 1;

CREATE TABLE IF NOT EXISTS ingest_runs (
    run_id        BIGINT PRIMARY KEY,
    started_at    TIMESTAMP,
    finished_at   TIMESTAMP,
    costlens_version VARCHAR,
    files_seen    BIGINT,
    files_ingested BIGINT,
    files_skipped BIGINT,
    rows_read     BIGINT,
    rows_loaded   BIGINT,
    rows_duplicate BIGINT,
    rows_quarantined BIGINT,
    rows_skipped  BIGINT
);

-- One row per ingested file: the manifest that makes re-ingesting a file a no-op.
CREATE TABLE IF NOT EXISTS ingested_files (
    source_sha256  VARCHAR PRIMARY KEY,
    source_file    VARCHAR,
    source_format  VARCHAR,
    target_table   VARCHAR,
    size_bytes     BIGINT,
    mtime_ns       BIGINT,
    run_id         BIGINT,
    ingested_at    TIMESTAMP,
    rows_read      BIGINT,
    rows_loaded    BIGINT,
    rows_duplicate BIGINT,
    rows_quarantined BIGINT,
    rows_skipped   BIGINT
);

CREATE TABLE IF NOT EXISTS calls (
    call_id               VARCHAR NOT NULL,
    source_format         VARCHAR NOT NULL,
    source_file           VARCHAR NOT NULL,
    source_sha256         VARCHAR NOT NULL,
    source_row            BIGINT  NOT NULL,
    run_id                BIGINT,
    ts                    TIMESTAMP NOT NULL,       -- UTC
    latency_ms            DOUBLE,
    provider              VARCHAR,
    model                 VARCHAR NOT NULL,         -- as answered (response model), else as requested
    request_model         VARCHAR,
    operation             VARCHAR,
    service_tier          VARCHAR,                  -- standard | priority | flex | batch
    is_batch              BOOLEAN,
    input_tokens          BIGINT NOT NULL,          -- uncached input billed at the base rate
    cache_read_tokens     BIGINT NOT NULL,
    cache_write_5m_tokens BIGINT NOT NULL,
    cache_write_1h_tokens BIGINT NOT NULL,
    output_tokens         BIGINT NOT NULL,          -- includes reasoning
    reasoning_tokens      BIGINT NOT NULL,          -- informational subset of output_tokens
    status                VARCHAR NOT NULL,         -- ok | error
    error_type            VARCHAR,
    http_status           INTEGER,
    finish_reason         VARCHAR,
    max_tokens            BIGINT,
    task_id               VARCHAR,
    session_id            VARCHAR,
    trace_id              VARCHAR,
    feature               VARCHAR,
    team                  VARCHAR,
    customer              VARCHAR,
    user_id               VARCHAR,
    environment           VARCHAR,
    tags                  MAP(VARCHAR, VARCHAR),
    prompt_hash           VARCHAR,
    prefix_hash           VARCHAR,
    prefix_tokens         BIGINT,
    reported_cost_usd     DECIMAL(38,18)
);

CREATE TABLE IF NOT EXISTS outcomes (
    task_id          VARCHAR NOT NULL,
    accepted         BOOLEAN,
    quality_score    DOUBLE,                        -- 0..1
    human_review     BOOLEAN,
    rework_minutes   DOUBLE,
    rework_cost_usd  DECIMAL(38,18),
    delay_minutes    DOUBLE,
    source_format    VARCHAR NOT NULL,
    source_file      VARCHAR NOT NULL,
    source_sha256    VARCHAR NOT NULL,
    source_row       BIGINT NOT NULL,
    run_id           BIGINT
);

CREATE TABLE IF NOT EXISTS billing_lines (
    line_id              VARCHAR NOT NULL,
    charge_period_start  TIMESTAMP,
    charge_period_end    TIMESTAMP,
    billing_period_start TIMESTAMP,
    billing_period_end   TIMESTAMP,
    provider             VARCHAR,                   -- who served it (ProviderName / ServiceProviderName)
    invoice_issuer       VARCHAR,
    service_name         VARCHAR,
    service_category     VARCHAR,
    service_subcategory  VARCHAR,
    charge_category      VARCHAR,
    charge_class         VARCHAR,                   -- FOCUS ChargeClass; 'usage-only' marks token-only lines of usage reports
    charge_description   VARCHAR,
    sku_id               VARCHAR,
    sku_meter            VARCHAR,
    is_ai                BOOLEAN NOT NULL,          -- counted as AI spend
    model                VARCHAR,                   -- parsed from SKU / meter text
    token_type           VARCHAR,                   -- input | output | cache_read | cache_write_5m | cache_write_1h | other
    quantity_tokens      DECIMAL(38,6),
    pricing_quantity     DECIMAL(38,9),
    pricing_unit         VARCHAR,
    consumed_quantity    DECIMAL(38,9),
    consumed_unit        VARCHAR,
    billed_cost          DECIMAL(38,18),
    effective_cost       DECIMAL(38,18),
    list_cost            DECIMAL(38,18),
    contracted_cost      DECIMAL(38,18),
    currency             VARCHAR,
    billing_account_id   VARCHAR,
    sub_account_id       VARCHAR,
    sub_account_name     VARCHAR,
    region               VARCHAR,
    resource_id          VARCHAR,
    project_id           VARCHAR,                   -- OpenAI project, GCP project
    workspace_id         VARCHAR,                   -- Anthropic workspace
    api_key_id           VARCHAR,
    billed_user_id       VARCHAR,
    service_tier         VARCHAR,                   -- standard | priority | flex | batch
    is_batch             BOOLEAN,
    context_window       VARCHAR,                   -- e.g. Anthropic '0-200k' | '200k-1M'
    request_count        BIGINT,
    host_provider        VARCHAR,                   -- FOCUS 1.3 HostProviderName, marketplace host
    pricing_currency     VARCHAR,
    tags                 MAP(VARCHAR, VARCHAR),
    source_format        VARCHAR NOT NULL,
    source_file          VARCHAR NOT NULL,
    source_sha256        VARCHAR NOT NULL,
    source_row           BIGINT NOT NULL,
    run_id               BIGINT
);

-- Prompt text, only when the user opts in (--keep-content / ingest.keep_content); never by default.
CREATE TABLE IF NOT EXISTS call_content (
    call_id      VARCHAR NOT NULL,
    prompt_text  VARCHAR,
    prefix_text  VARCHAR
);

-- Attribution known per trace rather than per call (e.g. Langfuse traces: name → feature, session, user).
-- Calls pick it up by trace_id at report time when they carry no attribution of their own.
CREATE TABLE IF NOT EXISTS trace_context (
    trace_id       VARCHAR NOT NULL,
    ts             TIMESTAMP,
    feature        VARCHAR,
    task_id        VARCHAR,
    session_id     VARCHAR,
    user_id        VARCHAR,
    team           VARCHAR,
    customer       VARCHAR,
    environment    VARCHAR,
    tags           MAP(VARCHAR, VARCHAR),
    source_format  VARCHAR NOT NULL,
    source_file    VARCHAR NOT NULL,
    source_sha256  VARCHAR NOT NULL,
    source_row     BIGINT NOT NULL,
    run_id         BIGINT
);

-- Rows that were read but not loaded: rejected (bad data) or skipped (not applicable, e.g. a tool span).
CREATE TABLE IF NOT EXISTS quarantine (
    source_file    VARCHAR NOT NULL,
    source_sha256  VARCHAR NOT NULL,
    source_format  VARCHAR,
    source_row     BIGINT,
    disposition    VARCHAR NOT NULL,                -- rejected | skipped | duplicate (a second row of one call, with the reason)
    reason         VARCHAR NOT NULL,
    run_id         BIGINT
);

-- One row per (provider, model, variant, validity window, time-of-day window, tier) with $/Mtok prices.
-- Built from genai-prices for the DISTINCT keys found in calls, plus config overrides; calls are priced
-- by joining on (provider, model, variant) and the window / tier conditions.
CREATE TABLE IF NOT EXISTS price_book (
    provider              VARCHAR NOT NULL,         -- as in calls.provider
    model                 VARCHAR NOT NULL,         -- as in calls.model
    variant               VARCHAR NOT NULL,         -- standard | batch | priority | flex
    valid_from            TIMESTAMP NOT NULL,       -- inclusive, UTC
    valid_to              TIMESTAMP NOT NULL,       -- exclusive, UTC
    tod_from_s            INTEGER NOT NULL,         -- time-of-day window in seconds since UTC midnight, inclusive
    tod_to_s              INTEGER NOT NULL,         -- exclusive; [0, 86400) means all day
    tier_above_tokens     BIGINT NOT NULL,          -- tier applies when total input tokens > this (-1 = base)
    tier_upto_tokens      BIGINT NOT NULL,          -- ... and <= this (next tier's threshold, or a huge number)
    input_mtok            DECIMAL(38,18) NOT NULL,
    cache_read_mtok       DECIMAL(38,18) NOT NULL,
    cache_write_5m_mtok   DECIMAL(38,18) NOT NULL,
    cache_write_1h_mtok   DECIMAL(38,18) NOT NULL,
    output_mtok           DECIMAL(38,18) NOT NULL,
    reasoning_mtok        DECIMAL(38,18) NOT NULL,
    request_usd           DECIMAL(38,18) NOT NULL,  -- flat price per request
    catalog_provider      VARCHAR,                  -- how it resolved: genai-prices provider id
    catalog_model         VARCHAR,                  -- genai-prices model id
    variant_applied       BOOLEAN,                  -- false when the catalog has no price for this variant (standard used)
    source                VARCHAR NOT NULL,         -- 'genai-prices 0.2.3' | 'override: <config>'
    discount_pct          DECIMAL(9,6) NOT NULL DEFAULT 0
);

-- Keys that could not be priced: listed, counted, never $0.
CREATE TABLE IF NOT EXISTS unpriced_models (
    provider VARCHAR NOT NULL,
    model    VARCHAR NOT NULL,
    variant  VARCHAR NOT NULL,
    reason   VARCHAR NOT NULL
);

-- Closed months frozen at the prices they were first reported with (docs/definitions.md#closed-months): a
-- snapshot of the price_book rows that priced each closed month's calls. Calls of a frozen month are priced
-- from here, so a later price-book update does not move them; `costlens report --reprice` takes a new snapshot.
CREATE TABLE IF NOT EXISTS price_book_frozen (
    month                 DATE NOT NULL,            -- first day of the closed month (UTC)
    provider              VARCHAR NOT NULL,
    model                 VARCHAR NOT NULL,
    variant               VARCHAR NOT NULL,
    valid_from            TIMESTAMP NOT NULL,
    valid_to              TIMESTAMP NOT NULL,
    tod_from_s            INTEGER NOT NULL,
    tod_to_s              INTEGER NOT NULL,
    tier_above_tokens     BIGINT NOT NULL,
    tier_upto_tokens      BIGINT NOT NULL,
    input_mtok            DECIMAL(38,18) NOT NULL,
    cache_read_mtok       DECIMAL(38,18) NOT NULL,
    cache_write_5m_mtok   DECIMAL(38,18) NOT NULL,
    cache_write_1h_mtok   DECIMAL(38,18) NOT NULL,
    output_mtok           DECIMAL(38,18) NOT NULL,
    reasoning_mtok        DECIMAL(38,18) NOT NULL,
    request_usd           DECIMAL(38,18) NOT NULL,
    catalog_provider      VARCHAR,
    catalog_model         VARCHAR,
    variant_applied       BOOLEAN,
    source                VARCHAR NOT NULL,
    discount_pct          DECIMAL(9,6) NOT NULL DEFAULT 0,
    catalog_version       VARCHAR NOT NULL,         -- the bundled genai-prices at freeze time
    frozen_at             TIMESTAMP NOT NULL        -- UTC
);

-- Billed quantities of a call beyond its six token columns: server-side tools (web search, web fetch, file
-- search, code execution / container time), generated images, audio and image tokens, per-request fees.
-- One row per (call, kind, detail). Priced by charge_price_book (genai-prices where it has the unit, else the
-- dated table shipped in costlens/data/charge_prices.csv, else [[prices.charges]]); a kind with no price is
-- unpriced usage in the report's coverage, never $0. `counted = false` marks quantities that are only
-- flagged, never billed into the total (e.g. tokens hidden in a total larger than its parts).
CREATE TABLE IF NOT EXISTS call_charges (
    call_id        VARCHAR NOT NULL,
    kind           VARCHAR NOT NULL,
    quantity       DECIMAL(38,6) NOT NULL,
    unit           VARCHAR NOT NULL,                 -- token | call | session | image | hour
    detail         VARCHAR,                          -- e.g. an image's size and quality
    source_field   VARCHAR,                          -- the producer's field it was read from
    counted        BOOLEAN NOT NULL DEFAULT true,
    source_sha256  VARCHAR,
    run_id         BIGINT
);

-- Usage a producer reported that costlens does not read or price, per file, producer and field: shown in
-- the report's coverage so an unpriced quantity is never silent.
CREATE TABLE IF NOT EXISTS unpriced_usage (
    source_file    VARCHAR NOT NULL,
    source_sha256  VARCHAR NOT NULL,
    source_format  VARCHAR,
    producer       VARCHAR,                          -- e.g. the instrumentation scope, or the source format
    field          VARCHAR NOT NULL,                 -- the field's name or path as the producer wrote it
    calls          BIGINT NOT NULL,
    quantity       DECIMAL(38,6),
    run_id         BIGINT
);

-- Unit prices of call_charges kinds, per (provider, model, variant, kind) and validity window (the same
-- windows as price_book). usd_per_unit is the price of ONE unit (a token, a call, an image, an hour).
CREATE TABLE IF NOT EXISTS charge_price_book (
    provider       VARCHAR NOT NULL,
    model          VARCHAR NOT NULL,
    variant        VARCHAR NOT NULL,
    kind           VARCHAR NOT NULL,
    detail         VARCHAR,                          -- NULL = any detail
    valid_from     TIMESTAMP NOT NULL,
    valid_to       TIMESTAMP NOT NULL,
    usd_per_unit   DECIMAL(38,18) NOT NULL,
    family         VARCHAR NOT NULL,                 -- tokens | tool | request
    source         VARCHAR NOT NULL,
    discount_pct   DECIMAL(9,6) NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS unpriced_charges (
    provider VARCHAR NOT NULL,
    model    VARCHAR NOT NULL,
    variant  VARCHAR NOT NULL,
    kind     VARCHAR NOT NULL,
    reason   VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS charge_price_book_frozen (
    month          DATE NOT NULL,
    provider       VARCHAR NOT NULL,
    model          VARCHAR NOT NULL,
    variant        VARCHAR NOT NULL,
    kind           VARCHAR NOT NULL,
    detail         VARCHAR,
    valid_from     TIMESTAMP NOT NULL,
    valid_to       TIMESTAMP NOT NULL,
    usd_per_unit   DECIMAL(38,18) NOT NULL,
    family         VARCHAR NOT NULL,
    source         VARCHAR NOT NULL,
    discount_pct   DECIMAL(9,6) NOT NULL DEFAULT 0,
    catalog_version VARCHAR NOT NULL,
    frozen_at      TIMESTAMP NOT NULL
);
