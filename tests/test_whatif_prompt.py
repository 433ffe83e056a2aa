"""`costlens whatif "prompt feature=F file=PATH"` (costlens/whatif.py, sql/whatif/prompt.sql): a new prompt's tokens
counted offline (the bundled o200k_base), the feature's period of traffic re-priced with it in place of the prompt
its calls carry today, and the assumption stated.

Fixture: the two-month CSV of tests/test_change.py, October only (20 calls of feature f, 2,000 input and 100 output
tokens each, no cache): 15 on acme-big ($12 in / $30 out per Mtok), 5 on acme-small ($1 / $2). Before = $0.416.
No prompt text was logged, so the old prompt is estimated as the smallest input per call: 2,000 tokens.
A new prompt "hello world" is 2 tokens (o200k_base ids 24912, 2375), so each call's input falls by 1,998 to 2:
  acme-big   15 × (2 × 12e-6 + 100 × 30e-6) = 15 × 0.003024 = 0.04536
  acme-small  5 × (2 × 1e-6 + 100 × 2e-6)   =  5 × 0.000202 = 0.00101
  after = 0.04637, saving 0.36963.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from test_change import COLUMNS, month_rows, write_calls

from costlens.errors import InputError, UsageError
from costlens.whatif import parse_change, parse_changes

from conftest import PROJECT

CONFIG = """
[[ingest.mappings]]
name = "calls"
match = "calls.csv"
[ingest.mappings.columns]
{columns}

[[prices.overrides]]
provider = "acme"
model = "acme-big"
valid_from = 2026-10-01
input_mtok = 12
output_mtok = 30
cache_read_mtok = 1

[[prices.overrides]]
provider = "acme"
model = "acme-small"
input_mtok = 1
output_mtok = 2
cache_read_mtok = 0.1
"""


def costlens(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PROJECT), "COLUMNS": "200"}
    env.pop("COSTLENS_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "costlens", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


@pytest.fixture(scope="module")
def october(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("prompt")
    write_calls(work / "calls.csv", month_rows("2026-10", 20, 15, 2000, "o"))
    (work / "costlens.toml").write_text(
        CONFIG.format(columns="\n".join(f'{c} = "{c}"' for c in COLUMNS)), encoding="utf-8"
    )
    (work / "prompts").mkdir()
    (work / "prompts" / "f.txt").write_text("hello world", encoding="utf-8")
    proc = costlens("ingest", "calls.csv", "-q", cwd=work)
    assert proc.returncode == 0, proc.stderr
    return work


def test_parse_counts_tokens_offline(tmp_path):
    prompt = tmp_path / "p.txt"
    prompt.write_text("hello world", encoding="utf-8")
    change = parse_change(f"prompt feature=support-bot file={prompt}")
    assert (change.kind, change.feature, change.prompt_file, change.new_prompt_tokens) == (
        "prompt",
        "support-bot",
        str(prompt),
        2,
    )
    assert parse_change(f"prompt feature=x path={prompt}").new_prompt_tokens == 2  # path= is file=
    with pytest.raises(UsageError, match="prompt needs feature=F"):
        parse_change(f"prompt file={prompt}")
    with pytest.raises(UsageError, match="prompt needs feature=F"):
        parse_change(f"prompt feature=* file={prompt}")
    with pytest.raises(InputError) as err:
        parse_change(f"prompt feature=x file={tmp_path / 'missing.txt'}")
    assert err.value.exit_code == 3 and "prompt file not found" in err.value.one_line()
    binary = tmp_path / "b.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputError, match="not UTF-8"):
        parse_change(f"prompt feature=x file={binary}")
    assert [c.kind for c in parse_changes(f"prompt feature=a file={prompt}; route feature=a to=gpt-4.1-mini")] == [
        "prompt",
        "route",
    ]


@pytest.mark.subprocess
@pytest.mark.slow
def test_cli_reprices_the_feature_by_hand(october):
    proc = costlens(
        "whatif", "prompt feature=f file=prompts/f.txt", "--period", "2026-10", "--format", "json", cwd=october
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout, parse_float=Decimal)
    assert data["before_usd"] == Decimal("0.416")
    assert data["after_usd"] == Decimal("0.04637")
    assert data["savings_usd"] == Decimal("0.36963")
    assert data["calls_affected"] == 20
    detail = data["changes"][0]["detail"]
    assert detail["new_prompt_tokens"] == 2 and detail["old_prompt_tokens_estimate"] == 2000
    assert detail["calls_with_logged_prompt"] == 0 and detail["encoding"] == "o200k_base"
    assert data["quality_risk"] == "medium"
    note = data["assumptions"][0]
    assert note.startswith("prompt f: the new prompt (prompts/f.txt) is 2 tokens (o200k_base")
    assert (
        "ASSUMPTION on 20 calls with no logged prompt: the system prompt is the part of the input that changes, "
        "estimated as the feature's smallest input per call, 2,000 tokens"
    ) in note


@pytest.mark.subprocess
@pytest.mark.slow
def test_cli_markdown_for_a_pull_request(october):
    proc = costlens(
        "whatif", "prompt feature=f file=prompts/f.txt", "--period", "2026-10", "--format", "md", cwd=october
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "## costlens what-if · prompt feature=f file=prompts/f.txt"
    assert lines[2] == (
        "Over 2026-10-01 → 2026-11-01 (end exclusive): $0.42 → $0.05, **−$0.37** (-88.9%), "
        "≈ −$0.36 a month; 20 of 20 calls affected."
    )  # 0.36963 × 30.44 / 31 = 0.36295…
    assert lines[4:7] == [
        "| Feature | Before | After | Change |",
        "|:---|---:|---:|---:|",
        "| f | $0.4160 | $0.0464 | −$0.3696 |",
    ]
    assert lines[8].startswith("Quality risk: **medium**")
    bad = costlens("whatif", "prompt feature=nope file=prompts/f.txt", "--period", "2026-10", cwd=october)
    assert bad.returncode == 2 and "feature 'nope' has no calls in the period" in bad.stderr
    missing = costlens("whatif", "prompt feature=f file=prompts/none.txt", "--period", "2026-10", cwd=october)
    assert missing.returncode == 3 and missing.stderr.startswith(
        "costlens: error: prompts/none.txt: prompt file not found"
    )


def test_the_difference_goes_where_the_prompt_sits(con):
    """prompt.sql on hand-made calls: the logged prompt is used where present; a cached prompt stays cached; a
    shorter prompt never takes a count below zero; other features and calls that logged no input are untouched."""
    con.execute("""CREATE TEMP TABLE whatif_calls AS SELECT * FROM (VALUES
        (1, 'f', TRUE, 5000, 0,    0,    0, NULL, FALSE, CAST(NULL AS INTEGER)),   -- no cache, no logged prompt
        (2, 'f', TRUE, 1000, 3000, 0,    0, NULL, FALSE, NULL),   -- cache read covers the 2,500-token estimate
        (3, 'f', TRUE, 800,  0,    4000, 0, NULL, FALSE, NULL),   -- cache write covers it
        (4, 'f', TRUE, 900,  0,    0,    0, 300,  FALSE, NULL),   -- logged prompt: 300 tokens
        (5, 'g', TRUE, 5000, 0,    0,    0, NULL, FALSE, NULL),   -- another feature
        (6, 'f', FALSE, 5000, 0,   0,    0, NULL, FALSE, NULL),   -- unpriced: no before, left alone
        (7, 'f', TRUE, 0,    0,    0,    0, NULL, FALSE, NULL)    -- logged no input: sent no prompt
    ) AS t(wid, feature, priced, input_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens,
           prefix_tokens, affected, last_change)""")
    con.execute(
        "CREATE TEMP TABLE whatif_change AS SELECT 1 AS seq, 'f' AS feature, "
        "CAST(100 AS BIGINT) AS new_prompt_tokens, CAST(2500 AS BIGINT) AS old_prompt_tokens"
    )
    from costlens.sqlfiles import load_sql

    con.execute(load_sql("whatif/prompt.sql"))
    rows = con.execute(
        "SELECT wid, input_tokens, cache_read_tokens, cache_write_5m_tokens, affected FROM whatif_calls ORDER BY wid"
    ).fetchall()
    assert rows == [
        (1, 2600, 0, 0, True),  # 5,000 − 2,500 + 100
        (2, 1000, 600, 0, True),  # cache reads 3,000 − 2,400
        (3, 800, 0, 1600, True),  # cache writes 4,000 − 2,400
        (4, 700, 0, 0, True),  # 900 − 300 + 100
        (5, 5000, 0, 0, False),
        (6, 5000, 0, 0, False),
        (7, 0, 0, 0, False),
    ]
    con.execute(
        "UPDATE whatif_calls SET affected = FALSE, input_tokens = 1000, cache_read_tokens = 0, "
        "cache_write_5m_tokens = 0, prefix_tokens = NULL"
    )
    con.execute(load_sql("whatif/prompt.sql"))
    assert con.execute("SELECT min(input_tokens) FROM whatif_calls WHERE feature = 'f' AND priced").fetchone() == (0,)
    # every priced call of f now has 1,000 input tokens (7 too): 1, 2, 3, 4 and 7 change, g and the unpriced do not
    assert con.execute("SELECT count(*) FROM whatif_calls WHERE affected").fetchone() == (5,)
