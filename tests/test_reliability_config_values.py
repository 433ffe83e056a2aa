"""Config values are validated on load (issue 14, item 3): budgets finite and above 0, rates and amounts finite
and 0 or more, percentages 0-100. A bad value is exit 2 with one line naming the file, the key and the fix —
before, `monthly_budget_usd = 0` crashed every report and nan / inf / negative values were accepted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from costlens.errors import EXIT_USAGE

from conftest import PROJECT

CLI = [sys.executable, "-m", "costlens"]
ENV = {
    **os.environ,
    "PYTHONPATH": str(PROJECT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    "COSTLENS_LOCK_WAIT": "0",
}
ENV.pop("COSTLENS_DB", None)


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=ENV, cwd=cwd, timeout=300)


BAD = [
    # (toml, key named in the error, fix)
    (
        "[features.bot]\nmonthly_budget_usd = 0\n",
        "[features.bot.monthly_budget_usd] a budget must be a finite number above 0, not 0.0",
        "set an amount above 0 in USD, or remove the setting for none",
    ),
    ("[features.bot]\nmonthly_budget_usd = -300\n", "[features.bot.monthly_budget_usd]", "above 0"),
    (
        "[features.bot]\nmonthly_budget_usd = nan\n",
        "[features.bot.monthly_budget_usd] a budget must be a finite number above 0, not nan",
        "set an amount above 0 in USD",
    ),
    (
        "[features.bot]\nmonthly_budget_usd = inf\n",
        "[features.bot.monthly_budget_usd] a budget must be a finite number above 0, not inf",
        "set an amount above 0 in USD",
    ),
    ("[features.bot]\nhard_limit_usd = 0\n", "[features.bot.hard_limit_usd] a budget", "above 0"),
    (
        "[features.bot]\ncost_slo_per_accepted_outcome_usd = -0.5\n",
        "[features.bot.cost_slo_per_accepted_outcome_usd]",
        "above 0",
    ),
    (
        "[features.bot]\nsoft_alert_pct = 120\n",
        "[features.bot.soft_alert_pct] a percentage must be a number from 0 to 100, not 120.0",
        "set a percentage from 0 to 100",
    ),
    ("[features.bot]\nsoft_alert_pct = nan\n", "[features.bot.soft_alert_pct]", "from 0 to 100"),
    ("[features.bot]\nstep_budget = 0\n", "[features.bot.step_budget]", "correct or remove that setting"),
    (
        "[features.bot]\nvalue_per_accepted_outcome_usd = -1\n",
        "[features.bot.value_per_accepted_outcome_usd] a rate",
        "0 or more",
    ),
    (
        "[economics]\nloaded_hourly_rate_usd = -60\n",
        "[economics.loaded_hourly_rate_usd] a rate must be a finite number of 0 or more, not -60.0",
        "set 0 or more in USD (0 leaves it out)",
    ),
    (
        "[economics]\nloaded_hourly_rate_usd = inf\n",
        "[economics.loaded_hourly_rate_usd] a rate must be a finite number of 0 or more, not inf",
        "set 0 or more in USD",
    ),
    (
        "[economics]\ndelay_cost_per_minute_usd = nan\n",
        "[economics.delay_cost_per_minute_usd] a rate must be a finite number of 0 or more, not nan",
        "set 0 or more in USD",
    ),
    ("[reconcile]\ntolerance_usd = inf\n", "[reconcile.tolerance_usd] an amount", "set 0 or more in USD"),
    ("[reconcile]\ntolerance_pct = 101\n", "[reconcile.tolerance_pct] a percentage", "from 0 to 100"),
    ("[reconcile]\nrounding_usd = -0.01\n", "[reconcile.rounding_usd]", "0 or more"),
    ("[reconcile]\nfit_share = nan\n", "[reconcile.fit_share]", "correct or remove that setting"),
    ("[outcomes.scores]\naccept_threshold = nan\n", "[outcomes.scores.accept_threshold]", "correct or remove"),
    (
        "[levers]\nmin_share_of_spend = nan\n",
        "levers.min_share_of_spend = nan is not a finite number",
        "use a number between 0 and 1",
    ),
    (
        "[levers.breakeven]\ngpu_hourly_usd = inf\n",
        "levers.breakeven.gpu_hourly_usd = inf is not a finite number",
        "of 0 or more",
    ),
    ("[levers.breakeven]\nutilisation = nan\n", "levers.breakeven.utilisation", "between 0 and 1"),
    ("[whatif]\ncacheable_share = nan\n", "whatif.cacheable_share = nan is not a finite number", "between 0 and 1"),
    ("[whatif]\nassumed_batch_discount_pct = inf\n", "whatif.assumed_batch_discount_pct", "between 0 and 100"),
    (
        "[leaks]\nretries = { min_calls = inf }\n",
        "retries.min_calls = inf is not a finite non-negative",
        "e.g. retries.min_calls",
    ),
]


@pytest.mark.subprocess
@pytest.mark.slow
@pytest.mark.parametrize(
    "toml, key, fix", BAD, ids=[t.split("\n")[1].split(" =")[0] + "=" + t.split("= ")[-1].strip() for t, _, _ in BAD]
)
def test_a_bad_value_is_exit_2_naming_the_file_the_key_and_the_fix(tmp_path, toml, key, fix):
    config = tmp_path / "costlens.toml"
    config.write_text(toml)
    for args in (
        ["report", "--db", str(tmp_path / "none.duckdb"), "--config", str(config)],
        ["check", "--db", str(tmp_path / "none.duckdb"), "--config", str(config)],
    ):
        proc = run(*args)
        assert "Traceback" not in proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        assert lines[0].startswith(f"costlens: error: {config}: "), lines[0]
        assert key in lines[0] and " — " in lines[0] and fix in lines[0].split(" — ", 1)[1], lines[0]
        assert proc.returncode == EXIT_USAGE
    assert not (tmp_path / "none.duckdb").exists()  # refused before anything was opened


def test_leaks_threshold_name_is_checked(tmp_path):
    """The [leaks] case above must name a real threshold, or it would pass for the wrong reason."""
    from costlens.settings.leaks import DEFAULT_THRESHOLDS

    assert "retries.min_calls" in DEFAULT_THRESHOLDS


@pytest.mark.subprocess
@pytest.mark.slow
def test_good_edge_values_still_load_and_report(tmp_path):
    """The edges that stay valid: a small positive budget, zero rates and tolerances, 0 and 100 % alerts; the
    report's budgets use them."""
    calls = tmp_path / "calls.jsonl"
    calls.write_text(
        "".join(
            json.dumps(
                {
                    "object": "chat.completion",
                    "id": f"c{i}",
                    "model": "gpt-4o-2024-08-06",
                    "created": 1759492800 + i,
                    "metadata": {"feature": "bot"},
                    "usage": {"prompt_tokens": 1000, "completion_tokens": 200},
                }
            )
            + "\n"
            for i in range(3)
        )
    )
    config = tmp_path / "costlens.toml"
    config.write_text(
        "[features.bot]\nmonthly_budget_usd = 0.0001\nsoft_alert_pct = 0\nhard_limit_usd = 1e9\n"
        "[features.other]\nmonthly_budget_usd = 100\nsoft_alert_pct = 100\n"
        "[economics]\nloaded_hourly_rate_usd = 0\ndelay_cost_per_minute_usd = 0\n"
        "[reconcile]\ntolerance_pct = 0\ntolerance_usd = 0\nrounding_usd = 0\n"
    )
    database = tmp_path / "db.duckdb"
    assert run("ingest", str(calls), "--db", str(database), "--config", str(config), "-q").returncode == 0
    proc = run("report", "--db", str(database), "--config", str(config), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    budgets = {b["feature"]: b for b in json.loads(proc.stdout)["budgets"]}
    assert budgets["other"]["status"] == "ok" and budgets["other"]["used_pct"] == 0.0
    assert budgets["bot"]["monthly_budget_usd"] == 0.0001
