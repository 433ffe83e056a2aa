"""Closed months stay frozen (docs/definitions.md#closed-months): once a report has covered a month that has
ended, the price_book rows that priced that month's calls are copied into `price_book_frozen`, and the
priced_calls view prices that month's calls from the copy from then on. A later genai-prices release or a new
price override therefore moves only open months; `costlens report --reprice` takes a new snapshot of the months
it covers.

A call of a frozen month whose (provider, model, variant) is not in the snapshot (ingested after the freeze,
with a model the month had not seen) is priced from the live price book.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

    from costlens.model.report import Period


@dataclass(frozen=True)
class FrozenMonth:
    month: date
    catalog_version: str
    frozen_at: datetime
    keys: int  # (provider, model, variant) snapshotted


# Months that overlap [start, end), have ended before `now` and hold calls, with the keys their calls use.
_FREEZE_SQL = """
INSERT INTO price_book_frozen BY NAME
WITH months AS (
    SELECT DISTINCT CAST(date_trunc('month', ts) AS DATE) AS month
    FROM calls
    WHERE ts >= CAST(date_trunc('month', CAST(? AS TIMESTAMP)) AS TIMESTAMP) AND ts < CAST(? AS TIMESTAMP)
),
closed AS (
    SELECT month FROM months
    WHERE month + INTERVAL 1 MONTH <= CAST(? AS TIMESTAMP)
      AND month NOT IN (SELECT month FROM price_book_frozen)
),
used AS (
    SELECT DISTINCT CAST(date_trunc('month', c.ts) AS DATE) AS month, coalesce(c.provider, '') AS provider,
           c.model, pricing_variant(c.service_tier, c.is_batch) AS variant
    FROM calls c
    WHERE c.ts >= (SELECT CAST(min(month) AS TIMESTAMP) FROM closed)
      AND c.ts < (SELECT CAST(max(month) + INTERVAL 1 MONTH AS TIMESTAMP) FROM closed)
)
SELECT u.month, pb.*, ? AS catalog_version, CAST(? AS TIMESTAMP) AS frozen_at
FROM used u
JOIN closed USING (month)
JOIN price_book pb
  ON pb.provider = u.provider AND pb.model = u.model AND pb.variant = u.variant
 AND pb.valid_from < CAST(u.month + INTERVAL 1 MONTH AS TIMESTAMP) AND pb.valid_to > CAST(u.month AS TIMESTAMP)
"""

# The same for charge prices (call_charges kinds), per month not frozen for charges yet.
_FREEZE_CHARGES_SQL = """
INSERT INTO charge_price_book_frozen BY NAME
WITH months AS (
    SELECT DISTINCT CAST(date_trunc('month', ts) AS DATE) AS month
    FROM calls
    WHERE ts >= CAST(date_trunc('month', CAST(? AS TIMESTAMP)) AS TIMESTAMP) AND ts < CAST(? AS TIMESTAMP)
),
closed AS (
    SELECT month FROM months
    WHERE month + INTERVAL 1 MONTH <= CAST(? AS TIMESTAMP)
      AND month NOT IN (SELECT month FROM charge_price_book_frozen)
),
used AS (
    SELECT DISTINCT CAST(date_trunc('month', c.ts) AS DATE) AS month, coalesce(c.provider, '') AS provider,
           c.model, pricing_variant(c.service_tier, c.is_batch) AS variant, ch.kind
    FROM call_charges ch JOIN calls c USING (call_id)
    WHERE c.ts >= (SELECT CAST(min(month) AS TIMESTAMP) FROM closed)
      AND c.ts < (SELECT CAST(max(month) + INTERVAL 1 MONTH AS TIMESTAMP) FROM closed)
)
SELECT u.month, pb.*, ? AS catalog_version, CAST(? AS TIMESTAMP) AS frozen_at
FROM used u
JOIN closed USING (month)
JOIN charge_price_book pb
  ON pb.provider = u.provider AND pb.model = u.model AND pb.variant = u.variant AND pb.kind = u.kind
 AND pb.valid_from < CAST(u.month + INTERVAL 1 MONTH AS TIMESTAMP) AND pb.valid_to > CAST(u.month AS TIMESTAMP)
"""


def freeze_closed_months(
    con: duckdb.DuckDBPyConnection, period: Period, *, refreeze: bool = False, now: datetime | None = None
) -> None:
    """Snapshot the prices of every closed month of `period` not frozen yet (with `refreeze`, replace the
    snapshot of the months `period` covers, from the current price book). Call after the price book is built."""
    from costlens.pricing.catalog import CATALOG_SOURCE, install_macros

    install_macros(con)
    now = (now or datetime.now(UTC)).replace(tzinfo=None)
    start, end = period.start.isoformat(), period.end.isoformat()
    con.begin()
    try:
        if refreeze:
            con.execute(
                "DELETE FROM price_book_frozen WHERE CAST(month AS TIMESTAMP) < CAST(? AS TIMESTAMP) "
                "AND CAST(month + INTERVAL 1 MONTH AS TIMESTAMP) > CAST(? AS TIMESTAMP)",
                [end, start],
            )
            con.execute(
                "DELETE FROM charge_price_book_frozen WHERE CAST(month AS TIMESTAMP) < CAST(? AS TIMESTAMP) "
                "AND CAST(month + INTERVAL 1 MONTH AS TIMESTAMP) > CAST(? AS TIMESTAMP)",
                [end, start],
            )
        con.execute(_FREEZE_SQL, [start, end, now, CATALOG_SOURCE, now])
        con.execute(_FREEZE_CHARGES_SQL, [start, end, now, CATALOG_SOURCE, now])
        con.commit()
    except BaseException:
        con.rollback()
        raise
    from costlens.pricing.stored import store_call_costs

    store_call_costs(con)  # the frozen months' calls are now priced from their snapshot


def frozen_months(con: duckdb.DuckDBPyConnection) -> list[FrozenMonth]:
    rows = con.execute(
        """SELECT month, min(catalog_version), min(frozen_at),
                  count(DISTINCT (provider, model, variant))
           FROM price_book_frozen GROUP BY month ORDER BY month"""
    ).fetchall()
    return [FrozenMonth(month=m, catalog_version=v, frozen_at=f, keys=int(k)) for m, v, f, k in rows]
