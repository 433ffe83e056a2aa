"""`--engine spark` as a user runs it: report, reconcile and export focus on a real Spark (pyspark, local[2]),
reading the lake `costlens export lake` wrote, against the DuckDB engine on the database. Money and counts
are exact; the JSON differs only in generated_at, the engine name and, for a few p95 figures, the last bit of
a DOUBLE (docs/architecture.md#the-lake)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import SAMPLE_CONFIG, copy_sample_db

pytestmark = [pytest.mark.slow]

MONTH = "2026-10"
ENGINE = """
[engine]
master = "local[2]"
spark_conf = { "spark.sql.shuffle.partitions" = "2", "spark.driver.memory" = "2g" }
"""


def costlens(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COSTLENS_")}
    done = subprocess.run(
        [sys.executable, "-m", "costlens", *args], capture_output=True, text=True, timeout=900, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def setup(sample_month_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("spark-engine")
    db = copy_sample_db(sample_month_db, folder)
    config = folder / "costlens.toml"
    config.write_text(SAMPLE_CONFIG.read_text("utf-8") + ENGINE, encoding="utf-8")
    warehouse = folder / "lake"
    costlens("export", "lake", "-w", str(warehouse), "--db", str(db))
    return folder, db, config, warehouse


def _differences(duck, spark, path=""):
    """Where two JSON values differ: exact everywhere but a DOUBLE's last bits (relative 1e-12)."""
    if isinstance(duck, dict) and isinstance(spark, dict):
        assert duck.keys() == spark.keys(), path
        return [d for k in duck for d in _differences(duck[k], spark[k], f"{path}.{k}")]
    if isinstance(duck, list) and isinstance(spark, list):
        assert len(duck) == len(spark), path
        return [d for i, (a, b) in enumerate(zip(duck, spark)) for d in _differences(a, b, f"{path}[{i}]")]
    if duck == spark:
        return []
    if isinstance(duck, Decimal) and isinstance(spark, Decimal) and math.isclose(duck, spark, rel_tol=1e-12):
        return [path]  # a ratio computed in another order
    raise AssertionError(f"{path}: DuckDB {duck!r}, Spark {spark!r}")


@pytest.mark.parametrize("prices", ["list", "billed"])
def test_the_report_on_spark_is_duckdbs(setup, prices):
    _, db, config, warehouse = setup
    common = ["report", "-p", MONTH, "--config", str(config), "-j", "--prices", prices]
    # every number read as written (money is exact in the JSON; a float would round it)
    duck = json.loads(costlens(*common, "--db", str(db)).stdout, parse_float=Decimal)
    spark = json.loads(
        costlens(*common, "--engine", "spark", "--warehouse", str(warehouse)).stdout, parse_float=Decimal
    )
    assert (duck.pop("engine"), spark.pop("engine")) == ("duckdb", "spark")
    duck.pop("generated_at"), spark.pop("generated_at")
    inexact = _differences(duck, spark)
    # only DOUBLE percentiles, never money or a count
    assert all(p.rsplit(".", 1)[-1].startswith(("p50_", "p95_")) for p in inexact), inexact
    assert len(inexact) <= 20  # of the report's 213 percentiles: 6 at list prices, 10 at billed
    # at billed prices the calls the bill covers cost what it charged: the reconciliation's discounts
    # (−$27.31) and list-price differences (−$0.10) come off the list total, to the sub-cent
    total = {"list": Decimal("824.41389225"), "billed": Decimal("797.009628894747")}[prices]
    assert spark["totals"]["cost_usd"] == duck["totals"]["cost_usd"] == total
    assert len(spark["leaks"]) == len(duck["leaks"]) > 0 and len(spark["levers"]) == len(duck["levers"]) > 0
    assert spark["reconciliation"] == duck["reconciliation"]


def test_reconcile_on_spark_is_duckdbs_also_without_a_warehouse(setup):
    _, db, config, _ = setup
    common = ["reconcile", "-p", MONTH, "--db", str(db), "--config", str(config), "-j"]
    duck = costlens(*common).stdout
    spark = costlens(*common, "--engine", "spark").stdout  # the database written to a temporary lake first
    assert spark == duck
    reconciliation = json.loads(spark, parse_float=Decimal)["reconciliation"]
    assert reconciliation["status"] == "reconciled" and reconciliation["ai_billed_usd"] == Decimal("279.2899422")


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_export_focus_on_spark_writes_duckdbs_bytes(setup, suffix):
    folder, db, config, warehouse = setup
    duck, spark = folder / f"duck.{suffix}", folder / f"spark.{suffix}"
    common = ["export", "focus", "-p", MONTH, "--config", str(config), "--with-allocation"]
    costlens(*common, "-o", str(duck), "--db", str(db))
    costlens(*common, "-o", str(spark), "--engine", "spark", "--warehouse", str(warehouse))
    assert Path(spark).read_bytes() == Path(duck).read_bytes()
    assert Path(duck).stat().st_size > 10_000


def test_a_self_hosted_deployment_on_spark_is_duckdbs(tmp_path):
    """The deployment's monthly cost shared among its vLLM calls, its metrics and its gpu_underuse findings: on
    Spark (tests/fixtures/self_hosted, without a lake: the database written to a temporary one) as on DuckDB."""
    fixtures = Path(__file__).resolve().parent / "fixtures" / "self_hosted"
    db = tmp_path / "sh.duckdb"
    config = tmp_path / "costlens.toml"
    config.write_text((fixtures / "costlens.toml").read_text("utf-8") + ENGINE, encoding="utf-8")
    common = ["--db", str(db), "--config", str(config)]
    costlens("ingest", str(fixtures / "focus_aws_2026-11.csv"), str(fixtures / "vllm_spans.jsonl"), *common)
    report = ["report", "-p", "2026-11", "--json", *common]
    duck = json.loads(costlens(*report).stdout, parse_float=Decimal)
    spark = json.loads(costlens(*report, "--engine", "spark").stdout, parse_float=Decimal)
    for side in (duck, spark):
        side.pop("engine"), side.pop("generated_at")
    _differences(duck, spark)  # exact but for a DOUBLE's last bits
    assert spark["self_hosted"]["cost_usd"] == duck["self_hosted"]["cost_usd"] == Decimal("410.784")
    assert spark["totals"]["cost_usd"] == Decimal("410.784")
    assert [f["kind"] for f in spark["leaks"]] == ["gpu_underuse", "gpu_underuse"]
