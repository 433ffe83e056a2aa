"""The `[prices]` table of costlens.toml: negotiated price overrides and discounts, validated on load.

```toml
[[prices.overrides]]          # a negotiated price replaces the catalog's for that key and window
provider = "openai"           # as in calls.provider (canonical name)
model = "gpt-4o"              # as in calls.model (exact)
variant = "standard"          # standard | batch | flex | priority (default standard)
valid_from = 2025-01-01       # optional, inclusive (UTC)
valid_to = 2026-01-01         # optional, exclusive (UTC)
input_mtok = 2.0              # USD per million tokens
output_mtok = 8.0
cache_read_mtok = 1.0         # optional, default input_mtok
cache_write_5m_mtok = 2.5     # optional, default input_mtok
cache_write_1h_mtok = 4.0     # optional, default cache_write_5m_mtok

[[prices.discounts]]          # a percentage off catalog prices; the first matching entry applies
provider = "anthropic"        # optional glob
model = "claude-*"            # optional glob
pct = 10

[[prices.charges]]            # the price of a charge that is not a token kind (call_charges); wins over
provider = "openai"           # genai-prices and the shipped table (costlens/data/charge_prices.csv)
model = "gpt-5*"              # optional glob, default every model
kind = "web_search"           # web_search | web_fetch | file_search | code_execution | code_execution_hours |
                              # container_session | image_generation | input_audio_tokens | … (see README)
detail = "high/1024x1024"     # optional: only charges with this detail (image quality / size)
usd = 10                      # USD per `per` units (default per = 1)
per = 1000
valid_from = 2025-01-01       # optional, inclusive (UTC); valid_to optional, exclusive
```
Discounts apply to catalog prices only: an override is the price actually paid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from fnmatch import fnmatchcase
from typing import Any, NoReturn

from costlens.errors import ConfigError
from costlens.pricing.kinds import BEGINNING, END_OF_TIME, KindPrices, to_money

VARIANTS = ("standard", "batch", "flex", "priority")

_OVERRIDE_KEYS = {
    "provider",
    "model",
    "variant",
    "valid_from",
    "valid_to",
    "input_mtok",
    "output_mtok",
    "cache_read_mtok",
    "cache_write_5m_mtok",
    "cache_write_1h_mtok",
}
_DISCOUNT_KEYS = {"provider", "model", "pct"}
_CHARGE_KEYS = {"provider", "model", "kind", "detail", "usd", "per", "valid_from", "valid_to"}


class PricesConfigError(ConfigError, ValueError):
    """A bad `[prices]` entry: a ValueError (for library callers) that the CLI maps to the usage exit code."""


@dataclass(frozen=True)
class PriceOverride:
    index: int
    provider: str
    model: str
    variant: str
    valid_from: datetime
    valid_to: datetime
    prices: KindPrices

    @property
    def label(self) -> str:
        return f"prices.overrides[{self.index}]"


@dataclass(frozen=True)
class Discount:
    index: int
    provider: str | None
    model: str | None
    pct: Decimal

    @property
    def label(self) -> str:
        return f"prices.discounts[{self.index}]"

    def matches(self, provider: str | None, model: str) -> bool:
        if self.provider is not None and not fnmatchcase(provider or "", self.provider):
            return False
        return self.model is None or fnmatchcase(model, self.model)


@dataclass(frozen=True)
class ChargePrice:
    """A dated price of one call_charges kind, from [[prices.charges]] or the shipped table."""

    index: int
    provider: str | None  # glob; None = any provider
    model: str | None  # glob; None = any model
    kind: str
    detail: str | None  # None = any detail
    usd_per_unit: Decimal
    valid_from: datetime
    valid_to: datetime
    source: str

    @property
    def label(self) -> str:
        return f"prices.charges[{self.index}]"

    def matches(self, provider: str | None, model: str, kind: str, detail: str | None) -> bool:
        if kind != self.kind or (self.detail is not None and self.detail != detail):
            return False
        if self.provider is not None and not fnmatchcase(provider or "", self.provider):
            return False
        return self.model is None or fnmatchcase(model, self.model)


@dataclass(frozen=True)
class PricesConfig:
    overrides: tuple[PriceOverride, ...] = ()
    discounts: tuple[Discount, ...] = ()
    charges: tuple[ChargePrice, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()  # [models.aliases]: model as called → catalog model

    def catalog_name(self, model: str) -> str:
        return dict(self.aliases).get(model, model)

    def overrides_for(self, provider: str | None, model: str, variant: str) -> list[PriceOverride]:
        return [o for o in self.overrides if (o.provider, o.model, o.variant) == (provider, model, variant)]

    def discount_for(self, provider: str | None, model: str) -> Discount | None:
        # First match wins, so list specific entries before broad ones.
        return next((d for d in self.discounts if d.matches(provider, model)), None)


def parse_prices_config(raw: Mapping[str, Any] | None, aliases: Mapping[str, str] | None = None) -> PricesConfig:
    """Validate the parsed `[prices]` table; raise PricesConfigError (a ValueError) naming entry and fix.
    `aliases` ([models.aliases]) name the catalog model a called model is priced as."""
    alias_pairs = tuple(sorted((aliases or {}).items()))
    if not raw:
        return PricesConfig(aliases=alias_pairs)
    if not isinstance(raw, Mapping):
        _fail("[prices] must be a table", "write [[prices.overrides]] / [[prices.discounts]] entries")
    unknown = sorted(set(raw) - {"overrides", "discounts", "charges"})
    if unknown:
        _fail(f"prices.{unknown[0]} is not a known setting", "use prices.overrides, prices.discounts or prices.charges")
    overrides = tuple(_parse_override(i, e) for i, e in enumerate(_entries(raw, "overrides")))
    _reject_overlaps(overrides)
    discounts = tuple(_parse_discount(i, e) for i, e in enumerate(_entries(raw, "discounts")))
    charges = tuple(_parse_charge(i, e) for i, e in enumerate(_entries(raw, "charges")))
    return PricesConfig(overrides=overrides, discounts=discounts, charges=charges, aliases=alias_pairs)


def _entries(raw: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = raw.get(name, [])
    if not isinstance(value, list):
        _fail(f"prices.{name} must be a list of tables", f"write each entry as [[prices.{name}]]")
    for i, entry in enumerate(value):
        if not isinstance(entry, Mapping):
            _fail(f"prices.{name}[{i}] must be a table", f"write it as [[prices.{name}]] with key = value lines")
    return value


def _parse_override(i: int, e: Mapping[str, Any]) -> PriceOverride:
    where = f"prices.overrides[{i}]"
    _reject_unknown_keys(where, e, _OVERRIDE_KEYS)
    provider = _required_text(where, e, "provider", 'e.g. provider = "openai" (as in calls.provider)')
    model = _required_text(where, e, "model", 'e.g. model = "gpt-4o" (as the logs name it)')
    where = f"{where} ({provider}/{model})"
    variant = e.get("variant", "standard")
    if variant not in VARIANTS:
        _fail(f"{where}: variant {variant!r} is not known", f"use one of {', '.join(VARIANTS)}")
    valid_from = _instant(where, e, "valid_from", BEGINNING)
    valid_to = _instant(where, e, "valid_to", END_OF_TIME)
    if valid_from >= valid_to:
        _fail(f"{where}: valid_from {valid_from} is not before valid_to {valid_to}", "swap or correct the dates")
    input_mtok = _required_price(where, e, "input_mtok")
    cache_write_5m = _first(_price(where, e, "cache_write_5m_mtok"), input_mtok)
    output_mtok = _required_price(where, e, "output_mtok")
    prices = KindPrices(
        input_mtok=input_mtok,
        cache_read_mtok=_first(_price(where, e, "cache_read_mtok"), input_mtok),
        cache_write_5m_mtok=cache_write_5m,
        cache_write_1h_mtok=_first(_price(where, e, "cache_write_1h_mtok"), cache_write_5m),
        output_mtok=output_mtok,
        reasoning_mtok=output_mtok,  # reasoning is billed as output unless a provider says otherwise
    )
    return PriceOverride(i, provider, model, variant, valid_from, valid_to, prices)


def _parse_discount(i: int, e: Mapping[str, Any]) -> Discount:
    where = f"prices.discounts[{i}]"
    _reject_unknown_keys(where, e, _DISCOUNT_KEYS)
    provider = _optional_glob(where, e, "provider")
    model = _optional_glob(where, e, "model")
    if "pct" not in e:
        _fail(f"{where}: missing pct", "add pct = <percent off list price>, e.g. pct = 10")
    pct = _decimal(where, "pct", e["pct"])
    if not Decimal(0) <= pct <= Decimal(100) or pct != pct.quantize(Decimal("1e-6")):
        _fail(f"{where}: pct {e['pct']!r} is out of range", "use a percentage from 0 to 100 with at most 6 decimals")
    return Discount(i, provider, model, pct)


def _parse_charge(i: int, e: Mapping[str, Any]) -> ChargePrice:
    from costlens.pricing.kinds import CHARGE_KINDS

    where = f"prices.charges[{i}]"
    _reject_unknown_keys(where, e, _CHARGE_KEYS)
    kind = _required_text(where, e, "kind", 'e.g. kind = "web_search"')
    if kind not in CHARGE_KINDS:
        _fail(f"{where}: kind {kind!r} is not a known charge", f"use one of {', '.join(sorted(CHARGE_KINDS))}")
    if "usd" not in e:
        _fail(f"{where}: missing usd", "add usd = <USD per `per` units>, e.g. usd = 10 with per = 1000")
    usd = _decimal(where, "usd", e["usd"])
    per = _decimal(where, "per", e.get("per", 1))
    if usd < 0 or per <= 0:
        _fail(f"{where}: usd must be >= 0 and per > 0", "e.g. usd = 10 and per = 1000 for $10 per 1,000 calls")
    valid_from = _instant(where, e, "valid_from", BEGINNING)
    valid_to = _instant(where, e, "valid_to", END_OF_TIME)
    if valid_from >= valid_to:
        _fail(f"{where}: valid_from {valid_from} is not before valid_to {valid_to}", "swap or correct the dates")
    detail = e.get("detail")
    if detail is not None and (not isinstance(detail, str) or not detail):
        _fail(f"{where}: detail must be a non-empty text", 'e.g. detail = "high/1024x1024", or leave it out')
    return ChargePrice(
        i,
        _optional_glob(where, e, "provider"),
        _optional_glob(where, e, "model"),
        kind,
        detail,
        to_money(usd / per),
        valid_from,
        valid_to,
        f"override: {where}",
    )


def _reject_overlaps(overrides: tuple[PriceOverride, ...]) -> None:
    # Two overrides for the same key and time would make the price ambiguous.
    for a in overrides:
        for b in overrides:
            same_key = (a.provider, a.model, a.variant) == (b.provider, b.model, b.variant)
            if a.index < b.index and same_key and a.valid_from < b.valid_to and b.valid_from < a.valid_to:
                _fail(
                    f"{b.label} overlaps {a.label} for {a.provider}/{a.model} ({a.variant})",
                    "give them non-overlapping valid_from / valid_to",
                )


def _reject_unknown_keys(where: str, e: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(set(e) - known)
    if unknown:
        _fail(f"{where}: unknown key {unknown[0]!r}", f"use only {', '.join(sorted(known))}")


def _required_text(where: str, e: Mapping[str, Any], key: str, example: str) -> str:
    value = e.get(key)
    if not isinstance(value, str) or not value.strip():
        _fail(f"{where}: missing or empty {key}", f"add {example}")
    return value


def _optional_glob(where: str, e: Mapping[str, Any], key: str) -> str | None:
    value = e.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        _fail(f"{where}: {key} must be a non-empty text glob", f'e.g. {key} = "claude-*", or leave it out')
    return value


def _price(where: str, e: Mapping[str, Any], key: str) -> Decimal | None:
    return _required_price(where, e, key) if key in e else None


def _required_price(where: str, e: Mapping[str, Any], key: str) -> Decimal:
    if key not in e:
        _fail(f"{where}: missing {key}", f"add {key} = <USD per million tokens>")
    value = _decimal(where, key, e[key])
    if value < 0 or value != to_money(value):
        _fail(f"{where}: {key} = {e[key]!r} is not a valid price", "use a non-negative USD amount per million tokens")
    return value


def _decimal(where: str, key: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        _fail(f"{where}: {key} = {value!r} is not a number", f"write {key} as a number, e.g. {key} = 2.5")
    try:
        # repr() of a float is its shortest exact decimal spelling: 0.1 stays 0.1, not 0.1000000000000000055.
        number = Decimal(repr(value) if isinstance(value, float) else value)
    except InvalidOperation:
        _fail(f"{where}: {key} = {value!r} is not a number", f"write {key} as a number, e.g. {key} = 2.5")
    if not number.is_finite():
        _fail(f"{where}: {key} = {value!r} is not a finite number", f"write {key} as a number, e.g. {key} = 2.5")
    return number


def _instant(where: str, e: Mapping[str, Any], key: str, default: datetime) -> datetime:
    """TOML date / datetime / ISO text → naive UTC datetime (a date means its UTC midnight)."""
    value = e.get(key)
    if value is None:
        return default
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            _fail(f"{where}: {key} = {value!r} is not a date", f"write {key} = 2025-01-01 (UTC)")
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    _fail(f"{where}: {key} = {value!r} is not a date", f"write {key} = 2025-01-01 (UTC)")


def _first(value: Decimal | None, default: Decimal) -> Decimal:
    return default if value is None else value  # an explicit 0 is a real price


def _fail(message: str, fix: str) -> NoReturn:
    raise PricesConfigError(message, fix=fix)
