"""The whole cost of each feature (docs/definitions.md#whole-cost-of-a-feature): model tokens, tool charges,
infrastructure (bill lines that serve a feature without being model usage, attributed by [[infrastructure.rules]]
or by a tag naming the feature) and human review (rework from outcomes).

sql/metrics/feature_costs.sql does the attribution and the sums; this module hands it the config as tables and
reads the typed `FeatureCosts` back. The features' infrastructure adds up to the attributed lines' cost exactly.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from costlens.engine import dataclass_rows
from costlens.model.report import FeatureCost, FeatureCosts, InfrastructureSpend
from costlens.sqlfiles import load_sql

if TYPE_CHECKING:
    import duckdb

    from costlens.config import Config


def _config_tables(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """infrastructure_rules (one row per rule and tag matcher; `matchers` rows make a rule) and
    infrastructure_tag_keys, from [infrastructure]; Arrow data, never SQL text."""
    import pyarrow as pa

    rows: list[dict[str, object]] = []
    for number, rule in enumerate(config.infrastructure.rules, start=1):
        tags: list[tuple[str | None, str | None]] = list(rule.tags.items()) or [(None, None)]
        for key, value in tags:
            rows.append(
                {
                    "rule_no": number,
                    "feature": rule.feature,
                    "kind": rule.kind,
                    "service": rule.service,
                    "resource": rule.resource,
                    "sku": rule.sku,
                    "account": rule.account,
                    "tag_key": key,
                    "tag_value": value,
                    "matchers": len(tags),
                }
            )
    text = pa.string()
    schema = pa.schema(
        [("rule_no", pa.int64()), ("feature", text), ("kind", text), ("service", text), ("resource", text)]
        + [("sku", text), ("account", text), ("tag_key", text), ("tag_value", text), ("matchers", pa.int64())]
    )
    rules = pa.Table.from_pylist(rows, schema=schema)
    keys = config.infrastructure.feature_tags
    tag_keys = pa.table({"key": pa.array(keys, text), "position": pa.array(range(len(keys)), pa.int64())})
    for name, table in (("infrastructure_rules", rules), ("infrastructure_tag_keys", tag_keys)):
        con.register(f"_{name}_arrow", table)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _{name}_arrow")
        con.unregister(f"_{name}_arrow")


def compute_feature_costs(
    con: duckdb.DuckDBPyConnection, config: Config, shown: set[str] | None = None
) -> FeatureCosts:
    """Each feature's whole cost (unit_economics_all and billing_usd must be ready). `shown`: only these features
    (a report filtered with --feature / --team)."""
    _config_tables(con, config)
    con.execute(load_sql("metrics/feature_costs.sql"))
    features = [
        f
        for f in dataclass_rows(con, "SELECT * FROM feature_costs ORDER BY total_usd DESC, feature", FeatureCost)
        if shown is None or f.feature in shown
    ]
    spend = [
        s
        for s in dataclass_rows(
            con,
            "SELECT feature, kind, attributed_by, count(*) AS lines, sum(billed_cost) AS cost_usd "
            "FROM infrastructure_lines GROUP BY ALL ORDER BY cost_usd DESC, feature, kind, attributed_by",
            InfrastructureSpend,
        )
        if shown is None or s.feature in shown
    ]
    return FeatureCosts(
        features=features,
        infrastructure=spend,
        infrastructure_usd=sum((s.cost_usd for s in spend), Decimal(0)),
        total_usd=sum((f.total_usd for f in features), Decimal(0)),
    )
