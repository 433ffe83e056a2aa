"""The semantic-cache estimate (cache_miss, sub-kind semantic_cache): requests that nearly repeat a request
answered earlier, found from the MinHash sketches stored at ingest (sql/load/prompt_sketches.sql), never from
stored text."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from costlens import db
from costlens.config import Config
from costlens.sqlfiles import load_sql

ROOT = Path(__file__).resolve().parents[1]


def _pairs(text: str) -> set[tuple[str, str]]:
    words = [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]
    return set(zip(words[:-1], words[1:], strict=False)) if len(words) > 1 else {(words[0], "")}


def _sketches(texts: list[str]) -> list[list[int]]:
    con = duckdb.connect()
    con.execute((ROOT / "sql" / "schema" / "002_macros.sql").read_text())
    con.execute("CREATE TEMP TABLE staged AS SELECT unnest(?) AS query_text", [texts])
    con.execute(load_sql("load/prompt_sketches.sql"))
    rows = dict(con.execute("SELECT staged_row, sketch FROM staged_sketches").fetchall())
    return [rows[i] for i in range(len(texts))]


def _similarity(a: list[int], b: list[int]) -> float:
    """The estimator cache_miss.sql uses: equal values ÷ bins filled in either sketch (a value names its bin)."""
    return len(set(a) & set(b)) / len({v % 64 for v in a} | {v % 64 for v in b})


WORDS = [f"{a}{b}" for a in ("ka", "lo", "mi", "ren", "tu", "sa", "vel", "no") for b in ("da", "ri", "po", "xe", "qu")]


def _text(seed: int, n: int) -> str:
    return " ".join(WORDS[(seed * 7 + i * i * 3 + i) % len(WORDS)] + str((seed + i) % 11) for i in range(n))


def test_sketch_estimates_the_jaccard_similarity_of_word_pairs():
    base = _text(1, 60)
    words = base.split()
    one_word = " ".join(words[:30] + ["zebra"] + words[31:])
    halves = " ".join(words[:30] + _text(2, 30).split())
    texts = [base, base.upper() + " ?!", one_word, halves, _text(3, 60)]
    sketch = _sketches(texts)
    # case and punctuation are normalised away: the same words, the same sketch
    assert sketch[1] == sketch[0]
    assert len(sketch[0]) == len(set(v % 64 for v in sketch[0])) <= 64
    for other in (2, 3, 4):
        exact = len(_pairs(texts[0]) & _pairs(texts[other])) / len(_pairs(texts[0]) | _pairs(texts[other]))
        assert abs(_similarity(sketch[0], sketch[other]) - exact) <= 0.1, (other, exact)
    assert _similarity(sketch[0], sketch[2]) >= 0.8  # one word of 60 replaced: 57 / 61 of the pairs shared
    assert _similarity(sketch[0], sketch[4]) < 0.2


def test_sketch_reads_message_lists_without_their_system_message():
    plain = "How do I reset the password of my billing account"
    openai = json.dumps([{"role": "system", "content": "Be brief."}, {"role": "user", "content": plain + "?"}])
    otel = json.dumps(
        [
            {"role": "system", "parts": [{"type": "text", "content": "Long instructions " * 50}]},
            {"role": "user", "parts": [{"type": "text", "content": plain}]},
        ]
    )
    con = duckdb.connect()
    con.execute((ROOT / "sql" / "schema" / "002_macros.sql").read_text())
    texts = [r[0] for r in con.execute("SELECT request_text(unnest(?))", [[openai, otel]]).fetchall()]
    sketch = _sketches([plain, *texts])
    assert sketch[0] == sketch[1] == sketch[2]


def test_sketch_values_are_stable():
    """The sketch hashes with DuckDB's hash(): a release that changed it would make requests sketched before and
    after it look unrelated (fewer near-repeats found, never more). This pins one sketch, so such a release fails
    here first."""
    (sketch,) = _sketches(["reset my password please"])
    assert sorted(sketch) == sorted(_STABLE)


# the sketch of "reset my password please": three word pairs in three bins
_STABLE = [352206846, 1873775763, 2972211349]


def _span(n: int, feature: str, request: str, at: datetime, task: str | None = None) -> dict:
    messages = [
        {"role": "system", "parts": [{"type": "text", "content": f"You answer for {feature}."}]},
        {"role": "user", "parts": [{"type": "text", "content": request}]},
    ]
    return {
        "trace_id": f"{n:032x}",
        "span_id": f"{n:016x}",
        "name": "chat gpt-4o-mini",
        "start_time": at.isoformat() + "Z",
        "end_time": (at + timedelta(seconds=1)).isoformat() + "Z",
        "status": "OK",
        "attributes": {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.usage.input_tokens": 1000,
            "gen_ai.usage.output_tokens": 100,
            "costlens.feature": feature,
            "costlens.task_id": task or f"{feature}/t{n}",
            "gen_ai.input.messages": json.dumps(messages),
        },
    }


START = datetime(2026, 11, 3, 9, 0)


def _month() -> list[dict]:
    """faq: 8 distinct questions; 6 near-repeats of them in other tasks within a day (capitals and punctuation,
    one word replaced, one word added); 2 byte-identical repeats (exact: response_cache's, not counted here); a
    near-repeat inside the same task (a retry) and one 9 days later (past the 7-day TTL), neither counted.
    templated: 12 requests from one template with their own text, no near-repeat."""
    spans, n = [], 0
    bases = [_text(10 + i, 40) for i in range(8)]

    def add(feature: str, text: str, at: datetime, task: str | None = None) -> None:
        nonlocal n
        n += 1
        spans.append(_span(n, feature, text, at, task))

    for i, base in enumerate(bases):
        add("faq", base, START + timedelta(hours=i), task=f"faq/base{i}")
    for i in range(6):
        words = bases[i].split()
        near = (
            bases[i].upper() + "?"
            if i % 3 == 0
            else " ".join(words[:5] + ["zebra"] + words[6:])
            if i % 3 == 1
            else " ".join(words[:7] + ["please"] + words[7:])
        )
        add("faq", near, START + timedelta(hours=10 + i))
    add("faq", bases[6], START + timedelta(hours=20))
    add("faq", bases[7], START + timedelta(hours=21))
    add("faq", bases[6].upper() + "!", START + timedelta(hours=6, minutes=1), task="faq/base6")
    add("faq", bases[7] + " ...", START + timedelta(days=9))
    template = "Summarise the customer ticket below in two sentences and rate its urgency from one to five"
    for i in range(12):
        add("templated", f"{template}: {_text(100 + i, 30)}", START + timedelta(hours=i))
    return spans


@pytest.fixture(scope="module")
def semantic(tmp_path_factory):
    from costlens.engine import compute_period_metrics, prepare_priced_calls
    from costlens.ingest.runner import ingest_paths
    from costlens.leaks import run_detectors
    from costlens.model.report import Period

    folder = tmp_path_factory.mktemp("semantic")
    file = folder / "spans.jsonl"
    file.write_text("".join(json.dumps(s) + "\n" for s in _month()), encoding="utf-8")
    con = db.connect(":memory:")
    config = Config()
    first = ingest_paths(con, [str(file)], config)
    assert not first.failed
    # the same spans again, compressed under another name: no call and no sketch twice
    import gzip

    copy = folder / "copy.jsonl.gz"
    copy.write_bytes(gzip.compress(file.read_bytes()))
    ingest_paths(con, [str(copy)], config)
    prepare_priced_calls(con, config)
    compute_period_metrics(con, config, Period(date(2026, 11, 1), date(2026, 12, 1)))
    findings = run_detectors(con, config)
    yield con, findings
    con.close()


@pytest.mark.slow
def test_near_repeats_are_found_and_priced(semantic):
    con, findings = semantic
    assert con.execute("SELECT count(*), count(DISTINCT call_id) FROM call_sketches").fetchone() == (30, 30)
    found = [f for f in findings if f.kind == "cache_miss" and f.sub_kind == "semantic_cache"]
    assert [f.feature for f in found] == ["faq"]
    (f,) = found
    # gpt-4o-mini (genai-prices): $0.15 / M input, $0.60 / M output → 1,000 × 0.15e-6 + 100 × 0.6e-6 = $0.00021
    per_call = Decimal(1000) * Decimal("0.15") / 10**6 + Decimal(100) * Decimal("0.60") / 10**6
    assert f.calls_affected == 6
    assert f.wasted_usd == 6 * per_call
    # 16 answered requests have a sketch (18 calls less the 2 exact repeats), 6 of them near-repeats
    assert f.evidence["counts"] == {"near_repeats": 6, "requests_with_sketch": 16}
    assert f.evidence["hit_rate"] == pytest.approx(6 / 16)
    assert f.evidence["thresholds"]["cache_miss.semantic_similarity"] == 0.8
    assert f.lever == "semantic_cache"
    assert f.quality_risk == "high"


@pytest.mark.slow
def test_exact_repeats_stay_with_the_response_cache(semantic):
    _, findings = semantic
    faq = [f for f in findings if f.feature == "faq" and f.kind == "cache_miss"]
    # two exact repeats are below response_min_repeats (5): no response_cache finding, and none counted above
    assert sorted(f.sub_kind for f in faq) == ["semantic_cache"]


@pytest.mark.slow
def test_requests_from_one_template_are_not_near_repeats(semantic):
    _, findings = semantic
    assert not [f for f in findings if f.feature == "templated" and f.kind == "cache_miss"]


@pytest.mark.slow
def test_the_lever_never_claims_more_than_the_feature_spends(semantic):
    from costlens.levers import rank_levers

    con, findings = semantic
    spend = dict(con.execute("SELECT feature_key, sum(cost_usd) FROM period_calls GROUP BY ALL").fetchall())
    plan = rank_levers(findings, sum(spend.values()), spend, Config(), 30)
    (lever,) = [lv for lv in plan.levers if lv.lever == "semantic_cache"]
    monthly_faq = spend["faq"] * Decimal("30.44") / 30
    # the near-repeats' cost, per month: 6 × $0.00021 × 30.44 / 30
    assert lever.by_feature["faq"] == pytest.approx(Decimal("0.00126") * Decimal("30.44") / 30, rel=Decimal("1e-9"))
    assert lever.first_action.startswith("Put a semantic cache in front of faq")
    assert sum(lv.by_feature.get("faq", 0) for lv in plan.levers) <= monthly_faq


@pytest.mark.slow
def test_sketches_can_be_turned_off(tmp_path):
    from costlens.config import IngestConfig
    from costlens.ingest.runner import ingest_paths

    file = tmp_path / "spans.jsonl"
    file.write_text("".join(json.dumps(s) + "\n" for s in _month()[:4]), encoding="utf-8")
    con = db.connect(":memory:")
    try:
        result = ingest_paths(con, [str(file)], Config(ingest=IngestConfig(semantic_sketches=False)))
        assert result.total("rows_loaded") == 4
        # the prompt hashes are still there; no sketch is
        assert con.execute("SELECT count(prompt_hash) FROM calls").fetchone()[0] == 4
        assert con.execute("SELECT count(*) FROM call_sketches").fetchone()[0] == 0
    finally:
        con.close()


@pytest.mark.slow
def test_replace_reloads_sketches_once(tmp_path):
    from costlens.ingest.runner import ingest_paths

    file = tmp_path / "spans.jsonl"
    file.write_text("".join(json.dumps(s) + "\n" for s in _month()), encoding="utf-8")
    con = db.connect(":memory:")
    try:
        ingest_paths(con, [str(file)], Config())
        ingest_paths(con, [str(file)], Config(), replace=True)
        assert con.execute("SELECT count(*), count(DISTINCT call_id) FROM call_sketches").fetchone() == (30, 30)
        orphans = "SELECT count(*) FROM call_sketches WHERE call_id NOT IN (SELECT call_id FROM calls)"
        assert con.execute(orphans).fetchone()[0] == 0
    finally:
        con.close()


@pytest.mark.slow
def test_real_traces_of_one_question_through_three_sdks_share_one_sketch(tmp_path):
    """Langfuse's own test traces (tests/realworld/langfuse/PROVENANCE.md: langfuse/langfuse @ 1528e5e, MIT): the
    google-genai SDK, LlamaIndex and Vertex AI each ask "What is Langfuse?", wrapped in their own request shapes
    ({"model": …, "contents": …}, {"args": [...]}, {"contents": [{"role", "parts": [{"text"}]}], "model", "tools",
    …}). Their sketches are the same three words; a second delivery of the files adds none."""
    import gzip

    from costlens.ingest.runner import ingest_paths

    folder = ROOT / "tests" / "realworld" / "langfuse"
    names = [
        "langfuse_trace_google-gemini-2025-08-01.json",
        "langfuse_trace_llamaindex-2025-06-05.json",
        "langfuse_trace_vertex-ai-2025-08-01.json",
    ]
    con = db.connect(":memory:")
    try:
        result = ingest_paths(con, [str(folder / name) for name in names], Config())
        assert not result.failed
        rows = con.execute("SELECT words, list_sort(sketch) FROM call_sketches").fetchall()
        assert len(rows) == 3
        assert {words for words, _ in rows} == {3}  # what, is, langfuse
        assert len({tuple(sketch) for _, sketch in rows}) == 1
        copies = []
        for name in names:
            copy = tmp_path / f"{name}.gz"
            copy.write_bytes(gzip.compress((folder / name).read_bytes()))
            copies.append(str(copy))
        ingest_paths(con, copies, Config())
        assert con.execute("SELECT count(*) FROM call_sketches").fetchone()[0] == 3
    finally:
        con.close()
