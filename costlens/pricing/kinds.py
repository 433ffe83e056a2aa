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


@dataclass(frozen=True)
class ChargeKind:
    """A billed quantity beyond the six token columns of `calls` (a row kind of `call_charges`).

    `usage` is the genai-prices Usage of ONE unit of this kind, with the parents genai-prices' unit tree
    counts it in (an audio input token is also an input token): `ModelPrice.calc_price` of it is the
    catalog's price of one unit. `catalog_keys` are the price keys that price this kind itself;
    `parent_keys` the ones genai-prices falls back to (an audio token without an audio price is billed as
    text input) — used only when neither the catalog nor the shipped table has the kind's own price."""

    unit: str  # token | call | session | image | hour
    family: str  # tokens | tool | request
    usage: tuple[tuple[str, int], ...] = ()
    catalog_keys: tuple[str, ...] = ()
    parent_keys: tuple[str, ...] = ()


CHARGE_KINDS: dict[str, ChargeKind] = {
    "input_audio_tokens": ChargeKind(
        "token", "tokens", (("input_tokens", 1), ("input_audio_tokens", 1)), ("input_audio_mtok",), ("input_mtok",)
    ),
    "cache_audio_read_tokens": ChargeKind(
        "token",
        "tokens",
        (("input_tokens", 1), ("cache_read_tokens", 1), ("input_audio_tokens", 1), ("cache_audio_read_tokens", 1)),
        ("cache_audio_read_mtok",),
        ("input_audio_mtok", "cache_read_mtok", "input_mtok"),
    ),
    "output_audio_tokens": ChargeKind(
        "token", "tokens", (("output_tokens", 1), ("output_audio_tokens", 1)), ("output_audio_mtok",), ("output_mtok",)
    ),
    "input_image_tokens": ChargeKind(
        "token", "tokens", (("input_tokens", 1), ("input_image_tokens", 1)), ("input_image_mtok",), ("input_mtok",)
    ),
    "cache_image_read_tokens": ChargeKind(
        "token",
        "tokens",
        (("input_tokens", 1), ("cache_read_tokens", 1), ("input_image_tokens", 1), ("cache_image_read_tokens", 1)),
        ("cache_image_read_mtok",),
        ("input_image_mtok", "cache_read_mtok", "input_mtok"),
    ),
    "output_image_tokens": ChargeKind(
        "token", "tokens", (("output_tokens", 1), ("output_image_tokens", 1)), ("output_image_mtok",), ("output_mtok",)
    ),
    # server-side tools, per call
    "web_search": ChargeKind("call", "tool", (("web_searches", 1),), ("web_searches_kcount",)),
    "file_search": ChargeKind("call", "tool", (("storage_searches", 1),), ("storage_searches_kcount",)),
    "code_execution": ChargeKind("call", "tool", (("code_executions", 1),), ("code_executions_kcount",)),
    "web_fetch": ChargeKind("call", "tool"),
    "tool_search": ChargeKind("call", "tool"),
    "search_grounding": ChargeKind("call", "tool"),  # Gemini: a prompt grounded with Google Search
    # server-side compute and generated media
    "code_execution_hours": ChargeKind("hour", "tool"),  # Anthropic code execution container time
    "container_session": ChargeKind("session", "tool"),  # OpenAI code interpreter container
    "image_generation": ChargeKind("image", "tool"),  # detail = quality/size
    # a flat fee per request the catalog does not carry
    "request_fee": ChargeKind("call", "request"),
    # flagged, never billed into the total: tokens a total reports beyond its parts (priced as an estimate
    # at the model's output price in the report's coverage)
    "hidden_tokens": ChargeKind("token", "tokens"),
}
