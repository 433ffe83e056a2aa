-- requires: calls, repriced_calls
-- creates: none
-- Write the new cost of the calls of repriced_calls (intermediate/store_call_costs.sql) onto the calls, those of
-- a {slice} of its rows. On DuckDB costlens/pricing/stored.py runs it in slices of a million calls
-- (WHERE rowid >= $first AND rowid < $last), each its own transaction:
-- DuckDB keeps an UPDATE's old values in memory until it commits, and one UPDATE of 10M calls ran for minutes
-- where ten slices take ~20 s. A slice that never commits leaves its calls out of date, priced next time.
-- On Spark the table is replaced in one pass (costlens.spark_sql), so the slice is every row.
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
FROM (SELECT * FROM repriced_calls {slice}) AS r
WHERE calls.call_id = r.call_id;
