"""`costlens export focus`: the sample month as a FOCUS 1.2 dataset.

Checked three ways:
- the FinOps Foundation's `focus-validator` 1.0.0 (vendored unmodified in tests/focus_rules, see its README; run
  as a subprocess of this interpreter) with the newest rule set it ships, "1.0": all 133 checks must pass, and a
  broken copy must fail exactly the checks it breaks;
- the FOCUS 1.2 specification's mandatory columns, types, nullability and allowed values (MANDATORY_1_2 and CONDITIONAL_1_2,
  transcribed from the 1.2 column definitions), plus the 1.2 cross-column rules the export can break;
- the money: BilledCost adds up exactly to the report's total and to each feature's unit-economics cost.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from costlens.inert import neutralise

PROJECT = Path(__file__).resolve().parent.parent
SAMPLE_LOGS = PROJECT / "sample_logs"
FORMULA_FEATURE = "=cmd|' /C calc'!A0"
SCRIPT_FEATURE = "<script>alert(1)</script>"

# The FOCUS 1.2 Cost and Usage columns costlens writes: (type, nulls allowed, allowed values or None).
# Mandatory in 1.2: all of the first block. Types: Decimal, DateTime, String, JSON (key-value String).
MANDATORY_1_2 = {
    "BilledCost": ("Decimal", False, None),
    "BillingAccountId": ("String", False, None),
    "BillingAccountName": ("String", True, None),
    "BillingCurrency": ("String", False, {"USD"}),  # ISO 4217; costlens prices in USD
    "BillingPeriodEnd": ("DateTime", False, None),
    "BillingPeriodStart": ("DateTime", False, None),
    "ChargeCategory": ("String", False, {"Usage", "Purchase", "Tax", "Credit", "Adjustment"}),
    "ChargeClass": ("String", True, {"Correction"}),
    "ChargeDescription": ("String", True, None),
    "ChargePeriodEnd": ("DateTime", False, None),
    "ChargePeriodStart": ("DateTime", False, None),
    "ContractedCost": ("Decimal", False, None),
    "EffectiveCost": ("Decimal", False, None),
    "InvoiceIssuerName": ("String", False, None),
    "ListCost": ("Decimal", False, None),
    "PricingQuantity": ("Decimal", True, None),
    "PricingUnit": ("String", True, None),
    "ProviderName": ("String", False, None),
    "PublisherName": ("String", False, None),
    "ServiceCategory": (
        "String",
        False,
        {
            "AI and Machine Learning",
            "Analytics",
            "Business Applications",
            "Compute",
            "Databases",
            "Developer Tools",
            "Multicloud",
            "Identity",
            "Integration",
            "Internet of Things",
            "Management and Governance",
            "Media",
            "Migration",
            "Mobile",
            "Networking",
            "Security",
            "Storage",
            "Web",
            "Other",
        },
    ),
    "ServiceName": ("String", False, None),
}
CONDITIONAL_1_2 = {
    "ChargeFrequency": ("String", False, {"One-Time", "Recurring", "Usage-Based"}),
    "CommitmentDiscountCategory": ("String", True, {"Spend", "Usage"}),
    "CommitmentDiscountId": ("String", True, None),
    "CommitmentDiscountName": ("String", True, None),
    "CommitmentDiscountQuantity": ("Decimal", True, None),
    "CommitmentDiscountStatus": ("String", True, {"Used", "Unused"}),
    "CommitmentDiscountType": ("String", True, None),
    "CommitmentDiscountUnit": ("String", True, None),
    "ConsumedQuantity": ("Decimal", True, None),
    "ConsumedUnit": ("String", True, None),
    "ContractedUnitPrice": ("Decimal", True, None),
    "ListUnitPrice": ("Decimal", True, None),
    "PricingCategory": ("String", True, {"Standard", "Dynamic", "Committed", "Other"}),
    "RegionId": ("String", True, None),
    "RegionName": ("String", True, None),
    "ResourceId": ("String", True, None),
    "ResourceName": ("String", True, None),
    "ResourceType": ("String", True, None),
    "ServiceSubcategory": ("String", False, None),
    "SkuId": ("String", True, None),
    "SkuMeter": ("String", True, None),
    "SkuPriceId": ("String", True, None),
    "SubAccountId": ("String", True, None),
    "SubAccountName": ("String", True, None),
    "Tags": ("JSON", True, None),
}
# 1.2 ServiceSubcategory values under "AI and Machine Learning" (each has exactly one parent category)
AI_SUBCATEGORIES = {
    "AI Platforms",
    "Bots",
    "Generative AI",
    "Machine Learning",
    "Natural Language Processing",
    "Other (AI and Machine Learning)",
}
# Columns the FOCUS 1.3 draft introduces; a 1.2 dataset must not carry them unprefixed.
FOCUS_1_3_ONLY = {"ServiceProviderName", "HostProviderName", "AllocatedMethodId", "AllocatedResourceId"}
X_COLUMNS = [
    "x_Feature",
    "x_TaskClass",
    "x_Team",
    "x_CostCenter",
    "x_Environment",
    "x_CostlensCallCount",
    "x_AllocationMethod",
]
MONEY_COLUMNS = ["BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ListUnitPrice", "ContractedUnitPrice"]

DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DECIMAL_TEXT_RE = re.compile(r"^-?\d+\.\d+$")
# The names focus-validator 1.0.0's bundled "1.0" rule set still uses (FOCUS 1.0-preview); FOCUS 1.0 final and
# 1.2 call them ProviderName, PublisherName, InvoiceIssuerName, ResourceId and ChargeCategory.
PRE_RELEASE_NAMES = {
    "ProviderName": "Provider",
    "PublisherName": "Publisher",
    "InvoiceIssuerName": "InvoiceIssuer",
    "ResourceId": "ResourceID",
    "ChargeCategory": "ChargeType",
}


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample month ingested once, with two hostile feature names, exported as CSV and Parquet by the CLI."""
    import duckdb
    from typer.testing import CliRunner

    from costlens import api
    from costlens.cli import app
    from costlens.config import load_config

    work = tmp_path_factory.mktemp("focus")
    config_file = work / "costlens.toml"
    config_text = (SAMPLE_LOGS / "costlens.toml").read_text(encoding="utf-8")
    config_file.write_text(
        config_text.replace(
            "[features.ticket-classifier]\n", '[features.ticket-classifier]\ntask_class = "classification"\n'
        ),
        encoding="utf-8",
    )
    config = load_config(config_file)
    db_path = str(work / "sample.duckdb")
    api.ingest([str(SAMPLE_LOGS)], db=db_path, config=config)
    with duckdb.connect(db_path) as con:
        con.execute("UPDATE calls SET feature = ? WHERE feature = 'marketing-copy'", [FORMULA_FEATURE])
        con.execute("UPDATE calls SET feature = ? WHERE feature = 'search-summarizer'", [SCRIPT_FEATURE])

    runner = CliRunner()
    outputs = {}
    for suffix in ("csv", "parquet"):
        out = work / f"costs.focus.{suffix}"
        # with the allocation, so the validator and the checks below see both kinds of rows
        result = runner.invoke(
            app,
            [
                "export",
                "focus",
                "--out",
                str(out),
                "--db",
                db_path,
                "--config",
                str(config_file),
                "--period",
                "2026-10",
                "--with-allocation",
            ],
        )
        assert result.exit_code == 0, result.output
        outputs[suffix] = out
    from costlens import db
    from costlens.period import resolve_period
    from costlens.report.build import build_report

    with db.connect(db_path) as con:  # the report's numbers, without its leak and lever analysis
        report = build_report(con, config, resolve_period(None, "2026-10", None, None), analyse=False)
    with outputs["csv"].open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {
        "work": work,
        "db": db_path,
        "config": config,
        "config_file": config_file,
        "csv": outputs["csv"],
        "parquet": outputs["parquet"],
        "rows": rows,
        "report": report,
    }


VENDORED_VALIDATOR = Path(__file__).resolve().parent / "focus_rules"  # focus-validator 1.0.0, unmodified
# NumPy 2 removed these aliases; pandera 0.17 (the validator's engine) still uses them.
_RUN_VALIDATOR = """
import sys
import numpy
for old, new in (("string_", "bytes_"), ("unicode_", "str_"), ("float_", "float64"), ("complex_", "complex128"),
                 ("bool8", "bool_"), ("NaN", "nan"), ("Inf", "inf")):
    if not hasattr(numpy, old):
        setattr(numpy, old, getattr(numpy, new))
sys.argv[0] = "focus-validator"
import focus_validator
from pathlib import Path
print("validator:", Path(focus_validator.__file__).resolve().parent.parent, file=sys.stderr)
from focus_validator.main import main
main()
"""


def run_focus_validator(data_file: Path, version: str, work: Path) -> ET.Element:
    """The official validator on `data_file`, as a subprocess of this interpreter; its JUnit XML result."""
    result_file = work / f"{data_file.stem}.{version}.xml"
    env = {**os.environ, "PYTHONPATH": str(VENDORED_VALIDATOR)}
    # cwd: focus-validator 1.0.0 opens its ISO 4217 list by the relative path focus_validator/utils/…
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            _RUN_VALIDATOR,
            "--data-file",
            str(data_file),
            "--validate-version",
            version,
            "--output-type",
            "unittest",
            "--output-destination",
            str(result_file),
        ],
        cwd=VENDORED_VALIDATOR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert f"validator: {VENDORED_VALIDATOR}" in completed.stderr  # the vendored copy, not an installed one
    return ET.parse(result_file).getroot()


def failed_checks(results: ET.Element) -> list[str]:
    return sorted(
        case.get("name")
        for case in results.iter("testcase")
        if case.find("failure") is not None or case.find("error") is not None
    )


def write_pre_release_copy(rows: list[dict[str, str]], target: Path, drop: tuple[str, ...] = ()) -> Path:
    """A copy of the export with the five renamed columns also under the names the validator's 1.0 set uses."""
    header = [name for name in rows[0] if name not in drop]
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header + list(PRE_RELEASE_NAMES.values()))
        for row in rows:
            writer.writerow([row[name] for name in header] + [row[name] for name in PRE_RELEASE_NAMES])
    return target


# ---------------------------------------------------------------- the official validator


@pytest.mark.subprocess
@pytest.mark.slow
def test_export_passes_the_official_focus_validator(sample):
    copy = write_pre_release_copy(sample["rows"], sample["work"] / "validated.csv")
    results = run_focus_validator(copy, "1.0", sample["work"])
    checks = list(results.iter("testcase"))
    assert len(checks) >= 130  # focus-validator 1.0.0 runs 133 checks for "1.0"
    assert failed_checks(results) == []
    assert results.get("failures") == "0" and results.get("errors") == "0"


@pytest.mark.subprocess
@pytest.mark.slow
def test_validator_fails_a_broken_export(sample):
    """So the check above can fail: no BilledCost column, and five bad values planted in a copy."""
    rows = [dict(row) for row in sample["rows"][:40]]
    rows[3]["ChargeFrequency"] = "Sometimes"
    rows[5]["BillingCurrency"] = "DOLLARS"
    rows[7]["ChargePeriodStart"] = "yesterday"
    rows[9]["Tags"] = "feature=support-bot"
    rows[11]["ListCost"] = "twelve cents"
    copy = write_pre_release_copy(rows, sample["work"] / "broken.csv", drop=("BilledCost",))
    results = run_focus_validator(copy, "1.0", sample["work"])
    assert failed_checks(results) == [
        "BilledCost_Required :: ColumnRequired",
        "BillingCurrency_IsCurrencyCode :: DataTypeCheck",
        "ChargeFrequency_Enum :: ValueInCheck",
        "ChargePeriodStart_IsDateTime :: DataTypeCheck",
        "ListCost_IsDecimal :: DataTypeCheck",
        "Tags_IsJSONObject :: DataTypeCheck",
    ]


# ---------------------------------------------------------------- FOCUS 1.2 columns


def _check_value(column: str, value: str, kind: str, nullable: bool, allowed: set[str] | None) -> str | None:
    if value == "":
        return None if nullable else f"{column} is null"
    if kind == "Decimal" and not DECIMAL_TEXT_RE.match(value):
        return f"{column}={value!r} is not a decimal"
    if kind == "DateTime" and not DATETIME_RE.match(value):
        return f"{column}={value!r} is not ISO 8601 UTC (YYYY-MM-DDTHH:mm:ssZ)"
    if kind == "JSON":
        try:
            parsed = json.loads(value)
        except ValueError:
            return f"{column}={value!r} is not JSON"
        if not isinstance(parsed, dict):
            return f"{column}={value!r} is not a JSON object"
    if allowed is not None and value not in allowed:
        return f"{column}={value!r} is not an allowed value"
    return None


@pytest.mark.slow
def test_every_focus_1_2_mandatory_column_with_its_type_and_values(sample):
    rows = sample["rows"]
    header = list(rows[0])
    assert len(rows) > 500
    missing = [c for c in MANDATORY_1_2 if c not in header]
    assert missing == []
    spec = {**MANDATORY_1_2, **CONDITIONAL_1_2}
    problems = [
        problem
        for row in rows
        for column, (kind, nullable, allowed) in spec.items()
        if column in row and (problem := _check_value(column, row[column], kind, nullable, allowed))
    ]
    assert problems[:5] == []
    # column ids: PascalCase alphanumerics for FOCUS columns, x_ for custom ones, no 1.3-only names
    for name in header:
        assert name in spec or name.startswith("x_"), name
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]*|x_[A-Za-z0-9]+", name), name
    assert not FOCUS_1_3_ONLY & set(header)


@pytest.mark.slow
def test_focus_1_2_row_rules(sample):
    for row in sample["rows"]:
        assert row["ServiceCategory"] == "AI and Machine Learning"
        assert row["ServiceSubcategory"] in AI_SUBCATEGORIES
        assert row["ChargeCategory"] == "Usage" and row["ChargeClass"] == ""
        # Usage rows carry their quantities
        assert row["PricingQuantity"] and row["ConsumedQuantity"] and row["PricingUnit"] and row["ConsumedUnit"]
        # ListCost = ListUnitPrice × PricingQuantity, ContractedCost = ContractedUnitPrice × PricingQuantity
        quantity = Decimal(row["PricingQuantity"])
        assert Decimal(row["ListUnitPrice"]) * quantity == Decimal(row["ListCost"])
        assert Decimal(row["ContractedUnitPrice"]) * quantity == Decimal(row["ContractedCost"])
        assert Decimal(row["BilledCost"]) == Decimal(row["EffectiveCost"]) == Decimal(row["ContractedCost"])
        # a charge period of one day inside its billing month
        start = datetime.fromisoformat(row["ChargePeriodStart"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(row["ChargePeriodEnd"].replace("Z", "+00:00"))
        billing_start = datetime.fromisoformat(row["BillingPeriodStart"].replace("Z", "+00:00"))
        billing_end = datetime.fromisoformat(row["BillingPeriodEnd"].replace("Z", "+00:00"))
        assert end - start == timedelta(days=1)
        assert billing_start <= start and end <= billing_end and billing_start.day == 1
        # nulls that follow ResourceId / SubAccountId
        assert row["ResourceId"] == row["ResourceName"] == row["ResourceType"] == ""
        assert row["SubAccountId"] == row["SubAccountName"] == ""
        if row["PricingUnit"] == "1M Tokens":
            assert row["ConsumedUnit"] == "Tokens"
            assert Decimal(row["ConsumedQuantity"]) == quantity * 1_000_000
    # one SkuPriceId, one price; one SkuPriceId, one SkuId
    prices = defaultdict(set)
    skus = defaultdict(set)
    for row in sample["rows"]:
        prices[row["SkuPriceId"]].add((row["ListUnitPrice"], row["ContractedUnitPrice"]))
        skus[row["SkuPriceId"]].add(row["SkuId"])
    assert all(len(v) == 1 for v in prices.values()) and all(len(v) == 1 for v in skus.values())


@pytest.mark.slow
def test_provider_names_follow_focus(sample):
    by_provider = {}
    for row in sample["rows"]:
        by_provider[row["BillingAccountId"]] = (row["ProviderName"], row["InvoiceIssuerName"], row["ServiceName"])
    assert by_provider["costlens:openai"] == ("OpenAI", "OpenAI", "OpenAI API")
    assert by_provider["costlens:anthropic"] == ("Anthropic", "Anthropic", "Claude API")
    assert by_provider["costlens:azure.openai"] == ("Microsoft", "Microsoft", "Azure OpenAI")
    azure_publishers = {row["PublisherName"] for row in sample["rows"] if row["ProviderName"] == "Microsoft"}
    assert azure_publishers == {"OpenAI"}  # GPT models sold on Azure are published by OpenAI


# ---------------------------------------------------------------- money


@pytest.mark.slow
def test_billed_cost_adds_up_to_the_report(sample):
    report = sample["report"]
    rows = [r for r in sample["rows"] if r["x_AllocationMethod"] == "direct"]  # logged calls; allocated rows below
    total = sum(Decimal(r["BilledCost"]) for r in rows)
    assert report.totals.cost_usd > 100
    assert total == report.totals.cost_usd  # exact, not only to the cent
    assert round(total, 2) == round(report.totals.cost_usd, 2)
    per_feature = defaultdict(Decimal)
    for row in rows:
        per_feature[row["x_Feature"].removeprefix("'") if row["x_Feature"].startswith("'=") else row["x_Feature"]] += (
            Decimal(row["BilledCost"])
        )
    expected = {ue.key: ue.cost_usd for ue in report.unit_economics}
    assert dict(per_feature) == expected


@pytest.mark.slow
def test_csv_money_is_exact_decimal_text(sample):
    import pyarrow.parquet as pq

    table = pq.read_table(sample["parquet"])
    for column in MONEY_COLUMNS + ["PricingQuantity", "ConsumedQuantity"]:
        texts = [row[column] for row in sample["rows"]]
        for text in texts:
            assert DECIMAL_TEXT_RE.match(text), (column, text)
            assert "e" not in text.lower()
            assert not (text.endswith("0") and not text.endswith(".0")), (column, text)  # no padding zeros
        # the CSV text is the Parquet decimal, digit for digit
        assert [Decimal(t) for t in texts] == table.column(column).to_pylist()
    assert any(len(row["BilledCost"].split(".")[1]) > 6 for row in sample["rows"])  # sub-micro-dollar digits kept


@pytest.mark.slow
def test_parquet_keeps_types(sample):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(sample["parquet"])
    schema = table.schema
    for column in MONEY_COLUMNS:
        assert schema.field(column).type == pa.decimal128(38, 18), column
    assert schema.field("PricingQuantity").type == pa.decimal128(38, 6)
    assert schema.field("ChargePeriodStart").type == pa.timestamp("us", tz="UTC")
    assert schema.field("x_CostlensCallCount").type == pa.int64()
    assert table.num_rows == len(sample["rows"])
    direct = [
        cost
        for cost, method in zip(table.column("BilledCost").to_pylist(), table.column("x_AllocationMethod").to_pylist())
        if method == "direct"
    ]
    assert sum(direct) == sample["report"].totals.cost_usd
    features = set(table.column("x_Feature").to_pylist())
    assert FORMULA_FEATURE in features and SCRIPT_FEATURE in features  # Parquet keeps the raw text


# ---------------------------------------------------------------- x_ columns and hostile text


@pytest.mark.slow
def test_x_columns(sample):
    rows = sample["rows"]
    assert all(column in rows[0] for column in X_COLUMNS)
    doc = [r for r in rows if r["x_Feature"] == "doc-extractor"]
    assert {r["x_Team"] for r in doc} == {"finance-ops"}
    assert {r["x_CostCenter"] for r in doc} == {"CC-220-FINOPS"}
    # logged calls carry their environment; allocated (unlogged) spend has none
    assert {r["x_Environment"] for r in doc if r["x_AllocationMethod"] == "direct"} == {"production"}
    assert {r["x_Environment"] for r in doc if r["x_AllocationMethod"] == "allocated"} <= {""}
    assert {r["x_TaskClass"] for r in rows if r["x_Feature"] == "ticket-classifier"} == {"classification"}
    assert {r["x_TaskClass"] for r in doc} == {""}
    assert {r["x_AllocationMethod"] for r in rows} == {"direct", "allocated"}
    assert all(int(r["x_CostlensCallCount"]) >= 1 for r in rows if r["x_AllocationMethod"] == "direct")
    assert all(int(r["x_CostlensCallCount"]) == 0 for r in rows if r["x_AllocationMethod"] == "allocated")
    tags = json.loads(doc[0]["Tags"])
    assert tags == {"feature": "doc-extractor", "team": "finance-ops"}


@pytest.mark.slow
def test_hostile_feature_names_are_neutralised_like_the_csv_report(sample):
    text = sample["csv"].read_text(encoding="utf-8")
    features = {r["x_Feature"] for r in sample["rows"]}
    assert neutralise(FORMULA_FEATURE) in features and FORMULA_FEATURE not in features
    assert neutralise(FORMULA_FEATURE) == "'" + FORMULA_FEATURE
    assert SCRIPT_FEATURE in features  # not a formula: kept as text, quoted by the CSV writer
    # no cell of the file starts with a formula character
    for row in csv.reader(text.splitlines()[1:]):
        assert not any(cell.lstrip(" ")[:1] in ("=", "+", "-", "@") for cell in row), row
    # inside Tags the name is JSON-escaped text
    tagged = {json.loads(r["Tags"])["feature"] for r in sample["rows"]}
    assert FORMULA_FEATURE in tagged and SCRIPT_FEATURE in tagged


# ---------------------------------------------------------------- allocation hook, options


@pytest.mark.subprocess
@pytest.mark.slow
def test_the_export_adds_up_to_the_report_and_says_what_is_beside_it(sample, tmp_path):
    """By default the file holds the report's total to the cent; the billed spend no feature owns is said beside it
    (and --with-allocation adds it as 'allocated' rows)."""
    import subprocess
    import sys

    out = tmp_path / "plain.focus.csv"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "costlens",
            "export",
            "focus",
            "--out",
            str(out),
            "--db",
            str(sample["db"]),
            "--config",
            str(sample["config_file"]),
            "--period",
            "2026-10",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["x_AllocationMethod"] for r in rows} == {"direct"}
    assert sum(Decimal(r["BilledCost"]) for r in rows) == sample["report"].totals.cost_usd
    allocated = sum(Decimal(r["BilledCost"]) for r in sample["rows"] if r["x_AllocationMethod"] == "allocated")
    assert (
        f"${allocated:,.2f} of billed spend no feature owns is not in the file (--with-allocation adds it)"
        in proc.stderr
    )


@pytest.mark.slow
def test_allocated_spend_rows(sample, tmp_path):
    """The sample bill holds $9.63738 of unlogged traffic (sub-account batch-reindex-dev, gpt-4o, Oct 12-16) that no
    feature owns: reconciliation allocates it to features, and the export writes it as 'allocated' rows."""
    from costlens import db
    from costlens.export.focus import export_focus
    from costlens.period import resolve_period
    from costlens.reconcile.build import reconcile

    # the shared fixture renames two features, so the bill's `feature` tags would name a feature no logged call
    # carries (which reconciliation rightly treats as unlogged): restore the real names on a copy
    copy = tmp_path / "allocated.duckdb"
    shutil.copyfile(sample["db"], copy)
    period = resolve_period(None, "2026-10", None, None)
    with db.connect(str(copy)) as con:
        con.execute("UPDATE calls SET feature = 'marketing-copy' WHERE feature = ?", [FORMULA_FEATURE])
        con.execute("UPDATE calls SET feature = 'search-summarizer' WHERE feature = ?", [SCRIPT_FEATURE])
        result = export_focus(con, sample["config"], period, tmp_path / "allocated.focus.csv", include_allocation=True)
        recon = reconcile(con, sample["config"], period)
    with result.path.open(newline="", encoding="utf-8") as handle:
        allocated = [r for r in csv.DictReader(handle) if r["x_AllocationMethod"] == "allocated"]
    for row in allocated:
        assert row["BilledCost"] == row["ListCost"] == row["EffectiveCost"]
        assert row["ChargeCategory"] == "Usage" and row["x_TokenType"] == "allocated"
        assert row["x_Model"] == "gpt-4o" and "2026-10-12" <= row["ChargePeriodStart"][:10] <= "2026-10-16"
    assert {row["x_Feature"] for row in allocated} == {"doc-extractor", "marketing-copy"}  # by their gpt-4o spend
    total = sum(Decimal(r["BilledCost"]) for r in allocated)
    assert result.allocated_cost_usd == total
    assert abs(total - Decimal("9.63738")) < Decimal("0.0001")  # the planted unlogged traffic
    assert total == sum(row.allocated_exact_usd for row in recon.allocation)  # what the invoice showback allocates


@pytest.mark.slow
def test_unpriced_calls_are_left_out_and_counted(sample, tmp_path):
    from datetime import date

    from costlens import db
    from costlens.export.focus import export_focus
    from costlens.model.report import Period

    support_bot = next(ue for ue in sample["report"].unit_economics if ue.key == "support-bot")
    copy = tmp_path / "unpriced.duckdb"
    shutil.copyfile(sample["db"], copy)
    con = db.connect(str(copy))
    try:
        # as if the calls had been loaded with that model: their stored cost goes too (a load prices on insert)
        con.execute(
            "UPDATE calls SET model = 'no-such-model-anywhere', priced_with = NULL WHERE feature = 'support-bot'"
        )
        con.execute("DELETE FROM meta WHERE key = 'stored_costs_book'")
        result = export_focus(
            con, sample["config"], Period(date(2026, 10, 1), date(2026, 11, 1)), tmp_path / "unpriced.focus.parquet"
        )
    finally:
        con.close()
    assert result.unpriced_calls == support_bot.calls > 0
    assert result.billed_cost_usd == sample["report"].totals.cost_usd - support_bot.cost_usd
    import pyarrow.parquet as pq

    assert "support-bot" not in set(pq.read_table(result.path).column("x_Feature").to_pylist())


@pytest.mark.slow
def test_a_frozen_month_is_exported_at_its_frozen_prices(sample, tmp_path):
    """A closed month keeps the prices of its first report (price_book_frozen): the export follows the report."""
    from costlens import db
    from costlens.export.focus import export_focus
    from costlens.period import resolve_period
    from costlens.report.build import build_report

    period = resolve_period(None, "2026-10", None, None)
    copy = tmp_path / "frozen.duckdb"
    shutil.copyfile(sample["db"], copy)
    con = db.connect(str(copy))
    try:
        build_report(con, sample["config"], period, analyse=False)  # snapshots the closed month's prices
        frozen_rows = con.execute("SELECT count(*) FROM price_book_frozen").fetchall()[0][0]
        # a price-book update after the freeze (a negotiated 40 % off everything): live prices ≠ frozen ones now
        discounted = sample["config"].model_copy(update={"prices": {"discounts": [{"pct": 40}]}})
        report = build_report(con, discounted, period, analyse=False)
        result = export_focus(con, discounted, period, tmp_path / "frozen.focus.csv")
    finally:
        con.close()
    assert frozen_rows > 0
    assert report.totals.cost_usd == sample["report"].totals.cost_usd  # the closed month keeps its prices
    assert result.billed_cost_usd == report.totals.cost_usd


@pytest.mark.slow
def test_cli_rejects_an_unknown_format(sample):
    from typer.testing import CliRunner

    from costlens.cli import app

    result = CliRunner().invoke(
        app, ["export", "focus", "--out", str(sample["work"] / "costs.xlsx"), "--db", sample["db"]]
    )
    assert result.exit_code == 2
    assert "csv or .parquet" in result.output
    result = CliRunner().invoke(
        app,
        ["export", "focus", "--out", str(sample["work"] / "costs.csv"), "--format", "parquet", "--db", sample["db"]],
    )
    assert result.exit_code == 2
    assert "does not match --format parquet" in result.output
