"""Anthropic billing exports → billing_lines: golden lines for the Admin API usage_report / cost_report pages
and the Console usage / cost CSVs (every FORMATS.md quirk: amounts as decimal strings in cents, nested
cache_creation, display model names, "≤ 200k" context windows), quarantine, re-ingest and detection.

The expected values are computed here independently of the SQL (Python json / csv / Decimal) or written by hand.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from test_adapter_openai_billing import (  # noqa: F401  (usage_check is a fixture used through `bill`)
    bill,
    quarantine,
    stats,
    usage_check,
)

from costlens.config import Config
from costlens.ingest.base import IngestContext
from costlens.ingest.runner import choose_adapter
from costlens.ingest.sources import Source, expand_paths, open_source

from conftest import FIXTURES

ANT = FIXTURES / "anthropic_billing"
USAGE_PAGE = ANT / "usage_report_page.json"
COST_PAGE = ANT / "cost_report_page.json"
COST_PAGES = ANT / "cost_report_pages.jsonl"
USAGE_CSV = ANT / "console_usage.csv"
COST_CSV = ANT / "console_cost.csv"
COST_CSV_V2 = ANT / "console_cost_v2.csv"
MINE = "anthropic_billing"

COLUMNS = (
    "source_row",
    "charge_period_start",
    "charge_period_end",
    "model",
    "token_type",
    "quantity_tokens",
    "consumed_quantity",
    "consumed_unit",
    "billed_cost",
    "effective_cost",
    "list_cost",
    "currency",
    "workspace_id",
    "api_key_id",
    "service_tier",
    "is_batch",
    "context_window",
    "region",
    "charge_class",
    "sku_meter",
)


def lines(con, where: str = "true") -> list[dict]:
    cursor = con.execute(
        f"SELECT {', '.join(COLUMNS)} FROM billing_lines WHERE {where} ORDER BY source_file, source_row, rowid"
    )
    return [dict(zip(COLUMNS, row)) for row in cursor.fetchall()]


def iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


TIERS = {"standard": "standard", "batch": "batch", "priority": "priority", None: None}
API_USAGE_FIELDS = (  # (token type, path in a usage result)
    ("input", ("uncached_input_tokens",)),
    ("cache_read", ("cache_read_input_tokens",)),
    ("cache_write_5m", ("cache_creation", "ephemeral_5m_input_tokens")),
    ("cache_write_1h", ("cache_creation", "ephemeral_1h_input_tokens")),
    ("output", ("output_tokens",)),
    ("other", ("server_tool_use", "web_search_requests")),
)


def dig(record: dict, path: tuple[str, ...]):
    for part in path:
        record = (record or {}).get(part)
    return record


# ------------------------------------------------------------------------------------ usage_report page


@pytest.mark.slow
def test_usage_report_page_golden(con, bill):
    (file,) = bill(USAGE_PAGE).files
    assert (file.status, file.format, file.target) == ("ingested", MINE, "billing_lines")
    assert stats(file) == (14, 12, 0, 0, 2)

    doc = json.loads(USAGE_PAGE.read_text())
    expected = []
    for bucket in doc["data"]:
        for r in bucket["results"]:
            geo = r["inference_geo"] if r["inference_geo"] not in (None, "not_available") else None
            for token_type, path in API_USAGE_FIELDS:
                qty = dig(r, path)
                if not qty:
                    continue
                expected.append(
                    dict(
                        source_row=1,
                        charge_period_start=iso(bucket["starting_at"]),
                        charge_period_end=iso(bucket["ending_at"]),
                        model=r["model"],
                        token_type=token_type,
                        quantity_tokens=None if token_type == "other" else Decimal(qty),
                        consumed_quantity=Decimal(qty),
                        consumed_unit="Requests" if token_type == "other" else "Tokens",
                        billed_cost=None,
                        effective_cost=None,
                        list_cost=None,
                        currency=None,
                        workspace_id=r["workspace_id"],
                        api_key_id=r["api_key_id"],
                        service_tier=TIERS[r["service_tier"]],
                        is_batch=r["service_tier"] == "batch",
                        context_window=r["context_window"],
                        region=geo,
                        charge_class="usage-only",
                        sku_meter=".".join(path),
                    )
                )
    assert lines(con) == expected

    # by hand: Anthropic's uncached input already EXCLUDES cache reads and writes — no subtraction
    sonnet = lines(con, "model = 'claude-sonnet-4-20250514'")
    assert [(r["token_type"], r["quantity_tokens"], r["consumed_quantity"]) for r in sonnet] == [
        ("input", 1500, 1500),
        ("cache_read", 200, 200),
        ("cache_write_5m", 500, 500),
        ("cache_write_1h", 1000, 1000),
        ("output", 500, 500),
        ("other", None, 10),
    ]  # 10 web searches
    batch = lines(con, "model = 'claude-3-5-haiku-20241022'")
    assert {(r["service_tier"], r["is_batch"], r["workspace_id"], r["region"]) for r in batch} == {
        ("batch", True, None, None)
    }  # default workspace: workspace_id null; inference_geo not_available
    long_ctx = lines(con, "model = 'claude-sonnet-4-5-20250929'")
    assert {(r["context_window"], r["service_tier"], r["region"]) for r in long_ctx} == {("200k-1M", "priority", "us")}
    assert con.execute("SELECT bool_and(is_ai), min(provider), count(billed_cost) FROM billing_lines").fetchone() == (
        True,
        "anthropic",
        0,
    )
    assert quarantine(con) == [
        (
            str(USAGE_PAGE),
            1,
            "skipped",
            "data[2].results[0]: no usage in this row (every token and request count is 0)",
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


# ------------------------------------------------------------------------------------ cost_report page


COST_TOKEN_TYPES = {
    "uncached_input_tokens": "input",
    "output_tokens": "output",
    "cache_read_input_tokens": "cache_read",
    "cache_creation.ephemeral_5m_input_tokens": "cache_write_5m",
    "cache_creation.ephemeral_1h_input_tokens": "cache_write_1h",
    None: "other",
}


@pytest.mark.slow
def test_cost_report_page_golden_cents_to_usd(con, bill):
    (file,) = bill(COST_PAGE).files
    assert file.format == MINE
    assert stats(file) == (11, 10, 0, 0, 1)

    doc = json.loads(COST_PAGE.read_text())
    results = [(b, r) for b in doc["data"] for r in b["results"]]
    got = lines(con)
    # amount is a decimal STRING in cents: USD = amount / 100, exactly
    usd = [Decimal(r["amount"]) / 100 for _, r in results]
    assert [r["billed_cost"] for r in got] == usd
    assert [r["effective_cost"] for r in got] == usd
    assert [
        (r["model"], r["token_type"], r["service_tier"], r["context_window"], r["workspace_id"], r["sku_meter"])
        for r in got
    ] == [
        (
            r["model"],
            COST_TOKEN_TYPES[r["token_type"]],
            r["service_tier"],
            r["context_window"],
            r["workspace_id"],
            r["token_type"] or r["cost_type"],
        )
        for _, r in results
    ]
    assert [r["charge_period_start"] for r in got] == [iso(b["starting_at"]) for b, _ in results]
    total, kind = con.execute("SELECT sum(billed_cost), typeof(sum(billed_cost)) FROM billing_lines").fetchone()
    assert kind == "DECIMAL(38,18)"
    assert total == sum(usd) == Decimal("1236.137825")  # by hand: 123,613.7825 cents
    # by hand: "0.45" cents = $0.0045; "123456.789" cents = $1,234.56789; web search "10" cents = $0.10
    assert got[0]["billed_cost"] == Decimal("0.0045")
    assert lines(con, "context_window = '200k-1M'")[0]["billed_cost"] == Decimal("1234.56789")
    assert lines(con, "sku_meter = 'web_search'")[0]["billed_cost"] == Decimal("0.10")
    assert {(r["is_batch"], r["service_tier"]) for r in lines(con, "model = 'claude-3-5-haiku-20241022'")} == {
        (True, "batch")
    }
    assert {r["currency"] for r in got} == {"USD"} and {r["charge_class"] for r in got} == {None}
    assert quarantine(con) == [
        (str(COST_PAGE), 1, "skipped", "no activity in this period (data[1]: the bucket's results list is empty)", MINE)
    ]


@pytest.mark.slow
def test_cost_report_pages_jsonl(con, bill):
    (file,) = bill(COST_PAGES).files
    assert file.format == MINE
    assert stats(file) == (6, 3, 0, 2, 1)
    assert [(r["source_row"], r["model"], r["token_type"], r["billed_cost"]) for r in lines(con)] == [
        (1, "claude-haiku-4-5-20251001", "output", Decimal("0.000001")),  # "0.0001" cents
        (2, "claude-haiku-4-5-20251001", "input", Decimal("2.50")),
        # a bare bucket line; 16 decimals of cents stay exact
        (4, "claude-opus-4-1-20250805", "output", Decimal("0.333333333333333333")),
    ]
    assert quarantine(con) == [
        (str(COST_PAGES), 2, "rejected", "data[0].results[0]: amount is not a decimal number of cents: 12,5", MINE),
        (str(COST_PAGES), 3, "rejected", "not valid JSON", MINE),
        (str(COST_PAGES), 5, "skipped", "no activity in this period (the page holds no buckets)", MINE),
    ]


# ------------------------------------------------------------------------------------ Console usage CSV


CSV_USAGE_FIELDS = (
    ("input", "usage_input_tokens_no_cache"),
    ("cache_read", "usage_input_tokens_cache_read"),
    ("cache_write_5m", "usage_input_tokens_cache_write_5m"),
    ("cache_write_1h", "usage_input_tokens_cache_write_1h"),
    ("output", "usage_output_tokens"),
    ("other", "web_search_count"),
)
CONTEXT = {"≤ 200k": "0-200k", "> 200k": "200k-1M"}


@pytest.mark.slow
def test_console_usage_csv_golden(con, bill):
    (file,) = bill(USAGE_CSV).files
    assert file.format == MINE
    assert stats(file) == (17, 14, 0, 2, 1)

    with USAGE_CSV.open(newline="", encoding="utf-8") as handle:
        rows = {i: r for i, r in enumerate(csv.DictReader(handle), start=2)}
    expected = []
    for i in (2, 3, 4, 6):
        r = rows[i]
        start = datetime.fromisoformat(r["usage_date_utc"])
        for token_type, column in CSV_USAGE_FIELDS:
            qty = int(r[column])
            if not qty:
                continue
            expected.append(
                dict(
                    source_row=i,
                    charge_period_start=start,
                    charge_period_end=start.replace(day=start.day + 1),
                    model=r["model_version"],
                    token_type=token_type,
                    quantity_tokens=None if token_type == "other" else Decimal(qty),
                    consumed_quantity=Decimal(qty),
                    consumed_unit="Requests" if token_type == "other" else "Tokens",
                    billed_cost=None,
                    effective_cost=None,
                    list_cost=None,
                    currency=None,
                    workspace_id=r["workspace"],
                    api_key_id=r["api_key"],
                    service_tier=r["usage_type"],
                    is_batch=r["usage_type"] == "batch",
                    context_window=CONTEXT[r["context_window"]],
                    region=None if r["inference_geo"] == "not_available" else r["inference_geo"],
                    charge_class="usage-only",
                    sku_meter=column,
                )
            )
    assert lines(con) == expected
    # by hand: the quoted key name keeps its comma; "> 200k" is the long-context window
    assert {(r["api_key_id"], r["context_window"]) for r in lines(con, "source_row = 4")} == {
        ("Key, with comma", "200k-1M")
    }
    # speed "fast" (research preview) is kept as a tag
    assert con.execute("SELECT DISTINCT tags FROM billing_lines WHERE source_row = 6").fetchall() == [
        ({"anthropic.speed": "fast"},)
    ]
    assert quarantine(con) == [
        (str(USAGE_CSV), 5, "skipped", "no usage in this row (every token and request count is 0)", MINE),
        (str(USAGE_CSV), 7, "rejected", "output tokens is not a number: 12abc", MINE),
        (str(USAGE_CSV), 8, "rejected", "usage_date_utc is not a date/time: not-a-date", MINE),
    ]


# ------------------------------------------------------------------------------------ Console cost CSV


DISPLAY_NAMES = {
    "Claude Sonnet 4": "claude-sonnet-4",
    "Claude Sonnet 4.5": "claude-sonnet-4-5",
    "Claude Haiku 4.5": "claude-haiku-4-5",
    "Claude Opus 4.1": "claude-opus-4-1",
    "Claude Opus 4.5": "claude-opus-4-5",
    "Claude Opus 4.6": "claude-opus-4-6",
    "Claude 3.5 Haiku": "claude-3-5-haiku",  # the 3.x generation puts the version first in ids…
    "Claude Haiku 3.5": "claude-3-5-haiku",  # …whichever way round the display name says it
}
COST_CSV_TOKEN_TYPES = {
    "input_no_cache": "input",
    "output": "output",
    "input_cache_read": "cache_read",
    "input_cache_write_5m": "cache_write_5m",
    "input_cache_write_1h": "cache_write_1h",
    "": "other",
}


@pytest.mark.slow
def test_console_cost_csv_golden(con, bill):
    (file,) = bill(COST_CSV).files
    assert file.format == MINE
    assert stats(file) == (13, 12, 0, 1, 0)

    with COST_CSV.open(newline="", encoding="utf-8") as handle:
        rows = {i: r for i, r in enumerate(csv.DictReader(handle), start=2)}
    loaded = [i for i, r in rows.items() if r["cost_usd"] != "N/A"]
    got = lines(con)
    assert [r["source_row"] for r in got] == loaded
    assert [r["billed_cost"] for r in got] == [Decimal(rows[i]["cost_usd"]) for i in loaded]
    assert [r["list_cost"] for r in got] == [Decimal(rows[i]["list_price_usd"]) for i in loaded]
    assert [(r["model"], r["token_type"]) for r in got] == [
        (DISPLAY_NAMES[rows[i]["model"]], COST_CSV_TOKEN_TYPES[rows[i]["token_type"]]) for i in loaded
    ]
    billed, listed = con.execute("SELECT sum(billed_cost), sum(list_cost) FROM billing_lines").fetchone()
    assert billed == sum(Decimal(rows[i]["cost_usd"]) for i in loaded) == Decimal("3.593391789012345678")
    assert listed == Decimal("4.993391789012345678")  # batch lines: billed at half the list price
    assert lines(con, "source_row = 12")[0]["billed_cost"] == Decimal("0.123456789012345678")  # 18 decimals, exact
    assert lines(con, "source_row = 11")[0]["billed_cost"] == 0  # a free line is still a line
    assert {(r["service_tier"], r["is_batch"]) for r in lines(con, "model = 'claude-3-5-haiku'")} == {("batch", True)}
    assert lines(con, "source_row = 7")[0]["context_window"] is None  # web search: no context window
    assert quarantine(con) == [(str(COST_CSV), 14, "rejected", "cost_usd is not a number: N/A", MINE)]


def test_console_cost_csv_with_api_key_ids(con, bill):
    (file,) = bill(COST_CSV_V2).files
    assert file.format == MINE and stats(file) == (4, 4, 0, 0, 0)
    got = con.execute(
        "SELECT model, token_type, billed_cost, list_cost, api_key_id, workspace_id "
        "FROM billing_lines ORDER BY source_row"
    ).fetchall()
    assert got == [
        ("claude-haiku-4-5", "input", Decimal("0.05"), Decimal("0.05"), "apikey_01AAA", "Default"),
        ("claude-haiku-4-5", "output", Decimal("0.02"), Decimal("0.02"), "apikey_01AAA", "Default"),
        ("claude-sonnet-4-5", "cache_read", Decimal("0.10"), Decimal("1.00"), "apikey_01AAA", "Default"),
        ("claude-opus-4-5", "output", Decimal("0.30"), Decimal("0.30"), "apikey_01BBB", "Default"),
    ]


@pytest.mark.slow
def test_display_names_map_to_catalog_models(con, bill, tmp_path):
    from costlens.pricing.catalog import find_catalog_model

    names = {
        **DISPLAY_NAMES,
        "Claude Sonnet 3.7": "claude-3-7-sonnet",
        "Claude 3 Opus": "claude-3-opus",
        "Claude Opus 3": "claude-3-opus",
        "claude-sonnet-4-20250514": "claude-sonnet-4-20250514",
    }
    path = tmp_path / "cost.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "usage_date_utc",
                "model",
                "workspace",
                "api_key",
                "usage_type",
                "context_window",
                "token_type",
                "cost_usd",
                "list_price_usd",
                "cost_type",
                "inference_geo",
                "speed",
            ]
        )
        for name in names:
            writer.writerow(
                ["2025-08-01", name, "Default", "k", "message", "≤ 200k", "output", "1", "1", "token", "global", ""]
            )
    bill(path)
    got = dict(con.execute("SELECT charge_description, model FROM billing_lines").fetchall())
    assert {d.split(", ")[0]: m for d, m in got.items()} == names
    for model in set(names.values()):
        assert find_catalog_model("anthropic", model).model is not None, model


@pytest.mark.slow
def test_usage_and_cost_reports_reconcile(con, bill):
    # The API cost report for day 1 prices exactly the usage report's Sonnet 4 tokens at list prices
    # ($3 / $3.75 / $6 / $0.30 / $15 per Mtok, web search $10 per 1,000).
    bill(USAGE_PAGE, COST_PAGE)
    rows = con.execute("""
        SELECT u.token_type, u.consumed_quantity, c.billed_cost
        FROM billing_lines u JOIN billing_lines c
          ON u.charge_class = 'usage-only' AND c.charge_class IS NULL AND u.charge_period_start = c.charge_period_start
         AND u.workspace_id = c.workspace_id AND u.token_type = c.token_type
         AND (u.model = c.model OR (u.token_type = 'other' AND c.sku_meter = 'web_search'))
        WHERE u.model = 'claude-sonnet-4-20250514' ORDER BY u.token_type""").fetchall()
    per_mtok = {
        "input": Decimal(3),
        "cache_read": Decimal("0.30"),
        "cache_write_5m": Decimal("3.75"),
        "cache_write_1h": Decimal(6),
        "output": Decimal(15),
        "other": Decimal(10000),
    }
    assert len(rows) == 6
    for token_type, qty, cost in rows:
        assert cost == qty * per_mtok[token_type] / 1_000_000, token_type


# ------------------------------------------------------------------------------------ framework as it is


@pytest.mark.slow
def test_every_row_accounted_for_with_the_framework_check_as_is(con, ingest):
    result = ingest(USAGE_CSV, COST_CSV)
    for file in result.files:
        assert file.status == "ingested" and file.format == MINE
        assert file.rows_read == file.rows_loaded + file.rows_duplicate + file.rows_quarantined + file.rows_skipped
    by_path = {f.path: f for f in result.files}
    assert by_path[str(COST_CSV)].rows_loaded == 12


# ------------------------------------------------------------------------------------ re-ingest, detection


@pytest.mark.slow
def test_reingest_adds_nothing(con, bill):
    paths = [USAGE_PAGE, COST_PAGE, COST_PAGES, USAGE_CSV, COST_CSV, COST_CSV_V2]
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


MY_FIXTURES = sorted(ANT.iterdir())
OTHER_FIXTURES = [p for p in expand_paths([str(FIXTURES)]) if ANT not in p.parents]


@pytest.mark.parametrize("path", MY_FIXTURES, ids=lambda p: p.name)
def test_detected_without_format(path):
    assert choose_adapter(open_source(path), _ctx()).name == MINE


@pytest.mark.parametrize("path", OTHER_FIXTURES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_other_fixtures_are_not_claimed(path):
    from costlens.ingest.anthropic_billing import ADAPTER

    src = open_source(path)
    assert src.container not in ADAPTER.containers or ADAPTER.detect(src, _ctx()) == 0


def test_detection_shapes():
    from costlens.ingest.anthropic_billing import ADAPTER, csv_shape

    assert (
        csv_shape(["usage_date_utc", "model_version", "usage_input_tokens_no_cache", "usage_output_tokens"]) == "usage"
    )
    assert csv_shape(["usage_date_utc", "model", "token_type", "cost_usd", "list_price_usd"]) == "cost"
    assert csv_shape(["usage_date", "cost"]) is None
    src = Source(path=Path("x.json"), size=0, mtime_ns=0, container="json")
    # an OpenAI page (object: page, start_time buckets) is not Anthropic's
    src.records = [
        {
            "object": "page",
            "data": [{"object": "bucket", "start_time": 1, "end_time": 2, "results": [{"input_tokens": 1}]}],
            "has_more": False,
        }
    ]
    assert ADAPTER.detect(src, _ctx()) == 0
    # the Claude Code usage report (data[] of per-user days) is another report
    src.records = [
        {
            "data": [
                {"date": "2025-08-01T00:00:00Z", "actor": {"type": "user_actor"}, "core_metrics": {"num_sessions": 1}}
            ],
            "has_more": False,
            "next_page": None,
        }
    ]
    assert ADAPTER.detect(src, _ctx()) == 0
    src.records = [{"data": [], "has_more": False, "next_page": None}]
    assert ADAPTER.detect(src, _ctx()) == 30  # an empty report page: only the envelope to go on
