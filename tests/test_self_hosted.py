"""Self-hosted inference priced like an API (sql/intermediate/self_hosted_costs.sql, costlens/self_hosted.py,
sql/leaks/gpu_underuse.sql): a vLLM deployment on one g5.12xlarge (4 × A10G) whose bill lines come from an AWS
FOCUS 1.0 export (the columns of AWS's own FOCUS sample) and whose calls come from spans with the attribute names
vLLM's tracing writes (tests/realworld/vllm/ATTRIBUTES.md: tracer vllm.llm_engine, span llm_request, SERVER,
gen_ai.usage.prompt_tokens / completion_tokens, latencies in seconds, no model unless opted in).

Hand-checked figures (tests/fixtures/self_hosted):
- bill: 3 instance days × $136.128 + 3 disk days × $0.80, all tagged ai-deployment=llama-a10g = $410.784 for
  November; an OpenSearch collection tagged feature=rag-answer $12.50; an untagged S3 bucket $3.10.
- calls (prompt, completion): rag-answer (1200, 300) (2000, 500) (800, 200); ticket-triage (400, 50) (600, 100)
  (300, 100). Weights 1 and 4: rag-answer 8,000 units, ticket-triage 2,300, of 10,300.
- GPU-hours 4 × 72 = 288; served 6,550 tokens; busiest hour 4,000 tokens (Nov 3, 09:00) → peak 4000/3600/4 per
  GPU per second; utilisation 6550 / (4000 × 72) = 0.0227430…
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from costlens import db
from costlens.config import load_config
from costlens.model.report import Period

from conftest import realdata

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "self_hosted"
BILL = FIXTURES / "focus_aws_2026-11.csv"
SPANS = FIXTURES / "vllm_spans.jsonl"
CONFIG = FIXTURES / "costlens.toml"
NOVEMBER = Period(date(2026, 11, 1), date(2026, 12, 1))
MONTH_COST = Decimal("410.784")


def _report(config, *paths, analyse=True):
    from costlens.ingest.runner import ingest_paths
    from costlens.report.build import build_report

    con = db.connect(":memory:")
    result = ingest_paths(con, [str(p) for p in paths], config)
    assert not result.failed
    return con, build_report(con, config, NOVEMBER, analyse=analyse)


@pytest.fixture(scope="module")
def billed():
    con, report = _report(load_config(CONFIG), BILL, SPANS)
    yield con, report
    con.close()


def _bill_lines() -> list[dict[str, str]]:
    with BILL.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_vllm_spans_are_calls_of_the_deployment_with_its_model(billed):
    con, _ = billed
    rows = con.execute(
        "SELECT provider, model, feature, task_id, input_tokens, output_tokens FROM calls ORDER BY task_id"
    ).fetchall()
    # every request span is a call; the app's own spans are not; the model comes from the deployment where vLLM
    # named none (4 of 6 spans) and from gen_ai.request.model where it was opted in
    assert rows == [
        ("vllm", "meta-llama/Llama-3.1-8B-Instruct", "rag-answer", "q-101", 1200, 300),
        ("vllm", "meta-llama/Llama-3.1-8B-Instruct", "rag-answer", "q-102", 2000, 500),
        ("vllm", "meta-llama/Llama-3.1-8B-Instruct", "rag-answer", "q-103", 800, 200),
        ("vllm", "meta-llama/Llama-3.1-8B-Instruct", "ticket-triage", "t-201", 400, 50),
        ("vllm", "meta-llama/Llama-3.1-8B-Instruct", "ticket-triage", "t-202", 600, 100),
        ("vllm", "meta-llama/Llama-3.1-8B-Instruct", "ticket-triage", "t-203", 300, 100),
    ]


@pytest.mark.slow
def test_the_months_gpu_bill_is_shared_by_weighted_tokens_exactly(billed):
    con, report = billed
    # the deployment's lines, read from the file by hand: the six tagged ai-deployment=llama-a10g
    tagged = [r for r in _bill_lines() if json.loads(r["Tags"]).get("ai-deployment") == "llama-a10g"]
    assert sum(Decimal(r["BilledCost"]) for r in tagged) == MONTH_COST
    by = {u.key: u for u in report.unit_economics}
    assert by["rag-answer"].cost_usd + by["ticket-triage"].cost_usd == MONTH_COST == report.totals.cost_usd
    assert abs(by["rag-answer"].cost_usd - MONTH_COST * 8000 / 10300) < Decimal("1e-11")
    assert abs(by["ticket-triage"].cost_usd - MONTH_COST * 2300 / 10300) < Decimal("1e-11")
    assert report.totals.unpriced_calls == 0
    shares = con.execute("SELECT call_id, cost_usd, input_cost_usd FROM self_hosted_calls").fetchall()
    assert len(shares) == 6 and sum(s[1] for s in shares) == MONTH_COST
    # q-101: 1200 prompt + 4 × 300 generated = 2,400 of 10,300 units; its prompt part is half of it
    q101 = con.execute(
        "SELECT s.cost_usd, s.input_cost_usd FROM self_hosted_calls s JOIN calls c USING (call_id) "
        "WHERE c.task_id = 'q-101'"
    ).fetchall()[0]
    assert abs(q101[0] - MONTH_COST * 2400 / 10300) < Decimal("1e-11")
    assert abs(q101[1] - q101[0] / 2) < Decimal("1e-11")


@pytest.mark.slow
def test_deployment_metrics_and_break_even(billed):
    _, report = billed
    (month,) = report.self_hosted.months
    assert (month.deployment, month.month, month.gpu_type, month.gpu_count) == ("llama-a10g", "2026-11", "A10G", 4)
    assert (month.cost_basis, month.bill_lines, month.cost_usd) == ("bill", 6, MONTH_COST)
    assert (month.allocated_usd, month.unallocated_usd) == (MONTH_COST, 0)
    assert (month.gpu_hours, month.calls, month.prompt_tokens, month.output_tokens) == (288, 6, 5300, 1250)
    assert month.tokens_per_second_per_gpu == pytest.approx(6550 / (288 * 3600))
    assert month.peak_basis == "busiest hour"
    assert month.peak_tokens_per_second_per_gpu == pytest.approx(4000 / 3600 / 4)
    assert month.utilisation == pytest.approx(6550 / 288000)
    assert month.idle_gpu_hours == pytest.approx(288 * (1 - 6550 / 288000))
    assert float(month.idle_cost_usd) == pytest.approx(410.784 * (1 - 6550 / 288000))
    assert month.capacity_tokens == 288000
    # gpt-4o-mini: $0.15 / $0.60 per million tokens
    assert month.api_cost_usd == Decimal("5300") * Decimal("0.15") / 10**6 + Decimal("1250") * Decimal("0.60") / 10**6
    assert month.break_even_tokens == 1_741_511_457  # ceil(410.784 × 6550 / 0.001545)
    assert "move the traffic to the API" in month.verdict  # the break-even is past what 4 A10Gs serve at this peak
    # vLLM's latencies (gen_ai.latency.time_to_first_token …) are not usage left unpriced
    assert not [w for w in report.warnings if "not in the cost" in w]


@pytest.mark.slow
def test_feature_totals_with_non_token_spend_equal_the_attributed_bill(billed):
    _, report = billed
    costs = report.feature_costs
    # the instance lines also carry feature=rag-answer: the deployment claims them, so they are in the calls'
    # cost once, never again as rag-answer's infrastructure
    assert [(s.feature, s.kind, s.attributed_by, s.cost_usd) for s in costs.infrastructure] == [
        ("rag-answer", "analytics", "tag feature", Decimal("12.50"))
    ]
    lines = _bill_lines()
    unattributed = sum(Decimal(r["BilledCost"]) for r in lines if r["ServiceName"] == "Amazon Simple Storage Service")
    attributed = sum(Decimal(r["BilledCost"]) for r in lines) - unattributed
    assert costs.total_usd == attributed == Decimal("423.284")


@pytest.mark.slow
def test_idle_gpus_are_a_leak_with_its_lever(billed):
    _, report = billed
    findings = [f for f in report.leaks if f.kind == "gpu_underuse"]
    assert {f.feature for f in findings} == {"rag-answer", "ticket-triage"}
    assert abs(sum(f.wasted_usd for f in findings) - report.self_hosted.idle_cost_usd) < Decimal("1e-9")
    assert all(f.lever == "gpu_right_sizing" and f.evidence["deployment"] == "llama-a10g" for f in findings)
    assert all(f.confidence != "high" for f in findings)  # the peak is the busiest hour's, a floor of capacity
    # the deployment's month, once per finding: 288 GPU-hours, 288 × (1 − 6550/288000) idle
    assert all(f.evidence["counts"]["gpu_hours"] == 288 for f in findings)
    assert all(f.evidence["counts"]["idle_gpu_hours"] == pytest.approx(281.45, abs=0.005) for f in findings)
    (lever,) = [x for x in report.levers if x.lever == "gpu_right_sizing"]
    assert lever.est_monthly_savings_usd > 0
    assert lever.first_action.startswith("Scale self-hosted llama-a10g (4 × A10G), serving rag-answer")


@pytest.mark.slow
def test_a_rate_per_gpu_hour_and_a_configured_peak(tmp_path):
    """gpu_hour_usd: 4 GPUs × $1.10 × the 72 hours of Nov 3–5 = $316.80, shared the same way; a configured peak
    of 2,500 tokens/s per GPU puts capacity past the break-even: then the GPUs pay above it."""
    config_file = tmp_path / "costlens.toml"
    config_file.write_text(
        '[self_hosted.llama-a10g]\nprovider = "vllm"\nmodels = ["meta-llama/Llama-3.1-8B-Instruct"]\n'
        'gpu_count = 4\ngpu_hour_usd = "1.10"\nrunning_from = 2026-11-03\nrunning_until = 2026-11-05\n'
        "peak_tokens_per_second_per_gpu = 2500\ninput_weight = 1\noutput_weight = 1\n"
        'compare_with = "openai/gpt-4o-mini"\n'
    )
    con, report = _report(load_config(config_file), SPANS)
    try:
        (month,) = report.self_hosted.months
        assert (month.cost_basis, month.cost_usd, month.gpu_hours) == ("rate", Decimal("316.80"), 288)
        assert month.utilisation == pytest.approx(6550 / (2500 * 288 * 3600))
        by = {u.key: u.cost_usd for u in report.unit_economics}
        # weights 1:1 — rag-answer 5,000 of 6,550 tokens
        assert abs(by["rag-answer"] - Decimal("316.80") * 5000 / 6550) < Decimal("1e-11")
        assert report.totals.cost_usd == Decimal("316.80")
        assert month.break_even_tokens < month.capacity_tokens
        assert month.verdict.startswith("the API is cheaper at this volume: the GPUs pay from")
        assert all(f.confidence != "low" or f.calls_affected < 10 for f in report.leaks)
    finally:
        con.close()


@pytest.mark.slow
def test_a_month_without_its_bill_leaves_its_calls_unpriced(tmp_path):
    """Never $0: the spans without the FOCUS file have no cost to share."""
    config_file = tmp_path / "costlens.toml"
    config_file.write_text(CONFIG.read_text().replace("openai/gpt-4o-mini", "openai/no-such-model"))
    con, report = _report(load_config(config_file), SPANS, analyse=False)
    try:
        (month,) = report.self_hosted.months
        assert month.cost_usd is None and month.cost_basis is None and month.calls == 6
        assert report.totals.unpriced_calls == 6
        # a comparison asked for and impossible says why
        assert month.api_cost_usd is None
        assert month.verdict == "no comparison: the price book has no price for openai/no-such-model"
    finally:
        con.close()


def test_the_shares_always_add_up_to_the_month(con):
    """Property: whatever the tokens and weights, the calls' shares add up to the month's cost exactly."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from costlens.config import Config
    from costlens.engine import bill_rule_tables
    from costlens.sqlfiles import load_sql

    @settings(max_examples=40, deadline=None)
    @given(
        tokens=st.lists(st.tuples(st.integers(0, 10**7), st.integers(0, 10**6)), min_size=1, max_size=30),
        rate=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99.99"), places=2),
        weights=st.tuples(st.integers(0, 8), st.integers(1, 8)),
    )
    def check(tokens, rate, weights):
        config = Config.model_validate(
            {
                "self_hosted": {
                    "d": {"provider": "vllm", "gpu_count": 3, "gpu_hour_usd": str(rate), "input_weight": weights[0]}
                    | {"output_weight": weights[1], "running_from": "2026-11-01", "running_until": "2026-11-30"}
                }
            }
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE priced_calls AS SELECT 'c' || i AS call_id, "
            "TIMESTAMP '2026-11-02' + i * INTERVAL 1 MINUTE AS ts, 'vllm' AS provider, 'm' AS model, "
            "t[1] AS input_tokens, 0 AS cache_read_tokens, 0 AS cache_write_5m_tokens, 0 AS cache_write_1h_tokens, "
            "t[2] AS output_tokens FROM (SELECT unnest(range(len(?))) AS i, unnest(?) AS t)",
            [tokens, [list(t) for t in tokens]],
        )
        con.execute("CREATE OR REPLACE TEMP TABLE billing_usd AS SELECT * FROM billing_lines")
        bill_rule_tables(con, config)
        con.execute(load_sql("intermediate/bill_line_owners.sql"))
        con.execute(load_sql("intermediate/self_hosted_costs.sql"))
        total, calls = con.execute("SELECT sum(cost_usd), count(*) FROM self_hosted_calls").fetchall()[0]
        assert calls == len(tokens)
        assert total == rate * 3 * 30 * 24
        assert con.execute("SELECT count(*) FROM self_hosted_calls WHERE cost_usd < 0").fetchall()[0][0] == 0

    check()


def test_a_deployment_costed_two_ways_is_refused(tmp_path):
    config = tmp_path / "costlens.toml"
    config.write_text('[self_hosted.x]\nprovider = "vllm"\ngpu_hour_usd = 2.5\nbill = { resource = "i-1" }\n')
    proc = subprocess.run(
        [sys.executable, "-m", "costlens", "report", "--db", str(tmp_path / "x.duckdb"), "--config", str(config)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "give its cost one way" in proc.stderr and "costlens.toml" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_a_deployment_claims_lines_of_aws_focus_sample_by_resource(tmp_path):
    """On AWS's own FOCUS 1.0 sample: a deployment claiming one EC2 instance by its ResourceId has, per month, the
    billed cost of that instance's lines as read from the file here — no call, so all of it unallocated."""
    sample = realdata("focus-1.0-sample/focus_sample.csv")
    with sample.open(newline="", encoding="utf-8-sig") as handle:
        lines = [r for r in csv.DictReader(handle) if r["ResourceId"] == "i-037929a54982e113l"]
    expected = sum(Decimal(r["BilledCost"]) for r in lines)
    assert len(lines) == 3 and expected > 0 and {r["ChargePeriodStart"][:7] for r in lines} == {"2024-09"}
    periods = {(r["ChargePeriodStart"], r["ChargePeriodEnd"]) for r in lines}
    hours = sum(
        int(
            (
                datetime.fromisoformat(e.replace("Z", "+00:00")) - datetime.fromisoformat(s.replace("Z", "+00:00"))
            ).total_seconds()
            // 3600
        )
        for s, e in periods
    )
    config_file = tmp_path / "costlens.toml"
    config_file.write_text(
        '[self_hosted.box]\nprovider = "vllm"\ngpu_count = 1\nbill = { resource = "i-037929a54982e113l" }\n'
    )
    from costlens.ingest.runner import ingest_paths
    from costlens.report.build import build_report

    con = db.connect(":memory:")
    try:
        config = load_config(config_file)
        assert not ingest_paths(con, [str(sample)], config).failed
        report = build_report(con, config, Period(date(2024, 9, 1), date(2024, 10, 1)), analyse=False)
        (month,) = report.self_hosted.months
        assert (month.month, month.bill_lines, month.cost_usd, month.calls) == ("2024-09", 3, expected, 0)
        assert month.unallocated_usd == expected and month.allocated_usd == 0
        assert month.gpu_hours == hours  # each distinct charge period once
    finally:
        con.close()


@pytest.mark.slow
def test_every_output_shows_the_deployments(billed, tmp_path):
    from costlens.report.render_html import render_html
    from costlens.report.render_json import report_to_dict
    from costlens.report.render_tables import report_tables

    _, report = billed
    data = report_to_dict(report)["self_hosted"]
    assert data["cost_usd"] == MONTH_COST and data["months"][0]["break_even_tokens"] == 1_741_511_457
    columns, rows = report_tables(report)["self_hosted"]
    assert len(rows) == 1 and rows[0]["utilisation"] == pytest.approx(6550 / 288000)
    html = render_html(report)
    assert 'data-metric="self_hosted_cost_usd" data-key="llama-a10g 2026-11" data-value="410.784' in html


@pytest.mark.slow
@pytest.mark.subprocess
def test_cli_report_shows_the_deployment_and_its_leak(tmp_path):
    database = tmp_path / "sh.duckdb"
    common = ["--db", str(database), "--config", str(CONFIG)]
    ingest = subprocess.run(
        [sys.executable, "-m", "costlens", "ingest", str(BILL), str(SPANS), *common], capture_output=True, text=True
    )
    assert ingest.returncode == 0, ingest.stderr
    shown = subprocess.run(
        [sys.executable, "-m", "costlens", "report", "-p", "2026-11", "--wide", *common],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert shown.returncode == 0, shown.stderr
    assert "Self-hosted deployments" in shown.stdout and "$410.78" in shown.stdout and "2.3%" in shown.stdout
    assert "gpu_right_sizing" in shown.stdout


@pytest.mark.browser
@pytest.mark.slow
def test_the_section_in_headless_chromium(billed, tmp_path):
    """The deployment's row as a reader's browser lays it out, with no request, console error or exception."""
    from test_html_report import CHROMIUM, Browser, problems

    from costlens.report.render_html import render_html

    if CHROMIUM is None:
        pytest.skip("chromium is not installed (CI installs it)")
    _, report = billed
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    browser = Browser(tmp_path / "profile")
    try:
        url = page.as_uri()
        assert problems(browser.open(url), url) == {
            "requests": [],
            "console": [],
            "exceptions": [],
            "log": [],
            "dialogs": [],
        }
        cells = browser.evaluate(
            "[...document.querySelectorAll('#self-hosted tbody tr')].map(r => [...r.cells].map(c => c.innerText))"
        )
        assert len(cells) == 1
        assert cells[0][:4] == ["llama-a10g", "2026-11", "4 × A10G", "$410.78"] and cells[0][7] == "2.3%"
        width = browser.evaluate("document.querySelector('#self-hosted table').getBoundingClientRect().width")
        assert width > 600
    finally:
        browser.close()


@pytest.fixture(scope="module")
def client_spans(tmp_path_factory):
    """The client half of the same six requests, from OpenTelemetry's own OpenAI instrumentation run against the
    mock API answering as vLLM does (tests/realworld/vllm/client_spans.py, in its own process: instrumentors
    patch the SDK)."""
    out = tmp_path_factory.mktemp("vllm-client") / "client.otlp.jsonl"
    script = Path(__file__).resolve().parent / "realworld" / "vllm" / "client_spans.py"
    proc = subprocess.run([sys.executable, str(script), str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.parametrize("client_first", [True, False], ids=["client-first", "server-first"])
def test_the_client_and_the_server_span_of_a_request_are_one_call(client_spans, client_first, tmp_path):
    """vLLM's gen_ai.request.id is the id its server answers with, which the client's span records as
    gen_ai.response.id: loaded in either order, the two producers give six calls, not twelve, and the month's
    GPU bill is shared exactly as with the server spans alone."""
    config_file = tmp_path / "costlens.toml"
    # the fixture's config: provider vllm (the server's spans) or the model (the client's, provider openai)
    config_file.write_text(CONFIG.read_text())
    files = [client_spans, SPANS] if client_first else [SPANS, client_spans]
    from costlens.ingest.runner import ingest_paths
    from costlens.report.build import build_report

    con = db.connect(":memory:")
    try:
        config = load_config(config_file)
        for path in (BILL, *files):  # one run per file: the second producer meets the first's calls stored
            assert not ingest_paths(con, [str(path)], config).failed
        assert con.execute("SELECT count(*) FROM calls").fetchall()[0][0] == 6
        duplicates = con.execute("SELECT count(*), min(source_file) FROM quarantine WHERE disposition = 'duplicate'")
        count, source = duplicates.fetchall()[0]
        assert count == 6 and source == str(files[1])
        ids = {r[0] for r in con.execute("SELECT call_id FROM calls").fetchall()}
        assert ids == {f"chatcmpl-{0xBEEF00 + n:x}" for n in range(1, 7)}
        report = build_report(con, config, NOVEMBER, analyse=False)
        by = {u.key: u.cost_usd for u in report.unit_economics}
        assert by["rag-answer"] + by["ticket-triage"] == MONTH_COST == report.totals.cost_usd
        assert abs(by["rag-answer"] - MONTH_COST * 8000 / 10300) < Decimal("1e-11")
    finally:
        con.close()


@pytest.mark.slow
def test_the_reconciliation_leaves_self_hosted_calls_out(tmp_path):
    """No token bill lists a self-hosted call (its GPU lines pay for it): with an API line on the bill, the
    logged side of the reconciliation holds no vLLM call, so the six priced calls make no gap."""
    sample = Path(__file__).resolve().parents[1] / "sample_logs" / "focus_billing_2026-10.csv"
    with sample.open(newline="") as handle:
        reader = csv.DictReader(handle)
        line = next(r for r in reader if r["ServiceName"] == "Azure OpenAI Service")
        columns = reader.fieldnames
    line.update(
        BillingPeriodStart="2026-11-01T00:00:00Z",
        BillingPeriodEnd="2026-12-01T00:00:00Z",
        ChargePeriodStart="2026-11-03T00:00:00Z",
        ChargePeriodEnd="2026-11-04T00:00:00Z",
    )
    api_bill = tmp_path / "azure_focus_2026-11.csv"
    with api_bill.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerow(line)
    con, report = _report(load_config(CONFIG), BILL, api_bill, SPANS, analyse=False)
    try:
        recon = report.reconciliation.to_dict()
        assert recon["ai_billing_lines"] == 1 and recon["ai_billed_usd"] == Decimal(line["BilledCost"])
        assert recon["logged_list_usd"] == 0
        assert con.execute("SELECT count(*) FROM recon_logged WHERE provider_key = 'vllm'").fetchall()[0][0] == 0
        assert report.totals.cost_usd == MONTH_COST  # the calls keep their shares in the report
    finally:
        con.close()


@pytest.mark.slow
def test_utilisation_of_real_production_traffic(tmp_path):
    """One hour of Azure's production LLM traffic (AzurePublicDataset, 19,366 requests: the real shape of a
    serving load) as the calls of an 8-GPU deployment at $2.50 a GPU-hour that ran all of 2023-11-16, ingested
    through a column mapping with the model given, as a user would a serving engine's request log. Every figure
    is recomputed here from the CSV with the csv module."""
    from collections import Counter

    from costlens.config import ColumnMapping, Config
    from costlens.ingest.runner import ingest_paths
    from costlens.report.build import build_report

    trace = realdata("azure-llm-inference-2023/AzureLLMInferenceTrace_conv.csv")
    with trace.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    served = sum(int(r["ContextTokens"]) + int(r["GeneratedTokens"]) for r in rows)
    by_hour = Counter()
    for r in rows:
        by_hour[r["TIMESTAMP"][:13]] += int(r["ContextTokens"]) + int(r["GeneratedTokens"])
    busiest = max(by_hour.values())
    units = sum(int(r["ContextTokens"]) + 4 * int(r["GeneratedTokens"]) for r in rows)

    config = Config.model_validate(
        {
            "self_hosted": {
                "llama-h100": {
                    "models": ["meta-llama/Llama-3.1-70B-Instruct"],
                    "gpu_type": "H100",
                    "gpu_count": 8,
                    "gpu_hour_usd": "2.50",
                    "running_from": "2023-11-16",
                    "running_until": "2023-11-16",
                }
            }
        }
    )
    mapping = ColumnMapping(
        columns={"ts": "TIMESTAMP", "input_tokens": "ContextTokens", "output_tokens": "GeneratedTokens"},
        constants={"model": "meta-llama/Llama-3.1-70B-Instruct", "feature": "conversation"},
    )
    con = db.connect(":memory:")
    try:
        assert not ingest_paths(con, [str(trace)], config, mapping=mapping).failed
        report = build_report(con, config, Period(date(2023, 11, 1), date(2023, 12, 1)))
        (month,) = report.self_hosted.months
        assert (month.calls, month.gpu_hours, month.cost_usd) == (len(rows), 8 * 24, Decimal("480.00"))
        assert month.prompt_tokens + month.output_tokens == served
        assert month.peak_tokens_per_second_per_gpu == pytest.approx(busiest / 3600 / 8)
        assert month.tokens_per_second_per_gpu == pytest.approx(served / (8 * 24 * 3600))
        assert month.utilisation == pytest.approx(served / (busiest * 24))
        assert float(month.idle_cost_usd) == pytest.approx(480 * (1 - served / (busiest * 24)))
        # the month's $480 shared by weighted tokens (1 and 4), exactly
        assert report.totals.cost_usd == Decimal("480.00")
        first = rows[0]
        share = con.execute(
            "SELECT s.cost_usd FROM self_hosted_calls s JOIN calls c USING (call_id) WHERE c.source_row = 2"
        ).fetchall()[0][0]
        weight = int(first["ContextTokens"]) + 4 * int(first["GeneratedTokens"])
        assert abs(share - Decimal(480) * weight / units) < Decimal("1e-11")
        (finding,) = [f for f in report.leaks if f.kind == "gpu_underuse"]
        assert abs(finding.wasted_usd - month.idle_cost_usd) < Decimal("1e-9")
        assert finding.confidence == "medium"  # many calls, but the peak is the busiest hour's
    finally:
        con.close()


def _cur_gpu_lines(path: Path) -> Path:
    """The g5.12xlarge of the FOCUS fixture as an AWS CUR 2.0 export would list it: hourly BoxUsage lines in the
    columns of tests/fixtures/aws_cur/cur2_bedrock.csv (a CUR 2.0 header), 24 hours of Nov 3 at $5.672."""
    with (Path(__file__).resolve().parent / "fixtures" / "aws_cur" / "cur2_bedrock.csv").open(newline="") as handle:
        reader = csv.DictReader(handle)
        template, columns = next(reader), reader.fieldnames
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for hour in range(24):
            start, end = (
                f"2026-11-03T{hour:02d}:00:00.000Z",
                (f"2026-11-03T{hour + 1:02d}:00:00.000Z" if hour < 23 else "2026-11-04T00:00:00.000Z"),
            )
            writer.writerow(
                {
                    **template,
                    "identity_line_item_id": f"li-gpu-{hour:02d}",
                    "identity_time_interval": f"{start}/{end}",
                    "bill_billing_period_start_date": "2026-11-01T00:00:00.000Z",
                    "bill_billing_period_end_date": "2026-12-01T00:00:00.000Z",
                    "line_item_usage_start_date": start,
                    "line_item_usage_end_date": end,
                    "line_item_product_code": "AmazonEC2",
                    "line_item_usage_type": "BoxUsage:g5.12xlarge",
                    "line_item_operation": "RunInstances",
                    "line_item_availability_zone": "us-east-1a",
                    "line_item_resource_id": "i-0a10c5e7f3b9d2e41",
                    "line_item_usage_amount": "1",
                    "line_item_unblended_rate": "5.672",
                    "line_item_unblended_cost": "5.672",
                    "line_item_net_unblended_rate": "5.672",
                    "line_item_net_unblended_cost": "5.672",
                    "line_item_line_item_description": "$5.672 per On Demand Linux g5.12xlarge Instance Hour",
                    "line_item_iam_principal": "",
                    "pricing_public_on_demand_cost": "5.672",
                    "pricing_public_on_demand_rate": "5.672",
                    "pricing_unit": "Hrs",
                    "product": "",
                    "product_product_family": "Compute Instance",
                    "product_servicecode": "AmazonEC2",
                    "product_sku": "8VCNEHQMSCQS4P39",
                    "product_usagetype": "BoxUsage:g5.12xlarge",
                    "resource_tags": "",
                }
            )
    return path


@pytest.mark.slow
def test_a_deployments_bill_from_a_cur_export(tmp_path):
    """The same GPUs billed through CUR 2.0 hourly lines, claimed by ResourceId: 24 × $5.672 = $136.128 and 4 × 24
    GPU-hours for November, shared among the six vLLM calls as from FOCUS."""
    cur = _cur_gpu_lines(tmp_path / "cur_2026-11.csv")
    config_file = tmp_path / "costlens.toml"
    config_file.write_text(
        '[self_hosted.llama-a10g]\nprovider = "vllm"\nmodels = ["meta-llama/Llama-3.1-8B-Instruct"]\n'
        'gpu_count = 4\nbill = { resource = "i-0a10c5e7f3b9d2e41" }\n'
    )
    con, report = _report(load_config(config_file), cur, SPANS, analyse=False)
    try:
        assert con.execute("SELECT count(*), min(source_format) FROM billing_lines").fetchall() == [(24, "aws_cur")]
        (month,) = report.self_hosted.months
        assert (month.cost_basis, month.bill_lines, month.cost_usd, month.gpu_hours) == (
            "bill",
            24,
            Decimal("136.128"),
            96,
        )
        by = {u.key: u.cost_usd for u in report.unit_economics}
        assert by["rag-answer"] + by["ticket-triage"] == Decimal("136.128")
        assert abs(by["rag-answer"] - Decimal("136.128") * 8000 / 10300) < Decimal("1e-11")
    finally:
        con.close()


@pytest.mark.slow
def test_sglang_request_spans_are_matched_by_their_model(tmp_path):
    """SGLang's request span (tests/realworld/vllm/ATTRIBUTES.md, "SGLang") names the served model
    (gen_ai.response.model) and its radix-cache hits (gen_ai.usage.cached_tokens, part of the prompt): matched
    by the deployment's model glob; the cached part is a cache read, still a prompt token of the weighting."""
    spans = []
    for i, (prompt, cached, completion) in enumerate([(1000, 600, 100), (500, 0, 200)], 1):
        attrs = {
            "gen_ai.usage.prompt_tokens": prompt,
            "gen_ai.usage.completion_tokens": completion,
            "gen_ai.usage.cached_tokens": cached,
            "gen_ai.request.id": f"{0x5A1 + i:032x}",
            "gen_ai.request.max_tokens": 512,
            "gen_ai.request.temperature": 0.7,
            "gen_ai.request.top_k": 20,
            "gen_ai.response.model": "Qwen/Qwen2.5-7B-Instruct",
            "gen_ai.response.finish_reasons": '["stop"]',
            "gen_ai.latency.time_in_queue": 0.01,
            "gen_ai.latency.time_to_first_token": 0.12,
            "gen_ai.latency.e2e": 1.4,
            "costlens.feature": "summarize",
        }
        otlp = [
            {"key": k, "value": {"intValue": str(v)} if isinstance(v, int) else {"stringValue": v}}
            if not isinstance(v, float)
            else {"key": k, "value": {"doubleValue": v}}
            for k, v in attrs.items()
        ]
        start = 1793696700 + 3600 * i
        spans.append(
            {
                "resourceSpans": [
                    {
                        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "sglang"}}]},
                        "scopeSpans": [
                            {
                                "scope": {"name": "sglang"},
                                "spans": [
                                    {
                                        "traceId": f"{i:032x}",
                                        "spanId": f"{i:016x}",
                                        "name": f"Req {0x5A1 + i:08x}",
                                        "kind": 1,
                                        "startTimeUnixNano": str(start * 10**9),
                                        "endTimeUnixNano": str(start * 10**9 + 1_400_000_000),
                                        "attributes": otlp,
                                    }
                                ],
                            }
                        ],
                    }
                ]
            }
        )
    path = tmp_path / "sglang.otlp.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in spans), encoding="utf-8")
    config_file = tmp_path / "costlens.toml"
    config_file.write_text('[self_hosted.qwen]\nmodels = ["Qwen/*"]\ngpu_count = 1\ngpu_hour_usd = "1.00"\n')
    con, report = _report(load_config(config_file), path, analyse=False)
    try:
        rows = con.execute(
            "SELECT model, input_tokens, cache_read_tokens, output_tokens FROM calls ORDER BY input_tokens"
        ).fetchall()
        assert rows == [("Qwen/Qwen2.5-7B-Instruct", 400, 600, 100), ("Qwen/Qwen2.5-7B-Instruct", 500, 0, 200)]
        (month,) = report.self_hosted.months
        # all November at $1 a GPU-hour (the month of its calls): 720 hours
        assert (month.calls, month.cost_usd, month.prompt_tokens, month.output_tokens) == (
            2,
            Decimal("720.00"),
            1500,
            300,
        )
        # weights 1 and 4: (1000 + 400) and (500 + 800) of 2,700 units
        shares = dict(
            con.execute(
                "SELECT c.input_tokens, s.cost_usd FROM self_hosted_calls s JOIN calls c USING (call_id)"
            ).fetchall()
        )
        assert abs(shares[400] - Decimal(720) * 1400 / 2700) < Decimal("1e-11")
        assert shares[400] + shares[500] == Decimal("720.00")
        assert not [w for w in report.warnings if "not in the cost" in w]
    finally:
        con.close()
