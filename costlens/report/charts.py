"""Charts for the HTML report: matplotlib figures saved as SVG and embedded inline.

Every chart comes back as a sanitised SVG fragment (a `markupsafe.Markup`), or None when there is nothing to
draw. Labels come from logs (feature and model names), so they are hostile input:

- `text.parse_math` is off, so a `$` in a name is text, not mathtext (which could also fail to parse);
- `svg.fonttype = none` writes labels as `<text>` elements, which matplotlib XML-escapes; control characters
  are stripped and long names are shortened before they reach matplotlib;
- the SVG is then cleaned for inlining (no XML prolog, DOCTYPE, metadata, comments or global `<style>`; ids
  prefixed per chart so several charts never share an id) and checked with an XML parser: no script,
  foreignObject or link elements, no `on*` attributes, no reference that is not a local `#id`. A chart that
  fails the check is dropped, never embedded.

Only the Agg-free SVG backend is used (`Figure` + `savefig`, no pyplot), so nothing touches global state.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

PALETTE = {
    "primary": "#2f5d8a",
    "accent": "#d9822b",
    "good": "#3a7d44",
    "bad": "#b23a3a",
    "muted": "#9aa5b1",
    "grid": "#e3e7eb",
    "text": "#1f2933",
}

_RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial"],
    "font.size": 9,
    "axes.edgecolor": PALETTE["muted"],
    "axes.labelcolor": PALETTE["text"],
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": PALETTE["grid"],
    "grid.linewidth": 0.6,
    "xtick.color": PALETTE["text"],
    "ytick.color": PALETTE["text"],
    "path.simplify": True,
    "path.simplify_threshold": 0.5,
}

_FORBIDDEN_TAGS = {
    "script",
    "foreignobject",
    "iframe",
    "object",
    "embed",
    "a",
    "image",
    "audio",
    "video",
    "animate",
    "set",
    "animatemotion",
    "animatetransform",
    "handler",
    "listener",
}
_MAX_LABEL = 34


def label(value: object, limit: int = _MAX_LABEL) -> str:
    """A log value fit for a chart label: printable characters only, shortened with an ellipsis."""
    text = "—" if value is None else str(value)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text).strip() or "—"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def money_axis(value: float, _pos: object = None) -> str:
    """An axis tick: a point on the scale, compact (costlens.money.axis_usd)."""
    from costlens.money import axis_usd

    return axis_usd(value)


def _figure_usd(value: float) -> str:
    """A figure written on a bar: the amount as the tables show it (costlens.money.usd, cents)."""
    from costlens.money import usd

    return usd(value)


def _signed_usd(value: float) -> str:
    from costlens.money import signed_usd

    return signed_usd(value)


def _lead(rows: list[tuple[str, float]], limit: int) -> list[tuple[str, float]]:
    """The first `limit` rows and one "N others" bar for the rest, as the tables cut them (report.lead)."""
    if len(rows) <= limit + 1:
        return rows
    from decimal import Decimal

    from costlens.report.lead import others_label

    rest = sum((Decimal(repr(v)) for _, v in rows[limit:]), Decimal(0))  # exact sum of the shown cents
    return rows[:limit] + [(others_label(len(rows) - limit), float(rest))]


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=72)
    fig.patch.set_facecolor("white")
    return fig


def _money_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(money_axis)


def _render(fig, name: str, description: str) -> Markup | None:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight", pad_inches=0.05)
    return clean_svg(buffer.getvalue(), name, description)


_ID_ATTR = re.compile(r'\bid="([^"]+)"')
_LOCAL_REF = re.compile(r'(href="#|url\(#)([^")]+)')


def clean_svg(svg: str, name: str, description: str) -> Markup | None:
    """Make one matplotlib SVG safe and tidy for inlining; None when it fails the safety check."""
    svg = svg[svg.index("<svg") :]  # drop the XML declaration and DOCTYPE
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    svg = re.sub(r"<style[^>]*>.*?</style>\s*", "", svg, flags=re.S)
    svg = re.sub(r"<defs>\s*</defs>\s*", "", svg)
    prefix = re.sub(r"[^a-z0-9]", "", name.lower()) or "chart"
    svg = _ID_ATTR.sub(lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = _LOCAL_REF.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)
    # Size from CSS (width 100%, height auto); the viewBox keeps the aspect ratio.
    svg = re.sub(r'^<svg([^>]*?)\swidth="[^"]*"', r"<svg\1", svg, count=1)
    svg = re.sub(r'^<svg([^>]*?)\sheight="[^"]*"', r"<svg\1", svg, count=1)
    svg = svg.replace("<svg", f'<svg class="chart-svg" role="img" aria-label="{escape(description)}"', 1)
    svg = re.sub(r"\n\s*", "\n", svg).strip()
    if not is_safe_svg(svg):
        return None
    # Inline SVG in HTML needs no namespace declarations (the HTML parser knows svg and xlink:href); dropping
    # them leaves no URL-looking text in the report at all.
    svg = re.sub(r'^(<svg[^>]*?)\s+xmlns:xlink="[^"]*"', r"\1", svg, count=1)
    svg = re.sub(r'^(<svg[^>]*?)\s+xmlns="[^"]*"', r"\1", svg, count=1)
    return Markup(svg)


def is_safe_svg(svg: str) -> bool:
    """An XML-parser check of the exact SVG text to be embedded (it is well-formed XML by construction)."""
    try:
        root = ET.fromstring(svg)
    except ET.ParseError:
        return False
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1].lower()
        if tag in _FORBIDDEN_TAGS:
            return False
        for attribute, value in element.attrib.items():
            local = attribute.rsplit("}", 1)[-1].lower()
            if local.startswith("on"):
                return False
            if local == "href" and not value.startswith("#"):
                return False
            if "url(" in value.replace(" ", "").lower() and not re.fullmatch(
                r"[^()]*(url\(#[A-Za-z0-9_\-]+\)[^()]*)+", value
            ):
                return False
    return True


def _draw(builder, name: str, description: str) -> Markup | None:
    import matplotlib

    with matplotlib.rc_context({**_RC, "svg.hashsalt": name}), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing glyphs for exotic names only warn; the text is still written
        fig = builder()
        if fig is None:
            return None
        return _render(fig, name, description)


def spend_over_time(days: Sequence[tuple[str, float]]) -> Markup | None:
    """Daily spend as bars, with a 7-day moving average when there are enough days."""
    days = [(d, float(v)) for d, v in days]
    if not days:
        return None

    def build():
        from datetime import date, timedelta

        import matplotlib.dates as mdates

        dates = [date.fromisoformat(d[:10]) for d, _ in days]
        values = [v for _, v in days]
        fig = _figure(9.0, 2.8)
        ax = fig.add_subplot()
        ax.bar(dates, values, width=0.8, color=PALETTE["primary"], label="daily spend")
        if len(values) >= 10:
            window = 7
            avg = [
                sum(values[max(0, i - window + 1) : i + 1]) / len(values[max(0, i - window + 1) : i + 1])
                for i in range(len(values))
            ]
            ax.plot(dates, avg, color=PALETTE["accent"], linewidth=1.8, label="7-day average")
            ax.legend(
                frameon=False, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, fontsize=8, borderaxespad=0.2
            )
        ax.yaxis.set_major_formatter(_money_formatter())
        span = (dates[-1] - dates[0]).days
        if span <= 62:
            ax.xaxis.set_major_locator(mdates.DayLocator(interval=7 if span > 14 else 2))
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
        else:
            locator = mdates.AutoDateLocator(maxticks=10)
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
        ax.set_xlim(dates[0] - timedelta(days=1), dates[-1] + timedelta(days=1))
        ax.grid(axis="x", visible=False)
        ax.set_title("Spend per day", loc="left")
        return fig

    return _draw(build, "spendday", "Bar chart of spend per day")


def spend_by_key(rows: Sequence[tuple[str, float]], title: str, name: str, limit: int = 15) -> Markup | None:
    """Horizontal bars, largest on top; the tail beyond `limit` is one 'other' bar."""
    rows = sorted(((label(k), float(v)) for k, v in rows), key=lambda r: -r[1])
    if not rows or all(v == 0 for _, v in rows):
        return None
    rows = _lead(rows, limit)

    def build():
        fig = _figure(9.0, 0.9 + 0.32 * len(rows))
        ax = fig.add_subplot()
        names = [k for k, _ in rows][::-1]
        values = [v for _, v in rows][::-1]
        bars = ax.barh(range(len(rows)), values, color=PALETTE["primary"], height=0.65)
        ax.set_yticks(range(len(rows)), names)
        ax.xaxis.set_major_formatter(_money_formatter())
        ax.grid(axis="y", visible=False)
        ax.bar_label(bars, labels=[_figure_usd(v) for v in values], padding=3, fontsize=8, color=PALETTE["text"])
        ax.set_xlim(0, max(values) * 1.15)
        ax.set_title(title, loc="left")
        return fig

    return _draw(build, name, f"Bar chart: {title}")


def margin_by_customer(rows: Sequence[tuple[str, float, bool]], floor: float, limit: int = 15) -> Markup | None:
    """Gross AI margin as a share of revenue per customer (largest revenue first, `limit` of them): red where AI
    cost is over its share of revenue; the dashed line is the margin at that share (`floor`)."""
    rows = [(label(k), float(v), over) for k, v, over in rows][:limit]
    if not rows:
        return None

    def build():
        fig = _figure(9.0, 0.9 + 0.32 * len(rows))
        ax = fig.add_subplot()
        names = [k for k, _, _ in rows][::-1]
        values = [100 * v for _, v, _ in rows][::-1]
        colors = [PALETTE["bad"] if over else PALETTE["good"] for _, _, over in rows][::-1]
        bars = ax.barh(range(len(rows)), values, color=colors, height=0.65)
        ax.set_yticks(range(len(rows)), names)
        ax.axvline(100 * floor, color=PALETTE["muted"], linestyle="--", linewidth=1)
        ax.bar_label(bars, labels=[f"{v:.1f}%" for v in values], padding=3, fontsize=8, color=PALETTE["text"])
        low = min(0.0, min(values))
        ax.set_xlim(low * 1.15 if low < 0 else 0, 115)
        ax.grid(axis="y", visible=False)
        ax.set_title("Gross AI margin by customer, % of revenue (dashed: AI cost at its limit share)", loc="left")
        return fig

    return _draw(build, "margin", "Bar chart: gross AI margin by customer as a share of revenue")


def pareto(rows: Sequence[tuple[str, float]], limit: int = 15) -> Markup | None:
    """Features by spend, descending, with the cumulative share of spend on a second axis."""
    rows = sorted(((label(k, 22), float(v)) for k, v in rows), key=lambda r: -r[1])
    total = sum(v for _, v in rows)
    if not rows or total <= 0:
        return None
    rows = _lead(rows, limit)

    def build():
        from matplotlib.ticker import PercentFormatter

        fig = _figure(9.0, 3.4)
        ax = fig.add_subplot()
        x = range(len(rows))
        ax.bar(x, [v for _, v in rows], color=PALETTE["primary"], width=0.65)
        ax.set_xticks(
            list(x),
            [k for k, _ in rows],
            rotation=30 if len(rows) > 4 else 0,
            ha="right" if len(rows) > 4 else "center",
        )
        ax.yaxis.set_major_formatter(_money_formatter())
        ax.grid(axis="x", visible=False)
        cumulative, running = [], 0.0
        for _, v in rows:
            running += v
            cumulative.append(100.0 * running / total)
        twin = ax.twinx()
        twin.plot(list(x), cumulative, color=PALETTE["accent"], marker="o", markersize=4, linewidth=1.8)
        twin.axhline(80, color=PALETTE["muted"], linestyle="--", linewidth=0.8)
        twin.set_ylim(0, 105)
        twin.yaxis.set_major_formatter(PercentFormatter())
        twin.grid(False)
        twin.spines["right"].set_visible(True)
        ax.set_title("Pareto of features: spend and cumulative share (dashed: 80%)", loc="left")
        return fig

    return _draw(build, "pareto", "Pareto chart of spend by feature with cumulative share")


def waterfall(
    start: tuple[str, float], steps: Sequence[tuple[str, float]], end_label: str, title: str, name: str
) -> Markup | None:
    """A bridge: the start bar, one floating bar per signed step, then the end bar."""
    steps = [(label(k, 24), float(v)) for k, v in steps]
    if not steps:
        return None
    start_label, start_value = label(start[0], 24), float(start[1])

    def build():
        fig = _figure(9.0, 3.3)
        ax = fig.add_subplot()
        names = [start_label] + [k for k, _ in steps] + [label(end_label, 24)]
        running = start_value
        ax.bar(0, start_value, color=PALETTE["primary"], width=0.6)
        texts = [_figure_usd(start_value)]
        for i, (_, delta) in enumerate(steps, start=1):
            bottom = running if delta >= 0 else running + delta
            ax.bar(i, abs(delta), bottom=bottom, width=0.6, color=PALETTE["bad"] if delta > 0 else PALETTE["good"])
            ax.plot([i - 1 + 0.3, i - 0.3], [running, running], color=PALETTE["muted"], linewidth=0.8)
            running += delta
            texts.append(_signed_usd(delta))
        end_index = len(steps) + 1
        ax.plot([end_index - 1 + 0.3, end_index - 0.3], [running, running], color=PALETTE["muted"], linewidth=0.8)
        ax.bar(end_index, running, color=PALETTE["primary"], width=0.6)
        texts.append(_figure_usd(_end_value(start_value, steps)))
        heights = [start_value]
        level = start_value
        for _, delta in steps:
            level += delta
            heights.append(max(level, level - delta))
        heights.append(running)
        top = max(heights + [start_value]) or 1.0
        for i, (text, height) in enumerate(zip(texts, heights)):
            ax.text(i, height + top * 0.02, text, ha="center", va="bottom", fontsize=8, color=PALETTE["text"])
        ax.set_ylim(min(0.0, min(heights)), top * 1.15)
        ax.set_xticks(
            range(len(names)), names, rotation=20 if len(names) > 5 else 0, ha="right" if len(names) > 5 else "center"
        )
        ax.yaxis.set_major_formatter(_money_formatter())
        ax.grid(axis="x", visible=False)
        ax.set_title(title, loc="left")
        return fig

    return _draw(build, name, f"Waterfall chart: {title}")


def _end_value(start: float, steps: Sequence[tuple[str, float]]) -> float:
    """The bridge's end in exact cents: the start and steps are shown cents, so their sum is what reads right."""
    from decimal import Decimal

    return float(Decimal(repr(start)) + sum((Decimal(repr(v)) for _, v in steps), Decimal(0)))


def cost_value_matrix(points: Sequence[tuple[str, float, float]], value_label: str) -> Markup | None:
    """Scatter of features: cost (x) against value (y), median lines splitting the four quadrants."""
    points = [(label(k, 24), float(c), float(v)) for k, c, v in points]
    if not points:
        return None

    def build():
        fig = _figure(9.0, 4.2)
        ax = fig.add_subplot()
        costs = [c for _, c, _ in points]
        values = [v for _, _, v in points]
        ax.scatter(costs, values, s=46, color=PALETTE["primary"], edgecolor="white", linewidth=0.8, zorder=3)
        from matplotlib.ticker import FuncFormatter, NullFormatter

        positive = [c for c in costs if c > 0]
        if positive and len(positive) == len(costs) and max(positive) / min(positive) > 50:
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())  # the default log labels are mathtext
        positive_v = [v for v in values if v > 0]
        if positive_v and len(positive_v) == len(values) and max(positive_v) / min(positive_v) > 50:
            ax.set_yscale("log")
            ax.yaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}" if v >= 10 else f"{v:,.3g}"))
        for name, c, v in sorted(points, key=lambda p: -p[1])[:15]:  # label the 15 largest; the table has all
            ax.annotate(name, (c, v), textcoords="offset points", xytext=(6, 4), fontsize=8, color=PALETTE["text"])
        if len(points) >= 3:
            ordered_c, ordered_v = sorted(costs), sorted(values)
            ax.axvline(ordered_c[len(ordered_c) // 2], color=PALETTE["muted"], linestyle="--", linewidth=0.8)
            ax.axhline(ordered_v[len(ordered_v) // 2], color=PALETTE["muted"], linestyle="--", linewidth=0.8)
        ax.xaxis.set_major_formatter(_money_formatter())
        if value_label.startswith("$") or "USD" in value_label:
            ax.yaxis.set_major_formatter(_money_formatter())
        ax.set_xlabel("spend in the period")
        ax.set_ylabel(value_label)
        ax.margins(x=0.15, y=0.15)
        ax.set_title("Cost–value matrix of features (dashed: medians)", loc="left")
        return fig

    return _draw(build, "costvalue", "Scatter chart of features: spend against value")


def trend_line(points: Sequence[tuple[str, float | None]], title: str, name: str) -> Markup | None:
    """A small line chart of a monthly metric (cost per accepted outcome); months without a value are left out."""
    known = [(label(m, 12), float(v)) for m, v in points if v is not None]
    if len(known) < 2:
        return None

    def build():
        fig = _figure(9.0, 2.6)
        ax = fig.add_subplot()
        ax.plot(range(len(known)), [v for _, v in known], color=PALETTE["primary"], marker="o", linewidth=1.8)
        ax.set_xticks(range(len(known)), [m for m, _ in known])
        ax.yaxis.set_major_formatter(_money_formatter())
        ax.set_ylim(0, max(max(v for _, v in known), 0.0) * 1.15 or 1.0)
        ax.set_xlim(-0.3, len(known) - 0.7)
        ax.set_title(title, loc="left")
        return fig

    return _draw(build, name, f"Line chart: {title}")
