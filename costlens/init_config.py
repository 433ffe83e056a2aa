"""`costlens init`: write a commented starter costlens.toml from what the database holds.

One `[features.<name>]` table per feature found in the calls, with the team seen on its calls filled in and a
suggested monthly budget (the feature's spend in the last full month with data × 1.2, rounded up to two
significant figures); the other settings (owner, cost center, criticality, hard limit, cost SLO per accepted
outcome, interactive, step budget) are written as commented lines with a suggestion drawn from the data, to be
filled in. Every other section is documented with commented examples: economics, model tiers (the tiers found),
price overrides (stubs for the unpriced models found) and discounts, leak thresholds (every default), levers,
outcome scores and ingest mappings. The file loads back with costlens.config.load_config as written.

Names from the logs are quoted as TOML strings where they are not bare keys, and sanitised in comments (a line
break in a model name cannot end a comment and inject a setting).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from costlens.db import one_row
from costlens.errors import UsageError
from costlens.sqlfiles import load_sql

if TYPE_CHECKING:
    import duckdb

    from costlens.config import Config

BUDGET_HEADROOM = Decimal("1.2")
_BARE = re.compile(r"[A-Za-z0-9_-]+")
_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_str(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for ch in str(text):
        if ch in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_key(text: str) -> str:
    return text if _BARE.fullmatch(text) else toml_str(text)


def comment_text(text: Any) -> str:
    """Text safe inside a `# …` comment: no line breaks or other control characters."""
    return "".join(" " if (ord(ch) < 0x20 or ord(ch) == 0x7F or ch in "\u2028\u2029\x85") else ch for ch in str(text))


def nice_round_up(value: Decimal | float) -> Decimal:
    """Round up to two significant figures: 629.75 → 630, 18.15 → 19, 2.1066 → 2.2, 0.7634 → 0.77."""
    number = Decimal(str(value))
    if number <= 0:
        return Decimal(0)
    step = Decimal(1).scaleb(number.adjusted() - 1)
    rounded = (number / step).to_integral_value(rounding=ROUND_CEILING) * step
    return rounded.normalize() if rounded == rounded.to_integral_value() else rounded


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _usd(value: Decimal | float) -> str:
    """A month's spend in a comment, as every output shows amounts (costlens.money)."""
    from costlens.money import usd

    return usd(value)


def _unit_usd(value: Decimal | float) -> str:
    from costlens.money import unit_usd

    return unit_usd(value)


def suggested_budget(spend: Decimal | float) -> Decimal:
    """The monthly budget `costlens init` suggests: last month's spend × 1.2, rounded up (two figures)."""
    return nice_round_up(Decimal(str(spend)) * BUDGET_HEADROOM)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _previous_month(start: date) -> date:
    index = start.year * 12 + start.month - 2
    return date(index // 12, index % 12 + 1, 1)


def _next_month(start: date) -> date:
    index = start.year * 12 + start.month
    return date(index // 12, index % 12 + 1, 1)


def budget_month(con: duckdb.DuckDBPyConnection, today: date | None = None) -> date | None:
    """The month whose spend the budgets are based on: the latest month with calls, or the one before it when
    the latest is the month still running (and the one before has calls)."""
    latest = one_row(con.execute("SELECT CAST(max(ts) AS DATE) FROM calls"))[0]
    if latest is None:
        return None
    month = _month_start(latest)
    today = today or datetime.now(UTC).date()
    if month == _month_start(today):
        before = _previous_month(month)
        has = one_row(
            con.execute("SELECT count(*) FROM calls WHERE ts >= ? AND ts < ?", [before.isoformat(), month.isoformat()])
        )[0]
        if has:
            return before
    return month


def starter_data(con: duckdb.DuckDBPyConnection, config: Config, today: date | None = None) -> dict[str, Any]:
    """Features (with team, models, size, last month's spend and cost per accepted outcome), model tiers and
    unpriced models found in the database."""
    from costlens.change import _materialise
    from costlens.engine import compute_period_metrics, dimension_rows, prepare_priced_calls
    from costlens.model.report import Period

    prepare_priced_calls(con, config)
    month = budget_month(con, today)
    if month is None:
        return {"month": None, "features": [], "tiers": [], "unpriced": [], "calls": 0}
    cur = con.cursor()
    try:
        cur.execute("SET TimeZone = 'UTC'")
        compute_period_metrics(cur, config, Period(month, _next_month(month)))
        monthly = {row.key: row for row in dimension_rows(cur, "feature", "key")}
        first, last = one_row(cur.execute("SELECT CAST(min(ts) AS DATE), CAST(max(ts) AS DATE) FROM calls"))
        _materialise(cur, config, Period(first, date.fromordinal(last.toordinal() + 1)), "computed", ())
        cursor = cur.execute(load_sql("metrics/budgets_starter.sql"))
        names = [d[0] for d in cursor.description]
        features = [dict(zip(names, row)) for row in cursor.fetchall()]
        tiers = cur.execute("""
            SELECT DISTINCT t.model, t.tier FROM model_tiers t
            JOIN (SELECT DISTINCT model FROM calls) c USING (model) ORDER BY t.model""").fetchall()
        unpriced = cur.execute(
            "SELECT provider, model, variant FROM unpriced_models ORDER BY provider, model, variant"
        ).fetchall()
        calls = one_row(cur.execute("SELECT count(*) FROM calls"))[0]
    finally:
        cur.close()
    for feature in features:
        row = monthly.get(feature["feature"])
        feature["month_cost_usd"] = Decimal(row.cost_usd) if row is not None else Decimal(0)
        feature["cost_per_accepted_outcome_usd"] = row.cost_per_accepted_outcome_usd if row is not None else None
    return {
        "month": month,
        "features": features,
        "tiers": tiers,
        "unpriced": unpriced,
        "calls": int(calls),
        "first": first,
        "last": last,
    }


def _line(code: str, note: str = "") -> str:
    """`code` padded so the comments line up; the whole line sanitised for names from the logs."""
    return comment_text(f"{code.ljust(40)} # {note}" if note else code)


def _feature_block(f: dict[str, Any], month: date, economics_set: bool) -> list[str]:
    name = str(f["feature"])
    spend: Decimal = f["month_cost_usd"]
    models = ", ".join(str(m) for m in (f.get("models") or [])[:4])
    more = len(f.get("models") or []) - 4
    lines = [
        f"[features.{toml_key(name)}]",
        comment_text(
            f"# {f['calls']:,} calls, {f['tasks']:,} tasks since {f['first_ts']:%Y-%m-%d}; models by spend: "
            f"{models}{f' (+{more} more)' if more > 0 else ''}; {month:%Y-%m} spend {_usd(spend)}"
        ),
        _line('# owner = "name@example.com"', "who answers for this spend (showback by owner)"),
    ]
    team = f.get("team")
    lines.append(
        _line(f"team = {toml_str(team)}", "seen on its calls")
        if team
        else _line('# team = "platform"', "showback by team")
    )
    lines += [
        _line('# cost_center = "CC-000"', "showback by cost center (finance)"),
        _line('# criticality = "important"', "critical | important | mass"),
    ]
    if spend > 0:
        budget = suggested_budget(spend)
        lines.append(
            _line(f"monthly_budget_usd = {_number(budget)}", f"{month:%Y-%m} spend {_usd(spend)} × 1.2, rounded up")
        )
        hard = _number(budget * 2)
    else:
        lines.append(_line("# monthly_budget_usd = 10", f"no spend in {month:%Y-%m} to base it on"))
        hard = "20"
    lines += [
        _line("soft_alert_pct = 80", "warn at this % of the budget used (or a forecast over it)"),
        _line(f"# hard_limit_usd = {hard}", "`costlens check` fails once spend reaches it"),
    ]
    cpao = f.get("cost_per_accepted_outcome_usd")
    if cpao:
        slo = nice_round_up(Decimal(str(cpao)) * BUDGET_HEADROOM)
        basis = "" if economics_set else ", inference only until [economics] is set"
        lines.append(
            _line(
                f"# cost_slo_per_accepted_outcome_usd = {_number(slo)}",
                f"now {_unit_usd(cpao)} per accepted outcome{basis}",
            )
        )
    else:
        lines.append(_line("# cost_slo_per_accepted_outcome_usd = 0.10", "no accepted outcomes logged yet"))
    if f.get("batch_calls"):
        lines.append(_line("# interactive = false", "already partly on batch prices"))
    else:
        lines.append(_line("# interactive = true", "false = can wait (nightly, offline): a batch candidate"))
    p95 = int(f.get("p95_calls_per_task") or 1)
    top = int(f.get("max_calls_per_task") or 1)
    if top > 1:
        lines.append(
            _line(
                f"# step_budget = {max(2, math.ceil(p95 * 1.5))}",
                f"agents: most calls one task may take (p95 now {p95}, max {top})",
            )
        )
    else:
        lines.append(_line("# step_budget = 10", "agents: most calls one task may take (1 now)"))
    lines.append("")
    return lines


def _leak_lines() -> list[str]:
    from costlens.settings.leaks import DEFAULT_THRESHOLDS

    lines: list[str] = []
    section = None
    for name, (default, meaning) in DEFAULT_THRESHOLDS.items():
        group, _, key = name.partition(".")
        if group != section:
            lines += ["", f"# [leaks.{group}]"] if section is not None else [f"# [leaks.{group}]"]
            section = group
        value = int(default) if float(default).is_integer() else default
        lines.append(_line(f"# {key} = {value}", meaning))
    return lines


def render_starter_config(data: dict[str, Any], source: str | None = None, today: date | None = None) -> str:
    today = today or datetime.now(UTC).date()
    month: date | None = data.get("month")
    features = [f for f in data.get("features", []) if f["feature"] != "(unattributed)"]
    unattributed = next((f for f in data.get("features", []) if f["feature"] == "(unattributed)"), None)
    out = [
        "# costlens.toml — starter configuration written by `costlens init` on " + today.isoformat(),
    ]
    if month is not None:
        out.append(
            comment_text(
                f"# from {source or 'the database'}: {data['calls']:,} calls {data['first']} … {data['last']}, "
                f"{len(features)} features; budgets suggested from {month:%Y-%m}."
            )
        )
    else:
        out.append("# The database has no calls yet: ingest some logs and run `costlens init --force` again.")
    out += [
        "# Lines starting with # are documentation or suggestions: uncomment and edit them.",
        "# Every section is optional; `costlens report` validates the file and names any mistake.",
        "",
        "# ── Economics ─────────────────────────────────────────────────────────────────────────────",
        "[economics]",
        "loaded_hourly_rate_usd = 0        # fully loaded cost of an hour of human work: "
        "prices outcomes' rework_minutes",
        "delay_cost_per_minute_usd = 0     # what a minute of waiting costs: prices outcomes' delay_minutes",
        "",
        "# ── Features (use cases): ownership, budgets and cost SLOs ─────────────────────────────────",
        "# owner / team / cost_center        showback: who pays for what",
        "# criticality                       critical | important | mass",
        "# monthly_budget_usd                the month's budget in USD "
        "(suggested: last month's spend × 1.2, rounded up)",
        "# soft_alert_pct                    status 'warning' once this % of the budget is used (default 80)",
        "# hard_limit_usd                    status 'hard_limit' once spend reaches it; `costlens check` fails",
        "# cost_slo_per_accepted_outcome_usd the most one accepted outcome may cost (inference + rework + delay)",
        "# interactive                       false for work that can wait: batch-price candidate (leak: batchable)",
        "# step_budget                       agents: the most calls one task should take (leak: agent_loops)",
        "# task_class                        optional label, e.g. classification | extraction | chat | agent",
        "# value_per_accepted_outcome_usd    what an accepted outcome is worth (the cost–value matrix)",
        "",
    ]
    if not features:
        out += [
            "# [features.support-bot]",
            '# owner = "name@example.com"',
            '# team = "customer-experience"',
            '# cost_center = "CC-410"',
            '# criticality = "critical"',
            "# monthly_budget_usd = 300",
            "# soft_alert_pct = 80",
            "# hard_limit_usd = 600",
            "# cost_slo_per_accepted_outcome_usd = 0.50",
            "# interactive = true",
            "",
        ]
    economics_set = bool(data.get("economics_set"))
    for feature in features:
        assert month is not None, "starter data lists features only with the month they were measured in"
        out += _feature_block(feature, month, economics_set)
    if unattributed is not None:
        out += [
            comment_text(
                f"# {unattributed['calls']:,} calls carry no feature (spend {_usd(unattributed['month_cost_usd'])} in "
                f"{month:%Y-%m}): tag them (costlens.feature / feature attribute) so they get an owner."
            ),
            "",
        ]
    out += [
        "# ── Model tiers: premium | balanced | economy (from price bands; override here) ────────────",
        "[models.tiers]",
    ]
    for model, tier in data.get("tiers", []):
        out.append(comment_text(f"# {toml_str(model)} = {toml_str(tier)}"))
    out += [
        "",
        "# ── Prices: negotiated prices replace the catalog's; discounts apply to catalog prices ─────",
    ]
    unpriced = data.get("unpriced") or []
    if unpriced:
        out.append("# These models have no price in the bundled catalog — give them one:")
    for provider, model, variant in unpriced or [("openai", "gpt-4o", "standard")]:
        out += [
            "# [[prices.overrides]]",
            comment_text(f"# provider = {toml_str(provider)}"),
            comment_text(f"# model = {toml_str(model)}"),
            comment_text(f"# variant = {toml_str(variant)}             # standard | batch | flex | priority"),
            "# valid_from = 2025-01-01          # optional, inclusive (UTC)",
            "# input_mtok = 2.0                 # USD per million tokens",
            "# output_mtok = 8.0",
            "# cache_read_mtok = 1.0            # optional (default: input_mtok)",
            "",
        ]
    out += [
        "# [[prices.discounts]]              # the first matching entry applies",
        '# provider = "anthropic"            # optional glob',
        '# model = "claude-*"                # optional glob',
        "# pct = 10",
        "",
        "# ── Leak thresholds (the defaults; uncomment to change) ───────────────────────────────────",
        *_leak_lines(),
        "",
        "# [leaks.routing_targets]           # where premium_overuse suggests routing, per model glob",
        '# "gpt-4o*" = "gpt-4o-mini"',
        "",
        "# ── Levers ───────────────────────────────────────────────────────────────────────────────",
        "# [levers]",
        "# min_share_of_spend = 0.001        # drop levers worth less than 0.1 % of monthly spend",
        '# effort = { self_hosting = "months" }',
        '# quality_risk = { model_routing = "high" }',
        "",
        "# ── Outcomes: which scores count as acceptance, quality, human review ───────────────────────",
        "# [outcomes.scores]",
        '# accepted = ["accepted", "user_feedback", "thumbs"]',
        "# accept_threshold = 0.5",
        '# quality = ["quality", "quality_score"]',
        '# human_review = ["human_review", "reviewed"]',
        "",
        "# ── Ingest: column mappings for generic CSV / JSONL / Parquet logs ──────────────────────────",
        "# [[ingest.mappings]]",
        '# name = "warehouse-export"',
        '# match = "warehouse_*.csv"           # file-name glob',
        "# [ingest.mappings.columns]          # canonical = source column",
        '# ts = "event_time"',
        '# model = "llm_model"',
        '# input_tokens = "tokens_in"',
        '# output_tokens = "tokens_out"',
        "",
    ]
    return "\n".join(out)


def write_starter_config(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    *,
    config: Config | None = None,
    force: bool = False,
    source: str | None = None,
    today: date | None = None,
) -> Path:
    """Write the starter costlens.toml to `path`; refuse to overwrite an existing file unless `force`.
    `config` (optional) supplies price overrides so spend is priced as the user's config would price it."""
    from costlens.config import Config, load_config

    target = Path(path)
    if target.exists() and not force:
        raise UsageError(f"{target} already exists", fix="pass --force to overwrite it, or --out another file")
    if target.exists() and target.is_dir():
        raise UsageError(f"{target} is a folder", fix="pass a file name, e.g. --out costlens.toml")
    config = config or Config()
    data = starter_data(con, config, today)
    data["economics_set"] = bool(config.economics.loaded_hourly_rate_usd or config.economics.delay_cost_per_minute_usd)
    text = render_starter_config(data, source, today)
    from costlens.outputs import write_outputs

    # whole or not at all, and never a file that costlens itself cannot read
    write_outputs({target: lambda tmp: tmp.write_text(text, encoding="utf-8")}, validate=load_config)
    return target
