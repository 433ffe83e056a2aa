"""Notebook users: the library API hands the report's tables and the period's calls to polars (exact Decimal
money, Arrow without a copy), and `costlens demo` works from a plain install, anywhere (the sample month ships
in the wheel)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from decimal import Decimal

import polars as pl
import pytest

from costlens import api

from conftest import PROJECT, SAMPLE_LOGS, copy_sample_db

pytestmark = pytest.mark.slow

SAMPLE_TOTAL = Decimal("824.41389225")  # the sample month with its config (README, tests/test_identity.py)
SAMPLE_CALLS = 26_138


@pytest.fixture(scope="module")
def sample(sample_month_db, tmp_path_factory):
    dbfile = str(copy_sample_db(sample_month_db, tmp_path_factory.mktemp("notebook")))
    return dbfile, api.load_config(str(SAMPLE_LOGS / "costlens.toml"))


def test_report_tables_as_polars_frames_keep_every_digit(sample, tmp_path):
    dbfile, config = sample
    report = api.report(db=dbfile, config=config, period="2026-10")
    frames = api.report_frames(report)
    assert set(frames) == {
        "unit_economics",
        "by_model",
        "by_team",
        "by_day",
        "leaks",
        "levers",
        "budgets",
        "showback",
        "showback_invoice",
        "customers",
        "plans",
        "feature_costs",
        "infrastructure",
        "self_hosted",
    }  # the CSV / Parquet export's tables
    features = frames["unit_economics"]
    assert features.schema["cost_usd"] == pl.Decimal(38, 18)
    assert features["cost_usd"].sum() == SAMPLE_TOTAL == report.totals.cost_usd
    assert frames["by_model"]["cost_usd"].sum() == SAMPLE_TOTAL
    assert features.height == len(report.unit_economics) == 6
    # the same table as the Parquet export, value for value
    from costlens.report.render_tables import export_tables

    written = {p.stem: p for p in export_tables(report, tmp_path / "tables", "parquet")}
    assert pl.read_parquet(written["unit_economics"]).equals(features)


def test_the_period_calls_as_a_polars_frame_add_up_to_the_report(sample):
    dbfile, config = sample
    calls = api.calls(db=dbfile, config=config, period="2026-10")
    assert calls.height == SAMPLE_CALLS and calls["call_id"].n_unique() == SAMPLE_CALLS
    assert calls["cost_usd"].sum() == SAMPLE_TOTAL
    by_feature = calls.group_by("feature_key").agg(pl.col("cost_usd").sum()).sort("cost_usd", descending=True)
    report = api.report(db=dbfile, config=config, period="2026-10")
    assert dict(by_feature.iter_rows()) == {ue.key: ue.cost_usd for ue in report.unit_economics}


@pytest.mark.subprocess
@pytest.mark.slow
def test_demo_runs_from_a_plain_install_outside_the_checkout(tmp_path):
    # the wheel, built offline from this checkout, unpacked as pip would install it; run from an empty folder
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(PROJECT),
        ],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("llm_costlens-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"costlens/sample_logs/{p.name}" for p in SAMPLE_LOGS.iterdir() if p.is_file()}
    assert shipped <= names and "costlens/sql/schema/002_macros.sql" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "NO_COLOR": "1", "COLUMNS": "200"}
    run = subprocess.run(
        [sys.executable, "-m", "costlens", "demo", "--db", "demo.duckdb"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert "$824.41" in run.stdout and f"{SAMPLE_CALLS:,}" in run.stdout
    assert str(site / "costlens" / "sample_logs") in run.stdout  # the installed copy, not a checkout's
