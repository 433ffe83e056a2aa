"""The terminal view of `costlens prices`: the price book in US$ per million tokens with full model names, and a
resolution panel for one model (how its name was read, what it matched, its prices, tiers and adjustments)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, RenderableType


@dataclass
class PricesView:
    """What `costlens prices` shows (costlens.api.prices): the price-book keys of the calls in the database, the
    unpriced keys, and how one model resolves when one is asked for."""

    keys: list[dict[str, Any]]
    unpriced: list[dict[str, Any]]
    explanation: dict[str, Any] | None


OPEN_ENDED_YEAR = 9999
PRICE_LABELS = (
    ("input_mtok", "input"),
    ("cache_read_mtok", "cached input"),
    ("cache_write_5m_mtok", "cache write 5m"),
    ("cache_write_1h_mtok", "cache write 1h"),
    ("output_mtok", "output"),
    ("reasoning_mtok", "reasoning"),
)


def per_mtok(value: Any) -> str:
    """A price per million tokens: the book's own digits, at least cents (2.5 → $2.50, 0.075 → $0.075)."""
    if value is None:
        return "—"
    number = Decimal(str(value))
    exponent = number.normalize().as_tuple().exponent
    assert isinstance(exponent, int), f"price {value!r} is not a finite number"
    places = max(2, -exponent)
    return f"${number:,.{places}f}"


def render_prices(view: PricesView, frozen: list[dict[str, Any]], console: Console) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    if view.explanation is not None:
        render_resolution(view.explanation, console)
        console.print()
    sources = sorted({str(k["source"]) for k in view.keys})
    title = "Price book, US$ per million tokens (base tier)" + (f" — {sources[0]}" if len(sources) == 1 else "")
    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    fallbacks = [k for k in view.keys if k["variant"] != "standard" and not k["variant_applied"]]

    def name(k: dict[str, Any]) -> str:
        tier = "" if k["variant"] == "standard" else f" [{k['variant']}{'*' if k in fallbacks else ''}]"
        return f"{k['model']}{tier}"

    longest = max([len(name(k)) for k in view.keys] + [5])
    # full model names always; below ~110 columns the provider heads its models instead of taking a column
    flat = console.width >= longest + 70
    if flat:
        table.add_column("Provider", no_wrap=True)
    table.add_column("Model", no_wrap=True, min_width=longest + (0 if flat else 2))
    for column in ("Input", "Cached", "Output", "Calls"):
        table.add_column(column, justify="right", no_wrap=True)
    wide = flat and console.width >= longest + 100
    if wide:
        table.add_column("Priced as", no_wrap=True)
    if len(sources) > 1:
        table.add_column("Source")
    if flat:
        ordered = list(view.keys)  # most calls first, as the view lists them
    else:
        by_provider: dict[Any, int] = {}
        for k in view.keys:
            by_provider[k["provider"]] = by_provider.get(k["provider"], 0) + k["calls"]
        ordered = sorted(view.keys, key=lambda k: (-by_provider[k["provider"]], str(k["provider"]), -k["calls"]))
    current = None
    for k in ordered:
        if not flat and k["provider"] != current:
            current = k["provider"]
            table.add_row(Text(str(current or "(no provider)"), style="bold"), *[""] * (len(table.columns) - 1))
        row: list[RenderableType] = [Text(str(k["provider"] or "?"))] if flat else []
        row += [
            Text(name(k) if flat else f"  {name(k)}"),
            per_mtok(k["input_mtok"]),
            per_mtok(k["cache_read_mtok"]),
            per_mtok(k["output_mtok"]),
            f"{k['calls']:,}",
        ]
        if wide:
            row.append(Text(f"{k['catalog_provider']} / {k['catalog_model']}" if k["catalog_model"] else "—"))
        if len(sources) > 1:
            row.append(Text(str(k["source"])))
        table.add_row(*row)
    console.print(table)
    for k in fallbacks:
        console.print(
            Text(
                f"* {k['provider']} / {k['model']}: no {k['variant']} price in the book, its "
                f"{k['calls']:,} calls are priced at the standard price — add one under "
                f'[[prices.overrides]] (variant = "{k["variant"]}")'
            ),
            soft_wrap=True,
        )
    total = sum(k["calls"] for k in view.keys) + sum(u["calls"] for u in view.unpriced)
    unpriced_calls = sum(u["calls"] for u in view.unpriced)
    coverage = 100.0 * (total - unpriced_calls) / total if total else 100.0
    console.print(f"priced coverage: {coverage:.1f}% of {total:,} calls", soft_wrap=True)
    for u in view.unpriced:
        console.print(
            Text(f"  unpriced: {u['provider']} / {u['model']} ({u['variant']}): {u['calls']:,} calls — {u['reason']}"),
            soft_wrap=True,
        )
    for f in frozen:
        console.print(
            Text(
                f"  frozen: {f['month']} at {f['catalog_version']} (since {f['frozen_at'][:16]}; "
                "`costlens report --reprice` re-prices it)"
            ),
            soft_wrap=True,
        )


def _when(value: datetime | None) -> str:
    if value is None:
        return "—"
    return "open-ended" if value.year >= OPEN_ENDED_YEAR else value.strftime("%Y-%m-%d")


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _tokens(count: int) -> str:
    return f"{count:,}"


def render_resolution(explanation: dict[str, Any], console: Console) -> None:
    """One model's resolution as a labelled panel, in the order the price is decided."""
    from rich.table import Table
    from rich.text import Text

    e = explanation
    at = e["at"]
    heading = (
        f"{e['model_as_written']} — {e['variant']} price at "
        f"{at.strftime('%Y-%m-%d %H:%M') if isinstance(at, datetime) else at} UTC"
    )
    console.print(Text(heading, style="bold"))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    rows: list[tuple[str, str]] = []
    written = e["model_as_written"]
    rows.append(
        (
            "read as",
            f"{e['provider'] or '(no provider)'} / {e['model']}"
            + ("" if e["model"] == written else f"  (written {written})"),
        )
    )
    for step in e["identity_steps"]:
        rows.append(("", f"· {step}"))
    if e["catalog_model"]:
        via = " (through a fallback provider)" if e["via_fallback_provider"] else ""
        rows.append(("matched", f"{e['catalog_provider']} / {e['catalog_model']}{via} in {e['catalog_source']}"))
    if not e["priced"]:
        rows.append(("priced", f"no — {e['reason'] or 'no price in the book for this time'}"))
        rows.append(("fix", "add a price under [[prices.overrides]] in costlens.toml"))
    else:
        rows.append(("rule", str(e["matched_rule"])))
        if e["variant"] != "standard" and not e["variant_applied"]:
            rows.append(("tier", f"no {e['variant']} price in the book: the standard price applies"))
        rows.append(("valid", f"{_when(e['valid_from'])} → {_when(e['valid_to'])}"))
        start, end = e["time_of_day_s"] or (0, 86400)
        if (start, end) != (0, 86400):
            rows.append(("time of day", f"{_clock(start)}–{_clock(end)} UTC"))
        tiers = e["tiers"] or []
        for index, tier in enumerate(tiers):
            label = "per Mtok" if index == 0 else ""
            scope = (
                ""
                if len(tiers) == 1
                else f"prompts up to {_tokens(tier['upto_tokens'])} tokens: "
                if tier["above_tokens"] < 0
                else f"prompts above {_tokens(tier['above_tokens'])} tokens: "
            )
            prices = " · ".join(
                f"{name} {per_mtok(tier[key])}" for key, name in PRICE_LABELS if tier.get(key) is not None
            )
            if tier.get("request_usd"):
                prices += f" · per request ${Decimal(str(tier['request_usd'])):f}"
            rows.append((label, scope + prices))
        rows.append(("source", str(e["source"])))
        if e["override"]:
            rows.append(("override", str(e["override"])))
        if e["discount_pct"]:
            rows.append(("discount", f"{Decimal(str(e['discount_pct'])).normalize():f}% — {e['discount']}"))
    for label, value in rows:
        grid.add_row(label, Text(value))
    console.print(grid)
