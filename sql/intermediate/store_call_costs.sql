-- requires: calls, charge_book_fingerprint, fresh_priced_calls, price_identities
-- creates: repriced_calls
-- Store the cost of every call of calls_to_price (priced by intermediate/fresh_priced_calls.sql) on the call.
-- priced_with: the identity of the book row that priced it, else the whole token book's fingerprint;
-- charges_priced_with: the charge book's fingerprint when the call has counted charges, else NULL.
-- Materialised first: the UPDATE then joins a finished table, never a view over the table it writes.
CREATE OR REPLACE TEMP TABLE repriced_calls AS
SELECT
    call_id,
    CASE WHEN priced THEN _price_row_id ELSE (SELECT id FROM price_identities WHERE whole_book) END AS priced_with,
    CASE WHEN _charged THEN (SELECT id FROM charge_book_fingerprint) END AS charges_priced_with,
    priced, variant_applied, discount_pct, price_source, input_cost_usd, cache_read_cost_usd, cache_write_cost_usd,
    output_cost_usd, request_cost_usd, charge_token_cost_usd, tool_cost_usd, fee_cost_usd, unpriced_charges, cost_usd
FROM fresh_priced_calls;

UPDATE calls SET
    priced_with = r.priced_with,
    charges_priced_with = r.charges_priced_with,
    stored_priced = r.priced,
    stored_variant_applied = r.variant_applied,
    stored_discount_pct = r.discount_pct,
    stored_price_source = r.price_source,
    stored_input_cost_usd = r.input_cost_usd,
    stored_cache_read_cost_usd = r.cache_read_cost_usd,
    stored_cache_write_cost_usd = r.cache_write_cost_usd,
    stored_output_cost_usd = r.output_cost_usd,
    stored_request_cost_usd = r.request_cost_usd,
    stored_charge_token_cost_usd = r.charge_token_cost_usd,
    stored_tool_cost_usd = r.tool_cost_usd,
    stored_fee_cost_usd = r.fee_cost_usd,
    stored_unpriced_charges = r.unpriced_charges,
    stored_cost_usd = r.cost_usd
FROM repriced_calls AS r
WHERE calls.call_id = r.call_id;
