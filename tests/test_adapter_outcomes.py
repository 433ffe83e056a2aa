"""Task outcomes (CSV / JSONL / Parquet) → outcomes, found by content with no --format."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import FIXTURES

OUT = FIXTURES / "outcomes"


def outcomes(con) -> dict[str, tuple]:
    rows = con.execute(
        "SELECT task_id, accepted, quality_score, human_review, rework_minutes, rework_cost_usd, delay_minutes "
        "FROM outcomes ORDER BY task_id"
    ).fetchall()
    return {row[0]: row[1:] for row in rows}


def quarantined(con) -> dict[int, tuple[str, str]]:
    rows = con.execute("SELECT source_row, disposition, reason FROM quarantine ORDER BY source_row").fetchall()
    return {row[0]: (row[1], row[2]) for row in rows}


def test_csv_outcomes(con, ingest):
    result = ingest(OUT / "outcomes.csv")  # no --format
    (file,) = result.files
    assert (file.status, file.format, file.target) == ("ingested", "outcomes", "outcomes")
    assert (file.rows_read, file.rows_loaded, file.rows_quarantined, file.rows_skipped) == (9, 4, 4, 1)
    assert outcomes(con) == {
        "t-001": (True, 0.9, False, 0.0, None, 0.0),
        "t-002": (False, 0.4, True, 15.0, Decimal("12.5"), 30.0),
        "t-003": (True, None, True, None, None, None),  # "accepted" → true, human_review "1"
        "t-008": (True, 0.75, False, 5.0, None, 2.5),
    }
    assert quarantined(con) == {
        5: ("rejected", "accepted is not a boolean (true/false, yes/no, 1/0, accepted/rejected): 'maybe'"),
        6: ("rejected", "quality_score must be between 0 and 1: '1.5'"),
        7: ("rejected", "quality_score is not a number: 'abc'"),
        8: ("rejected", "missing task_id"),
        10: (
            "skipped",
            "no outcome values in this row (accepted, quality_score, human_review, rework, delay are all empty)",
        ),
    }
    assert con.execute("SELECT DISTINCT source_file, source_format FROM quarantine").fetchall() == [
        (str(OUT / "outcomes.csv"), "outcomes")
    ]


def test_jsonl_outcomes_with_other_spellings(con, ingest):
    result = ingest(OUT / "outcomes_feedback.jsonl")
    (file,) = result.files
    assert (file.status, file.format) == ("ingested", "outcomes")
    assert (file.rows_read, file.rows_loaded, file.rows_quarantined) == (7, 4, 3)
    assert outcomes(con) == {
        # Task_ID / score / reviewed / rework_cost spellings; "$3.25" money
        "j-1": (True, 0.8, True, None, Decimal("3.25"), None),
        "j-2": (False, 0.35, False, 12.0, None, None),  # JSON false, score as a string
        "j-3": (False, None, True, None, None, None),  # "rejected"; needs_review on this line only
        "j-5": (True, 0.85, False, None, None, 4.0),  # 1, "85%"
    }
    assert quarantined(con) == {
        4: ("rejected", "accepted is not a boolean (true/false, yes/no, 1/0, accepted/rejected): 'perhaps'"),
        6: ("rejected", "human_review (column 'reviewed') is not a boolean (true/false, yes/no, 1/0): 'sometimes'"),
        7: ("rejected", "not valid JSON"),
    }


def test_parquet_outcomes_typed_columns(con, ingest, tmp_path):
    table = pa.table(
        {
            "task_id": ["p-1", "p-2", "p-3", "p-4"],
            "accepted": pa.array([True, False, None, True]),
            "quality": pa.array([0.95, 0.1, 0.5, 2.0]),  # "quality" spelling; 2.0 is out of range
            "needs_review": pa.array([False, True, True, False]),
            "rework_minutes": pa.array([0, 20, 3, 0], type=pa.int32()),
            "rework_cost_usd": pa.array([Decimal("0.00"), Decimal("15.25"), None, None], type=pa.decimal128(9, 2)),
        }
    )
    path = tmp_path / "outcomes.parquet"
    pq.write_table(table, path)
    result = ingest(path)
    (file,) = result.files
    assert (file.status, file.format, file.rows_read, file.rows_loaded, file.rows_quarantined) == (
        "ingested",
        "outcomes",
        4,
        3,
        1,
    )
    assert outcomes(con) == {
        "p-1": (True, 0.95, False, 0.0, Decimal("0"), None),
        "p-2": (False, 0.1, True, 20.0, Decimal("15.25"), None),
        "p-3": (None, 0.5, True, 3.0, None, None),
    }
    assert quarantined(con) == {4: ("rejected", "quality_score (column 'quality') must be between 0 and 1: '2.0'")}


def test_all_three_together_and_reingest(con, ingest, tmp_path):
    first = ingest(OUT / "outcomes.csv", OUT / "outcomes_feedback.jsonl")
    assert [f.format for f in first.files] == ["outcomes", "outcomes"]
    again = ingest(OUT / "outcomes.csv")
    assert again.files[0].status == "unchanged"
    assert con.execute("SELECT count(*) FROM outcomes").fetchone()[0] == 8


def test_a_later_delivery_replaces_the_outcome_of_a_task(con, ingest, tmp_path):
    # the latest delivery wins per task: t-001 re-rated (replaced), t-100 new; the same values again are a duplicate
    later = tmp_path / "later.csv"
    later.write_text("task_id,accepted\nt-001,false\nt-100,true\n", encoding="utf-8")
    ingest(OUT / "outcomes.csv")
    result = ingest(later)
    assert (result.files[0].rows_loaded, result.files[0].rows_duplicate) == (2, 0)
    assert outcomes(con)["t-001"][0] is False
    assert con.execute("SELECT target, source_file, replaced_file, rows_replaced FROM replacements").fetchall() == [
        ("outcomes", str(later), str(OUT / "outcomes.csv"), 1)
    ]
    again = tmp_path / "again.csv"
    again.write_text("task_id,accepted\nt-001,false\n", encoding="utf-8")
    (file,) = ingest(again).files
    assert (file.rows_loaded, file.rows_duplicate) == (0, 1)


@pytest.mark.parametrize(
    "header, routed",
    [
        ("task_id,accepted", True),
        ("TaskId,quality_score", True),
        ("task_id,score,reviewed", True),
        ("task_id,rework_minutes", True),
        ("task_id,feature", False),  # no outcome signal
        ("task_id,accepted,input_tokens,output_tokens", False),  # a request log with tokens is not an outcome file
        ("accepted,quality_score", False),  # no task id
    ],
)
def test_detection(header: str, routed: bool):
    from costlens.config import Config
    from costlens.ingest.base import IngestContext
    from costlens.ingest.outcomes import ADAPTER
    from costlens.ingest.sources import Source

    src = Source(path=Path("x.csv"), size=0, mtime_ns=0, container="csv", header=header.split(","))
    assert (ADAPTER.detect(src, IngestContext(config=Config())) > 0) is routed
