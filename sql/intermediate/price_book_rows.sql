-- requires: charge_price_book, charge_price_book_frozen, price_book, price_book_frozen
-- creates: charge_book_fingerprint, charge_book_rows, price_book_rows, price_identities
-- The price book as pricing reads it (intermediate/fresh_priced_calls.sql) and the identities a stored cost is
-- checked against (intermediate/calls_to_price.sql).
-- price_book_rows: the live book and the frozen months' snapshots in one relation, told apart by _frozen_month
-- (0001-01-01 = live); _row_id is a hash of every column of the row, frozen month included, so a price, window,
-- tier, source or discount that changes, or a month that is frozen or re-frozen, gives the row a new identity.
-- price_identities: every row's identity, and the fingerprint of the whole token book (what a call no row
-- priced was checked against). charge_book_fingerprint: the same for the charge book (tools, fees, …).
CREATE OR REPLACE TEMP VIEW price_book_rows AS
SELECT hash(r) AS _row_id, r.* FROM (
    SELECT DATE '0001-01-01' AS _frozen_month, * FROM price_book
    UNION ALL BY NAME
    SELECT month AS _frozen_month, * EXCLUDE (month, catalog_version, frozen_at) FROM price_book_frozen
) AS r;

CREATE OR REPLACE TEMP VIEW charge_book_rows AS
SELECT DATE '0001-01-01' AS _frozen_month, * FROM charge_price_book
UNION ALL BY NAME
SELECT month AS _frozen_month, * EXCLUDE (month, catalog_version, frozen_at) FROM charge_price_book_frozen;

CREATE OR REPLACE TEMP TABLE price_identities AS
SELECT _row_id AS id, false AS whole_book FROM price_book_rows
UNION ALL
SELECT hash(coalesce(list(_row_id ORDER BY _row_id), [])), true FROM price_book_rows;

CREATE OR REPLACE TEMP TABLE charge_book_fingerprint AS
SELECT hash(coalesce(list(hash(r) ORDER BY hash(r)), [])) AS id FROM charge_book_rows AS r;
