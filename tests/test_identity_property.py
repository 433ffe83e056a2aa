"""Property: whatever order and however often the same money arrives — re-exported bills, appended logs, gzip
copies, renamed files, overlapping month-to-date exports, a second producer of the same calls, corrected
outcomes — the database holds what a from-scratch load of the distinct records holds: the same cost, calls,
acceptance and billed AI spend. Runs 1,000 random sequences (marked slow; COSTLENS_PROPERTY_EXAMPLES sets how many)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from costlens import db
from costlens.config import ColumnMapping, Config
from costlens.ingest.runner import ingest_paths

MAPPING = ColumnMapping(
    name="requests",
    match="requests*",
    columns={"ts": "ts", "input_tokens": "tokens_in", "output_tokens": "tokens_out", "task_id": "task"},
    constants={"provider": "openai", "model": "gpt-4o"},
)
CONFIG = Config.model_validate({"ingest": {"mappings": [MAPPING.model_dump()]}})


def _app_line(i: int) -> str:
    response = {
        "id": f"chatcmpl-{i}",
        "object": "chat.completion",
        "model": "gpt-4o-2024-08-06",
        "choices": [{"finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1000 * i, "completion_tokens": 10 * i},
    }
    return json.dumps(
        {
            "timestamp": f"2026-10-0{i}T10:00:00Z",
            "metadata": {"task_id": f"t{i}"},
            "request": {"model": "gpt-4o"},
            "response": response,
        }
    )


FAILED = json.dumps(
    {
        "timestamp": "2026-10-01T11:00:00Z",
        "metadata": {"task_id": "t1"},
        "request": {"model": "gpt-4o"},
        "response": None,
        "error": {"type": "server_error", "http_status": 500},
    }
)
APP = {"base": [_app_line(1), FAILED], "grown": [_app_line(1), FAILED, _app_line(2)]}


def _span(i: int) -> str:
    return json.dumps(
        {
            "trace_id": f"{i:032x}",
            "span_id": f"{i:016x}",
            "start_time": f"2026-10-0{i}T10:00:00Z",
            "attributes": {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.response.model": "gpt-4o-2024-08-06",
                "gen_ai.response.id": f"chatcmpl-{i}",
                "gen_ai.usage.input_tokens": 1000 * i,
                "gen_ai.usage.output_tokens": 10 * i,
                "costlens.task_id": f"t{i}",
            },
        }
    )


CSV_ROWS = {
    "base": ["2026-10-03T09:00:00Z,500,5,t3", "2026-10-03T09:00:00Z,500,5,t3", "2026-10-03T09:01:00Z,700,7,t4"],
    "grown": [
        "2026-10-03T09:00:00Z,500,5,t3",
        "2026-10-03T09:00:00Z,500,5,t3",
        "2026-10-03T09:01:00Z,700,7,t4",
        "2026-10-04T09:00:00Z,900,9,t5",
        "2026-10-04T09:05:00Z,300,3,t5",
    ],
}

BILL_HEADER = [
    "BillingAccountId",
    "BillingCurrency",
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ChargeCategory",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ProviderName",
    "ServiceName",
    "ServiceCategory",
    "SkuMeter",
    "ConsumedQuantity",
    "ConsumedUnit",
    "SubAccountId",
]


def _bill_line(day: int, meter: str, cost: str) -> dict:
    return {
        "BillingAccountId": "acct-1",
        "BillingCurrency": "USD",
        "BilledCost": cost,
        "EffectiveCost": cost,
        "ListCost": cost,
        "ChargeCategory": "Usage",
        "ChargePeriodStart": f"2026-10-0{day}T00:00:00Z",
        "ChargePeriodEnd": f"2026-10-0{day + 1}T00:00:00Z",
        "ProviderName": "Microsoft",
        "ServiceName": "Azure OpenAI",
        "ServiceCategory": "AI and Machine Learning",
        "SkuMeter": f"gpt-4o {meter} Tokens",
        "ConsumedQuantity": "1000",
        "ConsumedUnit": "1K Tokens",
        "SubAccountId": "sub-1",
    }


# month-to-date exports: days 1–2, then days 1–3 with day 1's output line corrected
BILLS = {
    "mtd1": [_bill_line(1, "input", "2.5"), _bill_line(1, "output", "1.0"), _bill_line(2, "input", "2.5")],
    "mtd2": [
        _bill_line(1, "input", "2.5"),
        _bill_line(1, "output", "1.25"),
        _bill_line(2, "input", "2.5"),
        _bill_line(3, "input", "5.0"),
    ],
}
OUTCOMES = {"v1": {"t1": "true", "t2": "false", "t3": "true", "t4": "true"}, "v2": {"t2": "true", "t5": "false"}}

OPS = [
    "app_base",
    "app_grow",
    "app_gzip",
    "spans",
    "csv_base",
    "csv_grow",
    "csv_rename",
    "bill_mtd1",
    "bill_mtd2",
    "bill_reexport",
    "outcomes_v1",
    "outcomes_v2",
]


@dataclass
class World:
    """The files delivered so far, and what they mean."""

    folder: Path
    clock: int = 1_760_000_000
    app: str | None = None  # version of app.jsonl delivered last
    app_lines: set[str] = field(default_factory=set)
    spans: bool = False
    csv: str | None = None
    csv_rows: set[tuple[str, int]] = field(default_factory=set)  # (row, occurrence)
    bill_days: dict[int, tuple[int, list[dict]]] = field(default_factory=dict)  # day → (mtime, lines)
    bill_last: str | None = None
    outcomes: dict[str, str] = field(default_factory=dict)
    n: int = 0

    def write(self, name: str, data: bytes) -> Path:
        self.n += 1
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.clock += 100
        os.utime(path, (self.clock, self.clock))
        return path


def _csv_bytes(rows: list[dict], header: list[str], newline: str = "\n") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator=newline)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _apply(op: str, world: World, con) -> None:
    def ingest(path: Path) -> None:
        result = ingest_paths(con, [str(path)], CONFIG)
        assert not result.failed, result.failed[0].message
        for f in result.files:
            assert f.rows_read == f.rows_loaded + f.rows_duplicate + f.rows_quarantined + f.rows_skipped

    if op in ("app_base", "app_grow"):
        version = op.split("_")[1].replace("grow", "grown")
        world.app, world.app_lines = version, world.app_lines | set(APP[version])
        ingest(world.write("app.jsonl", ("\n".join(APP[version]) + "\n").encode()))
    elif op == "app_gzip" and world.app:
        ingest(
            world.write(f"copies/app-{world.n}.jsonl.gz", gzip.compress(("\n".join(APP[world.app]) + "\n").encode()))
        )
    elif op == "spans":
        world.spans = True
        ingest(world.write(f"spans-{world.n}.jsonl", (_span(1) + "\n" + _span(2) + "\n").encode()))
    elif op in ("csv_base", "csv_grow"):
        version = op.split("_")[1].replace("grow", "grown")
        world.csv = version
        world.csv_rows |= {(row, CSV_ROWS[version][: i + 1].count(row)) for i, row in enumerate(CSV_ROWS[version])}
        ingest(
            world.write(
                "requests.csv", ("ts,tokens_in,tokens_out,task\n" + "\n".join(CSV_ROWS[version]) + "\n").encode()
            )
        )
    elif op == "csv_rename" and world.csv:
        text = "ts,tokens_in,tokens_out,task\n" + "\n".join(CSV_ROWS[world.csv]) + "\n"
        ingest(world.write(f"archive/requests-{world.n}.csv", text.encode()))
    elif op in ("bill_mtd1", "bill_mtd2") or (op == "bill_reexport" and world.bill_last):
        version = op.split("_")[1] if op != "bill_reexport" else world.bill_last
        rows = BILLS[version] if op != "bill_reexport" else list(reversed(BILLS[version]))
        path = world.write(
            f"bills/focus-{version}-{world.n}.csv",
            _csv_bytes(rows, BILL_HEADER, "\r\n" if op == "bill_reexport" else "\n"),
        )
        world.bill_last = version
        for day in {int(r["ChargePeriodStart"][8:10]) for r in rows}:
            world.bill_days[day] = (world.clock, [r for r in rows if int(r["ChargePeriodStart"][8:10]) == day])
        ingest(path)
    elif op in ("outcomes_v1", "outcomes_v2"):
        verdicts = OUTCOMES[op.split("_")[1]]
        world.outcomes.update(verdicts)
        text = "task_id,accepted\n" + "".join(f"{task},{value}\n" for task, value in verdicts.items())
        ingest(world.write(f"outcomes-{world.n}.csv", text.encode()))


def _state(con) -> dict:
    from costlens.engine import prepare_priced_calls

    prepare_priced_calls(con, CONFIG)
    cost, calls = con.execute("SELECT coalesce(sum(cost_usd), 0), count(*) FROM priced_calls").fetchone()
    accepted, verdicts = con.execute(
        "SELECT count(*) FILTER (WHERE accepted), count(accepted) FROM outcomes"
    ).fetchone()
    billed = con.execute(
        "SELECT coalesce(sum(billed_cost), 0) FROM billing_lines WHERE superseded_by IS NULL AND is_ai"
    ).fetchone()[0]
    return {
        "cost": Decimal(cost),
        "calls": calls,
        "accepted": accepted,
        "verdicts": verdicts,
        "billed": Decimal(billed),
    }


_REFERENCES: dict[tuple, dict] = {}


def _fresh_load(key: tuple, files: dict[str, bytes], folder: Path) -> dict:
    """The state of a fresh database that loaded exactly these files in one ingest (cached by `key`)."""
    if key not in _REFERENCES:
        folder.mkdir(parents=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
        con = db.connect(":memory:")
        try:
            if files:
                ingest_paths(con, [str(folder / name) for name in files], CONFIG)
            _REFERENCES[key] = _state(con)
        finally:
            con.close()
    return _REFERENCES[key]


def _reference_files(world: World) -> dict[str, dict[str, bytes]]:
    """The distinct records the sequence delivered, each once, as the files of a from-scratch load: calls, bill
    lines and outcomes apart."""
    calls = set(world.app_lines)
    if world.spans:  # the spans carry calls 1 and 2, the same usage as the app's lines
        calls |= {_app_line(1), _app_line(2)}
    parts: dict[str, dict[str, bytes]] = {"calls": {}, "bills": {}, "outcomes": {}}
    if calls:
        parts["calls"]["calls.jsonl"] = ("\n".join(sorted(calls)) + "\n").encode()
    if world.csv_rows:
        rows = [row for row, _ in sorted(world.csv_rows)]
        parts["calls"]["requests.csv"] = ("ts,tokens_in,tokens_out,task\n" + "\n".join(rows) + "\n").encode()
    if world.bill_days:
        lines = [line for _, (_, day_lines) in sorted(world.bill_days.items()) for line in day_lines]
        parts["bills"]["bill.csv"] = _csv_bytes(lines, BILL_HEADER)
    if world.outcomes:
        parts["outcomes"]["outcomes.csv"] = (
            "task_id,accepted\n" + "".join(f"{t},{v}\n" for t, v in sorted(world.outcomes.items()))
        ).encode()
    return parts


def _reference(world: World, folder: Path) -> dict:
    """A from-scratch load of the distinct records the sequence delivered. Calls, bill lines and outcomes are
    independent facts (cost and call count come from calls only, billed spend from bill lines only, acceptance
    from outcomes only), so each is loaded into a fresh database of its own, and the few distinct loads are
    cached across sequences (test_the_reference_by_parts_equals_one_load_of_everything checks the independence)."""
    state = {}
    for part, files in _reference_files(world).items():
        got = _fresh_load((part, tuple(sorted(files.items()))), files, folder / part)
        fields = {"calls": ("cost", "calls"), "bills": ("billed",), "outcomes": ("accepted", "verdicts")}[part]
        state.update({name: got[name] for name in fields})
    return state


def test_the_reference_by_parts_equals_one_load_of_everything(tmp_path):
    """The reference loads calls, bill lines and outcomes apart: one fresh load of all of them together gives the
    same state, so the parts are independent as the reference assumes. The figures are counted by hand."""
    world = World(tmp_path / "files")
    con = db.connect(":memory:")
    try:
        for op in OPS:
            _apply(op, world, con)
        got = _state(con)
    finally:
        con.close()
    everything = {name: data for files in _reference_files(world).values() for name, data in files.items()}
    together = _fresh_load(("together", tuple(sorted(everything.items()))), everything, tmp_path / "together")
    assert _reference(world, tmp_path / "reference") == together == got
    # calls: app lines 1, 2 and the failed call (the spans and the gzip copy repeat them), CSV rows 5 (one row
    # twice); gpt-4o at $2.50 / $10 per million: (1000 + 2000 + 500 + 500 + 700 + 900 + 300) input and
    # (10 + 20 + 5 + 5 + 7 + 9 + 3) output tokens
    assert together["calls"] == 8
    assert together["cost"] == Decimal(5900) * Decimal("2.5") / 10**6 + Decimal(59) * 10 / 10**6
    # outcomes: v1 then v2 (t2 corrected to accepted, t5 added rejected)
    assert (together["verdicts"], together["accepted"]) == (5, 4)
    # bills: mtd2 supersedes mtd1 (day 1 output corrected to 1.25); the re-export of mtd2 adds nothing
    assert together["billed"] == Decimal("2.5") + Decimal("1.25") + Decimal("2.5") + Decimal("5.0")


# 1,000 sequences by default, in four shards with their own seeds so that pytest-xdist workers share them.
EXAMPLES = int(os.environ.get("COSTLENS_PROPERTY_EXAMPLES", "1000"))
SHARDS = 4


def _shard(number: int):
    @pytest.mark.slow
    @seed(number)
    @settings(
        max_examples=max(1, -(-EXAMPLES // SHARDS)),
        deadline=None,
        database=None,  # each shard runs exactly its seed's sequences, nothing replayed from earlier runs
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(ops=st.lists(st.sampled_from(OPS), min_size=1, max_size=6))
    def test(tmp_path_factory, ops):
        folder = tmp_path_factory.mktemp("seq")
        world = World(folder / "files")
        con = db.connect(":memory:")
        try:
            for op in ops:
                _apply(op, world, con)
            got = _state(con)
        finally:
            con.close()
        assert got == _reference(world, folder / "reference"), ops

    test.__name__ = f"test_any_sequence_of_deliveries_equals_a_fresh_load_shard_{number}"
    return test


test_any_sequence_of_deliveries_equals_a_fresh_load_shard_0 = _shard(0)
test_any_sequence_of_deliveries_equals_a_fresh_load_shard_1 = _shard(1)
test_any_sequence_of_deliveries_equals_a_fresh_load_shard_2 = _shard(2)
test_any_sequence_of_deliveries_equals_a_fresh_load_shard_3 = _shard(3)
