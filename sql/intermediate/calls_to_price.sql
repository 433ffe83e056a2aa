-- requires: calls, charge_book_fingerprint, price_identities
-- creates: calls_to_price
-- The calls whose stored cost is missing or no longer what the book gives (docs/architecture.md#stored-costs):
-- never priced (priced_with NULL: just loaded, or a database from before costs were stored); priced by a book
-- row that is no longer in the book (a new genai-prices release, a [prices] override, a frozen or re-frozen
-- month); left unpriced by a token book that has changed since; with counted charges priced by a charge book
-- that has changed since. Everything else keeps its cost: a report never prices it again.
-- Output: the calls' own columns, without the stored ones (fresh_priced_calls reads them).
CREATE OR REPLACE TEMP VIEW calls_to_price AS
SELECT * EXCLUDE (
    priced_with, charges_priced_with, stored_priced, stored_variant_applied, stored_discount_pct,
    stored_price_source, stored_input_cost_usd, stored_cache_read_cost_usd, stored_cache_write_cost_usd,
    stored_output_cost_usd, stored_request_cost_usd, stored_charge_token_cost_usd, stored_tool_cost_usd,
    stored_fee_cost_usd, stored_unpriced_charges, stored_cost_usd
)
FROM calls
WHERE priced_with IS NULL
   OR priced_with NOT IN (SELECT id FROM price_identities)
   OR (charges_priced_with IS NOT NULL AND charges_priced_with <> (SELECT id FROM charge_book_fingerprint));
