-- requires: calls
-- creates: priced_calls
-- priced_calls: one row per call with its exact cost (docs/definitions.md#cost-of-a-call), as stored on the call
-- when it was loaded or last re-priced (intermediate/store_call_costs.sql, from fresh_priced_calls.sql): a report
-- reads costs, it does not compute them. The columns and their order are those of fresh_priced_calls.
-- A call without a price (unknown model, no token price) has priced = false and NULL costs, never 0.
-- Needs the pricing_variant() macro: costlens.pricing.catalog.install_macros(con).
CREATE OR REPLACE VIEW priced_calls AS
SELECT
    c.* EXCLUDE (
        priced_with, charges_priced_with, stored_priced, stored_variant_applied, stored_discount_pct,
        stored_price_source, stored_input_cost_usd, stored_cache_read_cost_usd, stored_cache_write_cost_usd,
        stored_output_cost_usd, stored_request_cost_usd, stored_charge_token_cost_usd, stored_tool_cost_usd,
        stored_fee_cost_usd, stored_unpriced_charges, stored_cost_usd
    ),
    pricing_variant(c.service_tier, c.is_batch) AS variant,
    c.input_tokens + c.cache_read_tokens + c.cache_write_5m_tokens + c.cache_write_1h_tokens AS total_input_tokens,
    c.stored_priced AS priced,
    c.stored_variant_applied AS variant_applied,
    c.stored_discount_pct AS discount_pct,
    c.stored_price_source AS price_source,
    c.stored_input_cost_usd AS input_cost_usd,
    c.stored_cache_read_cost_usd AS cache_read_cost_usd,
    c.stored_cache_write_cost_usd AS cache_write_cost_usd,
    c.stored_output_cost_usd AS output_cost_usd,
    c.stored_request_cost_usd AS request_cost_usd,
    c.stored_charge_token_cost_usd AS charge_token_cost_usd,
    c.stored_tool_cost_usd AS tool_cost_usd,
    c.stored_fee_cost_usd AS fee_cost_usd,
    c.stored_unpriced_charges AS unpriced_charges,
    c.stored_charge_token_cost_usd + c.stored_tool_cost_usd + c.stored_fee_cost_usd AS charges_cost_usd,
    c.stored_cost_usd AS cost_usd
FROM calls AS c;
