"""Prices of the charges that are not token kinds (`call_charges`): server-side tools, generated images,
audio and image tokens, per-request fees.

Each DISTINCT (provider, model, variant, kind, detail) of the charged calls is resolved once, over the calls'
time span, into `charge_price_book` rows (one per validity window), from three sources in this order:

1. `[[prices.charges]]` in the config — the price the user actually pays;
2. genai-prices, where the model's price has the unit (web searches, file searches, code executions, audio
   and image tokens): the price of one unit is `ModelPrice.calc_price` of a Usage holding just that unit, so
   genai-prices' own fallbacks apply (audio input without its own price is billed as input); a
   `[[prices.discounts]]` entry applies as it does to token prices;
3. the dated table shipped in `costlens/data/charge_prices.csv`, each price with its source and valid-from date.

A key no source covers for the whole span is listed in `unpriced_charges` with the reason: the charge is
unpriced (shown in the report's coverage), never $0.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from costlens.pricing.config import ChargePrice, PricesConfig
from costlens.pricing.kinds import BEGINNING, CHARGE_KINDS, END_OF_TIME, to_money

if TYPE_CHECKING:
    import duckdb

SHIPPED_TABLE = "charge_prices.csv"


@dataclass(frozen=True)
class ChargeSegment:
    valid_from: datetime
    valid_to: datetime
    usd_per_unit: Decimal
    source: str
    discount_pct: Decimal = Decimal(0)


@cache
def shipped_charge_prices() -> tuple[ChargePrice, ...]:
    """The dated charge prices shipped with costlens (vendors' published prices, each with its source)."""
    text = (resources.files("costlens") / "data" / SHIPPED_TABLE).read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if line.strip() and not line.startswith("#"))
    out = []
    for i, row in enumerate(rows):
        per = Decimal(row["per"] or "1")
        out.append(
            ChargePrice(
                index=i,
                provider=row["provider"] or None,
                model=row["model"] or None,
                kind=row["kind"],
                detail=row["detail"] or None,
                usd_per_unit=to_money(Decimal(row["usd"]) / per),
                valid_from=_day(row["valid_from"], BEGINNING),
                valid_to=_day(row["valid_to"], END_OF_TIME),
                source=f"{SHIPPED_TABLE}: {row['source']}",
            )
        )
    return tuple(out)


def _day(text: str, default: datetime) -> datetime:
    return datetime.fromisoformat(text) if text else default


def _fill(
    gaps: list[tuple[datetime, datetime]], start: datetime, end: datetime
) -> tuple[list[tuple[datetime, datetime]], list[tuple[datetime, datetime]]]:
    """(parts of [start, end) inside the gaps, the gaps left)."""
    taken, left = [], []
    for a, b in gaps:
        lo, hi = max(a, start), min(b, end)
        if lo >= hi:
            left.append((a, b))
            continue
        taken.append((lo, hi))
        if a < lo:
            left.append((a, lo))
        if hi < b:
            left.append((hi, b))
    return taken, sorted(left)


def _entries(
    entries: tuple[ChargePrice, ...], provider: str, model: str, kind: str, detail: str | None
) -> list[ChargePrice]:
    """Matching entries, those naming this exact detail before those for any detail."""
    hits = [e for e in entries if e.matches(provider, model, kind, detail)]
    return sorted(hits, key=lambda e: (e.detail is None, e.index))


def _catalog_segments(
    provider: str,
    model: str,
    variant: str,
    kind: str,
    t_min: datetime,
    t_max: datetime,
    config: PricesConfig,
    keys: tuple[str, ...],
) -> tuple[list[ChargeSegment], str | None]:
    """Segments where the catalog prices `kind` through one of `keys` (its own keys, or its parents')."""
    from genai_prices.types import Usage

    from costlens.pricing.catalog import (
        CATALOG_SOURCE,
        date_boundaries,
        find_catalog_model,
        resolve_model_price,
        validity_windows,
    )

    spec = CHARGE_KINDS[kind]
    if not keys:
        return [], f"{CATALOG_SOURCE} has no price unit for {kind}"
    try:
        match = find_catalog_model(provider or None, config.catalog_name(model))
    except LookupError:
        return [], f"model not in {CATALOG_SOURCE}"
    discount = config.discount_for(provider or None, model)
    segments, problem = [], None
    usage = dict(spec.usage)
    usage.setdefault("input_tokens", 0)  # tiered prices read the request's input size
    fallback = keys != spec.catalog_keys
    for valid_from, valid_to in validity_windows(date_boundaries(match.model), t_min, t_max):
        at = datetime.combine(max(valid_from, t_min).date(), time())
        model_price, _, _ = resolve_model_price(match, variant, at)
        if all(getattr(model_price, key, None) is None for key in keys):
            problem = f"{CATALOG_SOURCE} has no {kind} price for {match.provider.id}/{match.model.id}"
            continue
        unit = Decimal(model_price.calc_price(Usage(**usage))["total_price"])
        pct = discount.pct if discount else Decimal(0)
        if pct:
            unit = unit * (1 - pct / 100)
        source = f"{CATALOG_SOURCE} ({kind} at the parent rate: no own price)" if fallback else CATALOG_SOURCE
        segments.append(ChargeSegment(valid_from, valid_to, to_money(unit), source, pct))
    return segments, problem


def resolve_charge(
    provider: str,
    model: str,
    variant: str,
    kind: str,
    detail: str | None,
    t_min: datetime,
    t_max: datetime,
    config: PricesConfig,
) -> tuple[list[ChargeSegment], str | None]:
    """Priced segments of one charge key over [t_min, t_max], and why part of it has no price (or None).

    Precedence: [[prices.charges]] (an exact detail before any detail); the shipped table's entries for this
    exact detail (the catalog cannot tell details apart, e.g. web_search_preview from web_search); the
    catalog's own price of the kind; the shipped table for any detail; last, the catalog's parent price
    (genai-prices' fallback, e.g. audio tokens billed as text input where no audio price is known)."""
    gaps = [(BEGINNING, END_OF_TIME)]
    segments: list[ChargeSegment] = []

    def take(start: datetime, end: datetime, usd: Decimal, source: str, pct: Decimal = Decimal(0)) -> None:
        nonlocal gaps
        taken, gaps = _fill(gaps, start, end)
        segments.extend(ChargeSegment(a, b, usd, source, pct) for a, b in taken)

    spec = CHARGE_KINDS[kind]
    shipped = _entries(shipped_charge_prices(), provider, model, kind, detail)
    for entry in _entries(config.charges, provider, model, kind, detail):
        take(entry.valid_from, entry.valid_to, entry.usd_per_unit, entry.source)
    for entry in (e for e in shipped if e.detail is not None):
        take(entry.valid_from, entry.valid_to, entry.usd_per_unit, entry.source)
    own, problem = _catalog_segments(provider, model, variant, kind, t_min, t_max, config, spec.catalog_keys)
    for s in own:
        take(s.valid_from, s.valid_to, s.usd_per_unit, s.source, s.discount_pct)
    for entry in (e for e in shipped if e.detail is None):
        take(entry.valid_from, entry.valid_to, entry.usd_per_unit, entry.source)
    if spec.parent_keys:
        parent, _ = _catalog_segments(provider, model, variant, kind, t_min, t_max, config, spec.parent_keys)
        for s in parent:
            take(s.valid_from, s.valid_to, s.usd_per_unit, s.source, s.discount_pct)
    uncovered = [(a, b) for a, b in gaps if a <= t_max and b > t_min]
    if not uncovered:
        return sorted(segments, key=lambda s: s.valid_from), None
    where = f" {detail}" if detail else ""
    reason = (
        f"no price for {kind}{where} from {max(uncovered[0][0], t_min):%Y-%m-%d}: "
        f"{problem or 'not in genai-prices'} and not in {SHIPPED_TABLE}; add [[prices.charges]]"
    )
    if kind == "code_execution" and provider in ("anthropic", "aws.bedrock", "gcp.vertex_ai"):
        reason = (
            "Anthropic bills code execution per container-hour ($0.05), which the response does not report; "
            'add [[prices.charges]] kind = "code_execution" with your average cost per call'
        )
    return sorted(segments, key=lambda s: s.valid_from), reason


_KEYS_SQL = """
SELECT coalesce(c.provider, '') AS provider, c.model, pricing_variant(c.service_tier, c.is_batch) AS variant,
       ch.kind, ch.detail, min(c.ts), max(c.ts)
FROM call_charges ch JOIN calls c USING (call_id)
WHERE ch.counted
GROUP BY ALL ORDER BY ALL
"""


def build_charge_price_book(con: duckdb.DuckDBPyConnection, config: PricesConfig) -> int:
    """Replace `charge_price_book` / `unpriced_charges` for the charges present; the number of keys."""
    import pyarrow as pa

    from costlens.pricing.catalog import replace_table

    rows: list[dict[str, Any]] = []
    unpriced: list[dict[str, Any]] = []
    keys = con.execute(_KEYS_SQL).fetchall()
    for provider, model, variant, kind, detail, t_min, t_max in keys:
        if kind not in CHARGE_KINDS:
            unpriced.append(
                {
                    "provider": provider,
                    "model": model,
                    "variant": variant,
                    "kind": kind,
                    "reason": f"{kind} is not a known charge kind",
                }
            )
            continue
        segments, reason = resolve_charge(provider, model, variant, kind, detail, t_min, t_max, config)
        family = CHARGE_KINDS[kind].family
        rows += [
            {
                "provider": provider,
                "model": model,
                "variant": variant,
                "kind": kind,
                "detail": detail,
                "valid_from": s.valid_from,
                "valid_to": s.valid_to,
                "usd_per_unit": s.usd_per_unit,
                "family": family,
                "source": s.source,
                "discount_pct": s.discount_pct,
            }
            for s in segments
        ]
        if reason:
            unpriced.append({"provider": provider, "model": model, "variant": variant, "kind": kind, "reason": reason})
    money = pa.decimal128(38, 18)
    book = pa.schema(
        [
            ("provider", pa.string()),
            ("model", pa.string()),
            ("variant", pa.string()),
            ("kind", pa.string()),
            ("detail", pa.string()),
            ("valid_from", pa.timestamp("us")),
            ("valid_to", pa.timestamp("us")),
            ("usd_per_unit", money),
            ("family", pa.string()),
            ("source", pa.string()),
            ("discount_pct", pa.decimal128(9, 6)),
        ]
    )
    missing = pa.schema([(c, pa.string()) for c in ("provider", "model", "variant", "kind", "reason")])
    replace_table(con, "charge_price_book", pa.Table.from_pylist(rows, schema=book))
    replace_table(con, "unpriced_charges", pa.Table.from_pylist(unpriced, schema=missing))
    return len(keys)
