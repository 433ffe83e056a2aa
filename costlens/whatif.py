"""What-if re-pricing: replay the period's traffic under a change and price it the way the report does.

    route feature=F to=MODEL [provider=P] [from=MODEL]   route F's calls (only those on `from`) to MODEL
    batch feature=F                                       price F's synchronous calls at batch prices
    cache feature=F [share=0.5] [min_tokens=1024] [ttl=300]   turn on prompt caching
    cap-output feature=F max=N                            cut output above N tokens
    prompt feature=F file=PATH                            replace F's prompt with the text of PATH (tokens counted
                                                          offline with the bundled o200k_base encoding)

`feature=*` (or no feature) means every feature; several changes join with ';' and apply in order.
The period's tables must exist (costlens.engine.compute_period_metrics). Every change is SQL in
sql/whatif/ over `period_calls`, priced by the same join as sql/intermediate/fresh_priced_calls.sql against the
price book plus any key the change needs (resolved once with costlens.pricing.catalog.resolve_key, the way
build_price_book does it). Money is exact Decimal. Settings: [whatif] in costlens.toml
(costlens/settings/levers.py).
"""

from __future__ import annotations

import math
import shlex
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from costlens.db import one_row
from costlens.errors import UsageError
from costlens.settings.levers import RISKS, WhatIfSettings, whatif_settings
from costlens.sqlfiles import load_sql

if TYPE_CHECKING:
    import duckdb

DAYS_PER_MONTH = Decimal("30.44")
EXAMPLE = "e.g. route feature=support-bot to=gpt-4.1-mini"

_VERBS = {
    "route": "route",
    "batch": "batch",
    "cache": "prompt_cache",
    "caching": "prompt_cache",
    "prompt-cache": "prompt_cache",
    "prompt_cache": "prompt_cache",
    "prompt-caching": "prompt_cache",
    "prompt_caching": "prompt_cache",
    "cap": "cap_output",
    "cap-output": "cap_output",
    "cap_output": "cap_output",
    "max-output": "cap_output",
    "prompt": "prompt",
    "system-prompt": "prompt",
}
_KEYS = {
    "route": ("feature", "to", "provider", "from"),
    "batch": ("feature",),
    "prompt_cache": ("feature", "share", "min_tokens", "ttl"),
    "cap_output": ("feature", "max"),
    "prompt": ("feature", "file"),
}
_ALIASES = {
    "path": "file",
    "max_tokens": "max",
    "max_output": "max",
    "max_output_tokens": "max",
    "tokens": "max",
    "model": "to",
    "from_model": "from",
    "ttl_s": "ttl",
    "min_cacheable_tokens": "min_tokens",
}
_USAGE = {
    "route": "route feature=F to=MODEL [provider=P] [from=MODEL]",
    "batch": "batch feature=F",
    "prompt_cache": "cache feature=F [share=0.5] [min_tokens=1024] [ttl=300]",
    "cap_output": "cap-output feature=F max=N",
    "prompt": "prompt feature=F file=PATH",
}
PROMPT_ENCODING = "o200k_base"  # the bundled encoding (costlens/fingerprint/tokenizer.py); no network


# --------------------------------------------------------------------------------------------- parsing


@dataclass
class Change:
    kind: str  # route | batch | prompt_cache | cap_output | prompt
    text: str
    feature: str | None = None  # None = every feature
    target_model: str | None = None
    target_provider: str | None = None
    from_model: str | None = None
    max_output_tokens: int | None = None
    cacheable_share: float | None = None
    min_cacheable_tokens: int | None = None
    ttl_s: int | None = None
    prompt_file: str | None = None
    new_prompt_tokens: int | None = None
    old_prompt_tokens: int | None = None  # set when applied: the feature's smallest input per call


def _fail(text: str, message: str, fix: str = EXAMPLE) -> UsageError:
    return UsageError(f"what-if {text!r}: {message}", fix=fix)


def _int(text: str, key: str, value: str, *, low: int) -> int:
    try:
        number = int(value.replace("_", ""))
    except ValueError:
        raise _fail(text, f"{key}={value!r} is not a whole number", f"e.g. {key}=500") from None
    if number < low:
        raise _fail(text, f"{key}={value} must be at least {low}", f"e.g. {key}=500")
    return number


def parse_change(text: str) -> Change:
    """One change, e.g. 'route feature=support to=gpt-4.1-mini'. UsageError (one line) on bad input."""
    source = " ".join(str(text).split())
    try:
        words = shlex.split(source)
    except ValueError as exc:
        raise _fail(source, f"cannot split it into words ({exc})", "close the quotes around a value") from None
    if not words:
        raise _fail(source, "no change given", f"use one of: {'; '.join(_USAGE.values())}")
    verb = words[0].lower()
    kind = _VERBS.get(verb)
    if kind is None:
        raise _fail(
            source, f"unknown change {words[0]!r}", "use route, batch, cache, cap-output or prompt — " + EXAMPLE
        )
    values: dict[str, str] = {}
    for word in words[1:]:
        key, sep, value = word.partition("=")
        key = _ALIASES.get(key.strip().lower(), key.strip().lower())
        if not sep or not key or not value.strip():
            raise _fail(source, f"{word!r} is not key=value", f"write it as {_USAGE[kind]}")
        if key not in _KEYS[kind]:
            takes = ", ".join(f"{k}=" for k in _KEYS[kind])
            raise _fail(source, f"{verb} does not take {key}=", f"it takes {takes}: {_USAGE[kind]}")
        if key in values:
            raise _fail(source, f"{key}= is given twice", f"keep one: {_USAGE[kind]}")
        values[key] = value.strip()
    feature = values.get("feature")
    change = Change(kind=kind, text=source, feature=None if feature in (None, "*", "all") else feature)
    if kind == "route":
        if "to" not in values:
            raise _fail(source, "route needs to=MODEL", f"write {_USAGE[kind]}")
        change.target_model = values["to"]
        change.target_provider = values.get("provider")
        change.from_model = values.get("from")
    elif kind == "cap_output":
        if "max" not in values:
            raise _fail(source, "cap-output needs max=N (output tokens)", f"write {_USAGE[kind]}, e.g. max=500")
        change.max_output_tokens = _int(source, "max", values["max"], low=1)
    elif kind == "prompt_cache":
        if "share" in values:
            try:
                share = float(values["share"].rstrip("%")) / (100 if values["share"].endswith("%") else 1)
            except ValueError:
                raise _fail(source, f"share={values['share']!r} is not a number", "e.g. share=0.5") from None
            if not 0 < share <= 1 or math.isnan(share):
                raise _fail(source, f"share={values['share']} must be above 0 and at most 1", "e.g. share=0.5")
            change.cacheable_share = share
        if "min_tokens" in values:
            change.min_cacheable_tokens = _int(source, "min_tokens", values["min_tokens"], low=0)
        if "ttl" in values:
            change.ttl_s = _int(source, "ttl", values["ttl"].rstrip("s"), low=1)
    elif kind == "prompt":
        if change.feature is None or "file" not in values:
            raise _fail(
                source,
                "prompt needs feature=F (one feature) and file=PATH",
                f"write {_USAGE[kind]}, e.g. prompt feature=support-bot file=prompts/support.txt",
            )
        change.prompt_file = values["file"]
        change.new_prompt_tokens = prompt_tokens(values["file"])
    return change


def prompt_tokens(path: str) -> int:
    """Tokens of a prompt file's text as written (template placeholders count as their own text), with the
    bundled o200k_base encoding: offline, the same count the ingest uses for logged prompts."""
    from pathlib import Path

    from costlens.errors import InputError
    from costlens.fingerprint.tokenizer import count_tokens

    file = Path(path)
    fix = "give the prompt file's path relative to where costlens runs, e.g. file=prompts/support.txt"
    if not file.is_file():
        raise InputError(str(file), "prompt file not found", fix=fix)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(str(file), "the prompt file is not UTF-8 text", fix="save it as UTF-8") from None
    except OSError as exc:
        raise InputError(str(file), f"cannot be read ({exc.strerror or exc})", fix=fix) from None
    return int(count_tokens([text], PROMPT_ENCODING)[0])


def parse_changes(text: str) -> list[Change]:
    """Changes separated by ';', applied in order."""
    parts = [p for p in str(text).split(";") if p.strip()]
    if not parts:
        raise _fail(str(text), "no change given", f"use one of: {'; '.join(_USAGE.values())}")
    return [parse_change(p) for p in parts]


# --------------------------------------------------------------------------------------------- results


@dataclass
class WhatIfFeature:
    feature: str
    calls: int
    calls_affected: int
    before_usd: Decimal
    after_usd: Decimal
    savings_usd: Decimal
    unpriced_calls: int = 0


@dataclass
class ChangeOutcome:
    change: str
    kind: str
    calls_affected: int
    quality_risk: str
    quality_reason: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class WhatIfResult:
    change: str
    period_start: str
    period_end: str
    period_days: float
    before_usd: Decimal
    after_usd: Decimal
    savings_usd: Decimal  # before − after (negative: the change costs more)
    savings_pct: float | None
    est_monthly_savings_usd: Decimal
    calls: int
    calls_affected: int
    unpriced_calls: int  # left out: no price before the change
    by_feature: list[WhatIfFeature]
    changes: list[ChangeOutcome]
    quality_risk: str
    quality_reason: str
    assumptions: list[str] = field(default_factory=list)
    # the period in the one shape every JSON output uses (Period.to_dict); period_start / _end / _days stay for
    # readers of schema_version "1"
    period: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ----------------------------------------------------------------------------------------------- engine


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params) if params is not None else con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _require_period(con: duckdb.DuckDBPyConnection) -> tuple[datetime, datetime]:
    import duckdb

    try:
        start, end = one_row(con.execute("SELECT start_ts, end_ts FROM report_period"))
        con.execute("SELECT 1 FROM period_calls LIMIT 0")
        con.execute("SELECT 1 FROM task_costs LIMIT 0")
    except (duckdb.CatalogException, TypeError):
        raise UsageError(
            "what-if needs the period's priced calls",
            fix="run costlens.engine.compute_period_metrics(con, config, period) first",
        ) from None
    return start, end


def _catalog_canonical(provider_id: str) -> str:
    from costlens.pricing.catalog import CANONICAL_TO_CATALOG

    if provider_id in CANONICAL_TO_CATALOG:
        return provider_id
    return next((k for k, v in CANONICAL_TO_CATALOG.items() if v == provider_id), provider_id)


def _target_provider(con: duckdb.DuckDBPyConnection, change: Change) -> str | None:
    """provider= as given; else the provider the price book knows the model under (preferring the one the
    feature already uses); else the catalog's provider for the model; else the feature's own provider."""
    if change.target_provider:
        return change.target_provider.strip().lower()
    known = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT provider FROM price_book WHERE model = ? ORDER BY provider", [change.target_model]
        ).fetchall()
    ]
    used = [
        r[0]
        for r in con.execute(
            "SELECT coalesce(provider, '') FROM whatif_calls WHERE ($f IS NULL OR feature = $f) GROUP BY 1 "
            "ORDER BY count(*) DESC",
            {"f": change.feature},
        ).fetchall()
    ]
    for provider in used:
        if provider in known:
            return provider or None
    if known:
        return known[0] or None
    assert change.target_model is not None, "a route names its target model (parse_change)"
    try:
        from costlens.pricing.catalog import find_catalog_model

        match = find_catalog_model(None, change.target_model)
        return _catalog_canonical(match.provider.id)
    except LookupError:
        return (used[0] or None) if used else None


def _resolution_rows(resolution: Any, variant: str, applied: bool | None = None) -> list[dict[str, Any]]:
    from costlens.pricing.catalog import NO_PROVIDER

    match = resolution.match
    rows = []
    for s in resolution.segments:
        for tier in s.tiers:
            rows.append(
                {
                    "provider": resolution.provider or NO_PROVIDER,
                    "model": resolution.model,
                    "variant": variant,
                    "valid_from": s.valid_from,
                    "valid_to": s.valid_to,
                    "tod_from_s": s.tod_from_s,
                    "tod_to_s": s.tod_to_s,
                    "tier_above_tokens": tier.above_tokens,
                    "tier_upto_tokens": tier.upto_tokens,
                    **tier.prices.as_dict(),
                    "catalog_provider": match.provider.id if match else None,
                    "catalog_model": match.model.id if match else None,
                    "variant_applied": s.variant_applied if applied is None else applied,
                    "source": s.source,
                    "discount_pct": s.discount_pct,
                }
            )
    return rows


def _insert_price_rows(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa

    money = pa.decimal128(38, 18)
    schema = pa.schema(
        [
            ("provider", pa.string()),
            ("model", pa.string()),
            ("variant", pa.string()),
            ("valid_from", pa.timestamp("us")),
            ("valid_to", pa.timestamp("us")),
            ("tod_from_s", pa.int32()),
            ("tod_to_s", pa.int32()),
            ("tier_above_tokens", pa.int64()),
            ("tier_upto_tokens", pa.int64()),
            *(
                (name, money)
                for name in (
                    "input_mtok",
                    "cache_read_mtok",
                    "cache_write_5m_mtok",
                    "cache_write_1h_mtok",
                    "output_mtok",
                    "reasoning_mtok",
                    "request_usd",
                )
            ),
            ("catalog_provider", pa.string()),
            ("catalog_model", pa.string()),
            ("variant_applied", pa.bool_()),
            ("source", pa.string()),
            ("discount_pct", pa.decimal128(9, 6)),
        ]
    )
    table = pa.Table.from_pylist(rows, schema=schema)
    con.register("_whatif_new_prices", table)
    try:
        con.execute("INSERT INTO whatif_price_book BY NAME SELECT * FROM _whatif_new_prices")
    finally:
        con.unregister("_whatif_new_prices")


def _ensure_prices(con: duckdb.DuckDBPyConnection, config: Any, notes: list[str]) -> None:
    """Add to whatif_price_book every key the changed calls need and price_book lacks (resolved once each)."""
    from costlens.pricing.catalog import resolve_key
    from costlens.pricing.config import parse_prices_config

    con.execute("CREATE OR REPLACE TEMP TABLE whatif_price_book AS SELECT * FROM price_book")
    missing = con.execute(load_sql("whatif/missing_prices.sql")).fetchall()
    if not missing:
        return
    prices = parse_prices_config(getattr(config, "prices", None) or None)
    for provider, model, variant, t_min, t_max, _calls in missing:
        resolution = resolve_key(provider or None, model, variant, t_min, t_max, prices)
        rows = _resolution_rows(resolution, variant)
        if resolution.problem and variant != "standard":
            standard = resolve_key(provider or None, model, "standard", t_min, t_max, prices)
            if not standard.problem:
                rows = _resolution_rows(standard, variant, applied=False)
                resolution = standard
                notes.append(f"{provider or '?'}/{model} has no {variant} price: standard prices used for it")
        if resolution.problem:
            raise UsageError(
                f"cannot price {provider or '?'}/{model} ({variant}) for the what-if: {resolution.problem}",
                fix=f'add a [[prices.overrides]] entry with provider = "{provider}", model = "{model}" '
                f"to costlens.toml",
            )
        con.execute(
            "DELETE FROM whatif_price_book WHERE provider = ? AND model = ? AND variant = ?", [provider, model, variant]
        )
        _insert_price_rows(con, rows)
    left = con.execute(load_sql("whatif/missing_prices.sql")).fetchall()
    if left:
        provider, model, variant = left[0][:3]
        raise UsageError(
            f"no price for {provider or '?'}/{model} ({variant}) at some call times of the period",
            fix="add a [[prices.overrides]] entry covering the whole period",
        )


def _change_table(con: duckdb.DuckDBPyConnection, seq: int, change: Change, settings: WhatIfSettings) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE whatif_change AS SELECT CAST(? AS INTEGER) AS seq, "
        "CAST(? AS VARCHAR) AS feature, "
        "CAST(? AS VARCHAR) AS target_provider, CAST(? AS VARCHAR) AS target_model, CAST(? AS VARCHAR) AS from_model, "
        "CAST(? AS BIGINT) AS max_output_tokens, CAST(? AS DOUBLE) AS cacheable_share, "
        "CAST(? AS BIGINT) AS min_cacheable_tokens, CAST(? AS BIGINT) AS ttl_s, "
        "CAST(? AS BIGINT) AS new_prompt_tokens, CAST(? AS BIGINT) AS old_prompt_tokens",
        [
            seq,
            change.feature,
            change.target_provider,
            change.target_model,
            change.from_model,
            change.max_output_tokens,
            change.cacheable_share if change.cacheable_share is not None else settings.cacheable_share,
            change.min_cacheable_tokens if change.min_cacheable_tokens is not None else settings.min_cacheable_tokens,
            change.ttl_s if change.ttl_s is not None else settings.cache_ttl_s,
            change.new_prompt_tokens,
            change.old_prompt_tokens,
        ],
    )


def _prompt_estimate(con: duckdb.DuckDBPyConnection, change: Change) -> dict[str, Any]:
    """The prompt the feature's calls carry today (sql/whatif/prompt.sql): logged system prompts where present,
    else the feature's smallest input per call with any input. Calls that logged no input sent no prompt to
    change (a failed request billed nothing) and are not counted."""
    calls, logged, logged_median, smallest, median = one_row(
        con.execute(
            """
        SELECT count(*) FILTER (WHERE input_tokens + cache_read_tokens + cache_write_5m_tokens
                                      + cache_write_1h_tokens > 0),
               count(*) FILTER (WHERE coalesce(prefix_tokens, 0) > 0),
               median(prefix_tokens) FILTER (WHERE coalesce(prefix_tokens, 0) > 0),
               min(input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens)
                   FILTER (WHERE input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens > 0),
               median(input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens)
                   FILTER (WHERE input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens > 0)
        FROM whatif_calls WHERE priced AND feature = ?""",
            [change.feature],
        )
    )
    change.old_prompt_tokens = int(smallest or 0)
    return {
        "prompt_file": change.prompt_file,
        "new_prompt_tokens": change.new_prompt_tokens,
        "encoding": PROMPT_ENCODING,
        "calls_in_scope": int(calls),
        "calls_with_logged_prompt": int(logged),
        "logged_prompt_median_tokens": None if logged_median is None else float(logged_median),
        "old_prompt_tokens_estimate": change.old_prompt_tokens,
        "input_tokens_median": None if median is None else float(median),
    }


def _apply(con: duckdb.DuckDBPyConnection, seq: int, change: Change, settings: WhatIfSettings) -> int:
    _change_table(con, seq, change, settings)
    con.execute(load_sql(f"whatif/{change.kind}.sql"))
    return int(one_row(con.execute("SELECT count(*) FROM whatif_calls WHERE last_change = ?", [seq]))[0])


def whatif(
    con: duckdb.DuckDBPyConnection,
    config: Any,
    change: str | Change | list[Change],
    *,
    settings: WhatIfSettings | None = None,
) -> WhatIfResult:
    """Replay the current period's traffic under `change` and price it: before / after, per feature, risk."""
    start, end = _require_period(con)
    changes = (
        parse_changes(change) if isinstance(change, str) else ([change] if isinstance(change, Change) else list(change))
    )
    settings = settings or whatif_settings(config)
    notes: list[str] = []

    con.execute(load_sql("whatif/base.sql"))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE whatif_settings AS SELECT CAST(? AS DECIMAL(9, 6)) AS assumed_batch_discount",
        [settings.assumed_batch_discount_pct / 100],
    )
    features = [
        r[0]
        for r in con.execute(
            "SELECT feature FROM whatif_calls GROUP BY feature ORDER BY sum(before_cost_usd) DESC NULLS LAST, feature"
        ).fetchall()
    ]
    if not features:
        raise UsageError("no calls in the report period to replay", fix="choose a period with calls (--period)")

    outcomes: list[ChangeOutcome] = []
    for seq, c in enumerate(changes, start=1):
        if c.feature is not None and c.feature not in features:
            shown = ", ".join(features[:8]) + (" …" if len(features) > 8 else "")
            raise UsageError(
                f"what-if {c.text!r}: feature {c.feature!r} has no calls in the period", fix=f"use one of: {shown}"
            )
        if c.kind == "route":
            assert c.target_model is not None, "a route names its target model (parse_change)"
            in_data = _model_in_data(con, c.target_model)
            if in_data != c.target_model:
                notes.append(f"{c.target_model} is {in_data} in the data: the route is priced and judged as {in_data}")
                c.target_model = in_data
            c.target_provider = _target_provider(con, c)
        prompt_detail = _prompt_estimate(con, c) if c.kind == "prompt" else None
        affected = _apply(con, seq, c, settings)
        outcomes.append(
            ChangeOutcome(change=c.text, kind=c.kind, calls_affected=affected, quality_risk="low", quality_reason="")
        )
        if c.kind == "route":
            sources = [
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT last_from_model FROM whatif_calls WHERE last_change = ? ORDER BY 1", [seq]
                ).fetchall()
            ]
            outcomes[-1].detail = {
                "target_provider": c.target_provider,
                "target_model": c.target_model,
                "from_models": sources,
            }
        if prompt_detail is not None:
            outcomes[-1].detail = prompt_detail

    _ensure_prices(con, config, notes)
    con.execute(load_sql("whatif/price.sql"))
    rows = _rows(con, load_sql("whatif/summary.sql"))

    by_feature = [
        WhatIfFeature(
            feature=str(r["feature"]),
            calls=int(r["calls"]),
            calls_affected=int(r["calls_affected"]),
            before_usd=Decimal(r["before_usd"]),
            after_usd=Decimal(r["after_usd"]),
            savings_usd=Decimal(r["before_usd"]) - Decimal(r["after_usd"]),
            unpriced_calls=int(r["unpriced_calls"]),
        )
        for r in rows
    ]
    before = sum((f.before_usd for f in by_feature), Decimal(0))
    after = sum((f.after_usd for f in by_feature), Decimal(0))
    days = (end - start).total_seconds() / 86400.0
    savings = before - after

    for seq, (c, outcome) in enumerate(zip(changes, outcomes), start=1):
        _assess(con, seq, c, outcome, settings)
    _assumptions(changes, outcomes, rows, settings, notes)
    worst = max(outcomes, key=lambda o: RISKS.index(o.quality_risk))
    reason = (
        worst.quality_reason
        if len(outcomes) == 1
        else "; ".join(f"{o.change}: {o.quality_risk} — {o.quality_reason}" for o in outcomes)
    )
    return WhatIfResult(
        change="; ".join(c.text for c in changes),
        period_start=start.date().isoformat(),
        period_end=end.date().isoformat(),
        period_days=days,
        before_usd=before,
        after_usd=after,
        savings_usd=savings,
        savings_pct=float(savings / before * 100) if before else None,
        est_monthly_savings_usd=savings * DAYS_PER_MONTH / Decimal(str(days)) if days > 0 else savings,
        calls=sum(f.calls for f in by_feature),
        calls_affected=int(one_row(con.execute("SELECT count(*) FROM whatif_calls WHERE affected"))[0]),
        unpriced_calls=sum(f.unpriced_calls for f in by_feature),
        by_feature=by_feature,
        changes=outcomes,
        quality_risk=worst.quality_risk,
        quality_reason=reason,
        assumptions=notes,
    )


# ------------------------------------------------------------------------------------------ quality risk


def two_proportion_p_value(a1: int, n1: int, a2: int, n2: int) -> float:
    """Two-sided p-value of the two-proportion z-test (pooled); 1.0 when it cannot tell."""
    if n1 == 0 or n2 == 0:
        return 1.0
    pooled = (a1 + a2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    z = (a1 / n1 - a2 / n2) / se
    return math.erfc(abs(z) / math.sqrt(2))


def _wilson(a: int, n: int, z: float) -> tuple[float, float]:
    p = a / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def difference_bounds(a1: int, n1: int, a2: int, n2: int, z: float = 1.645) -> tuple[float, float]:
    """Newcombe's hybrid score interval (Wilson) for p1 − p2: (lower, upper) at one-sided level z."""
    p1, p2 = a1 / n1, a2 / n2
    l1, u1 = _wilson(a1, n1, z)
    l2, u2 = _wilson(a2, n2, z)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


MIN_OUTCOMES = 30  # per side, before acceptance rates are compared
ALPHA = 0.05
Z_ONE_SIDED = 1.645  # 95 % one-sided, as the premium_overuse detector's non-inferiority test
NONINFERIORITY_MARGIN = 0.05  # the target may be at most 5 points less accepted


def _scope(change: Change) -> str:
    return change.feature or "all features"


_NOTHING = {
    "route": "no call to route: every call in scope is already on the target model",
    "batch": "no call to move: every call in scope is already batch",
    "prompt_cache": "no eligible call: every call in scope already uses the cache, or its cacheable part is "
    "under the minimum cacheable length",
    "cap_output": "no call in scope wrote more than the cap",
    "prompt": "no call changed: the new prompt has as many tokens as the one the calls carry today",
}


def _assess(
    con: duckdb.DuckDBPyConnection, seq: int, change: Change, outcome: ChangeOutcome, settings: WhatIfSettings
) -> None:
    if outcome.calls_affected == 0:
        outcome.quality_risk, outcome.quality_reason = "low", _NOTHING[change.kind]
        return
    if change.kind == "route":
        _assess_route(con, seq, change, outcome)
    elif change.kind == "batch":
        interactive = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT w.feature FROM whatif_calls w JOIN feature_config f ON f.feature = w.feature "
                "WHERE w.last_change = ? AND f.interactive ORDER BY 1",
                [seq],
            ).fetchall()
        ]
        unknown = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT w.feature FROM whatif_calls w LEFT JOIN feature_config f ON f.feature = w.feature "
                "WHERE w.last_change = ? AND f.interactive IS NULL ORDER BY 1",
                [seq],
            ).fetchall()
        ]
        if interactive:
            outcome.quality_risk = "high"
            outcome.quality_reason = (
                f"{', '.join(interactive)} is configured interactive: batch answers arrive "
                f"within 24 h, not while the user waits"
            )
        elif unknown:
            outcome.quality_risk = "medium"
            outcome.quality_reason = (
                f"same model and prompts, but results arrive within 24 h; whether users wait "
                f"for {', '.join(unknown)} is not configured (set interactive = false)"
            )
        else:
            outcome.quality_risk = "low"
            outcome.quality_reason = "same model and prompts; the feature is not interactive, results within 24 h"
    elif change.kind == "prompt_cache":
        outcome.quality_risk = "low"
        outcome.quality_reason = "caching a byte-identical prefix does not change outputs"
    elif change.kind == "prompt":
        outcome.quality_risk = "medium"
        outcome.quality_reason = (
            "a new prompt changes the answers, and their length: evaluate it on a sample "
            "before it ships (output tokens are assumed unchanged here)"
        )
    elif change.kind == "cap_output":
        in_scope = int(
            one_row(
                con.execute(
                    "SELECT count(*) FROM whatif_calls WHERE priced AND ($f IS NULL OR feature = $f)",
                    {"f": change.feature},
                )
            )[0]
        )
        share = outcome.calls_affected / in_scope if in_scope else 0.0
        outcome.detail = {"calls_in_scope": in_scope, "share_truncated": share}
        level = "high" if share > 0.2 else "medium" if share > 0.02 else "low"
        outcome.quality_risk = level
        outcome.quality_reason = (
            f"{outcome.calls_affected} of {in_scope} calls ({share:.1%}) in {_scope(change)} "
            f"wrote more than {change.max_output_tokens} tokens and would be cut off"
        )


def _model_in_data(con: duckdb.DuckDBPyConnection, model: str) -> str:
    """The name the period's calls know a route target by: itself, else its one dated version in the data (an
    alias such as gpt-4o-mini is judged on the outcomes of gpt-4o-mini-2024-07-18, as the report folds them)."""
    if one_row(con.execute("SELECT count(*) FROM period_calls WHERE model = ?", [model]))[0]:
        return model
    dated = con.execute("SELECT DISTINCT model FROM period_calls WHERE is_dated_version(model, ?)", [model]).fetchall()
    if len(dated) == 1:
        return dated[0][0]
    folded = con.execute("SELECT dated FROM model_aliases WHERE alias = ?", [model]).fetchall()
    return folded[0][0] if len(folded) == 1 else model


def _assess_route(con: duckdb.DuckDBPyConnection, seq: int, change: Change, outcome: ChangeOutcome) -> None:
    """Risk from the target's observed acceptance in the feature vs the models it replaces: low when the
    target is no worse than NONINFERIORITY_MARGIN below (one-sided 95 % Newcombe bound), high when it is
    clearly worse beyond the margin, medium when the data cannot tell or there is none."""
    sources = outcome.detail.get("from_models") or []
    target = change.target_model
    params = {"feature": change.feature, "target": target, "sources": sources}
    stats = _rows(con, load_sql("whatif/route_quality.sql"), params)[0]
    where = f"in {change.feature}" if change.feature else "across features"
    if stats["target_tasks"] == 0:
        everywhere = _rows(con, load_sql("whatif/route_quality.sql"), {**params, "feature": None})[0]
        stats = {
            **stats,
            "target_elsewhere_tasks": everywhere["target_tasks"],
            "target_elsewhere_accepted": everywhere["target_accepted"],
        }
    n1, a1, n2, a2 = stats["target_tasks"], stats["target_accepted"], stats["source_tasks"], stats["source_accepted"]
    affected_before, affected_after = one_row(
        con.execute(
            "SELECT sum(w.before_cost_usd), sum(p.after_cost_usd) FROM whatif_calls w JOIN whatif_priced p USING (wid) "
            "WHERE w.last_change = ?",
            [seq],
        )
    )
    price_ratio = float(affected_after / affected_before) if affected_before else None
    outcome.detail.update(
        {
            "target_tasks_with_outcome": n1,
            "target_acceptance_rate": a1 / n1 if n1 else None,
            "source_tasks_with_outcome": n2,
            "source_acceptance_rate": a2 / n2 if n2 else None,
            "cost_ratio": price_ratio,
        }
    )
    src = ", ".join(sources) or "the current model"
    if n1 == 0:
        elsewhere = stats.get("target_elsewhere_tasks") or 0
        extra = ""
        if elsewhere:
            extra = (
                f"; elsewhere it has {stats['target_elsewhere_accepted'] / elsewhere:.1%} acceptance on "
                f"{elsewhere} tasks"
            )
        big_step = price_ratio is not None and price_ratio < 0.2
        outcome.quality_risk = "high" if big_step else "medium"
        outcome.quality_reason = (
            f"{target} has no observed outcomes {where}{extra}"
            + (f"; it costs {price_ratio:.0%} of {src} on these calls, a big step down" if big_step else "")
            + ": A/B test it on a sample before switching"
        )
        return
    p1 = a1 / n1
    if n2 == 0:
        outcome.quality_risk = "medium"
        outcome.quality_reason = (
            f"{target}: acceptance {p1:.1%} on {n1} tasks {where}; no outcomes for {src} to compare with"
        )
        return
    p2 = a2 / n2
    p_value = two_proportion_p_value(a1, n1, a2, n2)
    lower, upper = difference_bounds(a1, n1, a2, n2, Z_ONE_SIDED)
    outcome.detail.update(
        {
            "p_value": p_value,
            "difference": p1 - p2,
            "difference_lower_bound": lower,
            "difference_upper_bound": upper,
            "noninferiority_margin": NONINFERIORITY_MARGIN,
        }
    )
    compared = f"acceptance {p1:.1%} (n={n1}) vs {p2:.1%} (n={n2}) on {src} {where}"
    if p_value < ALPHA:
        verdict = f"significantly {'higher' if p1 > p2 else 'lower'} (p={p_value:.3f})"
    else:
        verdict = f"difference not significant (p={p_value:.2f})"
    bound = f"95% lower bound {lower * 100:+.1f} pts vs the −{NONINFERIORITY_MARGIN * 100:.0f}-pt margin"
    if n1 < MIN_OUTCOMES or n2 < MIN_OUTCOMES:
        outcome.quality_risk = "medium"
        outcome.quality_reason = f"{compared}: too few outcomes to tell (need {MIN_OUTCOMES} per side)"
    elif lower > -NONINFERIORITY_MARGIN:
        outcome.quality_risk = "low"
        outcome.quality_reason = f"{compared}: {verdict}; no worse beyond the margin ({bound})"
    elif upper < -NONINFERIORITY_MARGIN:
        outcome.quality_risk = "high"
        outcome.quality_reason = f"{compared}: {verdict}; worse by more than the margin"
    else:
        outcome.quality_risk = "medium"
        outcome.quality_reason = f"{compared}: {verdict}; cannot rule out a loss beyond the margin ({bound})"


def _assumptions(
    changes: list[Change],
    outcomes: list[ChangeOutcome],
    rows: list[dict[str, Any]],
    settings: WhatIfSettings,
    notes: list[str],
) -> None:
    kinds = {c.kind for c in changes}
    for change, outcome in zip(changes, outcomes):
        if change.kind != "prompt":
            continue
        d = outcome.detail
        estimated = d["calls_in_scope"] - d["calls_with_logged_prompt"]
        note = (
            f"prompt {change.feature}: the new prompt ({change.prompt_file}) is {d['new_prompt_tokens']:,} "
            f"tokens ({PROMPT_ENCODING}; other model families' tokenizers count somewhat differently); it "
            f"replaces the prompt the calls carry today"
        )
        if d["calls_with_logged_prompt"]:
            note += f": the logged system prompt on {d['calls_with_logged_prompt']:,} calls"
            note += "," if estimated else ""
        if estimated:
            median = d["input_tokens_median"]
            note += (
                f"{' and' if d['calls_with_logged_prompt'] else ':'} ASSUMPTION on {estimated:,} calls with no "
                f"logged prompt: the system prompt is the part of the input that changes, estimated as the "
                f"feature's smallest input per call, {d['old_prompt_tokens_estimate']:,} tokens (every call "
                f"carries it, so it is at most that; the median input is "
                f"{'—' if median is None else f'{median:,.0f}'} tokens)"
            )
        notes.append(
            note + "; the difference goes where the prompt sits (cache reads of calls that read it "
            "from the cache, else cache writes, else uncached input); output tokens unchanged"
        )
    if "route" in kinds:
        notes.append(
            "routed calls keep their token counts (same prompts and answer lengths; tokenizers differ "
            "slightly between model families)"
        )
    batch_assumed = sum(int(r["batch_discount_assumed"]) for r in rows)
    if batch_assumed:
        notes.append(
            f"{batch_assumed} calls: no batch price in the price book for their model, assumed "
            f"{settings.assumed_batch_discount_pct}% off (set whatif.assumed_batch_discount_pct, or add a "
            f'[[prices.overrides]] with variant = "batch")'
        )
    cache_assumed = sum(int(r["cache_assumed"]) for r in rows)
    if "prompt_cache" in kinds:
        change = next(c for c in changes if c.kind == "prompt_cache")
        ttl = change.ttl_s if change.ttl_s is not None else settings.cache_ttl_s
        minimum = (
            change.min_cacheable_tokens if change.min_cacheable_tokens is not None else settings.min_cacheable_tokens
        )
        notes.append(
            f"a call reads the cache when the same prefix was used within {ttl} s before it, else it "
            f"writes it; prefixes under {minimum} tokens are not cached"
        )
        if cache_assumed:
            share = change.cacheable_share if change.cacheable_share is not None else settings.cacheable_share
            notes.append(
                f"ASSUMPTION: {cache_assumed} calls have no logged prefix; {share:.0%} of their input is "
                f"assumed to be a stable, cacheable prefix shared by the feature (whatif.cacheable_share)"
            )
    if "cap_output" in kinds:
        notes.append("capped calls are priced at the cap; a cut answer may need a follow-up call, not counted here")
    unpriced = sum(int(r["unpriced_calls"]) for r in rows)
    if unpriced:
        notes.append(f"{unpriced} unpriced calls are left out of before and after")


# -------------------------------------------------------------------------------------------- rendering


def _money(value: Any, places: int = 2) -> str:
    """Dollars for display (the one place this module formats money)."""
    from decimal import ROUND_HALF_UP

    if value is None:
        return "—"
    return f"${Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,.{places}f}"


def render_markdown(result: WhatIfResult) -> str:
    """A pull request's job summary or comment: what the change would have cost over the period's traffic.
    Names from the logs and the change text go through costlens.inert.md (inert Markdown)."""
    from costlens.inert import md

    delta = result.after_usd - result.before_usd  # + = the change costs more
    monthly = -result.est_monthly_savings_usd
    sign = "+" if delta > 0 else "−" if delta < 0 else "±"
    msign = "+" if monthly > 0 else "−" if monthly < 0 else "±"
    pct = "" if result.savings_pct is None else f" ({-result.savings_pct:+.1f}%)"
    lines = [
        f"## costlens what-if · {md(result.change, limit=300)}",
        "",
        f"Over {result.period_start} → {result.period_end} (end exclusive): {_money(result.before_usd)} → "
        f"{_money(result.after_usd)}, **{sign}{_money(abs(delta))}**{pct}, ≈ {msign}{_money(abs(monthly))} a month; "
        f"{result.calls_affected:,} of {result.calls:,} calls affected.",
        "",
        "| Feature | Before | After | Change |",
        "|:---|---:|---:|---:|",
    ]
    for row in result.by_feature:
        if row.calls_affected == 0:
            continue
        change = row.after_usd - row.before_usd
        lines.append(
            f"| {md(row.feature)} | {_money(row.before_usd, 4)} | {_money(row.after_usd, 4)} | "
            f"{'+' if change > 0 else '−' if change < 0 else '±'}{_money(abs(change), 4)} |"
        )
    lines += ["", f"Quality risk: **{result.quality_risk}** — {md(result.quality_reason, limit=600)}", ""]
    lines += [f"- {md(note, limit=800)}" for note in result.assumptions]
    return "\n".join(lines).rstrip("\n") + "\n"
