"""The period engine: what every analysis of a period stands on. Config → settings tables (feature_config,
fx_rates, economics, call_filter, report_period) → priced calls → period_calls → task costs → unit economics
(docs/architecture.md#the-period-engine). Leaks, levers, change, reconcile, budgets, showback, what-if, init and
the report builder read these tables and never build them another way; this module imports nothing above the
core (db, sqlfiles, pricing, config, errors) and the report's data types."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from costlens.db import one_row, scratch_sql
from costlens.model.report import Period, Totals, UnitEconomics
from costlens.sqlfiles import load_sql

T = TypeVar("T")

if TYPE_CHECKING:
    import duckdb

    from costlens.config import Config


UE_FIELDS = [f for f in UnitEconomics.__dataclass_fields__]


@dataclass(frozen=True)
class CallFilter:
    """Only the calls of these features, teams, customers and plans (`--feature`, `--team`, `--customer`,
    `--plan`), by the keys the report groups by: the feature a call carries or inherits from its trace, else
    "(unattributed)"; its team, else its feature's team in costlens.toml, else "(no team)"; its customer (or its
    trace's), else "(no customer)"; its customer's plan in the period (intermediate/customer_plans.sql), else
    "(no plan)". Several names of one kind: any of them; several kinds: all hold."""

    features: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    customers: tuple[str, ...] = ()
    plans: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.features or self.teams or self.customers or self.plans)

    def describe(self) -> str:
        parts = []
        kinds = (("feature", self.features), ("team", self.teams), ("customer", self.customers), ("plan", self.plans))
        for kind, names in kinds:
            if names:
                parts.append(f"{kind}{'s' if len(names) > 1 else ''} {', '.join(names)}")
        return " and ".join(parts)

    def to_dict(self) -> dict[str, list[str]]:
        """{features, teams} when filtered (and customers, plans when those filters are set); {} for every call."""
        if not self:
            return {}
        data = {"features": list(self.features), "teams": list(self.teams)}
        if self.customers:
            data["customers"] = list(self.customers)
        if self.plans:
            data["plans"] = list(self.plans)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, list[str]] | None) -> CallFilter:
        data = data or {}
        return cls(*(tuple(data.get(kind) or ()) for kind in ("features", "teams", "customers", "plans")))


def set_call_filter(con: duckdb.DuckDBPyConnection, call_filter: CallFilter | None) -> None:
    """The `call_filter` table sql/intermediate/period_call_rows.sql reads (NULL lists: every call). The names are
    bound as parameters, never pasted into SQL. It stays for the connection's later periods (the previous
    period of the diagnosis is filtered alike)."""
    chosen = call_filter or CallFilter()
    con.execute(
        "CREATE OR REPLACE TEMP TABLE call_filter AS SELECT CAST(? AS VARCHAR[]) AS features, "
        "CAST(? AS VARCHAR[]) AS teams, CAST(? AS VARCHAR[]) AS customers, CAST(? AS VARCHAR[]) AS plans",
        [list(names) or None for names in (chosen.features, chosen.teams, chosen.customers, chosen.plans)],
    )


def copy_call_filter(source: duckdb.DuckDBPyConnection, target: duckdb.DuckDBPyConnection) -> None:
    """The filter of `source` on another connection (a cursor: temp tables are per connection)."""
    rows = (
        source.execute("SELECT features, teams, customers, plans FROM call_filter").fetchall()
        if has_call_filter(source)
        else []
    )
    row = rows[0] if rows else None
    set_call_filter(target, CallFilter(*(tuple(names or ()) for names in row)) if row else None)


UNATTRIBUTED_KEY, NO_TEAM_KEY, NO_CUSTOMER_KEY, NO_PLAN_KEY = (
    "(unattributed)",
    "(no team)",
    "(no customer)",
    "(no plan)",
)


def check_call_filter(con: duckdb.DuckDBPyConnection, config: Config, call_filter: CallFilter | None) -> None:
    """A --feature / --team / --customer name that no call of the database carries (at any date) and
    costlens.toml does not name is a typo, not an empty report: a usage error naming the closest known name
    (revenue rows name customers too). A known name with no call in the period is not an error; the report says
    so on stderr (filter_hint)."""
    if not call_filter:
        return
    import difflib

    from costlens.errors import UsageError

    features, teams, customers = one_row(
        con.execute(
            """
        SELECT list(DISTINCT coalesce(nullif(trim(c.feature), ''), nullif(trim(tc.feature), ''), ?)),
               list(DISTINCT coalesce(nullif(trim(c.team), ''), tc.team)) FILTER (
                   WHERE coalesce(nullif(trim(c.team), ''), tc.team) IS NOT NULL),
               list(DISTINCT trim(coalesce(c.customer, tc.customer))) FILTER (
                   WHERE nullif(trim(coalesce(c.customer, tc.customer)), '') IS NOT NULL)
        FROM calls c LEFT JOIN trace_context tc ON tc.trace_id = c.trace_id""",
            [UNATTRIBUTED_KEY],
        )
    )
    billed = {row[0] for row in con.execute("SELECT DISTINCT customer FROM revenue").fetchall()}
    plans = {
        row[0]
        for row in con.execute(
            "SELECT DISTINCT trim(plan) FROM revenue WHERE nullif(trim(plan), '') IS NOT NULL"
        ).fetchall()
    }
    known = {  # the names listed; "(unattributed)" / "(no team)" are accepted even when no call has them
        "--feature": set(features or ()) | set(config.features),
        "--team": set(teams or ()) | {f.team for f in config.features.values() if f.team},
        "--customer": set(customers or ()) | billed,
        "--plan": plans,
    }
    sentinel = {
        "--feature": UNATTRIBUTED_KEY,
        "--team": NO_TEAM_KEY,
        "--customer": NO_CUSTOMER_KEY,
        "--plan": NO_PLAN_KEY,
    }
    for option, names in (
        ("--feature", call_filter.features),
        ("--team", call_filter.teams),
        ("--customer", call_filter.customers),
        ("--plan", call_filter.plans),
    ):
        choices = sorted(known[option])
        for name in names:
            if name in known[option] or name == sentinel[option]:
                continue
            kind = option.lstrip("-")
            same_case = [c for c in choices if c.casefold() == name.casefold()]
            close = same_case or difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
            listed = ", ".join(choices[:12]) + (f", … ({len(choices)} in all)" if len(choices) > 12 else "")
            fix = f"did you mean {option} {close[0]}? " if close else ""
            where = (
                "no revenue row names that plan" if option == "--plan" else f"no call in the database has that {kind}"
            )
            raise UsageError(f"{option} {name!r}: {where}", fix=f"{fix}{kind}s known: {listed or 'none'}")


def has_call_filter(con: duckdb.DuckDBPyConnection) -> bool:
    # fetchall: a result left unfinished blocks DuckDB's register() that follows in config_tables
    return bool(
        con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'call_filter'").fetchall()[
            0
        ][0]
    )


def prepare_priced_calls(con: duckdb.DuckDBPyConnection, config: Config, *, rebuild: bool = True) -> None:
    """Resolve the price book for the calls present, store the cost of every call it prices differently from
    what is stored, and (re)create the priced_calls view that reads them (costlens.pricing.stored)."""
    from costlens.pricing import stored

    stored.price_calls(con, config.prices or None, config.models.aliases, rebuild=rebuild)


def config_tables(con: duckdb.DuckDBPyConnection, config: Config, period: Period) -> None:
    import pyarrow as pa

    con.execute(
        "CREATE OR REPLACE TEMP TABLE report_period AS "
        "SELECT CAST(? AS TIMESTAMP) AS start_ts, CAST(? AS TIMESTAMP) AS end_ts",
        [period.start.isoformat(), period.end.isoformat()],
    )
    if not has_call_filter(con):  # every call, unless build_report set a filter on this connection
        set_call_filter(con, None)
    con.execute(load_sql("intermediate/customer_plans.sql"))
    features = pa.table(
        {
            "feature": pa.array(list(config.features), pa.string()),
            "team": pa.array([f.team for f in config.features.values()], pa.string()),
            "owner": pa.array([f.owner for f in config.features.values()], pa.string()),
            "cost_center": pa.array([f.cost_center for f in config.features.values()], pa.string()),
            "criticality": pa.array([f.criticality for f in config.features.values()], pa.string()),
            "interactive": pa.array([f.interactive for f in config.features.values()], pa.bool_()),
        }
    )
    tiers = pa.table(
        {
            "model": pa.array(list(config.models.tiers), pa.string()),
            "tier": pa.array(list(config.models.tiers.values()), pa.string()),
        }
    )
    rates = config.currency.rates
    fx = pa.table(
        {
            "currency": pa.array([r.currency.upper() for r in rates], pa.string()),
            "valid_from": pa.array([r.valid_from for r in rates], pa.date32()),
            "usd": pa.array([r.usd for r in rates], pa.float64()),
        }
    )
    for name, table in (("feature_config", features), ("model_tier_overrides", tiers), ("fx_rates", fx)):
        _register(con, name, table)
    con.execute(load_sql("intermediate/billing_usd.sql"))
    bill_rule_tables(con, config)
    con.execute(load_sql("intermediate/bill_line_owners.sql"))
    con.execute(load_sql("intermediate/self_hosted_costs.sql"))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE economics AS SELECT CAST(? AS DOUBLE) AS loaded_hourly_rate_usd, "
        "CAST(? AS DOUBLE) AS delay_cost_per_minute_usd",
        [config.economics.loaded_hourly_rate_usd, config.economics.delay_cost_per_minute_usd],
    )


def _register(con: duckdb.DuckDBPyConnection, name: str, table: Any) -> None:
    con.register(f"_{name}_arrow", table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _{name}_arrow")
    con.unregister(f"_{name}_arrow")


def bill_rule_tables(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """bill_line_rules (the [self_hosted.<name>] deployments' `bill`, then [[infrastructure.rules]]: one row per
    rule and tag matcher, `matchers` rows make a rule), infrastructure_tag_keys, self_hosted_deployments and
    self_hosted_models (deployment, model_glob), from the config as Arrow data, never SQL text."""
    import pyarrow as pa

    from costlens.config import BillLineMatcher

    owned: list[tuple[str | None, str | None, str, str, BillLineMatcher]] = [
        (name, None, "gpu", f"self_hosted.{name}", d.bill) for name, d in config.self_hosted.items() if d.bill
    ]
    owned += [(None, r.feature, r.kind, f"rule {n}", r) for n, r in enumerate(config.infrastructure.rules, start=1)]
    rows: list[dict[str, object]] = []
    for number, (deployment, feature, kind, label, match) in enumerate(owned, start=1):
        tags: list[tuple[str | None, str | None]] = list(match.tags.items()) or [(None, None)]
        for key, value in tags:
            rows.append(
                {
                    "rule_no": number,
                    "deployment": deployment,
                    "feature": feature,
                    "kind": kind,
                    "label": label,
                    "service": match.service,
                    "resource": match.resource,
                    "sku": match.sku,
                    "account": match.account,
                    "tag_key": key,
                    "tag_value": value,
                    "matchers": len(tags),
                }
            )
    text = pa.string()
    columns = ["deployment", "feature", "kind", "label", "service", "resource", "sku", "account", "tag_key"]
    schema = pa.schema(
        [("rule_no", pa.int64())] + [(c, text) for c in columns] + [("tag_value", text), ("matchers", pa.int64())]
    )
    _register(con, "bill_line_rules", pa.Table.from_pylist(rows, schema=schema))
    keys = config.infrastructure.feature_tags
    tag_keys = pa.table({"key": pa.array(keys, text), "position": pa.array(range(len(keys)), pa.int64())})
    _register(con, "infrastructure_tag_keys", tag_keys)
    deployments = [
        {
            "deployment": name,
            "position": position,
            "provider": d.provider,
            "gpu_type": d.gpu_type,
            "gpu_count": d.gpu_count,
            "gpu_hour_usd": d.gpu_hour_usd,
            "by_bill": d.bill is not None,
            # weights to the thousandth, as integers: the shares are exact integer arithmetic
            "input_weight_milli": int(round(d.input_weight * 1000)),
            "output_weight_milli": int(round(d.output_weight * 1000)),
            "peak_tokens_per_second_per_gpu": d.peak_tokens_per_second_per_gpu,
            "running_from": d.running_from,
            "running_until": d.running_until,
        }
        for position, (name, d) in enumerate(config.self_hosted.items())
    ]
    deployment_schema = pa.schema(
        [("deployment", text), ("position", pa.int64()), ("provider", text)]
        + [("gpu_type", text), ("gpu_count", pa.int64()), ("gpu_hour_usd", pa.decimal128(38, 18))]
        + [("by_bill", pa.bool_()), ("input_weight_milli", pa.int64()), ("output_weight_milli", pa.int64())]
        + [("peak_tokens_per_second_per_gpu", pa.float64()), ("running_from", pa.date32())]
        + [("running_until", pa.date32())]
    )
    _register(con, "self_hosted_deployments", pa.Table.from_pylist(deployments, schema=deployment_schema))
    models = [(name, glob) for name, d in config.self_hosted.items() for glob in d.models]
    _register(
        con,
        "self_hosted_models",
        pa.table(
            {"deployment": pa.array([m[0] for m in models], text), "model_glob": pa.array([m[1] for m in models], text)}
        ),
    )


COST_MODES = ("computed", "reported")


# The period's SQL, in order (each file declares what it requires and creates: tests/test_sql_declarations.py).
PERIOD_STEPS = (
    "intermediate/model_tiers.sql",
    "intermediate/period_call_rows.sql",
    "intermediate/period_calls.sql",
    "metrics/task_costs.sql",
    "metrics/unit_economics.sql",
)


def compute_period_metrics(
    con: duckdb.DuckDBPyConnection, config: Config, period: Period, cost_mode: str = "computed"
) -> None:
    """Materialise period_calls, task_costs and unit_economics_all for the period."""
    config_tables(con, config, period)
    con.execute("CREATE OR REPLACE TEMP TABLE report_options AS SELECT CAST(? AS VARCHAR) AS cost_mode", [cost_mode])
    # These tables are read only through explicit ORDER BY / GROUP BY, so their row order need not be kept,
    # which lets DuckDB stream and spill them with less memory (~10M calls).
    preserve = one_row(con.execute("SELECT current_setting('preserve_insertion_order')"))[0]
    con.execute("SET preserve_insertion_order = false")
    try:
        for step in PERIOD_STEPS:
            execute_within_memory(con, scratch_sql(con, step))
    finally:
        con.execute(f"SET preserve_insertion_order = {'true' if preserve else 'false'}")


def execute_within_memory(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Run a metrics step; if it runs out of memory on every thread, run it again on one. Percentiles keep
    each group's values in memory (one set per thread), which can exceed the memory limit at ~10M calls
    where the rest of the work spills to disk."""
    import duckdb

    try:
        con.execute(sql)
    except duckdb.OutOfMemoryException:
        threads = int(one_row(con.execute("SELECT current_setting('threads')"))[0])
        con.execute("SET threads = 1")
        try:
            con.execute(sql)
        finally:
            con.execute(f"SET threads = {threads}")


def query_rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def dataclass_rows(con: duckdb.DuckDBPyConnection, sql: str, cls: type[T]) -> list[T]:
    """The rows of `sql` as dataclass `cls`, a column per field of the same name; a field typed Decimal gets an
    exact Decimal whatever numeric type the engine returned (Spark may return a DOUBLE for a sum)."""
    from dataclasses import fields

    kinds = [(f.name, "Decimal" in str(f.type)) for f in fields(cls)]  # type: ignore[arg-type]
    out = []
    for row in query_rows(con, sql):
        values = {
            name: Decimal(str(row[name]))
            if money and row[name] is not None and not isinstance(row[name], Decimal)
            else row[name]
            for name, money in kinds
        }
        out.append(cls(**values))
    return out


def unit_economics_row(row: dict[str, Any]) -> UnitEconomics:
    values: dict[str, Any] = {name: row.get(name) for name in UE_FIELDS}
    values["key"] = str(row["key"])
    for money in ("cost_usd", "rework_cost_usd", "delay_cost_usd", "tool_cost_usd"):
        values[money] = Decimal(values[money] or 0)
    for count in (
        "calls",
        "tasks",
        "unpriced_calls",
        "accepted_tasks",
        "tasks_with_outcome",
        "input_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "output_tokens",
    ):
        values[count] = int(values[count] or 0)
    for ratio in UE_FIELDS:
        value = values[ratio]
        if isinstance(value, Decimal) and ratio not in (
            "cost_usd",
            "rework_cost_usd",
            "delay_cost_usd",
            "tool_cost_usd",
            "reported_cost_usd",
            "computed_cost_of_reported_usd",
        ):
            values[ratio] = float(value)
    return UnitEconomics(**values)


def dimension_rows(con: duckdb.DuckDBPyConnection, dimension: str, order: str) -> list[UnitEconomics]:
    rows = query_rows(con, f"SELECT * FROM unit_economics_all WHERE dimension = ? ORDER BY {order}", [dimension])
    return [unit_economics_row(r) for r in rows]


def filter_hint(con: duckdb.DuckDBPyConnection, period: Period, call_filter: CallFilter) -> str | None:
    """Why a filter kept no call of a period that has calls: the features and teams that do have calls then
    (the same keys as sql/intermediate/period_call_rows.sql). None when the period has no call at all."""
    features, teams = one_row(
        con.execute(
            """
        SELECT list_sort(list(DISTINCT coalesce(nullif(trim(c.feature), ''), nullif(trim(tc.feature), ''),
                                                '(unattributed)'))),
               list_sort(list(DISTINCT coalesce(nullif(trim(c.team), ''), tc.team, fc.team, '(no team)')))
        FROM calls c
        LEFT JOIN trace_context tc ON tc.trace_id = c.trace_id
        LEFT JOIN feature_config fc ON fc.feature = coalesce(nullif(trim(c.feature), ''), tc.feature)
        WHERE c.ts >= ? AND c.ts < ?""",
            [period.start, period.end],
        )
    )
    if not features:
        return None
    return (
        f"no calls of {call_filter.describe()} in {period.describe()}; calls there belong to features "
        f"{', '.join(features)} and teams {', '.join(teams)} — check the --feature / --team names"
    )


def totals_from_row(total: UnitEconomics | None) -> Totals:
    if total is None:
        return Totals(Decimal(0), 0, 0, 0, 0, None, None, None, None, None)
    coverage = 100.0 * (total.calls - total.unpriced_calls) / total.calls if total.calls else None
    return Totals(
        cost_usd=total.cost_usd,
        calls=total.calls,
        tasks=total.tasks,
        accepted_tasks=total.accepted_tasks,
        unpriced_calls=total.unpriced_calls,
        priced_coverage_pct=coverage,
        cost_per_call_usd=total.cost_per_call_usd,
        cost_per_task_usd=total.cost_per_task_usd,
        quality_adjusted_cost_per_task_usd=total.quality_adjusted_cost_per_task_usd,
        cost_per_accepted_outcome_usd=total.cost_per_accepted_outcome_usd,
        reported_cost_usd=total.reported_cost_usd,
        tasks_with_outcome=total.tasks_with_outcome,
        tool_cost_usd=total.tool_cost_usd,
    )
