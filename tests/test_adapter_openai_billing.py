"""OpenAI billing exports → billing_lines: golden lines for the Usage API and Costs API pages and the dashboard
usage / cost CSVs (every FORMATS.md quirk: input_tokens that include cached tokens, counts written as floats,
booleans as FALSE / TRUE, empty rows for days with no activity), quarantine, re-ingest and detection.

The expected values are computed here independently of the SQL (Python json / csv / Decimal) or written by hand.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from costlens.config import Config
from costlens.ingest.base import IngestContext
from costlens.ingest.runner import choose_adapter
from costlens.ingest.sources import expand_paths, open_source
from costlens.sqlfiles import load_sql

from conftest import FIXTURES

OAI = FIXTURES / "openai_billing"
USAGE_PAGE = OAI / "usage_completions_page.json"
USAGE_PAGES = OAI / "usage_pages.jsonl"
COSTS_PAGE = OAI / "costs_page.json"
USAGE_CSV = OAI / "usage_export.csv"
COST_CSV = OAI / "cost_export.csv"
COST_CSV_V2 = OAI / "cost_export_v2.csv"
EMPTY_CSV = OAI / "empty_export.csv"
MINE = "openai_billing"

# --------------------------------------------------------------------------- the billing_lines check needed


# What sql/load/billing_lines_check.sql must do for provider usage reports (proposed to the framework owner):
#   1. a skipped row (skip_reason set) is not checked for money or dates — it is never inserted (calls_check
#      already works this way; billing_lines_check does not, so "no activity" rows come out as rejected);
#   2. a usage-only line (charge_class 'usage-only', a consumed quantity, no cost in the source) is valid
#      with billed_cost and effective_cost NULL.
@pytest.fixture
def usage_check():
    """Usage reports need the billing check to accept token-only lines and skip no-activity rows."""
    text = load_sql("load/billing_lines_check.sql")
    assert "usage-only" in text and "skip_reason IS NOT NULL" in text


@pytest.fixture
def bill(usage_check, ingest):
    """ingest() with the billing check usage reports need; no --format (content detection)."""
    return ingest


# --------------------------------------------------------------------------------------------- helpers

LINE_COLUMNS = (
    "source_row",
    "charge_period_start",
    "charge_period_end",
    "model",
    "token_type",
    "quantity_tokens",
    "billed_cost",
    "effective_cost",
    "currency",
    "project_id",
    "api_key_id",
    "billed_user_id",
    "service_tier",
    "is_batch",
    "context_window",
    "request_count",
    "charge_class",
    "sku_meter",
)


def lines(con, where: str = "true") -> list[dict]:
    cursor = con.execute(
        f"SELECT {', '.join(LINE_COLUMNS)} FROM billing_lines WHERE {where} "
        f"ORDER BY source_file, source_row, charge_period_start, rowid"
    )
    return [dict(zip(LINE_COLUMNS, row)) for row in cursor.fetchall()]


def quarantine(con) -> list[tuple]:
    return con.execute(
        "SELECT source_file, source_row, disposition, reason, source_format FROM quarantine "
        "ORDER BY source_row, disposition, reason"
    ).fetchall()


def stats(file) -> tuple:
    return (file.rows_read, file.rows_loaded, file.rows_duplicate, file.rows_quarantined, file.rows_skipped)


def day(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


def usage_line(
    row,
    start,
    end,
    model,
    token_type,
    qty,
    project=None,
    key=None,
    user=None,
    tier="standard",
    batch=False,
    requests=None,
    meter=None,
) -> dict:
    return dict(
        source_row=row,
        charge_period_start=start,
        charge_period_end=end,
        model=model,
        token_type=token_type,
        quantity_tokens=Decimal(qty),
        billed_cost=None,
        effective_cost=None,
        currency=None,
        project_id=project,
        api_key_id=key,
        billed_user_id=user,
        service_tier=tier,
        is_batch=batch,
        context_window=None,
        request_count=requests,
        charge_class="usage-only",
        sku_meter=meter,
    )


def expected_usage_lines(result: dict, row: int, start: datetime, end: datetime) -> list[dict]:
    """OpenAI's input_tokens INCLUDES cached tokens: the additive lines, computed from the JSON here."""
    cached = result.get("input_cached_tokens") or 0
    if result.get("input_uncached_tokens") is not None:
        uncached, meter = result["input_uncached_tokens"], "input_uncached_tokens"
    else:
        uncached, meter = result["input_tokens"] - cached, "input_tokens - input_cached_tokens"
    batch = result.get("batch")
    tier = "batch" if batch else {"default": "standard"}.get(result.get("service_tier"), result.get("service_tier"))
    if batch is None and tier is not None:
        batch = tier == "batch"
    dims = dict(
        project=result.get("project_id"),
        key=result.get("api_key_id"),
        user=result.get("user_id"),
        tier=tier,
        batch=batch,
    )
    # input_tokens and output_tokens count audio too: uncached audio input and audio output are lines of their own
    audio_in = (result.get("input_audio_tokens") or 0) - (result.get("input_cached_audio_tokens") or 0)
    audio_out = result.get("output_audio_tokens") or 0
    out = []
    for token_type, qty, m in (
        ("input", uncached - audio_in, meter),
        ("cache_read", cached, "input_cached_tokens"),
        ("output", (result.get("output_tokens") or 0) - audio_out, "output_tokens"),
        ("input_audio", audio_in, "input_audio_tokens"),
        ("output_audio", audio_out, "output_audio_tokens"),
    ):
        if qty:
            out.append(
                usage_line(
                    row,
                    start,
                    end,
                    result["model"],
                    token_type,
                    qty,
                    meter=m,
                    requests=None if out else result["num_model_requests"],
                    **dims,
                )
            )
    return out


# ------------------------------------------------------------------------------------ Usage API page


@pytest.mark.slow
def test_usage_page_golden(con, bill):
    (file,) = bill(USAGE_PAGE).files
    assert (file.status, file.format, file.target) == ("ingested", MINE, "billing_lines")
    # 12 token lines (one of them 1,200 audio input tokens); the empty bucket (day 2) and a zero-token
    # result are skipped
    assert stats(file) == (14, 12, 0, 0, 2)

    doc = json.loads(USAGE_PAGE.read_text())
    expected = []
    for bucket in doc["data"]:
        for result in bucket["results"]:
            expected += expected_usage_lines(result, 1, day(bucket["start_time"]), day(bucket["end_time"]))
    assert lines(con) == expected

    # the same, by hand: gpt-4o 120,000 input of which 20,000 cached → 100,000 uncached + 20,000 cache read
    gpt4o = lines(con, "model = 'gpt-4o-2024-08-06'")
    assert [(r["token_type"], r["quantity_tokens"], r["request_count"]) for r in gpt4o] == [
        ("input", 100000, 40),
        ("cache_read", 20000, None),
        ("output", 8000, None),
    ]
    assert gpt4o[0]["charge_period_start"] == datetime(2024, 11, 1) and gpt4o[0]["charge_period_end"] == datetime(
        2024, 11, 2
    )
    # batch: true → service tier batch; no cached tokens → no cache_read line
    assert [(r["token_type"], r["service_tier"], r["is_batch"]) for r in lines(con, "api_key_id = 'key_2'")] == [
        ("input", "batch", True),
        ("output", "batch", True),
    ]
    # priority tier; the newer input_uncached_tokens (20,000) holds 1,200 uncached audio tokens: 18,800 text
    # input at the text rate and 1,200 audio input at the audio rate (by hand from the page)
    assert {r["service_tier"] for r in lines(con, "model = 'o3-2025-04-16'")} == {"priority"}
    newer = lines(con, "charge_period_start = '2024-11-03'")
    assert [(r["token_type"], r["quantity_tokens"], r["service_tier"], r["is_batch"]) for r in newer] == [
        ("input", 18800, "flex", False),
        ("cache_read", 30000, "flex", False),
        ("output", 4000, "flex", False),
        ("input_audio", 1200, "flex", False),
    ]
    # Σ request_count = Σ num_model_requests of the results that have tokens
    assert con.execute("SELECT sum(request_count) FROM billing_lines").fetchone()[0] == 40 + 1000 + 2 + 25
    # usage lines carry no money and are AI spend
    assert con.execute(
        "SELECT count(*) FILTER (WHERE billed_cost IS NOT NULL OR effective_cost IS NOT NULL), "
        "bool_and(is_ai), min(provider), max(provider) FROM billing_lines"
    ).fetchone() == (0, True, "openai", "openai")

    assert quarantine(con) == [
        (
            str(USAGE_PAGE),
            1,
            "skipped",
            "data[2].results[1]: no token counts in this usage result (3 requests, 0 tokens)",
            MINE,
        ),
        (
            str(USAGE_PAGE),
            1,
            "skipped",
            "no activity in this period (data[1]: the bucket's results list is empty)",
            MINE,
        ),
    ]


@pytest.mark.slow
def test_usage_pages_jsonl_every_line_accounted_for(con, bill):
    (file,) = bill(USAGE_PAGES).files
    assert file.format == MINE
    assert stats(file) == (8, 4, 0, 2, 2)
    assert [
        (r["source_row"], r["model"], r["token_type"], r["quantity_tokens"], r["request_count"]) for r in lines(con)
    ] == [
        (1, "gpt-4.1-2025-04-14", "input", 5000, 7),
        (1, "gpt-4.1-2025-04-14", "cache_read", 2000, None),
        (1, "gpt-4.1-2025-04-14", "output", 700, None),
        # a bare bucket line; embeddings bill input tokens only
        (4, "text-embedding-3-small", "input", 16000, 5),
    ]
    # an embeddings result has no batch / service tier dimension: unknown, not "standard, not batch"
    assert lines(con, "source_row = 4")[0]["is_batch"] is None
    assert quarantine(con) == [
        (str(USAGE_PAGES), 2, "rejected", "not valid JSON", MINE),
        (
            str(USAGE_PAGES),
            3,
            "rejected",
            "data[0].results[0]: input_cached_tokens (400) exceeds input_tokens (100)",
            MINE,
        ),
        (
            str(USAGE_PAGES),
            4,
            "skipped",
            "results[1]: no token counts in this usage result (organization.usage.images.result is not billed by tokens)",
            MINE,
        ),
        (str(USAGE_PAGES), 5, "skipped", "no activity in this period (the page holds no buckets)", MINE),
    ]


@pytest.mark.slow
def test_buckets_saved_as_a_json_array(con, bill, tmp_path):
    # the page's data[] saved on its own: one row per bucket, the same lines as the whole page
    doc = json.loads(USAGE_PAGE.read_text())
    path = tmp_path / "buckets.json"
    path.write_text(json.dumps(doc["data"], indent=2))
    (file,) = bill(path).files
    assert file.format == MINE and stats(file) == (14, 12, 0, 0, 2)
    expected = []
    for row, bucket in enumerate(doc["data"], start=1):
        for result in bucket["results"]:
            expected += expected_usage_lines(result, row, day(bucket["start_time"]), day(bucket["end_time"]))
    assert lines(con) == expected
    assert {r[1:4] for r in quarantine(con)} == {
        (2, "skipped", "no activity in this period (the bucket's results list is empty)"),
        (3, "skipped", "results[1]: no token counts in this usage result (3 requests, 0 tokens)"),
    }


@pytest.mark.slow
def test_line_ids_are_unique(con, bill):
    bill(USAGE_PAGE)
    assert con.execute("SELECT count(*) = count(DISTINCT line_id) FROM billing_lines").fetchone()[0]


# ------------------------------------------------------------------------------------ Costs API page


@pytest.mark.slow
def test_costs_page_golden_exact_decimals(con, bill):
    (file,) = bill(COSTS_PAGE).files
    assert file.format == MINE
    assert stats(file) == (12, 11, 0, 0, 1)

    # the amounts as written in the file, read exactly (never through a float)
    doc = json.loads(COSTS_PAGE.read_text(), parse_float=Decimal)
    amounts = [r["amount"]["value"] for b in doc["data"] for r in b["results"]]
    got = lines(con)
    assert [r["billed_cost"] for r in got] == amounts
    assert [r["effective_cost"] for r in got] == amounts
    total = con.execute("SELECT sum(billed_cost), typeof(sum(billed_cost)) FROM billing_lines").fetchone()
    assert total == (sum(amounts), "DECIMAL(38,18)")
    assert total[0] == Decimal("3.71971280000000002")  # by hand
    # float artefacts and exponents survive exactly
    assert Decimal("0.08000000000000002") in amounts and Decimal("0.000045") in amounts
    assert {r["currency"] for r in got} == {"USD"}

    assert [
        (r["model"], r["token_type"], r["service_tier"], r["is_batch"], r["context_window"], r["quantity_tokens"])
        for r in got
    ] == [
        ("gpt-4o-2024-08-06", "input", "standard", False, None, 100000),
        ("gpt-4o-2024-08-06", "cache_read", "standard", False, None, 20000),
        ("gpt-4o-2024-08-06", "output", "standard", False, None, 8000),
        ("gpt-4o-mini-2024-07-18", "input", "batch", True, None, None),
        ("gpt-4o-mini-2024-07-18", "output", "batch", True, None, None),
        ("o3-2025-04-16", "cache_read", "priority", False, None, None),
        ("gpt-5-2025-08-07", "output", "priority", False, "long_context", None),
        (None, "other", "standard", False, None, None),  # web search tool calls
        ("gpt-image-1", "input", "standard", False, None, None),
        (None, "other", "standard", False, None, None),  # "assistants api | file search" is not a tier prefix
        (None, "other", "standard", False, None, None),  # not grouped by line_item
    ]
    assert [r["project_id"] for r in got][-2:] == [None, None]
    assert got[0]["api_key_id"] == "key_1" and got[0]["charge_class"] is None
    assert got[0]["charge_period_start"] == datetime(2024, 11, 1)
    assert quarantine(con) == [
        (
            str(COSTS_PAGE),
            1,
            "skipped",
            "no activity in this period (data[1]: the bucket's results list is empty)",
            MINE,
        )
    ]


@pytest.mark.slow
def test_cost_and_usage_pages_reconcile(con, bill):
    # The Costs API quantities for day 1 are the Usage API's additive token counts for the same model.
    bill(USAGE_PAGE, COSTS_PAGE)
    rows = con.execute("""
        SELECT c.token_type, c.quantity_tokens, u.quantity_tokens
        FROM billing_lines c JOIN billing_lines u
          ON u.charge_class = 'usage-only' AND c.charge_class IS NULL AND u.model = c.model
         AND u.token_type = c.token_type AND u.charge_period_start = c.charge_period_start
        WHERE c.quantity_tokens IS NOT NULL ORDER BY c.token_type""").fetchall()
    assert rows == [("cache_read", 20000, 20000), ("input", 100000, 100000), ("output", 8000, 8000)]
    # AI spend comes from the cost lines only: usage lines add tokens, never money
    assert con.execute("SELECT sum(billed_cost) FILTER (WHERE is_ai) FROM billing_lines").fetchone()[0] == (
        Decimal("3.71971280000000002")
    )


# ------------------------------------------------------------------------------------ dashboard usage CSV


@pytest.mark.slow
def test_usage_csv_golden(con, bill):
    (file,) = bill(USAGE_CSV).files
    assert file.format == MINE
    # 8 data lines + 1 malformed: 8 token lines, 2 skipped (no activity, 0 tokens), 3 rejected
    assert stats(file) == (13, 8, 0, 3, 2)

    with USAGE_CSV.open(newline="", encoding="utf-8") as handle:
        rows = {i: r for i, r in enumerate(csv.DictReader(handle), start=2)}

    def n(value: str) -> int:  # counts are written as floats: "10.0"
        return int(Decimal(value))

    expected = []
    for row in (2, 3, 5):
        r = rows[row]
        cached = n(r["input_cached_tokens"])
        uncached = n(r["input_uncached_tokens"]) if r["input_uncached_tokens"] else n(r["input_tokens"]) - cached
        batch = r["batch"] == "TRUE"
        tier = "batch" if batch else {"default": "standard"}.get(r["service_tier"], r["service_tier"])
        meter = "input_uncached_tokens" if r["input_uncached_tokens"] else "input_tokens - input_cached_tokens"
        start = datetime.fromisoformat(r["start_time_iso"]).replace(tzinfo=None)
        end = datetime.fromisoformat(r["end_time_iso"]).replace(tzinfo=None)
        out = []
        for token_type, qty, m in (
            ("input", uncached, meter),
            ("cache_read", cached, "input_cached_tokens"),
            ("output", n(r["output_tokens"]), "output_tokens"),
        ):
            if qty:
                out.append(
                    usage_line(
                        row,
                        start,
                        end,
                        r["model"],
                        token_type,
                        qty,
                        project=r["project_id"],
                        key=r["api_key_id"],
                        user=r["user_id"] or None,
                        tier=tier,
                        batch=batch,
                        requests=None if out else n(r["num_model_requests"]),
                        meter=m,
                    )
                )
        expected += out
    assert lines(con) == expected

    # by hand: row 2 = 15,000.0 input incl. 5,000.0 cached; row 3 TRUE batch; row 5 has no input_uncached_tokens
    assert [(r["source_row"], r["token_type"], r["quantity_tokens"]) for r in lines(con, "source_row IN (2, 5)")] == [
        (2, "input", 10000),
        (2, "cache_read", 5000),
        (2, "output", 2000),
        (5, "input", 3072),
        (5, "cache_read", 1024),
        (5, "output", 8192),
    ]
    assert {(r["is_batch"], r["service_tier"]) for r in lines(con, "source_row = 3")} == {(True, "batch")}
    assert {(r["is_batch"], r["service_tier"]) for r in lines(con, "source_row = 2")} == {(False, "standard")}

    assert quarantine(con) == [
        (str(USAGE_CSV), 4, "skipped", "no activity in this period (only the time columns are filled)", MINE),
        (str(USAGE_CSV), 6, "rejected", "input_tokens is not a number: n/a", MINE),
        (str(USAGE_CSV), 7, "rejected", "malformed CSV row: Expected Number of Columns: 17 Found: 16", MINE),
        (str(USAGE_CSV), 8, "rejected", "input_cached_tokens (900) exceeds input_tokens (100)", MINE),
        (str(USAGE_CSV), 9, "skipped", "no token counts in this usage result (2 requests, 0 tokens)", MINE),
    ]


# ------------------------------------------------------------------------------------ dashboard cost CSV


@pytest.mark.slow
def test_cost_csv_golden_exact_decimals(con, bill):
    (file,) = bill(COST_CSV).files
    assert file.format == MINE
    assert stats(file) == (9, 7, 0, 1, 1)

    with COST_CSV.open(newline="", encoding="utf-8") as handle:
        rows = {i: r for i, r in enumerate(csv.DictReader(handle), start=2)}
    loaded = [i for i, r in rows.items() if r["amount_value"] not in ("", "abc")]
    got = lines(con)
    assert [r["source_row"] for r in got] == loaded
    assert [r["billed_cost"] for r in got] == [Decimal(rows[i]["amount_value"]) for i in loaded]
    assert (
        con.execute("SELECT sum(billed_cost) FROM billing_lines").fetchone()[0]
        == (sum(Decimal(rows[i]["amount_value"]) for i in loaded))
        == Decimal("1.977067890123456809")
    )
    # 19 significant digits, exact: text → DECIMAL, never DOUBLE
    assert lines(con, "source_row = 6")[0]["billed_cost"] == Decimal("1.234567890123456789")
    assert [(r["model"], r["token_type"], r["service_tier"], r["is_batch"]) for r in got] == [
        ("gpt-4o-2024-08-06", "input", "standard", False),
        ("gpt-4o-2024-08-06", "cache_read", "standard", False),
        ("gpt-4o-2024-08-06", "output", "standard", False),
        ("gpt-4o-mini-2024-07-18", "input", "batch", True),
        ("gpt-5-2025-08-07", "output", "priority", False),
        (None, "other", "standard", False),
        ("text-embedding-3-small", "input", "standard", False),  # a $0 line is a line
    ]
    # organisation and project: billing account and sub-account (the quoted "Acme, Inc." keeps its comma)
    assert con.execute(
        "SELECT DISTINCT billing_account_id, sub_account_id, project_id FROM billing_lines WHERE source_row = 2"
    ).fetchall() == [("org-123", "proj_abc", "proj_abc")]
    assert quarantine(con) == [
        (str(COST_CSV), 7, "skipped", "no activity in this period (only the time columns are filled)", MINE),
        (str(COST_CSV), 9, "rejected", "amount is not a number: abc", MINE),
    ]


@pytest.mark.slow
def test_cost_csv_newer_columns(con, bill):
    (file,) = bill(COST_CSV_V2).files
    assert file.format == MINE and stats(file) == (4, 3, 0, 0, 1)
    got = con.execute(
        "SELECT token_type, quantity_tokens, pricing_quantity, pricing_unit, billed_cost, billed_user_id, "
        "api_key_id, sub_account_name FROM billing_lines ORDER BY source_row"
    ).fetchall()
    assert got == [
        ("input", 24000, 24000, "tokens", Decimal("0.06"), "user-1", "key_1", "Support bot"),
        ("cache_read", 36, 36, "tokens", Decimal("0.000045"), "user-1", "key_1", "Support bot"),
        # a quantity in calls is not a token count
        ("other", None, 25, "calls", Decimal("0.25"), "user-1", "key_1", "Support bot"),
    ]


@pytest.mark.slow
def test_empty_export_rows_are_skipped_not_rejected(con, bill):
    (file,) = bill(EMPTY_CSV).files
    assert (file.status, file.format) == ("ingested", MINE)
    assert stats(file) == (2, 0, 0, 0, 2)
    assert {r[2:4] for r in quarantine(con)} == {
        ("skipped", "no activity in this period (only the time columns are filled)")
    }


@pytest.mark.slow
def test_line_item_parsing(con, bill, tmp_path):
    items = {
        "gpt-4o-2024-08-06, input": ("gpt-4o-2024-08-06", "input", "standard", False, None),
        "gpt-4o-2024-08-06, cached input": ("gpt-4o-2024-08-06", "cache_read", "standard", False, None),
        "gpt-4o-2024-08-06, output": ("gpt-4o-2024-08-06", "output", "standard", False, None),
        "gpt-4o-mini-2024-07-18, batch input": ("gpt-4o-mini-2024-07-18", "input", "batch", True, None),
        "batch | gpt-4o-mini-2024-07-18, output": ("gpt-4o-mini-2024-07-18", "output", "batch", True, None),
        "priority | gpt-5.4-2026-03-05, output, long context": (
            "gpt-5.4-2026-03-05",
            "output",
            "priority",
            False,
            "long_context",
        ),
        "flex | o3-2025-04-16, input": ("o3-2025-04-16", "input", "flex", False, None),
        "gpt-5.5-2026-04-23, cache writes": ("gpt-5.5-2026-04-23", "cache_write_5m", "standard", False, None),
        "gpt-audio-mini-2025-12-15 audio, input": ("gpt-audio-mini-2025-12-15", "input", "standard", False, None),
        "gpt-image-2.5-sunburst text, cached input": ("gpt-image-2.5-sunburst", "cache_read", "standard", False, None),
        "ft:gpt-4o-mini-2024-07-18:acme::abc123, output": (
            "ft:gpt-4o-mini-2024-07-18:acme::abc123",
            "output",
            "standard",
            False,
            None,
        ),
        "whisper-1, audio": ("whisper-1", "other", "standard", False, None),
        "web search tool calls": (None, "other", "standard", False, None),
        "Vector storage": (None, "other", "standard", False, None),
        "assistants api | file search": (None, "other", "standard", False, None),
    }
    path = tmp_path / "costs.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "start_time",
                "end_time",
                "start_time_iso",
                "end_time_iso",
                "amount_value",
                "amount_currency",
                "line_item",
                "project_id",
                "organization_id",
                "organization_name",
            ]
        )
        for item in items:
            writer.writerow(["1735689600", "1735776000", "", "", "0.01", "usd", item, "proj", "org", "Org"])
    (file,) = bill(path).files
    assert file.rows_loaded == len(items)
    got = con.execute(
        "SELECT sku_meter, model, token_type, service_tier, is_batch, context_window FROM billing_lines"
    ).fetchall()
    assert {row[0]: row[1:] for row in got} == items


# ------------------------------------------------------------------------------------ framework as it is


@pytest.mark.slow
def test_every_row_accounted_for_with_the_framework_check_as_is(con, ingest):
    """Without the proposed check, usage lines (no cost in the source) are quarantined by the framework with
    its own reason, never lost; cost lines load either way."""
    result = ingest(USAGE_PAGE, COSTS_PAGE, EMPTY_CSV)
    for file in result.files:
        assert file.status == "ingested" and file.format == MINE
        assert file.rows_read == file.rows_loaded + file.rows_duplicate + file.rows_quarantined + file.rows_skipped
    costs = {f.path: f for f in result.files}[str(COSTS_PAGE)]
    assert costs.rows_loaded == 11


# ------------------------------------------------------------------------------------ re-ingest, detection


@pytest.mark.slow
def test_reingest_adds_nothing(con, bill):
    paths = [USAGE_PAGE, USAGE_PAGES, COSTS_PAGE, USAGE_CSV, COST_CSV, COST_CSV_V2, EMPTY_CSV]
    bill(*paths)
    before = con.execute("SELECT (SELECT count(*) FROM billing_lines), (SELECT count(*) FROM quarantine)").fetchone()
    again = bill(*paths).files
    assert [(f.status, f.format, f.rows_loaded) for f in again] == [("unchanged", MINE, 0)] * len(paths)
    assert (
        con.execute("SELECT (SELECT count(*) FROM billing_lines), (SELECT count(*) FROM quarantine)").fetchone()
        == before
    )


def _ctx() -> IngestContext:
    return IngestContext(config=Config())


MY_FIXTURES = sorted(OAI.iterdir())
RECONCILE = FIXTURES / "reconcile"  # an OpenAI bill beside its app logs: its billing CSVs are rightly ours
OTHER_FIXTURES = [
    p
    for p in expand_paths([str(FIXTURES)])
    if OAI not in p.parents and not (RECONCILE in p.parents and p.suffix == ".csv")
]


@pytest.mark.parametrize("path", MY_FIXTURES, ids=lambda p: p.name)
def test_detected_without_format(path):
    assert choose_adapter(open_source(path), _ctx()).name == MINE


@pytest.mark.parametrize("path", OTHER_FIXTURES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_other_fixtures_are_not_claimed(path):
    from costlens.ingest.openai_billing import ADAPTER

    src = open_source(path)
    assert src.container not in ADAPTER.containers or ADAPTER.detect(src, _ctx()) == 0


def test_detection_shapes():
    from costlens.ingest.openai_billing import ADAPTER, csv_shape

    assert csv_shape(["start_time", "end_time", "start_time_iso", "end_time_iso"]) == "empty"
    assert csv_shape(["start_time", "end_time", "amount_value", "amount_currency", "line_item"]) == "cost"
    assert csv_shape(["start_time_iso", "end_time_iso", "num_model_requests", "input_tokens"]) == "usage"
    # DeepSeek's export also says start_time_iso, but has no OpenAI columns
    assert (
        csv_shape(["user_id", "start_time_iso", "end_time_iso", "model", "api_key_name", "type", "price", "amount"])
        is None
    )
    assert csv_shape(["usage_date_utc", "model_version", "usage_output_tokens"]) is None
    # an Anthropic report page (starting_at buckets, uncached_input_tokens) is not OpenAI's
    from costlens.ingest.sources import Source

    src = Source(path=Path("x.json"), size=0, mtime_ns=0, container="json")
    src.records = [
        {
            "data": [
                {
                    "starting_at": "2025-08-01T00:00:00Z",
                    "ending_at": "2025-08-02T00:00:00Z",
                    "results": [{"uncached_input_tokens": 1, "output_tokens": 1}],
                }
            ],
            "has_more": False,
        }
    ]
    assert ADAPTER.detect(src, _ctx()) == 0
    src.records = [{"object": "page", "data": [], "has_more": False, "next_page": None}]
    assert ADAPTER.detect(src, _ctx()) == 40  # an empty page says object: page


@pytest.mark.slow
def test_parsed_models_have_catalog_prices(con, bill):
    from costlens.pricing.catalog import find_catalog_model

    bill(COSTS_PAGE, USAGE_PAGE)
    models = [
        m
        for (m,) in con.execute(
            "SELECT DISTINCT model FROM billing_lines WHERE model IS NOT NULL AND model <> 'gpt-image-1' ORDER BY 1"
        ).fetchall()
    ]
    assert models
    for model in models:
        assert find_catalog_model("openai", model).model is not None, model
