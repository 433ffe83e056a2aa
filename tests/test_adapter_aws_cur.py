"""AWS CUR 2.0 → billing_lines: a Bedrock export (first-party and marketplace "Amazon Bedrock Edition" lines,
every token type, batch / flex / priority / long-context variants, pricing units in 1K / 1M tokens and a
"Units" trap, credits, tax, non-AI lines, bad rows), the same bill as typed Parquet, detection, and the shared
meter macros (sql/staging/billing_meters.sql) against the FOCUS adapter's own parsing."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from conftest import FIXTURES, REALDATA

CUR = FIXTURES / "aws_cur" / "cur2_bedrock.csv"
MINE = {"aws_cur", "azure_cost", "gcp_billing"}

# Independent reading of the pricing unit: tokens per unit of line_item_usage_amount.
TOKENS_PER_UNIT = {"tokens": 1, "1K tokens": 1000, "1M tokens": 1_000_000}

# source_row: (is_ai, model, token_type, service_tier, is_batch, context_window, charge_category)
EXPECTED = {
    2: (True, "claude-3-5-sonnet", "input", "standard", False, None, "Usage"),  # model from the foundation-model ARN
    3: (True, "claude-3-5-sonnet", "output", "standard", False, None, "Usage"),
    4: (True, "claude-sonnet-4-5", "input", "standard", False, None, "Usage"),  # marketplace: product['model']
    5: (True, "claude-sonnet-4-5", "cache_read", "standard", False, None, "Usage"),  # _Global variant
    6: (True, "claude-sonnet-4-5", "cache_write_1h", "standard", False, None, "Usage"),
    7: (True, "claude-opus-4-1", "cache_write_5m", "standard", False, None, "Usage"),  # "(Amazon Bedrock Edition)" name
    8: (True, "claude-sonnet-4-5", "output", "batch", True, None, "Usage"),  # _Global_Batch, pricing unit "Units"
    9: (True, "claude-sonnet-4-5", "input", "standard", False, "long", "Usage"),  # _LongContext
    10: (True, "claude-haiku-4-5", "input", "standard", False, None, "Usage"),  # snake_case; app inference profile
    11: (True, "nova-2-lite", "input", "flex", False, None, "Usage"),  # inference-profile ARN beats the usage type
    12: (True, "gpt-oss-120b", "output", "priority", False, None, "Usage"),
    13: (True, "nova-pro", "input", "batch", True, None, "Usage"),  # model from the usage type
    14: (True, None, "other", None, False, None, "Usage"),  # guardrails: Bedrock spend, no tokens
    15: (True, "claude-3-5-sonnet", "input", "standard", False, None, "Credit"),  # credit: no token quantity
    16: (False, None, None, None, None, None, "Tax"),
    17: (False, None, None, None, None, None, "Usage"),  # EC2
    18: (False, None, None, None, None, None, "Usage"),  # S3
    21: (True, "claude-3-7-sonnet", "cache_read", "standard", False, None, "Usage"),  # -cache-read-input-token-count
    22: (True, "claude-3-7-sonnet", "cache_write_5m", "standard", False, None, "Usage"),  # -cache-write-…-count
    23: (True, "llama-3.3-70b-instruct", "output", "standard", False, None, "Usage"),  # pricing unit "tokens"
}
REJECTED = {
    19: "line_item_unblended_cost is not a number: N/A",
    20: "line_item_usage_start_date is not a date/time: yesterday",
}


def csv_rows(path: Path) -> dict[int, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {i: row for i, row in enumerate(csv.DictReader(handle), start=2)}


def expected_tokens(row: dict[str, str], token_type: str | None) -> Decimal | None:
    if token_type in (None, "other") or row["line_item_line_item_type"] != "Usage":
        return None
    per_unit = TOKENS_PER_UNIT.get(row["pricing_unit"])
    return None if per_unit is None else Decimal(row["line_item_usage_amount"]) * per_unit


def lines(con, *columns: str) -> dict[int, tuple]:
    rows = con.execute(f"SELECT source_row, {', '.join(columns)} FROM billing_lines ORDER BY source_row").fetchall()
    return {row[0]: row[1:] for row in rows}


@pytest.fixture(scope="module")
def loaded():
    """The fixture bill ingested once (no --format: detected from the header) for the read-only tests."""
    from costlens import db
    from costlens.config import Config
    from costlens.ingest.runner import ingest_paths

    connection = db.connect(":memory:")
    result = ingest_paths(connection, [str(CUR)], Config())
    yield connection, result.files[0]
    connection.close()


@pytest.fixture
def cur(loaded):
    return loaded[1]


@pytest.fixture
def bill(loaded):
    return loaded[0]


@pytest.mark.slow
def test_cur_every_row_accounted_for(bill, cur):
    con = bill
    assert (cur.status, cur.format, cur.target) == ("ingested", "aws_cur", "billing_lines")
    assert (cur.rows_read, cur.rows_loaded, cur.rows_quarantined, cur.rows_skipped) == (22, 20, 2, 0)
    quarantine = con.execute(
        "SELECT source_file, source_row, disposition, reason FROM quarantine ORDER BY 2"
    ).fetchall()
    assert quarantine == [(str(CUR), row, "rejected", reason) for row, reason in REJECTED.items()]


def test_cur_models_token_types_and_tiers(bill, cur):
    con = bill
    got = lines(con, "is_ai", "model", "token_type", "service_tier", "is_batch", "context_window", "charge_category")
    assert got == EXPECTED


def test_cur_token_quantities_follow_the_pricing_unit(bill, cur):
    con = bill
    source = csv_rows(CUR)
    got = lines(con, "quantity_tokens", "pricing_quantity", "pricing_unit", "consumed_quantity", "consumed_unit")
    for row, (tokens, pricing_quantity, unit, consumed, consumed_unit) in got.items():
        want = expected_tokens(source[row], EXPECTED[row][2])
        assert tokens == want, row
        assert consumed == want and consumed_unit == ("Tokens" if want is not None else None), row
        assert pricing_quantity == Decimal(source[row]["line_item_usage_amount"]), row
        assert unit == (source[row]["pricing_unit"] or None), row
    # by hand: 1234.567 × "1K tokens", 2.5 × "1M tokens"; 0.8 "Units" of batch output is not a token count
    assert got[2][0] == Decimal("1234567") and got[4][0] == Decimal("2500000")
    assert got[8][0] is None and got[8][1] == Decimal("0.8")
    # the credit on input tokens carries no tokens, so token totals never count it twice
    assert got[15][0] is None
    assert con.execute("SELECT sum(quantity_tokens) FROM billing_lines WHERE token_type = 'input'").fetchone()[0] == (
        Decimal("1234567")
        + Decimal("2500000")
        + Decimal("300000")
        + Decimal("10000000")
        + Decimal("500000")
        + Decimal("1200000")
    )
    assert got[21][0] == Decimal("5120250") and got[23][0] == Decimal("45678")  # 5120.25 × 1K; 45678 × "tokens"


def test_cur_money_is_exact(bill, cur):
    con = bill
    source = {row: r for row, r in csv_rows(CUR).items() if row not in REJECTED}
    ai_rows = {row for row, want in EXPECTED.items() if want[0]}
    unblended = sum(Decimal(r["line_item_unblended_cost"]) for r in source.values())
    net = sum(Decimal(r["line_item_net_unblended_cost"]) for r in source.values())
    public = sum(Decimal(r["pricing_public_on_demand_cost"]) for r in source.values())
    ai = sum(Decimal(source[row]["line_item_unblended_cost"]) for row in ai_rows)
    got = con.execute(
        "SELECT sum(billed_cost), sum(effective_cost), sum(list_cost), sum(billed_cost) FILTER (WHERE is_ai), "
        "typeof(sum(billed_cost)) FROM billing_lines"
    ).fetchone()
    assert got[:4] == (unblended, net, public, ai)
    assert got[4].startswith("DECIMAL")
    assert ai == Decimal("45.84113916")  # by hand from the fixture
    # net unblended (after the EDP discount) is the effective cost; unblended is billed
    assert lines(con, "billed_cost", "effective_cost")[3] == (Decimal("1.481475"), Decimal("1.43703075"))
    assert lines(con, "billed_cost")[15] == (Decimal("-1.25"),)


def test_cur_columns(bill, cur):
    con = bill
    row = con.execute(
        "SELECT provider, invoice_issuer, host_provider, service_name, service_category, service_subcategory, "
        "sku_id, sku_meter, charge_description, currency, billing_account_id, sub_account_id, sub_account_name, "
        "region, resource_id, billed_user_id, tags, charge_period_start, charge_period_end, billing_period_start, "
        "billing_period_end FROM billing_lines WHERE source_row = 4"
    ).fetchone()
    assert row[:6] == (
        "AWS",
        "Amazon Web Services, Inc.",
        "AWS",
        "Claude Sonnet 4.5 (Amazon Bedrock Edition)",
        "AI and Machine Learning",
        "Generative AI",
    )
    assert row[6:10] == (
        "MPCS45IN",
        "USE1-MP:USE1_InputTokenCount-Units",
        "Claude Sonnet 4.5 (Amazon Bedrock Edition) input tokens",
        "USD",
    )
    assert row[10:14] == ("111122223333", "444455556666", "ml-prod", "us-east-1")
    assert row[14].endswith("inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert row[15] == "arn:aws:sts::444455556666:assumed-role/SummarizerRole/i-0abc12345def67890"
    assert row[16] == {"user_feature": "summarize", "user_team": "docs"}
    assert [str(v) for v in row[17:]] == [
        "2025-06-03 00:00:00",
        "2025-06-04 00:00:00",
        "2025-06-01 00:00:00",
        "2025-07-01 00:00:00",
    ]
    other = lines(con, "service_name", "service_category", "host_provider", "tags", "billed_user_id")
    assert other[2] == (
        "Amazon Bedrock",
        "AI and Machine Learning",
        None,
        {"user_feature": "summarize", "user_team": "docs"},
        "arn:aws:sts::444455556666:assumed-role/SummarizerRole/i-0abc12345def67890",
    )
    assert other[17] == (
        "Amazon Elastic Compute Cloud",
        None,
        None,
        {"user_feature": "summarize", "user_team": "docs"},
        None,
    )
    assert other[16][3] is None and other[18][3] is None  # "{}" and empty resource_tags → no tags


@pytest.mark.slow
def test_cur_as_typed_parquet(con, ingest, tmp_path):
    """CUR 2.0 Parquet: MAP product / resource_tags, DOUBLE money and amounts, TIMESTAMP dates."""
    target = tmp_path / "cur2.parquet"
    duckdb.connect().execute(
        f"""COPY (SELECT * REPLACE (
                CAST(CAST(product AS JSON) AS MAP(VARCHAR, VARCHAR)) AS product,
                CASE WHEN resource_tags IS NOT NULL THEN CAST(CAST(resource_tags AS JSON) AS MAP(VARCHAR, VARCHAR))
                     END AS resource_tags,
                try_cast(line_item_unblended_cost AS DOUBLE) AS line_item_unblended_cost,
                try_cast(line_item_net_unblended_cost AS DOUBLE) AS line_item_net_unblended_cost,
                try_cast(pricing_public_on_demand_cost AS DOUBLE) AS pricing_public_on_demand_cost,
                CAST(line_item_usage_amount AS DOUBLE) AS line_item_usage_amount,
                try_cast(line_item_usage_start_date AS TIMESTAMP) AS line_item_usage_start_date,
                CAST(line_item_usage_end_date AS TIMESTAMP) AS line_item_usage_end_date)
            FROM read_csv('{CUR}', all_varchar = true))
            TO '{target}' (FORMAT parquet)"""
    )
    file = ingest(target).files[0]
    # the two bad rows: a cost that is not a number became NULL (no cost at all), so did the date
    assert (file.format, file.rows_read, file.rows_loaded, file.rows_quarantined) == ("aws_cur", 22, 20, 2)
    got = lines(con, "is_ai", "model", "token_type", "service_tier", "is_batch", "context_window", "charge_category")
    assert got == {row - 1: want for row, want in EXPECTED.items()}  # Parquet rows count from 1
    source = {row - 1: r for row, r in csv_rows(CUR).items() if row not in REJECTED}
    assert con.execute("SELECT sum(billed_cost), sum(effective_cost) FROM billing_lines").fetchone() == (
        sum(Decimal(r["line_item_unblended_cost"]) for r in source.values()),
        sum(Decimal(r["line_item_net_unblended_cost"]) for r in source.values()),
    )
    tokens = lines(con, "quantity_tokens")
    assert {row: v[0] for row, v in tokens.items()} == {
        row: expected_tokens(source[row], EXPECTED[row + 1][2]) for row in source
    }
    assert lines(con, "tags")[3] == ({"user_feature": "summarize", "user_team": "docs"},)
    reasons = dict(con.execute("SELECT source_row, reason FROM quarantine").fetchall())
    assert reasons == {18: "missing line_item_unblended_cost", 19: "missing line_item_usage_start_date"}


@pytest.mark.slow
def test_legacy_cur_column_names(con, ingest, tmp_path):
    path = tmp_path / "legacy_cur.csv"
    path.write_text(
        "identity/LineItemId,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/LineItemType,lineItem/ProductCode,"
        "lineItem/UsageType,lineItem/Operation,lineItem/UsageAmount,lineItem/UnblendedCost,lineItem/CurrencyCode,"
        "pricing/unit,product/ProductName,lineItem/ResourceId\n"
        "a1,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,AmazonBedrock,USE1-Claude3Haiku-input-tokens,"
        "InvokeModelInference,2000,0.5,USD,1K tokens,Amazon Bedrock,\n",
        encoding="utf-8",
    )
    assert ingest(path).files[0].format == "aws_cur"
    got = con.execute("SELECT is_ai, model, token_type, quantity_tokens, billed_cost FROM billing_lines").fetchone()
    assert got == (True, "claude-3-haiku", "input", Decimal("2000000"), Decimal("0.5"))


@pytest.mark.slow
def test_reingesting_adds_nothing(con, ingest):
    ingest(CUR)
    again = ingest(CUR).files[0]
    assert (again.status, again.rows_loaded) == ("unchanged", 0)
    assert con.execute("SELECT count(*) FROM billing_lines").fetchone()[0] == 20
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 2


# ----------------------------------------------------------------------------------------------- detection


def _sources(root: Path):
    from costlens.ingest.sources import open_source

    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix.lower() not in (".md", ".toml", ".txt") and path.name != "LICENSE":
            yield path, open_source(path)


def test_detection_routes_cloud_bills_and_nothing_else():
    from costlens.config import Config
    from costlens.ingest.base import IngestContext
    from costlens.ingest.registry import get_adapter
    from costlens.ingest.runner import choose_adapter

    ctx = IngestContext(config=Config())
    mine = {name: get_adapter(name) for name in MINE}
    focus = get_adapter("focus")
    for name in MINE:
        for path, src in _sources(FIXTURES / name):
            assert choose_adapter(src, ctx).name == name, path
            assert focus.detect(src, ctx) == 0, path
            others = [n for n in MINE - {name} if src.container in mine[n].containers and mine[n].detect(src, ctx)]
            assert others == [], path
    checked = 0
    for root in (FIXTURES, REALDATA):
        if not root.exists():
            continue
        for path, src in _sources(root):
            if root == FIXTURES and path.relative_to(FIXTURES).parts[0] in MINE:
                continue
            for adapter in mine.values():
                if src.container in adapter.containers:
                    assert adapter.detect(src, ctx) == 0, (adapter.name, path)
            checked += 1
    assert checked >= 10


# ---------------------------------------------------------------------------------------- shared macros

USAGE_TYPES = [
    # usage type → (model, token_type, service tier, batch, context window)
    ("USE1-Claude3.5Sonnet-input-tokens", "claude-3-5-sonnet", "input", None, False, None),
    ("USE1-Claude4.6Sonnet-cache-read-input-token-count", "claude-sonnet-4-6", "cache_read", None, False, None),
    ("USE1-ClaudeSonnet4.5-cache-write-input-token-count", "claude-sonnet-4-5", "cache_write_5m", None, False, None),
    ("USE1-Nova2.0Lite-input-tokens-flex", "nova-2.0-lite", "input", "flex", False, None),
    ("USE1-gpt-oss-120b-output-tokens-priority", "gpt-oss-120b", "output", "priority", False, None),
    ("USE1-openai.gpt-oss-120b-mantle-input-tokens-standard", "gpt-oss-120b", "input", None, False, None),
    (
        "USE1-Claude4Sonnet-cache-read-input-token-count-cross-region-global",
        "claude-sonnet-4",
        "cache_read",
        None,
        False,
        None,
    ),
    ("USE1-MP:USE1_InputTokenCount-Units", None, "input", None, False, None),
    ("USE1-MP:USE1_OutputTokenCount_Global_Batch-Units", None, "output", "batch", True, None),
    ("USE1-MP:USE1_CacheWrite1hInputTokenCount_Global-Units", None, "cache_write_1h", None, False, None),
    ("USE1-MP:USE1_cache_write_tokens_1h_global_standard-Units", None, "cache_write_1h", None, False, None),
    ("USE1-MP:USE1_input_tokens_batch-Units", None, "input", "batch", True, None),
    ("USE1-MP:USE1_InputTokenCount_LongContext-Units", None, "input", None, False, "long"),
    ("USE1-Guardrail-ContentPolicyUnitsConsumed", None, None, None, False, None),
]


@pytest.fixture(scope="module")
def macros():
    from costlens import db
    from costlens.sqlfiles import load_sql

    connection = db.connect(":memory:")
    connection.execute(load_sql("staging/billing_meters.sql"))
    yield connection
    connection.close()


@pytest.mark.parametrize("usage_type, model, token_type, tier, batch, context", USAGE_TYPES)
def test_bedrock_usage_types(macros, usage_type, model, token_type, tier, batch, context):
    got = macros.execute(
        "SELECT bedrock_usage_model(?), meter_token_type(?), meter_service_tier(?), "
        "meter_is_batch(?), meter_context_window(?)",
        [usage_type] * 5,
    ).fetchone()
    assert got == (model, token_type, tier, batch, context)


@pytest.mark.parametrize(
    "text, model",
    [
        ("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0", "claude-3-5-sonnet"),
        (
            "arn:aws:bedrock:us-west-2:111122223333:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0",
            "claude-sonnet-4",
        ),
        ("amazon.nova-pro-v1:0", "nova-pro"),
        ("arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/k3j9x2m1q8aa", None),
        ("i-0f1e2d3c4b5a69788", None),
    ],
)
def test_bedrock_model_ids(macros, text, model):
    assert macros.execute("SELECT bedrock_model_id(?)", [text]).fetchone()[0] == model
