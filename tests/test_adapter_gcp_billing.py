"""GCP billing export → billing_lines: the standard export flattened to CSV (dotted headers, credits and labels
as JSON text), the detailed export as JSON lines (nested objects, JSON numbers) and as Parquet (STRUCT and LIST
columns). TRAP: token quantities come from usage.amount_in_pricing_units in usage.pricing_unit, never from
usage.amount; effective cost = cost + Σ credits."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from conftest import FIXTURES

CSV = FIXTURES / "gcp_billing" / "standard_export.csv"
JSONL = FIXTURES / "gcp_billing" / "detailed_export.jsonl"

# source_row (CSV): (is_ai, model, token_type, service_tier, is_batch, context_window, charge_category)
EXPECTED = {
    2: (True, "gemini-2.5-flash", "input", "standard", False, None, "Usage"),
    3: (True, "gemini-2.5-flash", "output", "standard", False, None, "Usage"),
    4: (True, "gemini-2.5-flash", "output", "standard", False, None, "Usage"),  # thinking tokens are output
    5: (True, "gemini-2.5-flash", "cache_read", "standard", False, None, "Usage"),  # "Input Text Caching"
    6: (True, "gemini-2.5-flash", "other", None, False, None, "Usage"),  # cache storage: not tokens
    7: (True, "gemini-2.0-flash", "input", "standard", False, "long", "Usage"),  # "(Long)"
    8: (True, "gemini-2.5-flash", "output", "batch", True, None, "Usage"),  # "Batch Predictions"
    9: (True, "claude-sonnet-4-5", "input", "standard", False, None, "Usage"),  # priced per "1000 count"
    10: (True, "claude-sonnet-4-5", "cache_read", "standard", False, None, "Usage"),
    11: (True, "gemini-1.0-pro", "input", "standard", False, None, "Usage"),  # priced per 1k characters
    12: (True, None, "other", None, False, None, "Usage"),  # grounding: generative AI, no tokens
    13: (False, None, None, None, None, None, "Usage"),  # Vertex AI prediction nodes: not generative AI
    14: (False, None, None, None, None, None, "Usage"),  # Compute Engine
    15: (False, None, None, None, None, None, "Usage"),  # BigQuery
    16: (False, None, None, None, None, None, "Tax"),
    17: (True, "gemini-2.5-flash", "input", "standard", False, None, "Usage"),  # fully covered by a free-trial credit
}
REJECTED = {
    18: 'credits is not a list of {name, amount}: [{"name": "promo", "amount": "ten cents", "full_name": "prom',
    19: "usage_start_time is not a date/time: not a time",
}
JSONL_ROWS = {**{i: i + 1 for i in range(1, 14)}, 14: 17}  # JSON line → the same line's CSV row
KIND = ("is_ai", "model", "token_type", "service_tier", "is_batch", "context_window", "charge_category")
TOKENS_PER_PRICING_UNIT = {"count": 1, "1000 count": 1000}  # independent reading of usage.pricing_unit


def csv_rows() -> dict[int, dict[str, str]]:
    with CSV.open(newline="", encoding="utf-8") as handle:
        return {i: row for i, row in enumerate(csv.DictReader(handle), start=2)}


def expected_tokens(row: dict[str, str], want: tuple) -> Decimal | None:
    if want[2] in (None, "other") or row["cost_type"] != "regular":
        return None
    per_unit = TOKENS_PER_PRICING_UNIT.get(row["usage.pricing_unit"])
    return None if per_unit is None else Decimal(row["usage.amount_in_pricing_units"]) * per_unit


def expected_effective(row: dict[str, str]) -> Decimal:
    return Decimal(row["cost"]) + sum((Decimal(str(c["amount"])) for c in json.loads(row["credits"])), Decimal(0))


def lines(con, path: Path | None = None, *columns: str) -> dict[int, tuple]:
    where, params = ("WHERE source_file = ?", [str(path)]) if path else ("", [])
    rows = con.execute(
        f"SELECT source_row, {', '.join(columns)} FROM billing_lines {where} ORDER BY source_row", params
    ).fetchall()
    return {row[0]: row[1:] for row in rows}


@pytest.fixture(scope="module")
def loaded():
    """The CSV and JSONL exports ingested once (no --format) into one database for the read-only tests."""
    from costlens import db
    from costlens.config import Config
    from costlens.ingest.runner import ingest_paths

    connection = db.connect(":memory:")
    result = ingest_paths(connection, [str(CSV), str(JSONL)], Config())
    yield connection, {Path(f.path).name: f for f in result.files}
    connection.close()


@pytest.mark.slow
def test_every_row_accounted_for(loaded):
    con, files = loaded
    flat, nested = files[CSV.name], files[JSONL.name]
    assert (flat.status, flat.format, flat.target) == ("ingested", "gcp_billing", "billing_lines")
    assert (flat.rows_read, flat.rows_loaded, flat.rows_quarantined) == (18, 16, 2)
    assert (nested.format, nested.rows_read, nested.rows_loaded, nested.rows_quarantined) == ("gcp_billing", 14, 14, 0)
    assert con.execute("SELECT source_file, source_row, disposition, reason FROM quarantine ORDER BY 2").fetchall() == [
        (str(CSV), row, "rejected", reason) for row, reason in REJECTED.items()
    ]


def test_csv_skus(loaded):
    con, _ = loaded
    assert lines(con, CSV, *KIND) == EXPECTED


def test_jsonl_skus(loaded):
    con, _ = loaded
    assert lines(con, JSONL, *KIND) == {row: EXPECTED[csv_row] for row, csv_row in JSONL_ROWS.items()}


def test_tokens_come_from_amount_in_pricing_units(loaded):
    con, _ = loaded
    source = csv_rows()
    got = lines(con, CSV, "quantity_tokens", "pricing_quantity", "pricing_unit", "consumed_quantity", "consumed_unit")
    for row, (tokens, pricing_quantity, pricing_unit, consumed, consumed_unit) in got.items():
        assert tokens == expected_tokens(source[row], EXPECTED[row]), row
        assert pricing_quantity == Decimal(source[row]["usage.amount_in_pricing_units"]), row
        assert consumed == Decimal(source[row]["usage.amount"]), row
        assert (pricing_unit, consumed_unit) == (
            source[row]["usage.pricing_unit"] or None,
            source[row]["usage.unit"] or None,
        ), row
    # Claude: 300 × "1000 count" = 300,000 tokens (usage.amount says the same in its base unit)
    assert got[9][:2] == (Decimal("300000"), Decimal("300"))
    # Gemini 1.0: usage.amount 480,000 "count" are characters priced per 1k characters — not tokens
    assert got[11][0] is None and got[11][3] == Decimal("480000")
    # cache storage: 7.2e9 token-seconds is not a token count either
    assert got[6][0] is None
    assert con.execute("SELECT sum(quantity_tokens) FROM billing_lines WHERE source_file = ?", [str(CSV)]).fetchone()[
        0
    ] == Decimal("4900000")


def test_jsonl_tokens_and_money_match_the_csv(loaded):
    con, _ = loaded
    flat = lines(con, CSV, "quantity_tokens", "billed_cost", "effective_cost", "model", "tags", "region")
    nested = lines(con, JSONL, "quantity_tokens", "billed_cost", "effective_cost", "model", "tags", "region")
    assert nested == {row: flat[csv_row] for row, csv_row in JSONL_ROWS.items()}
    # the detailed export adds cost_at_list and resource.name
    detail = lines(con, JSONL, "list_cost", "resource_id")
    assert detail[2] == (
        Decimal("0.775"),
        "projects/482913570164/locations/us-central1/publishers/google/models/gemini-2.5-flash",
    )
    assert detail[6] == (Decimal("0.0375"), None)


def test_money_is_exact_and_credits_count_in_effective_cost(loaded):
    con, _ = loaded
    source = {row: r for row, r in csv_rows().items() if row not in REJECTED}
    got = lines(con, CSV, "billed_cost", "effective_cost")
    assert got == {row: (Decimal(r["cost"]), expected_effective(r)) for row, r in source.items()}
    totals = con.execute(
        "SELECT sum(billed_cost), sum(effective_cost), sum(billed_cost) FILTER (WHERE is_ai), "
        "sum(effective_cost) FILTER (WHERE is_ai), typeof(sum(effective_cost)) FROM billing_lines "
        "WHERE source_file = ?",
        [str(CSV)],
    ).fetchone()
    ai_rows = [row for row, want in EXPECTED.items() if want[0]]
    assert totals[:4] == (
        sum(Decimal(r["cost"]) for r in source.values()),
        sum(expected_effective(r) for r in source.values()),
        sum(Decimal(source[row]["cost"]) for row in ai_rows),
        sum(expected_effective(source[row]) for row in ai_rows),
    )
    assert totals[2:4] == (Decimal("4.9095"), Decimal("4.772"))  # by hand: credits −0.0775, −0.03, −0.03
    assert totals[4].startswith("DECIMAL")
    assert got[17] == (Decimal("0.03"), Decimal("0"))  # a free-trial credit (amount written as a string)


def test_columns_periods_and_labels(loaded):
    con, _ = loaded
    row = con.execute(
        "SELECT provider, service_name, service_category, service_subcategory, sku_id, sku_meter, charge_description, "
        "billing_account_id, project_id, sub_account_id, sub_account_name, region, currency, tags, "
        "charge_period_start, charge_period_end, billing_period_start, billing_period_end "
        "FROM billing_lines WHERE source_file = ? AND source_row = 2",
        [str(CSV)],
    ).fetchone()
    assert row[:7] == (
        "Google Cloud",
        "Vertex AI",
        "AI and Machine Learning",
        "Generative AI",
        "FDAB-647C-5A22",
        "Gemini 2.5 Flash GA Text Input - Predictions",
        "Gemini 2.5 Flash GA Text Input - Predictions",
    )
    assert row[7:13] == (
        "01A2B3-C4D5E6-F7A8B9",
        "acme-support-prod",
        "acme-support-prod",
        "Acme Support Prod",
        "us-central1",
        "USD",
    )
    assert row[13] == {"feature": "support-bot", "team": "cx"}  # labels [{key, value}] → MAP
    # "2025-03-05 10:00:00 UTC" hourly window; invoice.month 202503 → [2025-03-01, 2025-04-01)
    assert [str(v) for v in row[14:]] == [
        "2025-03-05 10:00:00",
        "2025-03-05 11:00:00",
        "2025-03-01 00:00:00",
        "2025-04-01 00:00:00",
    ]
    other = lines(con, CSV, "tags", "service_category", "region")
    assert other[13] == (None, "AI and Machine Learning", "us-central1")  # empty labels → NULL
    assert other[14] == ({"team": "platform"}, None, "us-central1")
    assert other[16] == (None, "AI and Machine Learning", None)  # tax line, no location


def test_parquet_with_nested_structs(con, ingest, tmp_path):
    """BigQuery → Parquet keeps the nesting: STRUCT service / sku / usage / project / invoice, LIST credits and
    labels, DOUBLE money."""
    target = tmp_path / "gcp_billing.parquet"
    duckdb.connect().execute(f"COPY (SELECT * FROM read_json('{JSONL}')) TO '{target}' (FORMAT parquet)")
    kinds = (
        duckdb.connect()
        .execute(f"SELECT typeof(usage), typeof(credits), typeof(labels) FROM read_parquet('{target}') LIMIT 1")
        .fetchone()
    )
    assert kinds[0].startswith("STRUCT") and kinds[1].endswith("[]") and kinds[2].endswith("[]")
    file = ingest(target).files[0]
    assert (file.format, file.rows_read, file.rows_loaded) == ("gcp_billing", 14, 14)
    assert lines(con, None, *KIND) == {row: EXPECTED[csv_row] for row, csv_row in JSONL_ROWS.items()}
    source = csv_rows()
    got = lines(con, None, "quantity_tokens", "billed_cost", "effective_cost", "tags", "pricing_unit")
    for row, csv_row in JSONL_ROWS.items():
        assert got[row][:3] == (
            expected_tokens(source[csv_row], EXPECTED[csv_row]),
            Decimal(source[csv_row]["cost"]),
            expected_effective(source[csv_row]),
        ), row
    assert got[1][3] == {"feature": "support-bot", "team": "cx"} and got[1][4] == "count"


@pytest.mark.slow
def test_flattened_with_underscores_and_no_pricing_units(con, ingest, tmp_path):
    """A hand-written flattening query (service_description, usage_amount, …) without amount_in_pricing_units:
    usage.amount is the only quantity, used when usage.unit counts tokens and the SKU is not priced in
    characters."""
    with CSV.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    keep = [c for c in rows[0] if c not in ("usage.amount_in_pricing_units", "usage.pricing_unit")]
    path = tmp_path / "flattened.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.replace(".", "_") for c in keep])
        writer.writerows([[r[c] for c in keep] for r in rows[:11]])
    file = ingest(path).files[0]
    assert (file.format, file.rows_loaded) == ("gcp_billing", 11)
    tokens = {row: v[0] for row, v in lines(con, None, "quantity_tokens").items()}
    assert tokens[9] == Decimal("300000") and tokens[2] == Decimal("1520000")
    assert tokens[11] is None and tokens[6] is None  # characters; token-seconds
    assert lines(con, None, "model")[9] == ("claude-sonnet-4-5",)


@pytest.mark.slow
def test_odd_credits_and_labels(con, ingest, tmp_path):
    """Credits that are not a JSON list of amounts reject the row (never read as 0); labels that repeat a key
    keep the first value; labels that are not JSON are dropped (the row is kept)."""
    with CSV.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header, first = reader.fieldnames, next(reader)
    variants = [
        ("[{", "[]"),
        ('{"amount": -1}', "[]"),
        ('[{"name": "no amount"}]', "[]"),
        (
            '[{"amount": "-0.001"}, {"amount": -0.002}]',
            '[{"key": "team", "value": "cx"}, {"key": "team", "value": "ops"}, {"key": "env", "value": "prod"}]',
        ),
        ("", "team=cx"),
    ]
    path = tmp_path / "odd.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        for credits, labels in variants:
            writer.writerow({**first, "credits": credits, "labels": labels})
    file = ingest(path, fmt="gcp_billing").files[0]
    assert (file.rows_loaded, file.rows_quarantined) == (2, 3)
    reasons = dict(con.execute("SELECT source_row, reason FROM quarantine").fetchall())
    assert sorted(reasons) == [2, 3, 4] and all(
        r.startswith("credits is not a list of {name, amount}") for r in reasons.values()
    )
    assert lines(con, None, "effective_cost", "tags") == {
        5: (Decimal("0.453"), {"team": "cx", "env": "prod"}),
        6: (Decimal("0.456"), None),
    }


def test_invalid_json_line_is_quarantined(con, ingest, tmp_path):
    good = JSONL.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join([good[0], '{"cost": 0.1, "usage_start_time": ', good[1]]) + "\n", encoding="utf-8")
    file = ingest(path).files[0]
    assert (file.format, file.rows_read, file.rows_loaded, file.rows_quarantined) == ("gcp_billing", 3, 2, 1)
    assert con.execute("SELECT source_row, reason FROM quarantine").fetchall() == [(2, "not valid JSON")]


@pytest.mark.slow
def test_reingesting_adds_nothing(con, ingest):
    ingest(JSONL)
    again = ingest(JSONL).files[0]
    assert (again.status, again.rows_loaded) == ("unchanged", 0)
    assert con.execute("SELECT count(*) FROM billing_lines").fetchone()[0] == 14


def test_detection():
    from costlens.config import Config
    from costlens.ingest.base import IngestContext
    from costlens.ingest.gcp_billing import ADAPTER
    from costlens.ingest.sources import Source

    ctx = IngestContext(config=Config())
    src = Source(path=Path("x.csv"), size=0, mtime_ns=0, container="csv")
    src.header = ["service.description", "sku.description", "usage_start_time", "cost"]
    assert ADAPTER.detect(src, ctx) == 90
    src.header = ["service_description", "sku_description", "cost"]
    assert ADAPTER.detect(src, ctx) == 70
    src.header = ["service", "sku", "usage_start_time", "cost"]  # plain names in a CSV say nothing
    assert ADAPTER.detect(src, ctx) == 0
    src.container = "parquet"
    assert ADAPTER.detect(src, ctx) == 90  # top-level STRUCT columns
    src = Source(
        path=Path("x.jsonl"),
        size=0,
        mtime_ns=0,
        container="jsonl",
        records=[{"cost": 1, "usage_start_time": "2025-03-05 10:00:00 UTC", "sku": {"description": "x"}}],
    )
    assert ADAPTER.detect(src, ctx) == 90
    src.records = [{"cost": 1, "usage_start_time": "2025-03-05", "sku": "x"}]
    assert ADAPTER.detect(src, ctx) == 0
