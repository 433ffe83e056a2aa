-- requires: calls, fresh_priced_calls, price_identities
-- creates: none
-- Insert a file's new calls (load/calls_new.sql) with the cost pricing gave them (price once:
-- docs/architecture.md#stored-costs). A call with charges is stored with priced_with NULL: it is priced again
-- after its charges are loaded (costlens.pricing.stored.price_calls at the end of the ingest).
-- The statement's row count is the file's loaded rows (the runner reads it).
INSERT INTO calls BY NAME
SELECT
    * EXCLUDE (
        variant, total_input_tokens, priced, variant_applied, discount_pct, price_source, _price_row_id,
        input_cost_usd, cache_read_cost_usd, cache_write_cost_usd, output_cost_usd, request_cost_usd,
        charge_token_cost_usd, tool_cost_usd, fee_cost_usd, unpriced_charges, _charged, charges_cost_usd, cost_usd,
        _charges_pending
    ),
    CASE WHEN _charges_pending THEN NULL
         WHEN priced THEN _price_row_id
         ELSE (SELECT id FROM price_identities WHERE whole_book) END AS priced_with,
    priced AS stored_priced,
    variant_applied AS stored_variant_applied,
    discount_pct AS stored_discount_pct,
    price_source AS stored_price_source,
    input_cost_usd AS stored_input_cost_usd,
    cache_read_cost_usd AS stored_cache_read_cost_usd,
    cache_write_cost_usd AS stored_cache_write_cost_usd,
    output_cost_usd AS stored_output_cost_usd,
    request_cost_usd AS stored_request_cost_usd,
    charge_token_cost_usd AS stored_charge_token_cost_usd,
    tool_cost_usd AS stored_tool_cost_usd,
    fee_cost_usd AS stored_fee_cost_usd,
    unpriced_charges AS stored_unpriced_charges,
    cost_usd AS stored_cost_usd
FROM fresh_priced_calls;
