"""Effective prices per additive token kind: the value objects behind one `price_book` row."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal

# Open ends of validity windows (price_book columns are NOT NULL, so no NULL = "forever").
BEGINNING = datetime(1970, 1, 1)
END_OF_TIME = datetime(9999, 12, 31)
DAY_SECONDS = 86_400
MAX_TOKENS = 9_223_372_036_854_775_807  # BIGINT max: the open upper end of the last tier
BASE_TIER = -1  # tier_above_tokens of the base tier: every request has more than -1 input tokens

_SCALE = Decimal("1e-18")  # price_book money columns are DECIMAL(38,18)


def to_money(value: Decimal) -> Decimal:
    """Round to the DECIMAL(38,18) the table stores (exact for every catalog price)."""
    return value.quantize(_SCALE)


@dataclass(frozen=True)
class KindPrices:
    """USD per million tokens of each additive token kind in `calls`, plus a flat per-request price."""

    input_mtok: Decimal
    cache_read_mtok: Decimal
    cache_write_5m_mtok: Decimal
    cache_write_1h_mtok: Decimal
    output_mtok: Decimal
    reasoning_mtok: Decimal
    request_usd: Decimal = Decimal(0)

    def scaled(self, factor: Decimal) -> KindPrices:
        """Every price times `factor` (a discount is `1 - pct/100`)."""
        return KindPrices(**{f.name: to_money(getattr(self, f.name) * factor) for f in fields(self)})

    def as_dict(self) -> dict[str, Decimal]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class TierPrices:
    """Prices for requests whose total input tokens are in (above_tokens, upto_tokens]."""

    above_tokens: int
    upto_tokens: int
    prices: KindPrices
