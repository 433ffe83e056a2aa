"""`costlens init` (costlens/init_config.py): a commented starter costlens.toml derived from the database, which
loads back with load_config — as written, and with every suggestion uncommented — even for hostile names."""

from __future__ import annotations

import csv
import re
from datetime import date
from decimal import Decimal

import pytest

from costlens.config import ColumnMapping, Config, load_config
from costlens.errors import UsageError
from costlens.init_config import comment_text, nice_round_up, suggested_budget, toml_str, write_starter_config

from conftest import FIXTURES

TODAY = date(2026, 11, 23)
ECON = FIXTURES / "economics"

HOSTILE = [
    'we"ird',
    "a\nb",
    "x]y",
    "<script>alert(1)</script>",
    "tab\there",
    "café",
    "=cmd|' /C calc'!A0",
    "with space",
    "sec.tion",
    "back\\slash",
    "del\x7fete",
]
EVIL_MODEL = 'evil\n[economics]\nloaded_hourly_rate_usd = "boom"'


@pytest.mark.parametrize(
    "value, expected",
    [
        ("629.748", "630"),
        ("18.15", "19"),
        ("2.1066", "2.2"),
        ("0.7634", "0.77"),
        ("0.02568", "0.026"),
        ("100", "100"),
        ("101", "110"),
        ("0", "0"),
    ],
)
def test_nice_round_up(value, expected):
    assert nice_round_up(Decimal(value)) == Decimal(expected)


def test_suggested_budget():
    assert suggested_budget(Decimal("524.79")) == Decimal("630")  # 629.748 rounded up to two figures


def test_toml_and_comment_escaping():
    assert toml_str('a"b\\c\nd\x7f') == '"a\\"b\\\\c\\nd\\u007F"'
    assert "\n" not in comment_text("x\ny\rz\u2028") and comment_text("x\ny") == "x y"


@pytest.fixture
def econ_db(con, ingest):
    config = load_config(ECON / "costlens.toml")
    assert not ingest(ECON / "spans.jsonl", ECON / "outcomes.csv", config=config).failed
    return con, config


@pytest.mark.slow
def test_writes_budgets_from_last_month_and_loads_back(econ_db, tmp_path):
    con, config = econ_db
    path = write_starter_config(con, tmp_path / "costlens.toml", config=config, today=TODAY, source="econ.duckdb")
    text = path.read_text(encoding="utf-8")
    loaded = load_config(path)
    assert set(loaded.features) == {"alpha", "beta"}
    # alpha spent $0.0214 in 2026-10 → × 1.2 = 0.02568 → 0.026; beta $0.0036 → 0.00432 → 0.0044
    assert loaded.features["alpha"].monthly_budget_usd == pytest.approx(0.026)
    assert loaded.features["beta"].monthly_budget_usd == pytest.approx(0.0044)
    assert loaded.features["alpha"].soft_alert_pct == 80
    # the comment shows the spend as every output shows an amount: to the cent, half up ($0.0214 → $0.02)
    assert "2026-10 spend $0.02 × 1.2, rounded up" in text
    assert "2026-10 spend $0.00 × 1.2, rounded up" in text  # beta's $0.0036
    for setting in (
        "owner",
        "team",
        "cost_center",
        "criticality",
        "hard_limit_usd",
        "cost_slo_per_accepted_outcome_usd",
        "interactive",
        "step_budget",
    ):
        assert f"# {setting} = " in text or f"\n{setting} = " in text, setting
    for section in (
        "[economics]",
        "[models.tiers]",
        "# [[prices.overrides]]",
        "# [[prices.discounts]]",
        "# [leaks.context_bloat]",
        "# [levers]",
        "# [outcomes.scores]",
        "# [[ingest.mappings]]",
    ):
        assert section in text, section
    # the unpriced model of the fixture gets an override stub
    assert '# model = "mystery-model"' in text


def uncomment_all(text: str) -> str:
    """Uncomment every suggested setting and example section."""
    return "\n".join(re.sub(r"^# (?=\[|\"|[a-z_0-9]+ = )", "", line) for line in text.splitlines())


@pytest.mark.slow
def test_every_suggestion_loads_when_uncommented(econ_db, tmp_path):
    con, config = econ_db
    path = write_starter_config(con, tmp_path / "costlens.toml", config=config, today=TODAY)
    full = tmp_path / "full.toml"
    full.write_text(uncomment_all(path.read_text(encoding="utf-8")), encoding="utf-8")
    loaded = load_config(full)
    alpha = loaded.features["alpha"]
    assert alpha.owner == "name@example.com" and alpha.criticality == "important"
    assert alpha.hard_limit_usd == pytest.approx(0.052) and alpha.cost_slo_per_accepted_outcome_usd is not None
    assert alpha.step_budget == 3  # A1 and A3 took 2 calls: p95 2 × 1.5
    assert loaded.leaks["context_bloat"]["k_p50"] == 4
    assert loaded.prices["overrides"][0]["model"] == "mystery-model"


@pytest.mark.slow
def test_refuses_to_overwrite_unless_forced(econ_db, tmp_path):
    con, config = econ_db
    target = tmp_path / "costlens.toml"
    target.write_text("# mine\n", encoding="utf-8")
    with pytest.raises(UsageError) as err:
        write_starter_config(con, target, config=config, today=TODAY)
    assert err.value.exit_code == 2 and "already exists" in err.value.one_line() and "--force" in err.value.one_line()
    assert target.read_text(encoding="utf-8") == "# mine\n"
    write_starter_config(con, target, config=config, today=TODAY, force=True)
    assert "alpha" in load_config(target).features


@pytest.mark.slow
def test_hostile_names_load_back(con, ingest, tmp_path):
    columns = ["call_id", "ts", "provider", "model", "input_tokens", "output_tokens", "task_id", "feature", "team"]
    source = tmp_path / "calls.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for i, name in enumerate(HOSTILE):
            writer.writerow(
                [f"c{i}", "2026-10-05T10:00:00Z", "acme", "acme-small", 1000, 100, f"t{i}", name, f"team {name}"]
            )
        writer.writerow(["c-evil", "2026-10-06T10:00:00Z", "acme", EVIL_MODEL, 1000, 100, "t-evil", "plain", ""])
        writer.writerow(["c-none", "2026-10-06T10:00:00Z", "acme", "acme-small", 1000, 100, "t-none", "", ""])
    config = Config.model_validate(
        {"prices": {"overrides": [{"provider": "acme", "model": "acme-small", "input_mtok": 1, "output_mtok": 2}]}}
    )
    result = ingest(source, fmt="generic", mapping=ColumnMapping(columns={c: c for c in columns}), config=config)
    assert not result.failed, [f.message for f in result.failed]
    loaded_names = {row[0] for row in con.execute("SELECT DISTINCT feature FROM calls").fetchall()}
    path = write_starter_config(con, tmp_path / "costlens.toml", config=config, today=TODAY)
    text = path.read_text(encoding="utf-8")
    loaded = load_config(path)
    expected = {n for n in loaded_names if n and n.strip()}
    assert set(loaded.features) == expected
    assert set(HOSTILE) <= set(loaded.features)  # every name as logged, line breaks and quotes included
    for name in expected & set(HOSTILE):
        assert loaded.features[name].team == f"team {name}" or loaded.features[name].team is None
    assert loaded.economics.loaded_hourly_rate_usd == 0  # the evil model name did not inject a setting
    assert "calls carry no feature" in text
    full = tmp_path / "full.toml"
    full.write_text(uncomment_all(text), encoding="utf-8")
    assert set(load_config(full).features) == expected


def test_empty_database(con, tmp_path):
    path = write_starter_config(con, tmp_path / "costlens.toml", today=TODAY)
    text = path.read_text(encoding="utf-8")
    assert "no calls yet" in text and load_config(path).features == {}
    assert "# [features.support-bot]" in text
