"""Azure Cost Management exports → billing_lines: an EA actual-cost CSV (PascalCase, US dates, Tags without
braces, Quantity in blocks of UnitOfMeasure), an MCA / 2023-05-01 amortized CSV (camelCase, EUR, reservation,
marketplace model), the same EA bill as Parquet, and Microsoft's real open data (PricingUnits.csv for the unit →
block size, Services.csv for the resource provider → AI category)."""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from conftest import FIXTURES, realdata

EA = FIXTURES / "azure_cost" / "ea_actual_cost.csv"
MCA = FIXTURES / "azure_cost" / "mca_amortized_cost.csv"

# source_row: (is_ai, model, token_type, service_tier, is_batch, charge_category)
EA_EXPECTED = {
    2: (True, "gpt-4o", "input", "standard", False, "Usage"),
    3: (True, "gpt-4o", "cache_read", "standard", False, "Usage"),
    4: (True, "gpt-4o", "output", "standard", False, "Usage"),
    5: (True, "gpt-4o-mini", "input", "batch", True, "Usage"),  # "Btch" meter, UnitOfMeasure 1M
    6: (True, "o3-mini", "input", "standard", False, "Usage"),  # "DZone" deployment
    7: (True, "text-embedding-3-small", "input", "standard", False, "Usage"),  # embeddings bill input only
    8: (True, "deepseek-r1", "input", "standard", False, "Usage"),  # Foundry Models
    9: (True, "dall-e-3", "other", None, False, "Usage"),  # images: generative AI, not tokens
    10: (False, None, None, None, None, "Usage"),  # Speech: AI category, not generative AI
    11: (False, None, None, None, None, "Usage"),  # virtual machine
    12: (False, None, None, None, None, "Usage"),  # storage
    13: (True, "gpt-4o", "input", "standard", False, "Credit"),  # refund: AI spend, no tokens
    14: (True, "gpt-4o", "output", "standard", False, "Usage"),  # tags not JSON even with braces: NULL
}
EA_REJECTED = {15: "CostInBillingCurrency is not a number: 0.025 USD", 16: "Date is not a date: 16/01/2025"}

MCA_EXPECTED = {
    2: (True, "gpt-4.1", "input", "standard", False, "Usage"),
    3: (True, "gpt-4.1", "cache_read", "standard", False, "Usage"),
    4: (True, "gpt-4.1", "output", "standard", False, "Usage"),
    5: (True, None, "other", None, False, "Usage"),  # provisioned throughput covered by a reservation
    6: (True, None, "other", None, False, "Usage"),  # unused reservation
    7: (True, None, "other", None, False, "Purchase"),  # the reservation purchase (0 in the amortized view)
    8: (True, "mistral-large", "input", "standard", False, "Usage"),  # marketplace model billed in tokens
    9: (False, None, None, None, None, "Usage"),  # App Service
}


def csv_rows(path: Path) -> dict[int, dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return {i: {k.lower(): v for k, v in row.items()} for i, row in enumerate(csv.DictReader(handle), start=2)}


def block_sizes() -> dict[str, Decimal]:
    """UnitOfMeasure → PricingBlockSize, from Microsoft's PricingUnits.csv (real data)."""
    with realdata("azure-finops-open-data/PricingUnits.csv").open(newline="", encoding="utf-8") as handle:
        return {row["UnitOfMeasure"]: Decimal(row["PricingBlockSize"]) for row in csv.DictReader(handle)}


def expected_tokens(row: dict[str, str], want: tuple) -> Decimal | None:
    if want[2] in (None, "other") or row["chargetype"] != "Usage":
        return None
    return Decimal(row["quantity"]) * block_sizes()[row["unitofmeasure"]]


def lines(con, *columns: str) -> dict[int, tuple]:
    rows = con.execute(f"SELECT source_row, {', '.join(columns)} FROM billing_lines ORDER BY source_row").fetchall()
    return {row[0]: row[1:] for row in rows}


@pytest.fixture(scope="module")
def loaded():
    """Both fixture exports ingested once (no --format) into one database for the read-only tests."""
    from costlens import db
    from costlens.config import Config
    from costlens.ingest.runner import ingest_paths

    connection = db.connect(":memory:")
    result = ingest_paths(connection, [str(EA), str(MCA)], Config())
    yield connection, {Path(f.path).name: f for f in result.files}
    connection.close()


def of(con, path: Path, *columns: str) -> dict[int, tuple]:
    rows = con.execute(
        f"SELECT source_row, {', '.join(columns)} FROM billing_lines WHERE source_file = ? ORDER BY source_row",
        [str(path)],
    ).fetchall()
    return {row[0]: row[1:] for row in rows}


KIND = ("is_ai", "model", "token_type", "service_tier", "is_batch", "charge_category")


@pytest.mark.slow
def test_every_row_accounted_for(loaded):
    con, files = loaded
    ea, mca = files[EA.name], files[MCA.name]
    assert (ea.status, ea.format, ea.target) == ("ingested", "azure_cost", "billing_lines")
    assert (ea.rows_read, ea.rows_loaded, ea.rows_quarantined) == (15, 13, 2)
    assert (mca.format, mca.rows_read, mca.rows_loaded, mca.rows_quarantined) == ("azure_cost", 8, 8, 0)
    assert con.execute("SELECT source_file, source_row, disposition, reason FROM quarantine ORDER BY 2").fetchall() == [
        (str(EA), row, "rejected", reason) for row, reason in EA_REJECTED.items()
    ]


def test_ea_meters(loaded):
    con, _ = loaded
    assert of(con, EA, *KIND) == EA_EXPECTED


def test_mca_meters(loaded):
    con, _ = loaded
    assert of(con, MCA, *KIND) == MCA_EXPECTED


@pytest.mark.parametrize("path, expected", [(EA, EA_EXPECTED), (MCA, MCA_EXPECTED)])
def test_quantity_counts_blocks_of_the_unit_of_measure(loaded, path, expected):
    """TRAP: Quantity is in units of UnitOfMeasure ("1K", "1M"), so tokens = Quantity × block size."""
    con, _ = loaded
    source = csv_rows(path)
    got = of(con, path, "quantity_tokens", "pricing_quantity", "pricing_unit")
    for row, (tokens, quantity, unit) in got.items():
        assert tokens == expected_tokens(source[row], expected[row]), row
        assert quantity == Decimal(source[row]["quantity"]) and unit == source[row]["unitofmeasure"], row
    if path == EA:
        assert got[2][0] == Decimal("1500000") and got[5][0] == Decimal("2000000")  # 1500 × 1K, 2 × 1M
        assert got[14][0] == Decimal("10500")  # 10.5 × 1K
        assert got[13][0] is None  # the refund counts no tokens


@pytest.mark.parametrize("path, rejected", [(EA, EA_REJECTED), (MCA, {})])
def test_money_is_exact(loaded, path, rejected):
    con, _ = loaded
    source = {row: r for row, r in csv_rows(path).items() if row not in rejected}
    expected = MCA_EXPECTED if path == MCA else EA_EXPECTED
    cost = sum(Decimal(r["costinbillingcurrency"]) for r in source.values())
    ai = sum(Decimal(source[row]["costinbillingcurrency"]) for row, want in expected.items() if want[0])
    got = con.execute(
        "SELECT sum(billed_cost), sum(effective_cost), sum(billed_cost) FILTER (WHERE is_ai), "
        "typeof(sum(billed_cost)), min(currency), max(currency) FROM billing_lines "
        "WHERE source_file = ?",
        [str(path)],
    ).fetchone()
    assert got[:3] == (cost, cost, ai) and got[3].startswith("DECIMAL")
    if path == EA:
        assert ai == Decimal("9.368") and got[4:] == ("USD", "USD")
        # list = PayGPrice × Quantity, contracted = UnitPrice × Quantity
        assert of(con, EA, "list_cost", "contracted_cost")[4] == (Decimal("2.5"), Decimal("2.5"))
    else:
        assert ai == Decimal("32.176") and got[4:] == ("EUR", "EUR")
        # amortized reservation usage: the PayG cost column is its list cost
        assert of(con, MCA, "billed_cost", "list_cost", "contracted_cost")[5] == (
            Decimal("20.16"),
            Decimal("345.6"),
            Decimal("0"),
        )


def test_dates_tags_and_columns(loaded):
    con, _ = loaded
    row = con.execute(
        "SELECT charge_period_start, charge_period_end, billing_period_start, billing_period_end, provider, "
        "invoice_issuer, service_name, service_category, service_subcategory, sku_id, sku_meter, charge_description, "
        "billing_account_id, sub_account_id, sub_account_name, region, resource_id, tags "
        "FROM billing_lines WHERE source_file = ? AND source_row = 2",
        [str(EA)],
    ).fetchone()
    # US dates; the billing period's last day (01/31/2025) becomes an exclusive end
    assert [str(v) for v in row[:4]] == [
        "2025-01-15 00:00:00",
        "2025-01-16 00:00:00",
        "2025-01-01 00:00:00",
        "2025-02-01 00:00:00",
    ]
    assert row[4:9] == ("Microsoft", "Microsoft", "Cognitive Services", "AI and Machine Learning", "Generative AI")
    assert row[9:12] == (
        "8c1a7c1e-0f4d-4a7e-9b1e-2f3c4d5e6f01",
        "gpt 4o 0806 Inp glbl Tokens",
        "Azure OpenAI - gpt 4o 0806 Inp glbl Tokens",
    )
    assert row[12:16] == ("8611537", "00000000-0000-0000-0000-0000000000a1", "ai-prod", "eastus2")
    assert row[16].endswith("/providers/Microsoft.CognitiveServices/accounts/chat-prod")
    assert row[17] == {"feature": "chat", "team": "assist"}  # Tags written without the outer braces
    tags = of(con, EA, "tags")
    assert tags[5] == ({"feature": "nightly-tagging", "team": "data"},)
    assert tags[10] == (None,) and tags[14] == (None,)  # empty; not JSON even with braces → NULL, row kept
    assert of(con, MCA, "tags")[2] == ({"feature": "support-agent", "team": "cx"},)
    marketplace = of(con, MCA, "invoice_issuer", "host_provider", "service_category")[8]
    assert marketplace == ("Mistral AI", "Microsoft", "AI and Machine Learning")


def test_service_category_follows_microsoft_services_csv(loaded):
    """Lines of a resource provider Microsoft files under "AI and Machine Learning" (Services.csv, real data)
    carry that category; Speech is AI and Machine Learning yet not generative AI spend."""
    con, _ = loaded
    with realdata("azure-finops-open-data/Services.csv").open(newline="", encoding="utf-8") as handle:
        category = {
            r["ConsumedService"].lower(): r["ServiceCategory"]
            for r in csv.DictReader(handle)
            if r["ConsumedService"].lower() != "microsoft.eventgrid"
        }
    source = csv_rows(EA)
    got = of(con, EA, "service_category", "is_ai")
    for row, (service_category, _is_ai) in got.items():
        microsoft = category.get(source[row]["consumedservice"].lower())
        assert (service_category == "AI and Machine Learning") == (microsoft == "AI and Machine Learning"), row
    assert got[10] == ("AI and Machine Learning", False)


def test_ai_namespaces_match_services_csv(con):
    from costlens.sqlfiles import load_sql

    (definition,) = re.findall(
        r"^CREATE OR REPLACE TEMP MACRO azure_ai_namespace\(.*?^\);", load_sql("staging/azure_cost.sql"), re.S | re.M
    )
    con.execute(definition)
    with realdata("azure-finops-open-data/Services.csv").open(newline="", encoding="utf-8") as handle:
        rows = [
            (r["ResourceType"].split("/")[0], r["ServiceCategory"] == "AI and Machine Learning")
            for r in csv.DictReader(handle)
            if r["ResourceType"]
        ]
    assert len(rows) > 300 and sum(ai for _, ai in rows) >= 10
    con.execute(
        "CREATE TEMP TABLE services AS SELECT unnest(?) AS ns, unnest(?) AS ai",
        [[ns for ns, _ in rows], [ai for _, ai in rows]],
    )
    assert con.execute("SELECT ns, ai FROM services WHERE azure_ai_namespace(ns) <> ai").fetchall() == []


def test_every_azure_unit_of_measure_block_size(con):
    """unit_block_size (shared macro) reproduces PricingBlockSize for all of Microsoft's units of measure."""
    from costlens.sqlfiles import load_sql

    con.execute(load_sql("staging/billing_meters.sql"))
    sizes = block_sizes()
    assert len(sizes) > 350
    con.execute(
        "CREATE TEMP TABLE units AS SELECT unnest(?) AS u, unnest(?) AS size",
        [list(sizes), [str(v) for v in sizes.values()]],
    )
    assert (
        con.execute(
            "SELECT u, size, unit_block_size(u) FROM units "
            "WHERE coalesce(unit_block_size(u), 1) <> CAST(size AS DECIMAL(38,6))"
        ).fetchall()
        == []
    )
    assert sizes["1K"] == 1000 and sizes["1M"] == 1_000_000


@pytest.mark.slow
def test_ea_as_parquet_with_typed_columns(con, ingest, tmp_path):
    """Parquet exports: DATE columns (ISO text once read), DOUBLE money and quantities."""
    target = tmp_path / "ea.parquet"
    duckdb.connect().execute(
        f"""COPY (SELECT * REPLACE (
                try_strptime("Date", '%m/%d/%Y')::DATE AS "Date",
                strptime(BillingPeriodStartDate, '%m/%d/%Y')::DATE AS BillingPeriodStartDate,
                strptime(BillingPeriodEndDate, '%m/%d/%Y')::DATE AS BillingPeriodEndDate,
                CASE WHEN regexp_full_match(CostInBillingCurrency, '-?[0-9.]+')
                     THEN CAST(CostInBillingCurrency AS DOUBLE) END AS CostInBillingCurrency,
                CAST(Quantity AS DOUBLE) AS Quantity, CAST(UnitPrice AS DOUBLE) AS UnitPrice)
            FROM read_csv('{EA}', all_varchar = true))
            TO '{target}' (FORMAT parquet)"""
    )
    file = ingest(target).files[0]
    assert (file.format, file.rows_read, file.rows_loaded, file.rows_quarantined) == ("azure_cost", 15, 13, 2)
    assert lines(con, *KIND) == {row - 1: want for row, want in EA_EXPECTED.items()}
    source = {row - 1: r for row, r in csv_rows(EA).items() if row not in EA_REJECTED}
    assert con.execute("SELECT sum(billed_cost), sum(quantity_tokens) FROM billing_lines").fetchone() == (
        sum(Decimal(r["costinbillingcurrency"]) for r in source.values()),
        sum(t for row, r in source.items() if (t := expected_tokens(r, EA_EXPECTED[row + 1])) is not None),
    )
    assert [
        str(v)
        for v in con.execute(
            "SELECT charge_period_start, billing_period_end FROM billing_lines WHERE source_row = 1"
        ).fetchone()
    ] == ["2025-01-15 00:00:00", "2025-02-01 00:00:00"]
    assert dict(con.execute("SELECT source_row, reason FROM quarantine").fetchall()) == {
        14: "missing CostInBillingCurrency",
        15: "missing Date",
    }


def test_reingesting_adds_nothing(con, ingest):
    ingest(EA)
    again = ingest(EA).files[0]
    assert (again.status, again.rows_loaded) == ("unchanged", 0)
    assert con.execute("SELECT count(*), count(*) FILTER (WHERE is_ai) FROM billing_lines").fetchone() == (13, 10)


def test_detection_needs_meter_and_cost_columns():
    from costlens.config import Config
    from costlens.ingest.azure_cost import ADAPTER
    from costlens.ingest.base import IngestContext
    from costlens.ingest.sources import Source

    ctx = IngestContext(config=Config())
    src = Source(path=Path("x.csv"), size=0, mtime_ns=0, container="csv")
    src.header = ["date", "meterCategory", "meterName", "unitOfMeasure", "quantity", "costInBillingCurrency"]
    assert ADAPTER.detect(src, ctx) == 90
    src.header = ["UsageDateTime", "MeterCategory", "PreTaxCost"]  # older export
    assert ADAPTER.detect(src, ctx) == 75
    src.header = ["BilledCost", "ChargePeriodStart", "ProviderName", "x_SkuMeterCategory", "x_SkuMeterName"]  # FOCUS
    assert ADAPTER.detect(src, ctx) == 0


@pytest.fixture(scope="module")
def macros():
    from costlens import db
    from costlens.sqlfiles import load_sql

    connection = db.connect(":memory:")
    connection.execute(load_sql("staging/billing_meters.sql"))
    yield connection
    connection.close()


@pytest.mark.parametrize(
    "meter, model, token_type, tier",
    [
        ("gpt 4o 1120 Inp glbl Tokens", "gpt-4o", "input", None),
        ("gpt 4o 1120 cached Inp glbl Tokens", "gpt-4o", "cache_read", None),
        ("gpt 4o 1120 Outp glbl Tokens", "gpt-4o", "output", None),
        ("gpt 4o 0806 Btch Inp glbl Tokens", "gpt-4o", "input", "batch"),
        ("gpt 4.1 mini Inp rgnl Tokens", "gpt-4.1-mini", "input", None),
        ("o3 mini 0131 Inp DZone Tokens", "o3-mini", "input", None),
        ("o1 cchd Inp glbl Tokens", "o1", "cache_read", None),
        ("GPT 35 Turbo 16K Inp rgnl Tokens", "gpt-3.5-turbo-16k", "input", None),
        ("Llama 3.3 70B Instruct Inp glbl Tokens", "llama-3.3-70b-instruct", "input", None),
        ("Provisioned Managed Global Unit", None, None, None),
    ],
)
def test_meter_names(macros, meter, model, token_type, tier):
    assert macros.execute(
        "SELECT meter_model(?), meter_token_type(?), meter_service_tier(?)", [meter] * 3
    ).fetchone() == (model, token_type, tier)


@pytest.mark.parametrize(
    "unit, size",
    [
        ("1K", 1000),
        ("1M", 1_000_000),
        ("1K Tokens", 1000),
        ("1M Tokens", 1_000_000),
        ("1000 Tokens", 1000),
        ("Tokens", 1),
        ("100", 100),
        ("1 Hour", 1),
    ],
)
def test_units_of_measure(macros, unit, size):
    assert macros.execute("SELECT unit_block_size(?)", [unit]).fetchone()[0] == size
