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


def compute_feature_costs(
    con: duckdb.DuckDBPyConnection, config: Config, shown: set[str] | None = None
) -> FeatureCosts:
    """Each feature's whole cost (unit_economics_all, billing_usd and bill_line_owners must be ready: the period
    engine's config tables). `shown`: only these features
    (a report filtered with --feature / --team)."""
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
