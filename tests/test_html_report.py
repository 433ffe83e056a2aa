"""The HTML report: self-contained, every section present, headline numbers equal to the JSON renderer's,
hostile log values inert, and — in a real headless Chromium — no console errors, no network requests, a
screenshot that is not blank and a PDF that prints.

Reports are built with the real pipeline (ingest + build_report). Until build.py fills `budgets`, `showback`,
`maturity` and `change`, `fill_missing_sections` sets them from hand-made dicts in the shapes of the report
interface (only when build.py left them empty, so the real values take over once they exist).

Set COSTLENS_ARTIFACT_DIR to keep the sample report's HTML, screenshot and PDF.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import select
import shutil
import struct
import subprocess
import sys
import zlib
from datetime import UTC, date, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest

from costlens import db
from costlens.config import Config, FeatureConfig, load_config
from costlens.engine import totals_from_row
from costlens.model.change import Change
from costlens.model.leaks import Finding
from costlens.model.levers import ExcludedLever, Lever, LeverSummary
from costlens.model.report import (
    Budget,
    Coverage,
    Maturity,
    MaturityCheck,
    Period,
    PriceBookInfo,
    Report,
    Showback,
    ShowbackRow,
)
from costlens.report.build import build_report
from costlens.report.render_html import SECTIONS, render_html
from costlens.report.render_json import render_json
from costlens.report.render_terminal import usd

from conftest import FIXTURES, SAMPLE_LOGS, copy_sample_db

OCTOBER = Period(date(2026, 10, 1), date(2026, 11, 1))
SECTION_IDS = [sid for sid, _ in SECTIONS]
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs it)")

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
FORMULA = "=cmd|' /C calc'!A0"
HOSTILE = (SCRIPT, IMG, FORMULA)


# ------------------------------------------------------------------ hand-made sections (the interface shapes)


def fill_missing_sections(report: Report, config: Config, *, change: Change | None = None) -> Report:
    """budgets / showback / maturity (and `change` when given) in the shapes of the report interface,
    derived from the report's own numbers; left alone when build.py already filled them."""
    total = report.totals.cost_usd
    features = config.features
    if not report.budgets:
        budgets = []
        for ue in report.unit_economics:
            f = features.get(ue.key) or FeatureConfig()
            budget = f.monthly_budget_usd
            used = float(ue.cost_usd) / budget * 100 if budget else None
            status = (
                "no_budget"
                if budget is None
                else "hard_limit"
                if f.hard_limit_usd is not None and float(ue.cost_usd) >= f.hard_limit_usd
                else "over"
                if used >= 100
                else "warning"
                if used >= f.soft_alert_pct
                else "ok"
            )
            slo = f.cost_slo_per_accepted_outcome_usd
            actual = ue.cost_per_accepted_outcome_usd
            budgets.append(
                {
                    "feature": ue.key,
                    "owner": f.owner,
                    "team": f.team,
                    "cost_center": f.cost_center,
                    "criticality": f.criticality,
                    "monthly_budget_usd": budget,
                    "spend_usd": ue.cost_usd,
                    "forecast_month_end_usd": ue.cost_usd,  # a closed month's forecast is its spend
                    "used_pct": used,
                    "soft_alert_pct": f.soft_alert_pct,
                    "hard_limit_usd": f.hard_limit_usd,
                    "status": status,
                    "cost_slo_per_accepted_outcome_usd": slo,
                    "cost_per_accepted_outcome_usd": actual,
                    "slo_status": "no_slo"
                    if slo is None
                    else "unknown"
                    if actual is None
                    else "breached"
                    if actual > slo
                    else "ok",
                }
            )
        report.budgets = [Budget.from_json(b) for b in budgets]
    if not report.showback:
        showback = Showback(total_usd=total, total_exact_usd=total)
        for name, attr in (("by_owner", "owner"), ("by_team", "team"), ("by_cost_center", "cost_center")):
            sums: dict[str, Decimal] = {}
            for ue in report.unit_economics:
                key = getattr(features.get(ue.key) or FeatureConfig(), attr) or "(unattributed)"
                sums[key] = sums.get(key, Decimal(0)) + ue.cost_usd
            rows = [
                ShowbackRow(k, v, float(v / total) if total else None, None, v, [])
                for k, v in sorted(sums.items(), key=lambda kv: -kv[1])
            ]
            setattr(showback, name, rows)
        report.showback = showback
    if not report.maturity:
        cov = report.coverage
        checks = [
            MaturityCheck(
                name="attribution",
                met=cov.unattributed_cost_usd == 0,
                detail=f"{usd(cov.unattributed_cost_usd)} of spend has no feature",
                level=2,
            ),
            MaturityCheck(
                name="outcomes",
                met=report.totals.tasks_with_outcome > 0,
                detail=f"{report.totals.tasks_with_outcome:,} tasks have an outcome",
                level=4,
            ),
            MaturityCheck(
                name="budgets",
                met=all(b.monthly_budget_usd for b in report.budgets) and bool(report.budgets),
                detail=f"{sum(1 for b in report.budgets if b.monthly_budget_usd)} of {len(report.budgets)} "
                "features have a monthly budget",
                level=3,
            ),
            MaturityCheck(
                name="pricing",
                met=report.totals.unpriced_calls == 0,
                detail=f"{report.totals.unpriced_calls:,} unpriced calls",
                level=2,
            ),
            MaturityCheck(
                name="caching",
                met=any(u.cache_read_tokens for u in report.unit_economics),
                detail="prompt caching seen"
                if any(u.cache_read_tokens for u in report.unit_economics)
                else "no cached tokens",
                level=5,
            ),
            MaturityCheck(
                name="reconciliation", met=cov.billing_lines > 0, detail=f"{cov.billing_lines} billing lines", level=5
            ),
        ]
        met = sum(c.met for c in checks)
        level = 1 + min(4, met * 4 // len(checks))
        report.maturity = Maturity(
            level=level, label=["ad hoc", "visible", "measured", "managed", "optimised"][level - 1], checks=checks
        )
    if change is not None and not report.change:
        report.change = change
    return report


# ------------------------------------------------------------------ HTML inspection without a browser


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.metrics: list[tuple[str, str | None, str, list[str]]] = []  # metric, key, value, text
        self._open: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if "data-metric" in attributes:
            buffer: list[str] = []
            self.metrics.append(
                (attributes["data-metric"], attributes.get("data-key"), attributes.get("data-value") or "", buffer)
            )
            self._open.append((tag, buffer))
        else:
            self._open.append((tag, []))

    def handle_endtag(self, tag):
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                break

    def handle_data(self, data):
        self.text.append(data)
        for _, buffer in self._open:
            buffer.append(data)


def parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector


_URL_ATTRIBUTES = {
    "src",
    "href",
    "xlink:href",
    "srcset",
    "action",
    "formaction",
    "poster",
    "data",
    "background",
    "ping",
    "manifest",
    "codebase",
    "cite",
    "longdesc",
    "usemap",
}


def assert_self_contained(html: str) -> None:
    doc = parse(html)
    tags = {tag for tag, _ in doc.tags}
    assert not tags & {
        "script",
        "link",
        "img",
        "iframe",
        "object",
        "embed",
        "base",
        "audio",
        "video",
        "source",
        "image",
        "foreignobject",
        "noscript",
    }, tags
    for tag, attrs in doc.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, value)
            if name in _URL_ATTRIBUTES:
                assert (value or "").startswith("#"), (tag, name, value)  # in-page anchors only
            assert "javascript:" not in (value or "").lower(), (tag, name, value)
    for css in re.findall(r"url\(([^)]*)\)", html):
        assert css.strip("'\" ").startswith("#"), css
    assert "@import" not in html and "@font-face" not in html


# ------------------------------------------------------------------ reports


def _ingest(con, paths, config):
    from costlens.ingest.runner import ingest_paths

    result = ingest_paths(con, [str(p) for p in paths], config)
    assert not result.failed, [f.message for f in result.failed]
    return result


@pytest.fixture(scope="module")
def sample(sample_month_db, tmp_path_factory):
    """The sample month: report, config, HTML file and the JSON renderer's view of the same report."""
    config = load_config(SAMPLE_LOGS / "costlens.toml")
    con = db.connect(str(copy_sample_db(sample_month_db, tmp_path_factory.mktemp("html-sample"))))
    try:
        report = build_report(con, config, OCTOBER)
    finally:
        con.close()
    fill_missing_sections(report, config)
    html = render_html(report, config)
    out = tmp_path_factory.mktemp("html") / "costlens_report.html"
    out.write_text(html, encoding="utf-8")
    _keep(out)
    return {"report": report, "config": config, "html": html, "path": out, "json": json.loads(render_json(report))}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Feature, model, team, user and tag values that try to become markup, through the real pipeline."""
    work = tmp_path_factory.mktemp("hostile")
    spans = []
    features = [SCRIPT, IMG, FORMULA, "plain-feature"]
    models = [IMG, SCRIPT + "-unpriced"]
    for i in range(24):
        spans.append(
            {
                "trace_id": f"t{i}",
                "span_id": f"s{i}",
                "name": "chat",
                "start_time": f"2026-10-{1 + i % 28:02d}T10:00:00Z",
                "end_time": f"2026-10-{1 + i % 28:02d}T10:00:01Z",
                "status": "OK",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "acme",
                    "gen_ai.request.model": models[i % 2],
                    "gen_ai.response.model": models[i % 2],
                    "gen_ai.usage.input_tokens": 1000 + i,
                    "gen_ai.usage.output_tokens": 100,
                    "costlens.feature": features[i % 4],
                    "costlens.task_id": f"task{i // 2}",
                    "costlens.team": SCRIPT,
                    "user.id": IMG,
                    "costlens.environment": FORMULA,
                },
                "resource": {"service.name": SCRIPT},
            }
        )
    log = work / f"{IMG}.jsonl"  # a hostile file name too
    log.write_text("\n".join(json.dumps(s) for s in spans) + "\n", encoding="utf-8")
    config = Config(
        prices={"overrides": [{"provider": "acme", "model": IMG, "input_mtok": 10, "output_mtok": 30}]},
        features={
            SCRIPT: FeatureConfig(
                owner=IMG, team=FORMULA, cost_center=SCRIPT, monthly_budget_usd=1, value_per_accepted_outcome_usd=2.5
            ),
            IMG: FeatureConfig(owner=SCRIPT, team=SCRIPT, cost_center=FORMULA),
        },
        path=f"/tmp/{SCRIPT}/costlens.toml",
    )
    con = db.connect(":memory:")
    try:
        _ingest(con, [log], config)
        report = build_report(con, config, OCTOBER)
    finally:
        con.close()
    evidence = {
        "thresholds": {f"{SCRIPT}.min_calls": 3},
        "example_call_ids": [IMG, SCRIPT],
        IMG: {SCRIPT: FORMULA},
        "user_id": IMG,
        "tags": {"team": SCRIPT, IMG: FORMULA},
        "rows": [{"model": IMG, "cost_usd": 1.5}, {"model": SCRIPT, "cost_usd": 0.5}],
    }
    report.leaks.append(
        Finding(
            kind=SCRIPT,
            feature=IMG,
            model=FORMULA,
            task_class=None,
            calls_affected=3,
            wasted_usd=Decimal("1.0"),
            est_monthly_savings_usd=Decimal("1.0"),
            confidence=IMG,
            severity=SCRIPT,
            evidence=evidence,
            explanation=SCRIPT,
            lever=IMG,
        )
    )
    report.levers.append(
        Lever(
            rank=1,
            lever=SCRIPT,
            est_monthly_savings_usd=Decimal("1.0"),
            savings_low_usd=Decimal("0.5"),
            savings_high_usd=Decimal("1.0"),
            share_of_spend=0.1,
            effort=IMG,
            quality_risk=SCRIPT,
            features=[SCRIPT, IMG],
            evidence={},
            first_action=FORMULA,
            quality_reason=IMG,
        )
    )
    report.lever_summary = LeverSummary(
        monthly_spend_usd=Decimal(10),
        total_monthly_savings_usd=Decimal(1),
        total_savings_low_usd=Decimal(1),
        total_savings_high_usd=Decimal(1),
        excluded=[ExcludedLever(IMG, SCRIPT)],
        assumptions=[FORMULA],
        shown_total_monthly_savings_usd=Decimal(1),
        shown_total_savings_low_usd=Decimal(1),
        shown_total_savings_high_usd=Decimal(1),
    )
    report.reconciliation = {"provider": IMG, "rows": [{"model": SCRIPT, "billed_usd": 1.0, "note": FORMULA}]}
    report.warnings.append(SCRIPT)
    assert report.diagnosis is not None
    report.diagnosis = dataclasses.replace(report.diagnosis, statement=f"{SCRIPT} {IMG}")
    change = Change.from_json(
        {
            "previous_period": {"start": SCRIPT, "end": IMG},
            "previous_cost_usd": 1.0,
            "current_cost_usd": 2.0,
            "delta_usd": 1.0,
            "volume_usd": 0.5,
            "price_usd": 0.25,
            "mix_usd": 0.125,
            "efficiency_usd": 0.125,
            "cost_per_accepted_outcome_trend": [{"month": SCRIPT, "value": 1.0}, {"month": IMG, "value": 2.0}],
        }
    )
    fill_missing_sections(report, config, change=change)
    report.maturity = Maturity(
        level=2, label=SCRIPT, checks=[MaturityCheck(name=IMG, met=False, detail=FORMULA, level=None)]
    )
    html = render_html(report, config)
    out = work / "hostile.html"
    out.write_text(html, encoding="utf-8")
    return {"report": report, "html": html, "path": out}


def _keep(*paths: Path) -> None:
    target = os.environ.get("COSTLENS_ARTIFACT_DIR")
    if target:
        for path in paths:
            shutil.copy(path, Path(target) / path.name)


# ------------------------------------------------------------------ without a browser


@pytest.mark.slow
def test_sample_report_size_sections_and_no_external_references(sample):
    html, path = sample["html"], sample["path"]
    assert path.stat().st_size < 2 * 1024 * 1024
    doc = parse(html)
    ids = [a["id"] for t, a in doc.tags if t == "section" and "id" in a]
    assert ids == SECTION_IDS
    toc = [a["href"] for t, a in doc.tags if t == "a" and (a.get("href") or "").startswith("#")]
    assert [f"#{sid}" for sid in SECTION_IDS] == toc[: len(SECTION_IDS)]
    assert_self_contained(html)
    assert "http://" not in html and "https://" not in html  # not even SVG namespaces or metadata
    svgs = [a for t, a in doc.tags if t == "svg"]
    assert len(svgs) >= 5  # spend per day, by feature, Pareto, cost-value matrix, lever waterfall
    assert all(a.get("role") == "img" and a.get("aria-label") for a in svgs)
    all_ids = [a["id"] for _, a in doc.tags if "id" in a]
    assert len(all_ids) == len(set(all_ids))  # several inline SVGs never share an id


@pytest.mark.slow
def test_headline_numbers_equal_the_json_renderer(sample):
    data = sample["json"]
    metrics = parse(sample["html"]).metrics
    single = {m: (v, "".join(text).strip()) for m, k, v, text in metrics if k is None}
    totals = data["totals"]
    assert Decimal(single["total_cost_usd"][0]) == sample["report"].totals.cost_usd
    assert float(single["total_cost_usd"][0]) == totals["cost_usd"]
    assert single["total_cost_usd"][1] == usd(totals["cost_usd"])
    assert int(single["calls"][0]) == totals["calls"] and single["calls"][1] == f"{totals['calls']:,}"
    assert int(single["tasks"][0]) == totals["tasks"]
    assert float(single["cost_per_accepted_outcome_usd"][0]) == totals["cost_per_accepted_outcome_usd"]
    assert single["cost_per_accepted_outcome_usd"][1] == usd(totals["cost_per_accepted_outcome_usd"], 4)
    assert float(single["cost_per_task_usd"][0]) == totals["cost_per_task_usd"]
    assert float(single["priced_coverage_pct"][0]) == totals["priced_coverage_pct"]
    features = {k: (v, "".join(text).strip()) for m, k, v, text in metrics if m == "feature_cost_usd"}
    expected = {row["feature"]: row["cost_usd"] for row in data["unit_economics"]}
    assert set(features) == set(expected) and len(expected) == 6
    from costlens.showback import allocate_cents

    # the exact value is carried as data; the cell shows largest-remainder cents that add up to the shown total
    shown = dict(
        zip(expected, allocate_cents([Decimal(str(c)) for c in expected.values()], Decimal(str(totals["cost_usd"]))))
    )
    for name, cost in expected.items():
        assert float(features[name][0]) == cost
        assert features[name][1] == usd(shown[name])
    assert sum(shown.values()) == round(Decimal(str(totals["cost_usd"])), 2)
    levers = {k: float(v) for m, k, v, _ in metrics if m == "lever_monthly_savings_usd"}
    assert levers == {lv["lever"]: lv["est_monthly_savings_usd"] for lv in data["levers"]}
    assert float(single["total_monthly_savings_usd"][0]) == data["lever_summary"]["total_monthly_savings_usd"]
    # Showback rows add up to the total, to the cent.
    for group in ("by_owner", "by_team", "by_cost_center"):
        values = [Decimal(v) for m, _, v, _ in metrics if m == f"showback_{group}"]
        assert values and round(sum(values), 2) == round(sample["report"].totals.cost_usd, 2)


@pytest.mark.slow
def test_sample_sections_show_their_content(sample):
    text = " ".join(parse(sample["html"]).text)
    for needle in (
        "coding-agent",
        "Premium overuse",
        "Model routing",
        "CC-410-SUPPORT",
        "genai-prices",
        str(SAMPLE_LOGS / "costlens.toml"),
        "premium_overuse.noninferiority_margin",
        "Level ",
    ):
        assert needle in text, needle
    if not sample["report"].reconciliation:
        assert "No reconciliation with a bill was produced for this period (351 billing lines" in text
    # October has no earlier month in the sample: the change section says so instead of inventing numbers.
    assert "No earlier period with data to compare" in text


@pytest.mark.slow
def test_change_section_and_its_charts(con, ingest):
    config = load_config(FIXTURES / "economics" / "costlens.toml")
    ingest(FIXTURES / "economics" / "spans.jsonl", FIXTURES / "economics" / "outcomes.csv", config=config)
    report = build_report(con, config, OCTOBER)
    change = Change.from_json(
        {
            "previous_period": {"start": "2026-09-01", "end": "2026-10-01"},
            "previous_cost_usd": Decimal("0.02"),
            "current_cost_usd": Decimal("0.025"),
            "delta_usd": Decimal("0.005"),
            "volume_usd": Decimal("0.003"),
            "price_usd": Decimal("-0.001"),
            "mix_usd": Decimal("0.002"),
            "efficiency_usd": Decimal("0.001"),
            "cost_per_accepted_outcome_trend": [
                {"month": "2026-09", "value": 2.1},
                {"month": "2026-10", "value": 2.34},
            ],
        }
    )
    if not report.change:
        report.change = change
    html = render_html(report, config)
    assert_self_contained(html)
    doc = parse(html)
    values = {m: Decimal(v) for m, k, v, _ in doc.metrics if m.startswith("change_") or m == "delta_usd"}
    parts = [values[f"change_{p}_usd"] for p in ("volume", "price", "mix", "efficiency")]
    assert sum(parts) == values["delta_usd"] == report.change.split.delta_usd
    labels = [a.get("aria-label") for t, a in doc.tags if t == "svg"]
    assert any("Spend change" in (label or "") for label in labels)
    assert any("Cost per accepted outcome by month" in (label or "") for label in labels)


def test_empty_reports_render_every_section_with_no_data_lines(con):
    bare = Report(
        generated_at=datetime(2026, 11, 1, tzinfo=UTC),
        period=OCTOBER,
        price_book=PriceBookInfo("genai-prices", "0"),
        totals=totals_from_row(None),
        unit_economics=[],
        by_model=[],
        by_team=[],
        by_day=[],
        by_month=[],
        coverage=Coverage(),
    )
    built = build_report(con, Config(), OCTOBER)  # an empty database through the real builder
    for report, config in ((bare, None), (built, Config())):
        html = render_html(report, config)
        assert_self_contained(html)
        doc = parse(html)
        assert [a["id"] for t, a in doc.tags if t == "section" and "id" in a] == SECTION_IDS
        nodata = sum(1 for t, a in doc.tags if t == "p" and a.get("class") == "nodata")
        assert nodata >= 10
        text = " ".join(doc.text)
        assert "No calls in this period" in text and "No budgets" in text and "No maturity assessment" in text
        assert not [a for t, a in doc.tags if t == "svg"]


@pytest.mark.slow
def test_hostile_strings_are_inert_in_the_html(hostile):
    html = hostile["html"]
    assert_self_contained(html)  # no script/img/iframe tags, no on* attribute anywhere, SVG included
    for value in HOSTILE[:2]:
        assert value not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "onerror=alert(1)" in html  # present as text only (the check above found no such attribute)
    text = " ".join(parse(html).text)
    for value in HOSTILE:
        assert value in text  # shown to the reader verbatim, as text
    doc = parse(html)
    keys = {k for m, k, _, _ in doc.metrics if m == "feature_cost_usd"}
    assert {SCRIPT, IMG, FORMULA} <= keys  # attribute values round-trip exactly through escaping
    # The hostile names reached the charts as escaped SVG text.
    svg_text = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert svg_text and any("&lt;script&gt;" in s for s in svg_text)


# ------------------------------------------------------------------ in a real browser


class Browser:
    """Headless Chromium driven over the DevTools protocol on --remote-debugging-pipe.

    Why this and not log scraping: the protocol reports every request the page makes (Network.requestWillBeSent,
    including ones that fail), every console message and uncaught exception (Runtime.*, Log.entryAdded) and any
    alert()/confirm() (Page.javascriptDialogOpening) as structured events, so "no network request" and "no
    console error" are exact checks rather than greps of stderr wording that changes between versions. The pipe
    (fds 3 and 4, NUL-separated JSON) needs no port and no extra package. As a second guard, name resolution is
    disabled (--host-resolver-rules) so even a request that slipped through could not leave the machine.
    """

    def __init__(self, profile: Path):
        self.to_chrome_r, self.to_chrome_w = os.pipe()
        self.from_chrome_r, self.from_chrome_w = os.pipe()
        args = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--hide-scrollbars",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        # The browser reads commands on fd 3 and writes replies on fd 4: a tiny exec shim moves our pipe ends
        # there (via fds >= 10 first, so neither end is clobbered whatever numbers the pipes got).
        shim = (
            "import fcntl, os, sys\n"
            "r, w = (fcntl.fcntl(int(fd), fcntl.F_DUPFD_CLOEXEC, 10) for fd in sys.argv[1:3])\n"
            "os.dup2(r, 3); os.dup2(w, 4)\n"
            "os.execv(sys.argv[3], sys.argv[3:])\n"
        )
        self.log = open(profile.parent / "chromium.log", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", shim, str(self.to_chrome_r), str(self.from_chrome_w), *args],
            pass_fds=(self.to_chrome_r, self.from_chrome_w),
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
        )
        os.close(self.to_chrome_r)
        os.close(self.from_chrome_w)
        self.buffer = b""
        self.events: list[dict] = []
        self.next_id = 0
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.call(f"{domain}.enable", session=True)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1400, "height": 4000, "deviceScaleFactor": 1, "mobile": False},
            session=True,
        )

    def _send(self, method: str, params: dict | None, session: bool) -> int:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self.to_chrome_w, json.dumps(message).encode() + b"\0")
        return self.next_id

    def _read(self, timeout: float) -> dict:
        while b"\0" not in self.buffer:
            ready, _, _ = select.select([self.from_chrome_r], [], [], timeout)
            if not ready:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self.from_chrome_r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        message = json.loads(raw)
        if message.get("method") == "Page.javascriptDialogOpening":  # record it, and never let it block the page
            self._send("Page.handleJavaScriptDialog", {"accept": True}, True)
        return message

    def call(self, method: str, params: dict | None = None, *, session: bool = False, timeout: float = 30) -> dict:
        wanted = self._send(method, params, session)
        while True:
            message = self._read(timeout)
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def open(self, url: str, timeout: float = 30) -> list[dict]:
        """Navigate, wait for the load event, and return the events the page produced."""
        self.events = []
        self.call("Page.navigate", {"url": url}, session=True)
        while not any(e["method"] == "Page.loadEventFired" for e in self.events):
            message = self._read(timeout)
            if "method" in message:
                self.events.append(message)
        self.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        return list(self.events)

    def evaluate(self, expression: str):
        result = self.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, session=True
        )
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def screenshot(self) -> bytes:
        return base64.b64decode(self.call("Page.captureScreenshot", {"format": "png"}, session=True)["data"])

    def close(self) -> None:
        try:
            self._send("Browser.close", None, False)
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        finally:
            os.close(self.to_chrome_w)
            os.close(self.from_chrome_r)
            self.log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (CI installs it)")
    profile = tmp_path_factory.mktemp("chromium") / "profile"
    instance = Browser(profile)
    yield instance
    instance.close()


def problems(events: list[dict], page_url: str) -> dict[str, list]:
    """Requests other than the page itself, console errors, uncaught exceptions, error log entries, dialogs."""
    out: dict[str, list] = {"requests": [], "console": [], "exceptions": [], "log": [], "dialogs": []}
    for event in events:
        method, params = event["method"], event.get("params", {})
        if method == "Network.requestWillBeSent" and params["request"]["url"] != page_url:
            out["requests"].append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert", "warning"):
            out["console"].append(params.get("args"))
        elif method == "Runtime.exceptionThrown":
            out["exceptions"].append(params.get("exceptionDetails"))
        elif method == "Log.entryAdded" and params["entry"].get("level") in ("error", "warning"):
            out["log"].append(params["entry"])
        elif method == "Page.javascriptDialogOpening":
            out["dialogs"].append(params.get("message"))
    return out


def png_content(png: bytes) -> tuple[int, int, float, int]:
    """(width, height, share of rows that are not one flat colour, distinct byte values) of an 8-bit PNG,
    read with zlib only: rows of a blank page are uniform after PNG filtering."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        body = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour = header[:4]
    assert depth == 8 and colour in (2, 6)
    pixels = zlib.decompress(idat)
    stride = 1 + width * (3 if colour == 2 else 4)
    assert len(pixels) == stride * height
    rows = [pixels[i * stride + 1 : (i + 1) * stride] for i in range(height)]
    varied = sum(1 for row in rows if row.count(row[:1]) != len(row))
    return width, height, varied / height, len(set(pixels))


@pytest.mark.browser
@pytest.mark.slow
@needs_chromium
def test_sample_report_in_headless_chromium(browser, sample, tmp_path):
    url = sample["path"].as_uri()
    found = problems(browser.open(url), url)
    assert found == {"requests": [], "console": [], "exceptions": [], "log": [], "dialogs": []}
    assert browser.evaluate("[...document.querySelectorAll('section[id]')].map(s => s.id)") == SECTION_IDS
    assert browser.evaluate("document.querySelectorAll('figure.chart svg').length") >= 5
    # Every chart is laid out with a real size (inline SVG scaled by CSS, not collapsed).
    sizes = browser.evaluate(
        "[...document.querySelectorAll('figure.chart svg')].map(s => s.getBoundingClientRect().width)"
    )
    assert all(width > 300 for width in sizes), sizes
    png = browser.screenshot()
    shot = tmp_path / "costlens_report.png"
    shot.write_bytes(png)
    _keep(shot)
    width, height, varied, distinct = png_content(png)
    assert (width, height) == (1400, 4000)
    assert varied > 0.15 and distinct > 64, (varied, distinct)


@pytest.mark.subprocess
@pytest.mark.slow
@needs_chromium
def test_sample_report_prints_to_pdf(sample, tmp_path):
    pdf = tmp_path / "costlens_report.pdf"
    run = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            sample["path"].as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 20_000
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert pages >= len(SECTION_IDS) - 1  # a page break between sections
    _keep(pdf)


@pytest.mark.browser
@pytest.mark.slow
@needs_chromium
def test_hostile_strings_stay_inert_in_the_browser(browser, hostile):
    url = hostile["path"].as_uri()
    found = problems(browser.open(url), url)
    assert found == {"requests": [], "console": [], "exceptions": [], "log": [], "dialogs": []}
    assert browser.evaluate("document.querySelectorAll('script, img, iframe, object, embed, image').length") == 0
    assert (
        browser.evaluate(
            "[...document.querySelectorAll('*')].flatMap(e => [...e.attributes].map(a => a.name))"
            ".filter(n => n.startsWith('on')).length"
        )
        == 0
    )
    text = browser.evaluate("document.body.innerText")
    for value in HOSTILE:
        assert value in text
    assert browser.evaluate("[...document.querySelectorAll('section[id]')].map(s => s.id)") == SECTION_IDS
