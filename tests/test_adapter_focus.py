"""FOCUS billing exports → billing_lines: the real FOCUS 1.0 sample, an Azure OpenAI FOCUS 1.2 fixture, an
AWS Bedrock FOCUS 1.3 fixture (ServiceProviderName), and the same rows as Parquet."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from costlens.ingest.focus import SOURCE_COLUMNS

from conftest import FIXTURES, REALDATA, realdata

FOCUS = FIXTURES / "focus"


def lines(con, *columns: str) -> dict[int, tuple]:
    rows = con.execute(f"SELECT source_row, {', '.join(columns)} FROM billing_lines ORDER BY source_row").fetchall()
    return {row[0]: row[1:] for row in rows}


# ---------------------------------------------------------------------------------------------- real sample


@pytest.fixture
def sample(con, ingest):
    path = realdata("focus-1.0-sample/focus_sample.csv")
    result = ingest(path)  # no --format: detected from the header
    return path, result


@pytest.mark.slow
def test_real_sample_every_row_accounted_for(con, sample):
    _, result = sample
    (file,) = result.files
    assert file.status == "ingested" and file.format == "focus" and file.target == "billing_lines"
    assert file.rows_read == 1000
    assert file.rows_loaded + file.rows_quarantined + file.rows_skipped + file.rows_duplicate == 1000
    assert file.rows_loaded == 1000
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
    assert con.execute("SELECT count(*), count(DISTINCT line_id) FROM billing_lines").fetchone() == (1000, 1000)


@pytest.mark.slow
def test_real_sample_money_is_exact_decimal(con, sample):
    billed, effective, listed, kind = con.execute(
        "SELECT sum(billed_cost), sum(effective_cost), sum(list_cost), typeof(sum(billed_cost)) FROM billing_lines"
    ).fetchone()
    assert isinstance(billed, Decimal) and kind.startswith("DECIMAL")
    assert billed.quantize(Decimal("0.01")) == Decimal("20.52")
    assert effective.quantize(Decimal("0.01")) == Decimal("14.98")
    # exact to the last digit the file carries (11 decimals), i.e. no float rounding on the way
    assert billed == Decimal("20.52022672899")
    assert effective == Decimal("14.97651418586")
    assert listed == Decimal("20.39090575119")
    # the single credit line keeps its sign
    assert con.execute("SELECT billed_cost FROM billing_lines WHERE charge_category = 'Credit'").fetchone()[0] == (
        Decimal("-2.6137")
    )


@pytest.mark.slow
def test_real_sample_splits(con, sample):
    providers = dict(con.execute("SELECT provider, count(*) FROM billing_lines GROUP BY ALL").fetchall())
    assert providers == {"AWS": 942, "Microsoft": 51, "Oracle": 7}
    categories = dict(con.execute("SELECT charge_category, count(*) FROM billing_lines GROUP BY ALL").fetchall())
    assert categories == {"Usage": 997, "Adjustment": 2, "Credit": 1}


@pytest.mark.slow
def test_real_sample_holds_no_llm_spend(con, sample):
    # Nine Azure Machine Learning lines sit in "AI and Machine Learning" (compute, disks, bandwidth), but none
    # is an LLM token charge: the manifest says the sample holds no LLM spend, so nothing counts as AI spend.
    assert (
        con.execute("SELECT count(*) FROM billing_lines WHERE service_category = 'AI and Machine Learning'").fetchone()[
            0
        ]
        == 9
    )
    assert con.execute(
        "SELECT count(*) FILTER (WHERE is_ai), count(model), count(token_type), "
        "count(quantity_tokens) FROM billing_lines"
    ).fetchone() == (0, 0, 0, 0)


@pytest.mark.slow
def test_real_sample_null_literal_becomes_sql_null(con, sample):
    path, _ = sample
    # ChargeClass is the literal NULL on every row; ServiceSubcategory / SkuMeter are not in FOCUS 1.0
    assert con.execute("SELECT count(charge_class), count(service_subcategory) FROM billing_lines").fetchone() == (0, 0)
    assert (
        con.execute(
            "SELECT count(*) FROM billing_lines WHERE 'NULL' IN (charge_class, region, resource_id, "
            "sub_account_name, consumed_unit, pricing_unit, sku_id, charge_description)"
        ).fetchone()[0]
        == 0
    )
    # first data line: AvailabilityZone … ChargeClass NULL, RegionId us-west-2, ResourceName NULL, Tags NULL
    first = con.execute(
        "SELECT charge_class, region, tags, consumed_quantity, consumed_unit, charge_period_start, "
        "billing_period_end FROM billing_lines WHERE source_row = 2"
    ).fetchone()
    assert first[0] is None and first[1] == "us-west-2" and first[2] is None
    assert first[3] == Decimal("2") and first[4] == "Requests"
    assert str(first[5]) == "2024-09-18 22:00:00" and str(first[6]) == "2024-10-01 00:00:00"
    # the Credit line has NULL ConsumedQuantity / ConsumedUnit
    assert con.execute(
        "SELECT consumed_quantity, consumed_unit FROM billing_lines WHERE charge_category = 'Credit'"
    ).fetchone() == (None, None)
    # Oracle leaves RegionId NULL and gives RegionName; its Adjustment lines have NULL ContractedCost
    oracle = con.execute(
        "SELECT region, contracted_cost FROM billing_lines WHERE provider = 'Oracle' "
        "AND charge_category = 'Adjustment' ORDER BY source_row"
    ).fetchall()
    assert oracle == [("us-sanjose-1", None), ("us-sanjose-1", None)]


@pytest.mark.slow
def test_real_sample_tags_parsed(con, sample):
    with open(REALDATA / "focus-1.0-sample/focus_sample.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    expected = sum(1 for r in rows if r["Tags"] not in ("NULL", ""))
    assert con.execute("SELECT count(tags) FROM billing_lines").fetchone()[0] == expected == 711
    tags = con.execute("SELECT tags FROM billing_lines WHERE source_row = 3").fetchone()[0]
    assert tags == {"application": "BrightLensMatrix", "environment": "dev", "business_unit": "ViennaAI"}
    assert con.execute("SELECT count(*) FROM billing_lines WHERE tags['environment'] = 'prod'").fetchone()[0] == sum(
        1 for r in rows if r["Tags"] not in ("NULL", "") and json.loads(r["Tags"]).get("environment") == "prod"
    )


@pytest.mark.slow
def test_reingesting_the_sample_adds_nothing(con, ingest):
    path = realdata("focus-1.0-sample/focus_sample.csv")
    ingest(path)
    again = ingest(path)
    assert again.files[0].status == "unchanged"
    assert con.execute("SELECT count(*) FROM billing_lines").fetchone()[0] == 1000


# --------------------------------------------------------------------------------------- FOCUS 1.2 Azure OpenAI

AZURE_EXPECTED = {
    # row: (is_ai, model, token_type, quantity_tokens)
    2: (True, "gpt-4o", "input", Decimal("1500000")),  # ConsumedUnit Tokens → ConsumedQuantity
    3: (True, "gpt-4o", "cache_read", Decimal("400000")),  # 400 × '1K Tokens'
    4: (True, "gpt-4o", "output", Decimal("250000")),  # 0.25 × '1M Tokens'
    5: (True, "gpt-4o-mini", "input", Decimal("2000000")),  # Azure AI Services / AI Platforms (how Microsoft
    #    maps Azure OpenAI): AI by its token meter; 2000 "Units" × x_PricingBlockSize 1000
    6: (True, "gpt-4o-mini", "output", Decimal("500000")),  # 0.5 × '1M Tokens'
    7: (False, None, None, None),  # virtual machine
    8: (False, None, None, None),  # Azure Machine Learning compute: AI category, not an LLM charge
    9: (True, "dalle-3", "other", None),  # Generative AI, billed per image
    10: (False, None, None, None),  # SaaS priced in a virtual currency called "Tokens"
    11: (False, None, None, None),  # storage, with broken Tags JSON
    12: (True, "text-embedding-3-small", "input", Decimal("1000000")),  # embeddings: input tokens only
}


@pytest.mark.slow
def test_focus_1_2_azure_openai_rows(con, ingest):
    result = ingest(FOCUS / "focus_1_2_azure_openai.csv")
    (file,) = result.files
    assert (file.status, file.format, file.rows_read, file.rows_loaded) == ("ingested", "focus", 11, 11)
    got = lines(con, "is_ai", "model", "token_type", "quantity_tokens")
    assert got == AZURE_EXPECTED
    assert con.execute(
        "SELECT sum(billed_cost) FILTER (WHERE is_ai), sum(billed_cost) FROM billing_lines"
    ).fetchone() == (Decimal("7.77"), Decimal("31.423"))
    assert con.execute("SELECT effective_cost FROM billing_lines WHERE source_row = 4").fetchone()[0] == Decimal("2.25")


@pytest.mark.slow
def test_focus_1_2_columns_and_tags(con, ingest):
    ingest(FOCUS / "focus_1_2_azure_openai.csv")
    row = con.execute(
        "SELECT provider, invoice_issuer, service_name, service_category, service_subcategory, charge_category, "
        "charge_class, sku_id, sku_meter, pricing_quantity, pricing_unit, consumed_quantity, consumed_unit, currency, "
        "billing_account_id, sub_account_id, sub_account_name, region, resource_id, charge_period_start, "
        "charge_period_end, billing_period_start, billing_period_end, list_cost, contracted_cost, tags "
        "FROM billing_lines WHERE source_row = 2"
    ).fetchone()
    assert row[:9] == (
        "Microsoft",
        "Microsoft",
        "Azure OpenAI",
        "AI and Machine Learning",
        "Generative AI",
        "Usage",
        None,
        "DZH318Z0BQPS/0001",
        "gpt 4o 0806 Inp glbl Tokens",
    )
    assert row[9:14] == (Decimal("1500"), "1K Tokens", Decimal("1500000"), "Tokens", "USD")
    assert row[14] == "/providers/Microsoft.Billing/billingAccounts/1234"
    assert row[16:18] == ("ai-prod", "eastus2")
    assert row[18].endswith("/accounts/chat-prod")
    assert [str(v) for v in row[19:23]] == [
        "2025-01-15 00:00:00",
        "2025-01-16 00:00:00",
        "2025-01-01 00:00:00",
        "2025-02-01 00:00:00",
    ]
    assert row[23:25] == (Decimal("3.75"), Decimal("3.75"))
    assert row[25] == {"feature": "chat", "team": "assist"}
    tags = lines(con, "tags")
    assert tags[8] == (None,)  # the literal NULL
    assert tags[11] == (None,)  # invalid JSON: NULL tags, the row is still loaded
    assert tags[12] == ({"feature": "search", "team": "assist"},)  # Azure-style tags without the outer braces
    # the meter text falls back to x_SkuMeterName when SkuMeter is NULL
    assert lines(con, "sku_meter")[5] == ("gpt 4o mini 0718 Inp glbl Tokens",)


@pytest.mark.slow
def test_focus_1_2_as_parquet_with_map_tags(con, ingest, tmp_path):
    """Parquet exports carry typed columns (DECIMAL money, TIMESTAMP periods, MAP tags)."""
    target = tmp_path / "focus_1_2.parquet"
    duckdb.connect().execute(
        f"""COPY (SELECT * REPLACE (
                CASE WHEN json_valid(Tags) THEN CAST(CAST(Tags AS JSON) AS MAP(VARCHAR, VARCHAR)) END AS Tags,
                CAST(BilledCost AS DECIMAL(18, 6)) AS BilledCost,
                CAST(ChargePeriodStart AS TIMESTAMP) AS ChargePeriodStart)
            FROM read_csv('{FOCUS / "focus_1_2_azure_openai.csv"}', all_varchar = true, nullstr = 'NULL'))
            TO '{target}' (FORMAT parquet)"""
    )
    result = ingest(target)
    assert (result.files[0].format, result.files[0].rows_loaded) == ("focus", 11)
    got = lines(con, "is_ai", "model", "token_type", "quantity_tokens")
    # Parquet rows are numbered from 1, CSV rows by line (header = 1)
    assert got == {row - 1: value for row, value in AZURE_EXPECTED.items()}
    assert con.execute("SELECT sum(billed_cost), min(charge_period_start) FROM billing_lines").fetchone() == (
        Decimal("31.423"),
        datetime(2025, 1, 15),
    )
    assert lines(con, "tags")[1] == ({"feature": "chat", "team": "assist"},)


# ----------------------------------------------------------------------------------------- FOCUS 1.3 Bedrock


@pytest.mark.slow
def test_focus_1_3_service_provider_name(con, ingest):
    result = ingest(FOCUS / "focus_1_3_bedrock.csv")
    (file,) = result.files
    assert (file.format, file.rows_read, file.rows_loaded, file.rows_quarantined) == ("focus", 7, 7, 0)
    got = lines(con, "provider", "is_ai", "model", "token_type", "quantity_tokens")
    aws = "Amazon Web Services"
    assert got == {
        2: (aws, True, "claude-3-5-sonnet", "input", Decimal("120000")),  # x_UsageType, 120 × 1K Tokens
        3: (aws, True, "claude-3-5-sonnet", "output", Decimal("30000")),  # ConsumedUnit Tokens
        4: (aws, True, "claude-3-5-sonnet", "cache_read", Decimal("200000")),  # 0.2 × 1M Tokens
        5: (aws, True, "claude-sonnet-4-5", "cache_write_1h", Decimal("100000")),  # SkuMeter text
        6: (aws, True, "llama-3.1-70b-instruct", "input", Decimal("50000")),  # marketplace: model in the description
        7: (aws, False, None, None, None),  # EC2
        8: (aws, True, None, "other", None),  # a credit on Generative AI: AI spend, no tokens
    }
    assert con.execute("SELECT sum(billed_cost) FILTER (WHERE is_ai) FROM billing_lines").fetchone()[0] == (
        Decimal("1.406")
    )
    # empty strings (this producer's nulls) are NULL; tags with a "user:" prefix are kept as they are
    assert lines(con, "charge_class", "tags")[2] == (None, {"user:feature": "summarize"})
    assert lines(con, "charge_class", "tags")[7] == (None, None)


def test_bad_money_and_dates_are_quarantined_with_reason(con, ingest, tmp_path):
    source = (FOCUS / "focus_1_3_bedrock.csv").read_text(encoding="utf-8").splitlines()
    header = source[0].split(",")
    bad_cost = source[1].replace("0.36,", "0.36 USD,", 1)
    bad_date = source[2].replace("2025-06-03 00:00:00", "June third", 1)
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([source[0], bad_cost, bad_date, source[3]]) + "\n", encoding="utf-8")
    assert "BilledCost" in header
    result = ingest(path, fmt="focus")
    file = result.files[0]
    assert (file.rows_read, file.rows_loaded, file.rows_quarantined) == (3, 1, 2)
    reasons = dict(con.execute("SELECT source_row, reason FROM quarantine ORDER BY source_row").fetchall())
    assert reasons[2] == "BilledCost is not a number: 0.36 USD"
    assert reasons[3].startswith("ChargePeriodStart is not a date/time: June third")
    assert con.execute("SELECT DISTINCT source_file FROM quarantine").fetchone()[0] == str(path)


def test_detection_needs_focus_columns():
    from costlens.config import Config
    from costlens.ingest.base import IngestContext
    from costlens.ingest.focus import ADAPTER
    from costlens.ingest.sources import Source

    ctx = IngestContext(config=Config())
    src = Source(path=Path("x.csv"), size=0, mtime_ns=0, container="csv")
    src.header = [
        "BilledCost",
        "ChargePeriodStart",
        "ServiceProviderName",
        "BillingCurrency",
        "ServiceName",
        "EffectiveCost",
    ]
    assert ADAPTER.detect(src, ctx) == 95
    src.header = ["billedcost", "chargeperiodstart", "providername"]
    assert ADAPTER.detect(src, ctx) == 70
    src.header = ["BilledCost", "ChargePeriodStart"]  # no provider column
    assert ADAPTER.detect(src, ctx) == 0
    src.header = ["TIMESTAMP", "ContextTokens", "GeneratedTokens"]
    assert ADAPTER.detect(src, ctx) == 0


# ------------------------------------------------------------------------------ column list vs. spec metadata


@pytest.mark.parametrize("spec", ["FocusCost_1.0.json", "FocusCost_1.2-preview.json"])
def test_columns_read_exist_in_focus_metadata(spec):
    """Every FOCUS column the adapter reads (other than 1.3 / 1.0-preview names and AWS extensions) is a
    column of Microsoft's FOCUS export metadata, and every billing_lines field has its spec column there."""
    meta = json.loads(realdata(f"azure-finops-open-data/{spec}").read_text(encoding="utf-8"))
    spec_columns = {c["ColumnName"] for c in meta["Columns"]}
    later_or_other = {"ServiceProviderName", "x_UsageType", "SkuMeter", "ServiceSubcategory", "PricingCurrency"}
    read = {name for name in SOURCE_COLUMNS} - later_or_other
    assert read <= spec_columns, read - spec_columns
    if spec.startswith("FocusCost_1.2"):
        assert {"SkuMeter", "ServiceSubcategory", "PricingCurrency"} <= spec_columns
    types = {c["ColumnName"]: c["DataType"] for c in meta["Columns"]}
    for money in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "PricingQuantity", "ConsumedQuantity"):
        assert types[money] == "Decimal"
    assert types["Tags"] == "JSON"
    for when in ("ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart", "BillingPeriodEnd"):
        assert types[when] == "DateTime"
