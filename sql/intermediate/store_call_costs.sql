-- requires: charge_book_fingerprint, fresh_priced_calls, price_identities
-- creates: repriced_calls
-- Store the cost of every call of calls_to_price (priced by intermediate/fresh_priced_calls.sql) on the call.
-- priced_with: the identity of the book row that priced it, else the whole token book's fingerprint;
-- charges_priced_with: the charge book's fingerprint when the call has counted charges, else NULL.
-- Materialised first (intermediate/store_call_costs_update.sql then writes them in slices): the UPDATE joins a
-- finished table, never a view over the table it writes.
CREATE OR REPLACE TEMP TABLE repriced_calls AS
SELECT
    call_id,
    CASE WHEN priced THEN _price_row_id ELSE (SELECT id FROM price_identities WHERE whole_book) END AS priced_with,
    CASE WHEN _charged THEN (SELECT id FROM charge_book_fingerprint) END AS charges_priced_with,
    priced, variant_applied, discount_pct, price_source, input_cost_usd, cache_read_cost_usd, cache_write_cost_usd,
    output_cost_usd, request_cost_usd, charge_token_cost_usd, tool_cost_usd, fee_cost_usd, unpriced_charges, cost_usd
FROM fresh_priced_calls;
