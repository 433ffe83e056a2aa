"""Block-hash traces (Mooncake): fingerprints from 512-token block ids, and the prompt-caching opportunity."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from costlens.config import ColumnMapping, Config
from costlens.model.report import Period

from conftest import realdata

MAPPING = ColumnMapping(
    constants={"model": "claude-sonnet-4-5", "provider": "anthropic", "ts": "2026-10-01T09:00:00Z", "feature": "chat"}
)


def test_prefix_is_the_longest_shared_leading_run(tmp_path, con, ingest):
    rows = [
        {"timestamp": 0, "input_length": 1500, "output_length": 10, "hash_ids": [1, 2, 3]},
        {"timestamp": 1000, "input_length": 2000, "output_length": 20, "hash_ids": [1, 2, 3, 4]},  # extends row 1
        {"timestamp": 2000, "input_length": 900, "output_length": 30, "hash_ids": [1, 9]},  # shares [1]
        {"timestamp": 3000, "input_length": 400, "output_length": 5, "hash_ids": [7]},  # shares nothing
        {"timestamp": "soon", "input_length": 10, "output_length": 1, "hash_ids": [1]},  # bad time
    ]
    file = tmp_path / "trace.jsonl"
    file.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = ingest(file, mapping=MAPPING)
    f = result.files[0]
    assert (f.format, f.rows_loaded, f.rows_quarantined) == ("block_trace", 4, 1)
    got = con.execute(
        "SELECT source_row, ts, input_tokens, output_tokens, prefix_tokens, prefix_hash IS NOT NULL "
        "FROM calls ORDER BY source_row"
    ).fetchall()
    assert got == [
        (1, datetime(2026, 10, 1, 9, 0, 0), 1500, 10, 1500, True),  # [1,2,3] shared with row 2: 3 × 512, capped
        (2, datetime(2026, 10, 1, 9, 0, 1), 2000, 20, 1536, True),  # its longest shared run is [1,2,3]
        (3, datetime(2026, 10, 1, 9, 0, 2), 900, 30, 512, True),  # [1] is shared with rows 1, 2 and 5
        (4, datetime(2026, 10, 1, 9, 0, 3), 400, 5, None, False),
    ]
    same = con.execute("SELECT count(DISTINCT prefix_hash) FROM calls WHERE source_row IN (1, 2)").fetchone()[0]
    assert same == 1
    assert "timestamp" in con.execute("SELECT reason FROM quarantine").fetchone()[0]


def test_trace_without_a_model_is_a_clear_error(tmp_path, ingest):
    file = tmp_path / "trace.jsonl"
    file.write_text(json.dumps({"timestamp": 0, "input_length": 5, "output_length": 1, "hash_ids": [1]}) + "\n")
    result = ingest(file)
    assert result.files[0].status == "failed"
    assert "--set model=" in result.files[0].message


@pytest.mark.slow
def test_real_mooncake_trace_shows_the_caching_opportunity(con, ingest):
    from costlens.report.build import build_report

    trace = realdata("mooncake-trace/conversation_trace.jsonl")
    lines = [json.loads(line) for line in trace.read_text().splitlines() if line.strip()]
    f = ingest(trace, mapping=MAPPING).files[0]
    assert (f.rows_read, f.rows_loaded) == (len(lines), len(lines)) == (12031, 12031)
    assert con.execute("SELECT sum(input_tokens) FROM calls").fetchone()[0] == sum(r["input_length"] for r in lines)
    report = build_report(con, Config(), Period(date(2026, 10, 1), date(2026, 11, 1)))
    caching = [
        leak for leak in report.leaks if leak.kind == "cache_miss" and leak.evidence.get("sub_kind") == "prompt_caching"
    ]
    assert len(caching) == 1 and caching[0].feature == "chat"
    # sonnet-4-5 input $3 vs cache read $0.30 per Mtok: the saving is positive and below the input spend
    input_spend = sum(float(u.cost_usd) for u in report.unit_economics)
    assert 0 < caching[0].wasted_usd < input_spend
    assert any(lv.lever == "prompt_caching" for lv in report.levers)
    assert sum(lv.est_monthly_savings_usd for lv in report.levers) <= float(report.lever_summary.monthly_spend_usd)
